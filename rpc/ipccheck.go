package rpc

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/flight"
)

// Checking IPC headers before arrow-go decodes them.
//
// arrow-go's IPC reader recovers panics from malformed input, but it sizes
// some allocations and its recursion by numbers it reads from the header
// without checking them against the header's size: the number of schema
// fields and children, metadata entries, and the uncompressed size of a
// compressed buffer. A corrupt header can therefore make it allocate
// hundreds of GiB (the runtime's "out of memory" is fatal, not a panic) or
// recurse through a cycle of offsets until the stack overflows. checkIPC
// walks exactly those numbers in the flatbuffer, with bounds checks, and
// rejects a header that could not be real: a vector longer than the bytes
// that would hold it, fields nested deeper than maxFieldDepth or more
// fields than the header has room for, an uncompressed buffer larger than
// the limit. Everything else is left to arrow-go, which returns an error
// or panics into its own recover.
//
// Offsets are those of the Arrow format's Message.fbs and Schema.fbs
// (vtable offsets: 4 + 2 × field index, a union taking two fields).

// maxFieldDepth bounds how deep schema fields nest. Real schemas nest a few
// levels; only a cycle of offsets nests without end.
const maxFieldDepth = 64

// errBadHeader is the error of a header that fails a bounds check.
var errBadHeader = errors.New("malformed IPC message header")

// Arrow flatbuffer enum values used below.
const (
	headerSchema          = 1 // MessageHeader.Schema
	headerDictionaryBatch = 2 // MessageHeader.DictionaryBatch
	headerRecordBatch     = 3 // MessageHeader.RecordBatch
	typeUnion             = 14
)

// checkIPC checks a Flight message's IPC header (a flatbuffer Message) and
// its body, as described above. maxBuffer bounds the uncompressed size of
// one compressed buffer.
func checkIPC(header, body []byte, maxBuffer int64) error {
	if len(header) == 0 {
		return nil // a metadata-only Flight message: nothing for arrow-go to decode
	}
	fb := flatbuf(header)
	msg, err := fb.root()
	if err != nil {
		return err
	}
	if err := fb.checkVector(msg, 12, 4); err != nil { // custom_metadata
		return err
	}
	typ, err := fb.u8field(msg, 6) // header_type
	if err != nil {
		return err
	}
	hdr, ok, err := fb.tableField(msg, 8) // header
	if err != nil || !ok {
		return err
	}
	switch typ {
	case headerSchema:
		budget := len(header) / 4 // every field takes more than 4 bytes
		return fb.checkSchema(hdr, &budget)
	case headerDictionaryBatch:
		data, ok, err := fb.tableField(hdr, 6) // data
		if err != nil || !ok {
			return err
		}
		return fb.checkRecordBatch(data, body, maxBuffer)
	case headerRecordBatch:
		return fb.checkRecordBatch(hdr, body, maxBuffer)
	}
	return nil
}

// flatbuf reads a flatbuffer with every access bounds-checked.
type flatbuf []byte

// table is a flatbuffer table: its position and its vtable's.
type table struct {
	pos, vt, vtSize int
}

func (b flatbuf) u16(pos int) (int, error) {
	if pos < 0 || pos > len(b)-2 {
		return 0, errBadHeader
	}
	return int(binary.LittleEndian.Uint16(b[pos:])), nil
}

func (b flatbuf) u32(pos int) (int, error) {
	if pos < 0 || pos > len(b)-4 {
		return 0, errBadHeader
	}
	return int(binary.LittleEndian.Uint32(b[pos:])), nil
}

// root returns the root table.
func (b flatbuf) root() (table, error) {
	pos, err := b.deref(0)
	if err != nil {
		return table{}, err
	}
	return b.table(pos)
}

// table returns the table at pos.
func (b flatbuf) table(pos int) (table, error) {
	soff, err := b.u32(pos)
	if err != nil {
		return table{}, err
	}
	vt := pos - int(int32(uint32(soff)))
	size, err := b.u16(vt)
	if err != nil {
		return table{}, err
	}
	return table{pos: pos, vt: vt, vtSize: size}, nil
}

// field returns the position of the field at vtable offset voff, or 0 if
// the table does not have it. As in the flatbuffers runtime, a field is
// there if its offset is below the vtable's size, even an odd size.
func (b flatbuf) field(t table, voff int) (int, error) {
	if voff >= t.vtSize {
		return 0, nil
	}
	off, err := b.u16(t.vt + voff)
	if err != nil || off == 0 {
		return 0, err
	}
	if t.pos+off >= len(b) {
		return 0, errBadHeader
	}
	return t.pos + off, nil
}

// deref follows the offset stored at pos.
func (b flatbuf) deref(pos int) (int, error) {
	off, err := b.u32(pos)
	if err != nil {
		return 0, err
	}
	if pos+off >= len(b) {
		return 0, errBadHeader
	}
	return pos + off, nil
}

func (b flatbuf) u8field(t table, voff int) (int, error) {
	pos, err := b.field(t, voff)
	if err != nil || pos == 0 {
		return 0, err
	}
	return int(b[pos]), nil
}

// tableField returns the table a field points to; ok is false if the table
// does not have the field.
func (b flatbuf) tableField(t table, voff int) (table, bool, error) {
	pos, err := b.field(t, voff)
	if err != nil || pos == 0 {
		return table{}, false, err
	}
	target, err := b.deref(pos)
	if err != nil {
		return table{}, false, err
	}
	tt, err := b.table(target)
	return tt, err == nil, err
}

// vector returns the start and length of the vector a field points to,
// after checking that n elements of elemSize bytes fit in the buffer.
func (b flatbuf) vector(t table, voff, elemSize int) (start, n int, err error) {
	pos, err := b.field(t, voff)
	if err != nil || pos == 0 {
		return 0, 0, err
	}
	vec, err := b.deref(pos)
	if err != nil {
		return 0, 0, err
	}
	if n, err = b.u32(vec); err != nil {
		return 0, 0, err
	}
	start = vec + 4
	if n > (len(b)-start)/elemSize {
		return 0, 0, fmt.Errorf("%w: a vector of %d elements in a %d-byte header", errBadHeader, n, len(b))
	}
	return start, n, nil
}

func (b flatbuf) checkVector(t table, voff, elemSize int) error {
	_, _, err := b.vector(t, voff, elemSize)
	return err
}

func (b flatbuf) checkSchema(schema table, budget *int) error {
	if err := b.checkVector(schema, 8, 4); err != nil { // custom_metadata
		return err
	}
	if err := b.checkVector(schema, 10, 8); err != nil { // features
		return err
	}
	return b.checkFields(schema, 6, 0, budget) // fields
}

// checkFields checks the vector of Field tables at voff of t and, through
// their children, every field below, at most *budget fields in all.
func (b flatbuf) checkFields(t table, voff, depth int, budget *int) error {
	start, n, err := b.vector(t, voff, 4)
	if err != nil {
		return err
	}
	if n > 0 && depth >= maxFieldDepth {
		return fmt.Errorf("%w: schema fields nested over %d deep", errBadHeader, maxFieldDepth)
	}
	for i := range n {
		if *budget--; *budget < 0 {
			return fmt.Errorf("%w: more schema fields than the header has room for", errBadHeader)
		}
		pos, err := b.deref(start + 4*i)
		if err != nil {
			return err
		}
		field, err := b.table(pos)
		if err != nil {
			return err
		}
		if err := b.checkVector(field, 16, 4); err != nil { // custom_metadata
			return err
		}
		typ, err := b.u8field(field, 8) // type_type
		if err != nil {
			return err
		}
		if typ == typeUnion {
			union, ok, err := b.tableField(field, 10) // type
			if err != nil {
				return err
			}
			if ok {
				if err := b.checkVector(union, 6, 4); err != nil { // typeIds
					return err
				}
			}
		}
		if err := b.checkFields(field, 14, depth+1, budget); err != nil { // children
			return err
		}
	}
	return nil
}

func (b flatbuf) checkRecordBatch(rb table, body []byte, maxBuffer int64) error {
	if err := b.checkVector(rb, 6, 16); err != nil { // nodes
		return err
	}
	if err := b.checkVector(rb, 12, 8); err != nil { // variadicBufferCounts
		return err
	}
	start, n, err := b.vector(rb, 8, 16) // buffers
	if err != nil {
		return err
	}
	_, compressed, err := b.tableField(rb, 10) // compression
	if err != nil || !compressed {
		return err
	}
	// A compressed buffer starts with its uncompressed length (int64, -1
	// for a buffer left uncompressed), which arrow-go allocates.
	for i := range n {
		e := start + 16*i
		off := int64(binary.LittleEndian.Uint64(b[e:]))
		length := int64(binary.LittleEndian.Uint64(b[e+8:]))
		if length < 8 || off < 0 || off > int64(len(body))-8 {
			continue // arrow-go fails on this buffer by itself
		}
		size := int64(binary.LittleEndian.Uint64(body[off:]))
		if size != -1 && (size < 0 || size > maxBuffer) {
			return fmt.Errorf("%w: a compressed buffer claims %d bytes uncompressed (limit %d)", errBadHeader, size, maxBuffer)
		}
	}
	return nil
}

// checkedStream hands on the messages of a Flight stream that pass
// checkIPC, and fails the stream at the first that does not.
type checkedStream struct {
	s         flight.DataStreamReader
	maxBuffer int64
}

func (c checkedStream) Recv() (*flight.FlightData, error) {
	fd, err := c.s.Recv()
	if err != nil {
		return nil, err
	}
	if err := checkIPC(fd.GetDataHeader(), fd.GetDataBody(), c.maxBuffer); err != nil {
		return nil, err
	}
	return fd, nil
}

// maxUncompressedBuffer bounds the uncompressed size of one compressed
// buffer in a received batch: a few times the message limit, since Arrow
// data compresses well, but not without end.
func (c config) maxUncompressedBuffer() int64 { return 4 * int64(c.maxMsgSize) }
