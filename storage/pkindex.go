package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/bits-and-blooms/bloom/v3"
)

// Primary-key index.
//
// A merge-on-write UNIQUE KEY table keeps beside every segment a file of the
// segment's primary keys: the memcomparable encodings (KeyEncoder) of its
// rows' key columns, in row order, which is strictly increasing order since
// rows are sorted by key and a key occurs at most once in a segment. Key i
// is the key of row i. A bloom filter over the keys answers most lookups of
// absent keys without a search, and a roaring bitmap holds the rows whose
// delete sign is set. The byte layout is specified in docs/format.md,
// section "Primary-key index file":
//
//	+-------------+---------------------+--------------+----------------+--------+------+
//	| header      | keys (fixed width,  | bloom filter | delete signs   | footer | tail |
//	| STPK v      | or offsets + blob)  | + crc32c     | roaring + crc  |        |      |
//	|             | + crc32c            |              |                |        |      |
//	+-------------+---------------------+--------------+----------------+--------+------+
//
// When every key has the same length (always the case for keys of
// fixed-width columns, see KeyEncoder.Fixed) the keys are one blob of
// num_keys*width bytes with no offsets.

// PKIndexVersion is the primary-key index format ratchet. The version byte
// leads the file and its footer. A reader accepts every version from
// PKIndexV1 up to PKIndexCurrent and rejects the rest with
// ErrUnsupportedVersion; retired versions stay listed as placeholders so
// that their numbers are never reused.
type PKIndexVersion uint8

const (
	pkIndexVersionInvalid PKIndexVersion = iota
	// PKIndexV1 is the first primary-key index format (see docs/format.md).
	PKIndexV1

	// PKIndexCurrent is the version new index files are written with.
	PKIndexCurrent = PKIndexV1
)

// pkMagic identifies a primary-key index file; it is written at both ends.
var pkMagic = [4]byte{'S', 'T', 'P', 'K'}

const (
	pkHeaderLen = 4 + 1     // magic, version
	pkTailLen   = 4 + 4 + 4 // footer length u32, footer crc32c u32, magic

	// Key layouts (footer field key_layout).
	pkLayoutFixed    = 1 // every key has key_width bytes; no offsets
	pkLayoutVariable = 2 // num_keys+1 u32 offsets, then the blob

	// pkBloomFP is the false-positive rate the bloom filter is sized for:
	// about 9.6 bits and 7 probes per key.
	pkBloomFP = 0.01
	// pkMaxBloomHashes bounds the probes per lookup a file may ask for;
	// the writer uses 7.
	pkMaxBloomHashes = 32

	// pkMaxKeys: row numbers are uint32 (roaring bitmaps), and so are the
	// offsets of variable-width keys.
	pkMaxKeys = math.MaxUint32
)

// WritePKIndex writes a primary-key index file of keys, the encoded keys of
// a segment's rows in row order, to w. Keys must be strictly increasing
// (bytes.Compare); the error names the first position where they are not.
// deleteSigns, which may be nil, holds the rows whose delete sign is set;
// every row in it must be below len(keys). Neither keys nor deleteSigns is
// modified. Writes to w are buffered (64 KiB), so w need not be.
func WritePKIndex(w io.Writer, keys [][]byte, deleteSigns *roaring.Bitmap) error {
	n := len(keys)
	if uint64(n) > pkMaxKeys {
		return fmt.Errorf("storage: pk index of %d keys (at most %d)", n, uint64(pkMaxKeys))
	}
	width := 0
	if n > 0 {
		width = len(keys[0])
	}
	total := 0
	for i, k := range keys {
		if len(k) != width {
			width = -1
		}
		total += len(k)
		if i == 0 {
			continue
		}
		switch c := bytes.Compare(keys[i-1], k); {
		case c == 0:
			return fmt.Errorf("storage: pk index: key %d duplicates key %d (%x)", i, i-1, k)
		case c > 0:
			return fmt.Errorf("storage: pk index: key %d (%x) sorts before key %d (%x)", i, k, i-1, keys[i-1])
		}
	}
	if width < 0 && uint64(total) > math.MaxUint32 {
		return fmt.Errorf("storage: pk index: %d bytes of variable-width keys (at most %d)", total, uint64(math.MaxUint32))
	}
	var signs []byte
	if deleteSigns != nil && !deleteSigns.IsEmpty() {
		if m := deleteSigns.Maximum(); uint64(m) >= uint64(n) {
			return fmt.Errorf("storage: pk index: delete sign on row %d of %d", m, n)
		}
		bm := deleteSigns.Clone()
		bm.RunOptimize()
		var err error
		if signs, err = bm.ToBytes(); err != nil {
			return fmt.Errorf("storage: pk index: serializing delete signs: %w", err)
		}
	}

	pw := &pkWriter{w: w, buf: make([]byte, 0, 64<<10)}
	pw.write(pkMagic[:])
	pw.write([]byte{byte(PKIndexCurrent)})

	// Keys.
	pw.crc = 0
	start := pw.n
	if width < 0 {
		off := uint32(0)
		pw.writeU32(off)
		for _, k := range keys {
			off += uint32(len(k))
			pw.writeU32(off)
		}
	}
	for _, k := range keys {
		pw.write(k)
	}
	keysLen := pw.endSection(start)

	// Bloom filter.
	f := bloom.NewWithEstimates(uint(max(n, 1)), pkBloomFP)
	for _, k := range keys {
		f.Add(k)
	}
	start = pw.n
	pw.write([]byte{byte(f.K())})
	pw.write(binary.AppendUvarint(nil, uint64(f.Cap())))
	for _, word := range f.BitSet().Words() {
		pw.writeU64(word)
	}
	bloomLen := pw.endSection(start)

	// Delete signs.
	start = pw.n
	pw.write(signs)
	signsLen := pw.endSection(start)

	// Footer and tail.
	footer := []byte{byte(PKIndexCurrent)}
	footer = binary.AppendUvarint(footer, uint64(n))
	if width >= 0 {
		footer = append(footer, pkLayoutFixed)
		footer = binary.AppendUvarint(footer, uint64(width))
	} else {
		footer = append(footer, pkLayoutVariable)
	}
	footer = binary.AppendUvarint(footer, uint64(keysLen))
	footer = binary.AppendUvarint(footer, uint64(bloomLen))
	footer = binary.AppendUvarint(footer, uint64(signsLen))
	pw.write(footer)
	tail := binary.LittleEndian.AppendUint32(nil, uint32(len(footer)))
	tail = binary.LittleEndian.AppendUint32(tail, checksum(footer))
	tail = append(tail, pkMagic[:]...)
	pw.write(tail)
	pw.flush()
	if pw.err != nil {
		return fmt.Errorf("storage: writing pk index: %w", pw.err)
	}
	return nil
}

// pkWriter buffers the writes of WritePKIndex, keeping the CRC32-C of the
// current section and the bytes written. After an error from w it drops
// everything; the error is in err.
type pkWriter struct {
	w   io.Writer
	buf []byte
	crc uint32
	n   int64
	err error
}

func (p *pkWriter) write(b []byte) {
	p.crc = crc32.Update(p.crc, castagnoli, b)
	p.n += int64(len(b))
	if len(p.buf)+len(b) > cap(p.buf) {
		p.flush()
		if len(b) >= cap(p.buf) {
			if p.err == nil {
				_, p.err = p.w.Write(b)
			}
			return
		}
	}
	p.buf = append(p.buf, b...)
}

func (p *pkWriter) writeU32(v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	p.write(b[:])
}

func (p *pkWriter) writeU64(v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	p.write(b[:])
}

// endSection appends the CRC of the section that began at start, starts a
// new CRC and returns the section's length including its CRC.
func (p *pkWriter) endSection(start int64) int64 {
	p.writeU32(p.crc)
	p.crc = 0
	return p.n - start
}

func (p *pkWriter) flush() {
	if p.err == nil && len(p.buf) > 0 {
		_, p.err = p.w.Write(p.buf)
	}
	p.buf = p.buf[:0]
}

// PKIndex is an open primary-key index: the sorted keys of one segment,
// their bloom filter and the rows whose delete sign is set. It is
// immutable after OpenPKIndex and safe for concurrent use.
type PKIndex struct {
	version PKIndexVersion
	n       int
	width   int    // every key's length; -1: variable width, see offs
	offs    []byte // variable width: n+1 u32 offsets into keys
	keys    []byte // the key bytes, aliasing the file
	bloom   *bloom.BloomFilter
	signs   *roaring.Bitmap
	size    int // MemSize
}

// OpenPKIndex verifies a primary-key index file, the whole of whose bytes
// are b, and returns the index. Damaged or unknown input yields an error
// wrapping ErrCorrupt or ErrUnsupportedVersion, never a panic.
//
// The index aliases b (keys are not copied): b must not be modified while
// the index or any slice Key returned is in use.
func OpenPKIndex(b []byte) (*PKIndex, error) { return openPKIndex(b, true) }

// openPKIndex is OpenPKIndex; with verify false it skips the checksums, so
// that the fuzz target reaches the decoders with the input a crafted file
// could hold.
func openPKIndex(b []byte, verify bool) (*PKIndex, error) {
	if len(b) < pkHeaderLen+pkTailLen {
		return nil, fmt.Errorf("storage: pk index of %d bytes is too short: %w", len(b), ErrCorrupt)
	}
	if [4]byte(b[:4]) != pkMagic {
		return nil, fmt.Errorf("storage: bad pk index magic %q: %w", b[:4], ErrCorrupt)
	}
	if err := checkPKVersion(b[4], "storage: pk index header"); err != nil {
		return nil, err
	}
	tail := b[len(b)-pkTailLen:]
	if [4]byte(tail[8:]) != pkMagic {
		return nil, fmt.Errorf("storage: bad pk index tail magic %q: %w", tail[8:], ErrCorrupt)
	}
	footerLen := int(binary.LittleEndian.Uint32(tail))
	footerEnd := len(b) - pkTailLen
	if footerLen < 1 || footerLen > footerEnd-pkHeaderLen {
		return nil, fmt.Errorf("storage: pk index footer length %d does not fit a file of %d bytes: %w", footerLen, len(b), ErrCorrupt)
	}
	footer := b[footerEnd-footerLen : footerEnd]
	if want, got := binary.LittleEndian.Uint32(tail[4:]), checksum(footer); verify && got != want {
		return nil, fmt.Errorf("storage: pk index footer checksum mismatch (stored %08x, computed %08x): %w", want, got, ErrCorrupt)
	}

	x := &PKIndex{}
	d := &decbuf{b: footer}
	v := d.byte()
	if d.err == nil {
		if err := checkPKVersion(v, "storage: pk index footer"); err != nil {
			return nil, err
		}
		if v != b[4] {
			d.fail(fmt.Errorf("footer version %d, header version %d", v, b[4]))
		}
	}
	x.version = PKIndexVersion(v)
	n := d.uvarint()
	layout := d.byte()
	width := uint64(0)
	switch layout {
	case pkLayoutFixed:
		width = d.uvarint()
	case pkLayoutVariable:
	default:
		d.fail(fmt.Errorf("unknown key layout %d", layout))
	}
	// Section lengths, each including its CRC. They must tile the bytes
	// between the header and the footer.
	var lens [3]uint64
	for i := range lens {
		lens[i] = d.uvarint()
	}
	if d.err == nil && d.len() != 0 {
		d.fail(fmt.Errorf("%d trailing footer bytes", d.len()))
	}
	if d.err == nil {
		avail := uint64(footerEnd - footerLen - pkHeaderLen)
		if lens[0] > avail || lens[1] > avail || lens[2] > avail || lens[0]+lens[1]+lens[2] != avail {
			d.fail(fmt.Errorf("sections of %d, %d and %d bytes in %d bytes", lens[0], lens[1], lens[2], avail))
		}
	}
	if d.err == nil && (n > pkMaxKeys || n > math.MaxInt) {
		d.fail(fmt.Errorf("%d keys", n))
	}
	if d.err != nil {
		return nil, fmt.Errorf("storage: pk index footer: %v: %w", d.err, ErrCorrupt)
	}
	x.n = int(n)
	var sec [3][]byte
	off := uint64(pkHeaderLen)
	for i, l := range lens {
		sec[i] = b[off : off+l : off+l]
		off += l
	}
	for i, what := range [3]string{"keys", "bloom filter", "delete signs"} {
		body, err := pkSection(sec[i], verify, what)
		if err != nil {
			return nil, err
		}
		sec[i] = body
	}
	if err := x.parseKeys(sec[0], layout, width); err != nil {
		return nil, fmt.Errorf("storage: pk index keys: %v: %w", err, ErrCorrupt)
	}
	words, err := x.parseBloom(sec[1])
	if err != nil {
		return nil, fmt.Errorf("storage: pk index bloom filter: %v: %w", err, ErrCorrupt)
	}
	if err := x.parseSigns(sec[2]); err != nil {
		return nil, fmt.Errorf("storage: pk index delete signs: %v: %w", err, ErrCorrupt)
	}
	x.size = cap(b) + 8*words + int(x.signs.GetSizeInBytes()) + pkIndexOverhead
	return x, nil
}

// pkIndexOverhead approximates the fixed memory of a PKIndex: the struct,
// the bloom filter and bitset headers.
const pkIndexOverhead = 256

func checkPKVersion(v byte, what string) error {
	if PKIndexVersion(v) < PKIndexV1 || PKIndexVersion(v) > PKIndexCurrent {
		return fmt.Errorf("%s: format version %d (this build reads %d..%d): %w",
			what, v, PKIndexV1, PKIndexCurrent, ErrUnsupportedVersion)
	}
	return nil
}

// pkSection checks a section's CRC (when verify is set) and returns its
// body.
func pkSection(b []byte, verify bool, what string) ([]byte, error) {
	what = "storage: pk index " + what
	if verify {
		return verifyCRC(b, what)
	}
	if len(b) < crcLen {
		return nil, fmt.Errorf("%s: %d bytes is too short for a checksum: %w", what, len(b), ErrCorrupt)
	}
	return b[: len(b)-crcLen : len(b)-crcLen], nil
}

// parseKeys checks the keys section's body against the footer and that the
// keys are strictly increasing.
func (x *PKIndex) parseKeys(b []byte, layout byte, width uint64) error {
	n := x.n
	if layout == pkLayoutFixed {
		// Width 0 holds the empty key, at most once.
		ok := width == 0 && len(b) == 0 && n <= 1 ||
			width > 0 && width <= math.MaxInt32 && uint64(len(b))%width == 0 && uint64(len(b))/width == uint64(n)
		if !ok {
			return fmt.Errorf("%d keys of %d bytes in %d bytes", n, width, len(b))
		}
		x.width = int(width)
		x.keys = b
		w := x.width
		for i := 1; i < n; i++ {
			if bytes.Compare(b[(i-1)*w:i*w], b[i*w:(i+1)*w]) >= 0 {
				return fmt.Errorf("key %d is not above key %d", i, i-1)
			}
		}
		return nil
	}
	if uint64(n)+1 > uint64(len(b))/4 {
		return fmt.Errorf("%d variable-width keys in %d bytes", n, len(b))
	}
	x.width = -1
	x.offs = b[: 4*(n+1) : 4*(n+1)]
	x.keys = b[4*(n+1):]
	prev := uint32(0)
	if first := binary.LittleEndian.Uint32(x.offs); first != 0 {
		return fmt.Errorf("first offset %d", first)
	}
	for i := 1; i <= n; i++ {
		o := binary.LittleEndian.Uint32(x.offs[4*i:])
		if o < prev || uint64(o) > uint64(len(x.keys)) {
			return fmt.Errorf("offset %d of key %d out of order or range (previous %d, %d key bytes)", o, i-1, prev, len(x.keys))
		}
		prev = o
	}
	if uint64(prev) != uint64(len(x.keys)) {
		return fmt.Errorf("offsets end at %d of %d key bytes", prev, len(x.keys))
	}
	for i := 1; i < n; i++ {
		if bytes.Compare(x.Key(i-1), x.Key(i)) >= 0 {
			return fmt.Errorf("key %d is not above key %d", i, i-1)
		}
	}
	return nil
}

// parseBloom decodes the bloom filter section's body and returns the
// number of 64-bit words it holds.
func (x *PKIndex) parseBloom(b []byte) (int, error) {
	d := &decbuf{b: b}
	k := d.byte()
	m := d.uvarint()
	if d.err != nil {
		return 0, d.err
	}
	if k < 1 || k > pkMaxBloomHashes || m < 1 || m > uint64(d.len())*8 {
		return 0, fmt.Errorf("%d hashes over %d bits in %d bytes", k, m, d.len())
	}
	nw := int((m + 63) / 64)
	if d.len() != 8*nw {
		return 0, fmt.Errorf("%d bits in %d bytes", m, d.len())
	}
	words := make([]uint64, nw)
	for i := range words {
		words[i] = d.u64()
	}
	x.bloom = bloom.FromWithM(words, uint(m), uint(k))
	return nw, nil
}

// parseSigns decodes the delete-sign section's body: empty, or a roaring
// bitmap (portable serialization) of rows below the key count.
func (x *PKIndex) parseSigns(b []byte) error {
	x.signs = roaring.New()
	if len(b) == 0 {
		return nil
	}
	r := bytes.NewReader(b)
	if _, err := x.signs.ReadFrom(r); err != nil {
		return err
	}
	if r.Len() != 0 {
		return fmt.Errorf("%d trailing bytes", r.Len())
	}
	if err := x.signs.Validate(); err != nil {
		return err
	}
	if !x.signs.IsEmpty() && uint64(x.signs.Maximum()) >= uint64(x.n) {
		return fmt.Errorf("delete sign on row %d of %d", x.signs.Maximum(), x.n)
	}
	return nil
}

// Version returns the format version the file was written with.
func (x *PKIndex) Version() PKIndexVersion { return x.version }

// NumKeys returns the number of keys, which is the segment's row count.
func (x *PKIndex) NumKeys() int { return x.n }

// Key returns key i (the key of row i), aliasing the file's bytes; it must
// not be modified. It panics if i is out of range.
func (x *PKIndex) Key(i int) []byte {
	if uint(i) >= uint(x.n) {
		panic(fmt.Sprintf("BUG: pk index key %d of %d", i, x.n))
	}
	if x.width >= 0 {
		s := i * x.width
		return x.keys[s : s+x.width : s+x.width]
	}
	s := binary.LittleEndian.Uint32(x.offs[4*i:])
	e := binary.LittleEndian.Uint32(x.offs[4*i+4:])
	return x.keys[s:e:e]
}

// MayContain reports whether key may be in the index: false means it is
// not; true is wrong for about 1 % of absent keys (the bloom filter).
func (x *PKIndex) MayContain(key []byte) bool {
	if x.n == 0 || (x.width >= 0 && len(key) != x.width) {
		return false
	}
	return x.bloom.Test(key)
}

// Find returns the row whose key is key, and whether there is one. It
// checks the bloom filter, then binary-searches the keys. It does not
// allocate.
func (x *PKIndex) Find(key []byte) (row int, ok bool) {
	if !x.MayContain(key) {
		return 0, false
	}
	lo, hi := 0, x.n
	if w := x.width; w >= 0 {
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			s := m * w
			switch c := bytes.Compare(x.keys[s:s+w], key); {
			case c < 0:
				lo = m + 1
			case c > 0:
				hi = m
			default:
				return m, true
			}
		}
		return 0, false
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		s := binary.LittleEndian.Uint32(x.offs[4*m:])
		e := binary.LittleEndian.Uint32(x.offs[4*m+4:])
		switch c := bytes.Compare(x.keys[s:e], key); {
		case c < 0:
			lo = m + 1
		case c > 0:
			hi = m
		default:
			return m, true
		}
	}
	return 0, false
}

// DeleteSigns returns the rows whose delete sign is set; it is never nil,
// and empty when there are none. The bitmap is shared: it must not be
// modified (Clone it first).
func (x *PKIndex) DeleteSigns() *roaring.Bitmap { return x.signs }

// MemSize returns the bytes the index keeps reachable: the file's bytes,
// which it aliases, plus the decoded bloom filter and delete signs.
func (x *PKIndex) MemSize() int { return x.size }
