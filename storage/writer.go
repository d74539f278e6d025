package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/strata-db/strata/storage/internal/bitpack"
)

// ColumnMeta describes one column in a segment.
type ColumnMeta struct {
	ID       uint32         // the column's unique id in the table schema
	Type     arrow.DataType // one of the physical types types.Type.Arrow() returns
	Nullable bool
}

// WriterOptions configure a Writer. Zero fields take their defaults.
type WriterOptions struct {
	PageRows         int // rows per page; ALL columns of a segment use the same page boundaries. default 8192
	NumSortKeys      int // leading columns that form the sort key (short-key index built over them; 0 = none)
	ShortKeyInterval int // default 1024
	Compression      Compression
}

// Defaults and limits for WriterOptions.
const (
	// MaxPageRows bounds WriterOptions.PageRows; readers reject larger
	// pages, which bounds the memory a crafted file can make them allocate.
	MaxPageRows = 1 << 20

	DefaultPageRows         = 8192
	DefaultShortKeyInterval = 1024
)

// Info describes a finished segment.
type Info struct {
	NumRows int64
	Size    int64 // bytes written
}

// Writer writes one segment. It buffers one page worth of rows per column
// and writes pages as they fill, then the indexes and the footer in Finish.
// A Writer is not safe for concurrent use. After an error from the
// underlying io.Writer every later call returns that error.
type Writer struct {
	w    io.Writer
	opts WriterOptions
	cols []*colBuf

	off      int64 // bytes written so far
	numRows  int64 // rows in written pages
	pending  int   // rows buffered in cols
	pageRows []int // rows of each written page
	err      error // sticky
	finished bool

	shortKeys  []byte // encoded short-key entries
	numSKeys   int
	page       []byte // page buffer, reused
	raw        []byte // page body, reused
	comp       []byte // s2 output, reused
	zcomp      []byte // zstd output, reused
	dict       map[string]int32
	codes      []int64
	scratchU64 []uint64 // packing scratch, reused
	scratchI64 []int64  // string lengths/codes, reused
}

// colBuf buffers the pending page of one column. Only the slice matching the
// column's physical type is used. Null slots hold a filler value (see
// fillNulls) so that they never widen a page's encoding.
type colBuf struct {
	meta  ColumnMeta
	pt    physType
	valid []bool
	nulls int

	ints    []int64
	f64     []float64 // float32 values are held widened; narrowing back is exact
	dec     []decimal128.Num
	bools   []bool
	strEnds []int32 // end offset of each string in strData
	strData []byte

	index     []byte // encoded page-index entries
	zoneCount int
}

// NewWriter returns a Writer of a segment with the given columns to w.
func NewWriter(w io.Writer, cols []ColumnMeta, opts WriterOptions) (*Writer, error) {
	if opts.PageRows == 0 {
		opts.PageRows = DefaultPageRows
	}
	if opts.ShortKeyInterval == 0 {
		opts.ShortKeyInterval = DefaultShortKeyInterval
	}
	switch {
	case opts.PageRows < 0 || opts.PageRows > MaxPageRows:
		return nil, fmt.Errorf("storage: page rows %d out of range [1, %d]", opts.PageRows, MaxPageRows)
	case opts.ShortKeyInterval < 0:
		return nil, fmt.Errorf("storage: short-key interval %d must be positive", opts.ShortKeyInterval)
	case opts.NumSortKeys < 0 || opts.NumSortKeys > len(cols):
		return nil, fmt.Errorf("storage: %d sort keys for %d columns", opts.NumSortKeys, len(cols))
	case !opts.Compression.IsValid():
		return nil, fmt.Errorf("storage: unknown compression %v", opts.Compression)
	case len(cols) == 0:
		return nil, errors.New("storage: a segment needs at least one column")
	}
	wr := &Writer{w: w, opts: opts}
	seen := make(map[uint32]bool, len(cols))
	for _, c := range cols {
		pt, err := physTypeOf(c.Type)
		if err != nil {
			return nil, fmt.Errorf("storage: column %d: %w", c.ID, err)
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("storage: duplicate column id %d", c.ID)
		}
		seen[c.ID] = true
		wr.cols = append(wr.cols, &colBuf{meta: c, pt: pt})
	}
	hdr := append(magic[:len(magic):len(magic)], byte(FormatCurrent))
	wr.write(hdr)
	return wr, wr.err
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	n, err := w.w.Write(b)
	w.off += int64(n)
	if err != nil {
		w.err = fmt.Errorf("storage: writing segment: %w", err)
	}
}

// Append adds rows; arrays are in cols order, all of equal length, rows
// already sorted by the caller. The arrays are copied; the caller keeps
// ownership. On a validation error nothing is appended.
func (w *Writer) Append(cols []arrow.Array) error {
	if w.err != nil {
		return w.err
	}
	if w.finished {
		return errors.New("storage: append after finish")
	}
	if len(cols) != len(w.cols) {
		return fmt.Errorf("storage: append of %d arrays to a segment of %d columns", len(cols), len(w.cols))
	}
	n := 0
	for i, a := range cols {
		cb := w.cols[i]
		if a == nil {
			return fmt.Errorf("storage: column %d: nil array", cb.meta.ID)
		}
		if !arrow.TypeEqual(a.DataType(), cb.meta.Type) {
			return fmt.Errorf("storage: column %d: array of type %s, column is %s", cb.meta.ID, a.DataType(), cb.meta.Type)
		}
		if i == 0 {
			n = a.Len()
		} else if a.Len() != n {
			return fmt.Errorf("storage: column %d: array of %d rows, column %d has %d", cb.meta.ID, a.Len(), w.cols[0].meta.ID, n)
		}
		if !cb.meta.Nullable && a.NullN() > 0 {
			return fmt.Errorf("storage: column %d is not nullable but the array has %d nulls", cb.meta.ID, a.NullN())
		}
	}
	for off := 0; off < n; {
		take := min(n-off, w.opts.PageRows-w.pending)
		for i, a := range cols {
			w.cols[i].appendRange(a, off, off+take)
		}
		w.pending += take
		off += take
		if w.pending == w.opts.PageRows {
			w.flushPage()
			if w.err != nil {
				return w.err
			}
		}
	}
	return nil
}

// appendRange copies rows [lo, hi) of a into the buffer.
func (cb *colBuf) appendRange(a arrow.Array, lo, hi int) {
	if a.NullN() == 0 {
		for range hi - lo {
			cb.valid = append(cb.valid, true)
		}
	} else {
		for i := lo; i < hi; i++ {
			v := a.IsValid(i)
			cb.valid = append(cb.valid, v)
			if !v {
				cb.nulls++
			}
		}
	}
	switch a := a.(type) {
	case *array.Boolean:
		for i := lo; i < hi; i++ {
			cb.bools = append(cb.bools, a.Value(i))
		}
	case *array.Int8:
		for _, v := range a.Int8Values()[lo:hi] {
			cb.ints = append(cb.ints, int64(v))
		}
	case *array.Int16:
		for _, v := range a.Int16Values()[lo:hi] {
			cb.ints = append(cb.ints, int64(v))
		}
	case *array.Int32:
		for _, v := range a.Int32Values()[lo:hi] {
			cb.ints = append(cb.ints, int64(v))
		}
	case *array.Int64:
		cb.ints = append(cb.ints, a.Int64Values()[lo:hi]...)
	case *array.Date32:
		for _, v := range a.Date32Values()[lo:hi] {
			cb.ints = append(cb.ints, int64(v))
		}
	case *array.Timestamp:
		for _, v := range a.TimestampValues()[lo:hi] {
			cb.ints = append(cb.ints, int64(v))
		}
	case *array.Float32:
		for _, v := range a.Float32Values()[lo:hi] {
			cb.f64 = append(cb.f64, float64(v))
		}
	case *array.Float64:
		cb.f64 = append(cb.f64, a.Float64Values()[lo:hi]...)
	case *array.Decimal128:
		cb.dec = append(cb.dec, a.Values()[lo:hi]...)
	case *array.String:
		for i := lo; i < hi; i++ {
			if a.IsValid(i) {
				cb.strData = append(cb.strData, a.Value(i)...)
			}
			cb.strEnds = append(cb.strEnds, int32(len(cb.strData)))
		}
	default:
		panic(fmt.Sprintf("BUG: array %T passed the type check for column type %s", a, cb.meta.Type))
	}
}

func (cb *colBuf) reset() {
	cb.valid = cb.valid[:0]
	cb.nulls = 0
	cb.ints = cb.ints[:0]
	cb.f64 = cb.f64[:0]
	cb.dec = cb.dec[:0]
	cb.bools = cb.bools[:0]
	cb.strEnds = cb.strEnds[:0]
	cb.strData = cb.strData[:0]
}

// str returns the i-th buffered string.
func (cb *colBuf) str(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = cb.strEnds[i-1]
	}
	return cb.strData[start:cb.strEnds[i]]
}

// value returns row i of the buffer typed as in ZoneMap, or nil for null.
func (cb *colBuf) value(i int) any {
	if !cb.valid[i] {
		return nil
	}
	switch cb.pt {
	case physBool:
		return cb.bools[i]
	case physFloat32, physFloat64:
		return cb.f64[i]
	case physDecimal128:
		return cb.dec[i]
	case physString:
		return cb.str(i)
	}
	return cb.ints[i]
}

// flushPage encodes and writes the pending rows of every column as one page.
func (w *Writer) flushPage() {
	rows := w.pending
	if rows == 0 {
		return
	}
	first := w.numRows
	if k := w.opts.NumSortKeys; k > 0 {
		iv := int64(w.opts.ShortKeyInterval)
		for r := (first + iv - 1) / iv * iv; r < first+int64(rows); r += iv {
			for _, cb := range w.cols[:k] {
				v := cb.value(int(r - first))
				if v == nil {
					w.shortKeys = append(w.shortKeys, 1)
					continue
				}
				w.shortKeys = append(w.shortKeys, 0)
				w.shortKeys = appendValue(w.shortKeys, cb.pt, v)
			}
			w.numSKeys++
		}
	}
	for _, cb := range w.cols {
		w.writePage(cb, rows)
		cb.reset()
	}
	w.pageRows = append(w.pageRows, rows)
	w.numRows += int64(rows)
	w.pending = 0
}

const pageFlagValidity = 1 << 0

// writePage encodes one page of cb, writes it and records its index entry.
func (w *Writer) writePage(cb *colBuf, rows int) {
	raw := w.raw[:0]
	flags := byte(0)
	if cb.nulls > 0 {
		flags |= pageFlagValidity
		start := len(raw)
		raw = append(raw, make([]byte, (rows+7)/8)...)
		bm := raw[start:]
		for i, v := range cb.valid {
			if v {
				bm[i>>3] |= 1 << (i & 7)
			}
		}
	}
	var enc Encoding
	var zone ZoneMap
	raw, enc, zone = w.encodeValues(raw, cb, rows)
	zone.NullCount = cb.nulls
	w.raw = raw

	codec, stored := compressPage(w.comp, w.zcomp, raw, w.opts.Compression)
	switch codec {
	case CompressionS2:
		w.comp = stored[:0]
	case CompressionZstd:
		w.zcomp = stored[:0]
	}
	p := w.page[:0]
	p = append(p, byte(FormatCurrent), byte(enc), byte(codec), flags)
	p = binary.AppendUvarint(p, uint64(rows))
	p = binary.AppendUvarint(p, uint64(cb.nulls))
	p = binary.AppendUvarint(p, uint64(len(raw)))
	p = binary.AppendUvarint(p, uint64(len(stored)))
	p = append(p, stored...)
	p = appendCRC(p, 0)
	w.page = p

	off := w.off
	w.write(p)

	cb.index = binary.AppendUvarint(cb.index, uint64(off))
	cb.index = binary.AppendUvarint(cb.index, uint64(len(p)))
	cb.index = binary.AppendUvarint(cb.index, uint64(zone.NullCount))
	if zone.HasMinMax {
		cb.index = append(cb.index, 1)
		cb.index = appendValue(cb.index, cb.pt, zone.Min)
		cb.index = appendValue(cb.index, cb.pt, zone.Max)
	} else {
		cb.index = append(cb.index, 0)
	}
	cb.zoneCount++
}

// fillNulls overwrites null slots with the previous non-null value (leading
// nulls with the first non-null value), so that nulls never widen the range,
// break a run or add a distinct value.
func fillNulls[T any](vals []T, valid []bool) {
	first := -1
	for i, ok := range valid {
		if ok {
			first = i
			break
		}
	}
	if first < 0 {
		var zero T
		for i := range vals {
			vals[i] = zero
		}
		return
	}
	for i := range first {
		vals[i] = vals[first]
	}
	for i := first + 1; i < len(vals); i++ {
		if !valid[i] {
			vals[i] = vals[i-1]
		}
	}
}

// encodeValues appends the encoded values of cb to raw and returns the
// chosen encoding and the page's zone map (null count left to the caller).
func (w *Writer) encodeValues(raw []byte, cb *colBuf, rows int) ([]byte, Encoding, ZoneMap) {
	var zone ZoneMap
	hasValues := cb.nulls < rows
	zone.HasMinMax = hasValues
	switch cb.pt {
	case physBool:
		if cb.nulls > 0 {
			fillNulls(cb.bools, cb.valid)
		}
		seenT, seenF := false, false
		for _, v := range cb.bools {
			if v {
				seenT = true
			} else {
				seenF = true
			}
		}
		if hasValues {
			zone.Min, zone.Max = !seenF, seenT
		}
		if !(seenT && seenF) {
			b := byte(0)
			if seenT {
				b = 1
			}
			return append(raw, b), EncodingConstant, zone
		}
		start := len(raw)
		raw = append(raw, make([]byte, (rows+7)/8)...)
		bm := raw[start:]
		for i, v := range cb.bools {
			if v {
				bm[i>>3] |= 1 << (i & 7)
			}
		}
		return raw, EncodingPlain, zone

	case physFloat32, physFloat64:
		if cb.nulls > 0 {
			fillNulls(cb.f64, cb.valid)
		}
		if hasValues {
			zone.Min, zone.Max = floatZone(cb.f64)
		}
		constant := true
		for _, v := range cb.f64 {
			if math.Float64bits(v) != math.Float64bits(cb.f64[0]) {
				constant = false
				break
			}
		}
		enc := EncodingPlain
		if constant {
			enc = EncodingConstant
		}
		vals := cb.f64
		if constant {
			vals = vals[:1]
		}
		for _, v := range vals {
			if cb.pt == physFloat32 {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(v)))
			} else {
				raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(v))
			}
		}
		return raw, enc, zone

	case physDecimal128:
		if cb.nulls > 0 {
			fillNulls(cb.dec, cb.valid)
		}
		constant := true
		mn, mx := cb.dec[0], cb.dec[0]
		for _, v := range cb.dec {
			if v != cb.dec[0] {
				constant = false
			}
			if v.Less(mn) {
				mn = v
			}
			if mx.Less(v) {
				mx = v
			}
		}
		if hasValues {
			zone.Min, zone.Max = mn, mx
		}
		// Decimals whose values all fit in an int64 (most of them in
		// practice) go through the integer codecs.
		if !constant && fitsInt64(mn) && fitsInt64(mx) {
			ints := w.scratchI64[:0]
			for _, v := range cb.dec {
				ints = append(ints, int64(v.LowBits()))
			}
			w.scratchI64 = ints
			st := intStatsOf(ints)
			if enc := chooseIntEncoding(rows, st, 16); enc != EncodingPlain {
				raw, w.scratchU64 = appendIntValues(raw, enc, ints, st, 8, w.scratchU64)
				return raw, enc, zone
			}
		}
		vals, enc := cb.dec, EncodingPlain
		if constant {
			vals, enc = vals[:1], EncodingConstant
		}
		for _, v := range vals {
			raw = binary.LittleEndian.AppendUint64(raw, v.LowBits())
			raw = binary.LittleEndian.AppendUint64(raw, uint64(v.HighBits()))
		}
		return raw, enc, zone

	case physString:
		return w.encodeStrings(raw, cb, rows, zone)
	}

	// Integers.
	if cb.nulls > 0 {
		fillNulls(cb.ints, cb.valid)
	}
	st := intStatsOf(cb.ints)
	if hasValues {
		zone.Min, zone.Max = st.min, st.max
	}
	width := cb.pt.intWidth()
	enc := chooseIntEncoding(rows, st, width)
	raw, w.scratchU64 = appendIntValues(raw, enc, cb.ints, st, width, w.scratchU64)
	return raw, enc, zone
}

// fitsInt64 reports whether a decimal's unscaled value fits in an int64.
func fitsInt64(n decimal128.Num) bool {
	return n.HighBits() == int64(n.LowBits())>>63
}

// floatZone computes float bounds: NaN is ignored for Min unless every value
// is NaN, and makes Max NaN.
func floatZone(vals []float64) (any, any) {
	mn, mx := math.Inf(1), math.Inf(-1)
	hasNaN, hasNum := false, false
	for _, v := range vals {
		if v != v {
			hasNaN = true
			continue
		}
		hasNum = true
		mn = min(mn, v)
		mx = max(mx, v)
	}
	if hasNaN {
		mx = math.NaN()
	}
	if !hasNum {
		mn = math.NaN()
	}
	return mn, mx
}

// maxDictEntries caps a page dictionary; pages with more distinct values
// are stored plain.
const maxDictEntries = 1 << 16

// encodeStrings picks constant, dictionary or plain for a string page. Null
// slots are empty strings. The dictionary must be smaller than 80 % of the
// plain form, as dictionary pages decode with one copy per row.
func (w *Writer) encodeStrings(raw []byte, cb *colBuf, rows int, zone ZoneMap) ([]byte, Encoding, ZoneMap) {
	var mn, mx []byte
	constant := true
	first := -1
	for i := range rows {
		if !cb.valid[i] {
			continue
		}
		s := cb.str(i)
		if first < 0 {
			first = i
			mn, mx = s, s
			continue
		}
		if !bytes.Equal(s, cb.str(first)) {
			constant = false
		}
		if bytes.Compare(s, mn) < 0 {
			mn = s
		}
		if bytes.Compare(s, mx) > 0 {
			mx = s
		}
	}
	if first >= 0 {
		zone.Min = bytes.Clone(truncateMin(mn))
		zone.Max = bytes.Clone(truncateMax(mx))
	}
	if constant && cb.nulls == 0 {
		s := cb.str(0)
		raw = binary.AppendUvarint(raw, uint64(len(s)))
		return append(raw, s...), EncodingConstant, zone
	}

	// Try a dictionary.
	lens := w.scratchI64[:0]
	if w.dict == nil {
		w.dict = make(map[string]int32)
	}
	dict := w.dict
	clear(dict)
	codes := w.codes[:0]
	defer func() { w.codes = codes[:0] }()
	dictBytes := 0
	useDict := true
	for i := range rows {
		s := cb.str(i)
		c, ok := dict[string(s)]
		if !ok {
			// Give up early on high-cardinality pages: more than three
			// quarters of a 2048-row prefix distinct. (A 256-row prefix
			// misjudges a column of a few hundred values, which codes
			// well over a whole page.)
			if len(dict) >= maxDictEntries || len(dict) > rows/2 || (i >= 2048 && len(dict) > i*3/4) {
				useDict = false
				break
			}
			c = int32(len(dict))
			dict[string(s)] = c
			dictBytes += len(s)
		}
		codes = append(codes, int64(c))
	}
	if useDict {
		plainSize := len(cb.strData) + rows*2
		dictSize := dictBytes + len(dict)*2 + bitpack.ByteLen(rows, bitpack.Width(uint64(len(dict))))
		useDict = dictSize*5 < plainSize*4
	}
	if useDict {
		entries := make([][]byte, len(dict))
		for s, c := range dict {
			entries[c] = []byte(s)
		}
		raw = binary.AppendUvarint(raw, uint64(len(entries)))
		for _, e := range entries {
			lens = append(lens, int64(len(e)))
		}
		raw, w.scratchU64 = appendIntStream(raw, lens, w.scratchU64)
		for _, e := range entries {
			raw = append(raw, e...)
		}
		raw, w.scratchU64 = appendIntStream(raw, codes, w.scratchU64)
		w.scratchI64 = lens
		return raw, EncodingDict, zone
	}
	prev := int32(0)
	for _, e := range cb.strEnds {
		lens = append(lens, int64(e-prev))
		prev = e
	}
	raw, w.scratchU64 = appendIntStream(raw, lens, w.scratchU64)
	raw = append(raw, cb.strData...)
	w.scratchI64 = lens
	return raw, EncodingPlain, zone
}

// Finish writes the remaining pages, indexes and footer. It does not fsync or close w.
func (w *Writer) Finish() (Info, error) {
	if w.err != nil {
		return Info{}, w.err
	}
	if w.finished {
		return Info{}, errors.New("storage: finish called twice")
	}
	w.finished = true
	w.flushPage()

	idx := make([]span, len(w.cols))
	for i, cb := range w.cols {
		b := []byte{byte(FormatCurrent)}
		b = binary.AppendUvarint(b, uint64(cb.zoneCount))
		b = append(b, cb.index...)
		b = appendCRC(b, 0)
		idx[i] = span{w.off, int64(len(b))}
		w.write(b)
	}
	var sk span
	if w.opts.NumSortKeys > 0 {
		b := []byte{byte(FormatCurrent)}
		b = binary.AppendUvarint(b, uint64(w.opts.ShortKeyInterval))
		b = binary.AppendUvarint(b, uint64(w.numSKeys))
		b = append(b, w.shortKeys...)
		b = appendCRC(b, 0)
		sk = span{w.off, int64(len(b))}
		w.write(b)
	}

	f := []byte{byte(FormatCurrent)}
	f = binary.AppendUvarint(f, uint64(w.numRows))
	f = binary.AppendUvarint(f, uint64(len(w.cols)))
	for i, cb := range w.cols {
		f = binary.AppendUvarint(f, uint64(cb.meta.ID))
		f = appendTypeDesc(f, cb.pt, cb.meta.Type)
		if cb.meta.Nullable {
			f = append(f, 1)
		} else {
			f = append(f, 0)
		}
		f = binary.AppendUvarint(f, uint64(idx[i].off))
		f = binary.AppendUvarint(f, uint64(idx[i].n))
	}
	f = binary.AppendUvarint(f, uint64(len(w.pageRows)))
	for _, r := range w.pageRows {
		f = binary.AppendUvarint(f, uint64(r))
	}
	f = binary.AppendUvarint(f, uint64(w.opts.NumSortKeys))
	f = binary.AppendUvarint(f, uint64(sk.off))
	f = binary.AppendUvarint(f, uint64(sk.n))
	footerLen := len(f)
	f = binary.LittleEndian.AppendUint32(f, uint32(footerLen))
	f = binary.LittleEndian.AppendUint32(f, checksum(f[:footerLen]))
	f = append(f, magic[:]...)
	w.write(f)
	if w.err != nil {
		return Info{}, w.err
	}
	return Info{NumRows: w.numRows, Size: w.off}, nil
}
