package storage

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Segment is an open, verified segment. It holds the footer, every column's
// page index and the short-key index in memory; pages are read on demand.
// A Segment and its ColumnReaders are safe for concurrent use as long as the
// underlying io.ReaderAt is.
type Segment struct {
	r        io.ReaderAt
	size     int64
	version  FormatVersion
	numRows  int64
	metas    []ColumnMeta
	cols     []*ColumnReader
	byID     map[uint32]*ColumnReader
	pageRows []int   // rows of each page
	firstRow []int64 // first row of each page, len(pageRows)+1 entries

	numSortKeys int
	skInterval  int64
	skEntries   [][]any // short-key entries; nil element = NULL

	layout layout // where the blocks are, for diagnostics

	id    uint64     // unique per opened segment: the page cache's key
	cache *PageCache // nil: pages are decoded on every read
}

// span is a byte range of the file.
type span struct{ off, n int64 }

// layout records the block positions of an open segment.
type layout struct {
	index    []span // page index block of each column
	shortKey span
	footer   span
}

// ColumnReader reads the pages of one column of a Segment.
type ColumnReader struct {
	seg   *Segment
	meta  ColumnMeta
	pt    physType
	pages []pageRef
}

type pageRef struct {
	off, n int64
	zone   ZoneMap
}

// Open reads and verifies the footer and the page indexes. r must stay valid while the Segment is used.
func Open(r io.ReaderAt, size int64) (*Segment, error) {
	if size < int64(fileHeaderLen+fileTailLen) {
		return nil, fmt.Errorf("storage: segment of %d bytes is too short: %w", size, ErrCorrupt)
	}
	var hdr [fileHeaderLen]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("storage: reading segment header: %w", err)
	}
	if [4]byte(hdr[:4]) != magic {
		return nil, fmt.Errorf("storage: bad segment magic %q: %w", hdr[:4], ErrCorrupt)
	}
	if err := checkVersion(hdr[4], "storage: segment header"); err != nil {
		return nil, err
	}
	var tail [fileTailLen]byte
	if _, err := r.ReadAt(tail[:], size-fileTailLen); err != nil {
		return nil, fmt.Errorf("storage: reading segment tail: %w", err)
	}
	if [4]byte(tail[8:]) != magic {
		return nil, fmt.Errorf("storage: bad segment tail magic %q: %w", tail[8:], ErrCorrupt)
	}
	footerLen := int64(binary.LittleEndian.Uint32(tail[0:]))
	footerCRC := binary.LittleEndian.Uint32(tail[4:])
	footerOff := size - fileTailLen - footerLen
	if footerLen < 1 || footerOff < int64(fileHeaderLen) {
		return nil, fmt.Errorf("storage: footer length %d does not fit a segment of %d bytes: %w", footerLen, size, ErrCorrupt)
	}
	footer := make([]byte, footerLen)
	if _, err := r.ReadAt(footer, footerOff); err != nil {
		return nil, fmt.Errorf("storage: reading segment footer: %w", err)
	}
	if got := checksum(footer); got != footerCRC {
		return nil, fmt.Errorf("storage: footer checksum mismatch (stored %08x, computed %08x): %w", footerCRC, got, ErrCorrupt)
	}
	s := &Segment{r: r, size: size, id: segmentIDs.Add(1)}
	if err := s.parseFooter(footer, footerOff); err != nil {
		return nil, err
	}
	return s, nil
}

// parseFooter decodes the footer and loads the index blocks it points to.
// Index blocks must lie between the file header and the footer.
func (s *Segment) parseFooter(footer []byte, footerOff int64) error {
	d := &decbuf{b: footer}
	v := d.byte()
	if err := checkVersion(v, "storage: segment footer"); err != nil {
		return err
	}
	s.version = FormatVersion(v)
	s.numRows = d.uvarintInt()
	ncols := d.uvarintLen()
	if d.err == nil && ncols > d.len() {
		d.fail(fmt.Errorf("%d columns in a footer of %d bytes", ncols, len(footer)))
	}
	idx := make([]span, 0, ncols)
	s.byID = make(map[uint32]*ColumnReader, ncols)
	for i := 0; i < ncols && d.err == nil; i++ {
		id := d.uvarint()
		pt, dt := readTypeDesc(d)
		nullable := d.byte()
		off := d.uvarintInt()
		n := d.uvarintInt()
		if d.err != nil {
			break
		}
		if id > 1<<32-1 || nullable > 1 {
			d.fail(fmt.Errorf("column %d: id or nullable flag %d out of range", id, nullable))
			break
		}
		meta := ColumnMeta{ID: uint32(id), Type: dt, Nullable: nullable == 1}
		if s.byID[meta.ID] != nil {
			d.fail(fmt.Errorf("duplicate column id %d", id))
			break
		}
		c := &ColumnReader{seg: s, meta: meta, pt: pt}
		s.metas = append(s.metas, meta)
		s.cols = append(s.cols, c)
		s.byID[meta.ID] = c
		idx = append(idx, span{off, n})
	}
	npages := d.uvarintLen()
	if d.err == nil && npages > d.len() {
		d.fail(fmt.Errorf("%d pages in a footer of %d bytes", npages, len(footer)))
	}
	s.firstRow = make([]int64, 1, npages+1)
	for i := 0; i < npages && d.err == nil; i++ {
		n := d.uvarintLen()
		if n == 0 || n > MaxPageRows {
			d.fail(fmt.Errorf("page %d has %d rows (limit %d)", i, n, MaxPageRows))
		}
		s.pageRows = append(s.pageRows, n)
		s.firstRow = append(s.firstRow, s.firstRow[i]+int64(n))
	}
	s.numSortKeys = d.uvarintLen()
	skOff := d.uvarintInt()
	skLen := d.uvarintInt()
	if d.err == nil && d.len() != 0 {
		d.fail(fmt.Errorf("%d trailing bytes", d.len()))
	}
	if d.err != nil {
		return fmt.Errorf("storage: decoding segment footer: %v: %w", d.err, ErrCorrupt)
	}
	if last := s.firstRow[len(s.firstRow)-1]; last != s.numRows {
		return fmt.Errorf("storage: pages hold %d rows, footer says %d: %w", last, s.numRows, ErrCorrupt)
	}
	if s.numSortKeys > len(s.cols) {
		return fmt.Errorf("storage: %d sort keys for %d columns: %w", s.numSortKeys, len(s.cols), ErrCorrupt)
	}
	readBlock := func(off, n int64, what string) ([]byte, error) {
		if off < int64(fileHeaderLen) || n < 1 || off > footerOff || n > footerOff-off {
			return nil, fmt.Errorf("storage: %s at [%d, +%d) outside the index area: %w", what, off, n, ErrCorrupt)
		}
		b := make([]byte, n)
		if _, err := s.r.ReadAt(b, off); err != nil {
			return nil, fmt.Errorf("storage: reading %s: %w", what, err)
		}
		body, err := verifyCRC(b, "storage: "+what)
		if err != nil {
			return nil, err
		}
		if err := checkVersion(body[0], "storage: "+what); err != nil {
			return nil, err
		}
		return body[1:], nil
	}
	for i, c := range s.cols {
		what := fmt.Sprintf("page index of column %d", c.meta.ID)
		b, err := readBlock(idx[i].off, idx[i].n, what)
		if err != nil {
			return err
		}
		if err := c.parseIndex(b, idx[i].off); err != nil {
			return fmt.Errorf("storage: decoding %s: %w", what, err)
		}
	}
	s.layout = layout{index: idx, shortKey: span{skOff, skLen}, footer: span{footerOff, int64(len(footer))}}
	if s.numSortKeys > 0 {
		b, err := readBlock(skOff, skLen, "short-key index")
		if err != nil {
			return err
		}
		if err := s.parseShortKeys(b); err != nil {
			return fmt.Errorf("storage: decoding short-key index: %w", err)
		}
	} else if skOff != 0 || skLen != 0 {
		return fmt.Errorf("storage: short-key index without sort keys: %w", ErrCorrupt)
	}
	return nil
}

// parseIndex decodes a column's page index. Pages must lie between the file
// header and the index block (dataEnd) and must not overlap.
func (c *ColumnReader) parseIndex(b []byte, dataEnd int64) error {
	d := &decbuf{b: b}
	n := d.uvarintLen()
	if d.err == nil && n != len(c.seg.pageRows) {
		d.fail(fmt.Errorf("%d pages, footer says %d", n, len(c.seg.pageRows)))
	}
	c.pages = make([]pageRef, 0, len(c.seg.pageRows))
	for i := 0; i < n && d.err == nil; i++ {
		off := d.uvarintInt()
		size := d.uvarintInt()
		var z ZoneMap
		z.NullCount = d.uvarintLen()
		has := d.byte()
		if has > 1 {
			d.fail(fmt.Errorf("page %d: min/max flag %d", i, has))
		}
		if has == 1 {
			z.HasMinMax = true
			z.Min = readValue(d, c.pt)
			z.Max = readValue(d, c.pt)
		}
		if d.err != nil {
			break
		}
		rows := c.seg.pageRows[i]
		switch {
		case off < int64(fileHeaderLen) || size < 1 || off > dataEnd || size > dataEnd-off:
			d.fail(fmt.Errorf("page %d at [%d, +%d) outside the data area", i, off, size))
		case z.NullCount > rows || (z.NullCount == rows) == z.HasMinMax:
			d.fail(fmt.Errorf("page %d: %d nulls in %d rows with min/max flag %d", i, z.NullCount, rows, has))
		case !c.meta.Nullable && z.NullCount > 0:
			d.fail(fmt.Errorf("page %d: %d nulls in a non-nullable column", i, z.NullCount))
		}
		c.pages = append(c.pages, pageRef{off: off, n: size, zone: z})
	}
	if d.err == nil && d.len() != 0 {
		d.fail(fmt.Errorf("%d trailing bytes", d.len()))
	}
	if d.err != nil {
		return fmt.Errorf("%v: %w", d.err, ErrCorrupt)
	}
	return nil
}

// FormatVersion is the format version the segment was written with.
func (s *Segment) FormatVersion() FormatVersion { return s.version }

// NumRows is the number of rows in the segment.
func (s *Segment) NumRows() int64 { return s.numRows }

// Columns returns the segment's schema in column order. The slice must not
// be modified.
func (s *Segment) Columns() []ColumnMeta { return s.metas }

// NumPages is the number of pages; identical page boundaries for every column.
func (s *Segment) NumPages() int { return len(s.pageRows) }

// PageRange returns the rows page covers. It panics if page is out of range.
func (s *Segment) PageRange(page int) (firstRow int64, numRows int) {
	return s.firstRow[page], s.pageRows[page]
}

// PageOf returns the page holding row (0 <= row < NumRows).
func (s *Segment) PageOf(row int64) int { return s.pageOf(row) }

// pageOf returns the page holding row (0 <= row < NumRows).
func (s *Segment) pageOf(row int64) int {
	return sort.Search(len(s.pageRows), func(p int) bool { return s.firstRow[p+1] > row })
}

// Column returns the reader of column id, or nil if the segment has no such column.
func (s *Segment) Column(id uint32) *ColumnReader { return s.byID[id] }

// Meta returns the column's schema entry.
func (c *ColumnReader) Meta() ColumnMeta { return c.meta }

// Zone returns the zone map of page. It panics if page is out of range.
// The returned Min and Max must not be modified.
func (c *ColumnReader) Zone(page int) ZoneMap { return c.pages[page].zone }

// PageEncoding reads the header of page and reports its encoding and codec
// (for tests and diagnostics).
func (c *ColumnReader) PageEncoding(page int) (Encoding, Compression, error) {
	p := c.pages[page]
	buf := getBuf(int(p.n))
	defer putBuf(buf)
	h, _, err := c.readPage(page, *buf)
	if err != nil {
		return 0, 0, err
	}
	return h.enc, h.codec, nil
}

// pageHeader is the decoded fixed part of a page.
type pageHeader struct {
	enc       Encoding
	codec     Compression
	flags     byte
	numRows   int
	nullCount int
	rawLen    int
}

// readPage reads page into buf (len(buf) == page size), verifies framing and
// the CRC, and returns the header and the stored body (aliasing buf).
func (c *ColumnReader) readPage(page int, buf []byte) (pageHeader, []byte, error) {
	var h pageHeader
	p := c.pages[page]
	if _, err := c.seg.r.ReadAt(buf, p.off); err != nil {
		return h, nil, fmt.Errorf("storage: reading page %d of column %d: %w", page, c.meta.ID, err)
	}
	what := fmt.Sprintf("storage: page %d of column %d", page, c.meta.ID)
	body, err := verifyCRC(buf, what)
	if err != nil {
		return h, nil, err
	}
	d := &decbuf{b: body}
	v := d.byte()
	h.enc = Encoding(d.byte())
	h.codec = Compression(d.byte())
	h.flags = d.byte()
	h.numRows = d.uvarintLen()
	h.nullCount = d.uvarintLen()
	h.rawLen = d.uvarintLen()
	stored := d.bytes(d.uvarintLen())
	if d.err != nil {
		return h, nil, fmt.Errorf("%s: header: %v: %w", what, d.err, ErrCorrupt)
	}
	if err := checkVersion(v, what); err != nil {
		return h, nil, err
	}
	switch {
	case d.len() != 0:
		err = fmt.Errorf("%d trailing bytes", d.len())
	case !h.enc.IsValid():
		err = fmt.Errorf("unknown encoding %v", h.enc)
	case !h.codec.isCodec():
		err = fmt.Errorf("unknown codec %d", uint8(h.codec))
	case h.flags&^pageFlagValidity != 0:
		err = fmt.Errorf("unknown flags %#x", h.flags)
	case h.numRows != c.seg.pageRows[page]:
		err = fmt.Errorf("%d rows, footer says %d", h.numRows, c.seg.pageRows[page])
	case h.nullCount != p.zone.NullCount:
		err = fmt.Errorf("%d nulls, page index says %d", h.nullCount, p.zone.NullCount)
	case (h.nullCount > 0) != (h.flags&pageFlagValidity != 0):
		err = fmt.Errorf("%d nulls with flags %#x", h.nullCount, h.flags)
	case h.rawLen > maxPageRawLen:
		err = fmt.Errorf("decoded size %d exceeds the limit %d", h.rawLen, maxPageRawLen)
	}
	if err != nil {
		return h, nil, fmt.Errorf("%s: %v: %w", what, err, ErrCorrupt)
	}
	return h, stored, nil
}

// ReadPage decodes one page into a new arrow array of the column's type (verifying the page CRC).
// The caller owns a reference to the array and must Release it. With a page
// cache (SetCache) the array may be shared with other readers: nobody may
// modify it.
func (c *ColumnReader) ReadPage(page int, mem memory.Allocator) (arrow.Array, error) {
	return c.readArray(page, mem, false)
}

// ReadPageDict is ReadPage for readers that work on dictionary codes: a
// string page stored with the dict or constant encoding comes back as an
// *array.Dictionary (int32 indices into a string dictionary of the page's
// distinct values, validity on the indices) instead of being expanded row
// by row. Every other page comes back as ReadPage returns it.
func (c *ColumnReader) ReadPageDict(page int, mem memory.Allocator) (arrow.Array, error) {
	return c.readArray(page, mem, true)
}

func (c *ColumnReader) readArray(page int, mem memory.Allocator, dict bool) (arrow.Array, error) {
	if c.seg.cache != nil && page >= 0 && page < len(c.pages) {
		return c.cachedRead(page, dict)
	}
	return c.decode(page, mem, dict)
}

// decode reads, verifies and decodes one page.
func (c *ColumnReader) decode(page int, mem memory.Allocator, dict bool) (arrow.Array, error) {
	if page < 0 || page >= len(c.pages) {
		return nil, fmt.Errorf("storage: page %d out of range [0, %d)", page, len(c.pages))
	}
	p := c.pages[page]
	buf := getBuf(int(p.n))
	defer putBuf(buf)
	h, stored, err := c.readPage(page, *buf)
	if err != nil {
		return nil, err
	}
	raw := stored
	if h.codec != CompressionNone {
		dbuf := getBuf(0)
		defer putBuf(dbuf)
		raw, err = decompressPage(dbuf, stored, h.codec, h.rawLen)
		if err != nil {
			return nil, fmt.Errorf("storage: page %d of column %d: %w", page, c.meta.ID, err)
		}
	} else if len(raw) != h.rawLen {
		return nil, fmt.Errorf("storage: page %d of column %d: %d body bytes, header says %d: %w",
			page, c.meta.ID, len(raw), h.rawLen, ErrCorrupt)
	}
	arr, err := decodePage(c.pt, c.meta.Type, h, raw, mem, dict)
	if err != nil {
		return nil, fmt.Errorf("storage: decoding page %d of column %d: %w", page, c.meta.ID, err)
	}
	return arr, nil
}
