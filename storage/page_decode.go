package storage

import (
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Page decoding. Values are decoded straight into arrow buffers allocated
// from the caller's allocator: one typed loop per page, no per-value
// interface calls or allocations. The body has passed its CRC check; every
// length and index is still validated, so crafted input yields an error.

// int32Pool holds scratch slices for string lengths and dictionary codes.
var int32Pool = sync.Pool{New: func() any { return new([]int32) }}

func getInt32s(n int) *[]int32 {
	p := int32Pool.Get().(*[]int32)
	if cap(*p) < n {
		*p = make([]int32, n)
	}
	*p = (*p)[:n]
	return p
}

// newBuf allocates a buffer of n bytes from mem.
func newBuf(mem memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(n)
	return b
}

// bufSet releases the buffers it holds unless kept.
type bufSet []*memory.Buffer

func (s bufSet) release() {
	for _, b := range s {
		if b != nil {
			b.Release()
		}
	}
}

// decodePage decodes a page body of physical type pt into an arrow array.
// With dict set, a dict- or constant-encoded string page becomes an
// *array.Dictionary.
func decodePage(pt physType, dt arrow.DataType, h pageHeader, raw []byte, mem memory.Allocator, dict bool) (arrow.Array, error) {
	n := h.numRows
	d := &decbuf{b: raw}
	var validity *memory.Buffer
	if h.flags&pageFlagValidity == 0 && h.nullCount != 0 {
		return nil, fmt.Errorf("%d nulls without a validity bitmap: %w", h.nullCount, ErrCorrupt)
	}
	if h.flags&pageFlagValidity != 0 {
		bm := d.bytes(int(bitutil.BytesForBits(int64(n))))
		if d.err != nil {
			return nil, fmt.Errorf("validity bitmap: %v: %w", d.err, ErrCorrupt)
		}
		if nulls := n - bitutil.CountSetBits(bm, 0, n); nulls != h.nullCount {
			return nil, fmt.Errorf("validity bitmap has %d nulls, header says %d: %w", nulls, h.nullCount, ErrCorrupt)
		}
		validity = newBuf(mem, len(bm))
		copy(validity.Bytes(), bm)
	}
	bufs := bufSet{validity}
	var data *array.Data
	switch {
	case pt == physString && dict && (h.enc == EncodingDict || h.enc == EncodingConstant):
		codes := newBuf(mem, n*4)
		bufs = append(bufs, codes)
		values := decodeDictStrings(d, h.enc, arrow.Int32Traits.CastFromBytes(codes.Bytes())[:n], dt, mem)
		if values == nil {
			break
		}
		data = array.NewData(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: dt},
			n, []*memory.Buffer{validity, codes}, nil, h.nullCount, 0)
		data.SetDictionary(values)
		values.Release()
	case pt == physString:
		offsets := newBuf(mem, (n+1)*4)
		bufs = append(bufs, offsets)
		values := decodeStrings(d, h.enc, arrow.Int32Traits.CastFromBytes(offsets.Bytes())[:n+1], mem)
		if values == nil {
			break
		}
		bufs = append(bufs, values)
		data = array.NewData(dt, n, []*memory.Buffer{validity, offsets, values}, nil, h.nullCount, 0)
	default:
		values := decodeFixed(d, pt, h.enc, n, mem)
		if values == nil {
			break
		}
		bufs = append(bufs, values)
		data = array.NewData(dt, n, []*memory.Buffer{validity, values}, nil, h.nullCount, 0)
	}
	if d.err == nil && d.len() != 0 {
		d.fail(fmt.Errorf("%d trailing bytes", d.len()))
	}
	if d.err != nil {
		if data != nil {
			data.Release()
		}
		bufs.release()
		return nil, fmt.Errorf("%s page: %v: %w", h.enc, d.err, ErrCorrupt)
	}
	var arr arrow.Array
	if data.DataType().ID() == arrow.DICTIONARY {
		arr = array.NewDictionaryData(data)
	} else {
		arr = array.MakeFromData(data)
	}
	data.Release()
	bufs.release() // NewData retained them
	return arr, nil
}

// decodeFixed decodes n fixed-width values. It returns nil with d.err set on
// failure (the buffer is released then).
func decodeFixed(d *decbuf, pt physType, enc Encoding, n int, mem memory.Allocator) *memory.Buffer {
	var buf *memory.Buffer
	switch pt {
	case physBool:
		nb := int(bitutil.BytesForBits(int64(n)))
		buf = newBuf(mem, nb)
		out := buf.Bytes()[:nb]
		switch enc {
		case EncodingPlain:
			copy(out, d.bytes(nb))
		case EncodingConstant:
			switch d.byte() {
			case 0:
				clear(out)
			case 1:
				for i := range out {
					out[i] = 0xff
				}
			default:
				d.fail(fmt.Errorf("boolean constant out of range"))
			}
		default:
			d.fail(fmt.Errorf("encoding %v is not valid for booleans", enc))
		}
	case physInt8:
		buf = newBuf(mem, n)
		decodeInts(arrow.Int8Traits.CastFromBytes(buf.Bytes())[:n], enc, d, 1)
	case physInt16:
		buf = newBuf(mem, 2*n)
		decodeInts(arrow.Int16Traits.CastFromBytes(buf.Bytes())[:n], enc, d, 2)
	case physInt32, physDate32:
		buf = newBuf(mem, 4*n)
		decodeInts(arrow.Int32Traits.CastFromBytes(buf.Bytes())[:n], enc, d, 4)
	case physInt64, physTimestamp:
		buf = newBuf(mem, 8*n)
		decodeInts(arrow.Int64Traits.CastFromBytes(buf.Bytes())[:n], enc, d, 8)
	case physDecimal128:
		buf = newBuf(mem, 16*n)
		out := buf.Bytes()[:16*n]
		switch enc {
		case EncodingPlain:
			copy(out, d.bytes(16*n))
		case EncodingConstant:
			v := d.bytes(16)
			if d.err == nil && n > 0 {
				copy(out, v)
				for filled := 16; filled < len(out); filled *= 2 {
					copy(out[filled:], out[:filled])
				}
			}
		case EncodingBitPack, EncodingFOR, EncodingRLE:
			// int64 values, decoded into the first half of the buffer and
			// widened in place from the back: slot i is read before slots
			// 2i and 2i+1 (both >= i) are written.
			words := arrow.Int64Traits.CastFromBytes(out)
			decodeInts(words[:n], enc, d, 8)
			for i := n - 1; i >= 0; i-- {
				v := words[i]
				words[2*i] = v
				words[2*i+1] = v >> 63
			}
		default:
			d.fail(fmt.Errorf("encoding %v is not valid for decimals", enc))
		}
	case physFloat32, physFloat64:
		w := 4
		if pt == physFloat64 {
			w = 8
		}
		buf = newBuf(mem, w*n)
		out := buf.Bytes()[:w*n]
		switch enc {
		case EncodingPlain:
			// Little-endian on disk and in arrow buffers: a straight copy.
			copy(out, d.bytes(w*n))
		case EncodingConstant:
			v := d.bytes(w)
			if d.err == nil && n > 0 {
				copy(out, v)
				for filled := w; filled < len(out); filled *= 2 {
					copy(out[filled:], out[:filled])
				}
			}
		default:
			d.fail(fmt.Errorf("encoding %v is not valid for physical type %d", enc, pt))
		}
	default:
		d.fail(fmt.Errorf("physical type %d", pt))
		return nil
	}
	if d.err != nil {
		buf.Release()
		return nil
	}
	return buf
}

// decodeStrings decodes n = len(offsets)-1 strings into offsets and a new
// value buffer, which it returns (nil with d.err set on failure).
func decodeStrings(d *decbuf, enc Encoding, offsets []int32, mem memory.Allocator) *memory.Buffer {
	n := len(offsets) - 1
	offsets[0] = 0
	switch enc {
	case EncodingConstant:
		s := d.bytes(d.uvarintLen())
		if d.err != nil {
			return nil
		}
		if int64(len(s))*int64(n) > maxPageDecodedLen {
			d.fail(fmt.Errorf("%d strings of %d bytes overflow the offsets", n, len(s)))
			return nil
		}
		buf := newBuf(mem, len(s)*n)
		out := buf.Bytes()
		for i := range n {
			offsets[i+1] = int32((i + 1) * len(s))
		}
		if n > 0 && len(s) > 0 {
			copy(out, s)
			for filled := len(s); filled < len(s)*n; filled *= 2 {
				copy(out[filled:len(s)*n], out[:filled])
			}
		}
		return buf

	case EncodingPlain:
		decodeIntStream(offsets[1:], d)
		if d.err != nil {
			return nil
		}
		total := int64(0)
		for i := 1; i <= n; i++ {
			l := offsets[i]
			if l < 0 {
				d.fail(fmt.Errorf("negative string length %d", l))
				return nil
			}
			total += int64(l)
			if total > int64(d.len()) {
				d.fail(fmt.Errorf("string lengths exceed the %d data bytes", d.len()))
				return nil
			}
			offsets[i] = int32(total)
		}
		if total != int64(d.len()) {
			d.fail(fmt.Errorf("string lengths cover %d of %d data bytes", total, d.len()))
			return nil
		}
		buf := newBuf(mem, int(total))
		copy(buf.Bytes(), d.bytes(int(total)))
		return buf

	case EncodingDict:
		count := d.uvarintLen()
		if d.err == nil && count > d.len() {
			d.fail(fmt.Errorf("%d dictionary entries in %d bytes", count, d.len()))
		}
		if d.err != nil {
			return nil
		}
		ends := getInt32s(count + 1)
		defer int32Pool.Put(ends)
		e := *ends
		e[0] = 0
		decodeIntStream(e[1:], d)
		if d.err != nil {
			return nil
		}
		total := int64(0)
		for i := 1; i <= count; i++ {
			if e[i] < 0 {
				d.fail(fmt.Errorf("negative dictionary entry length %d", e[i]))
				return nil
			}
			total += int64(e[i])
			if total > int64(d.len()) {
				d.fail(fmt.Errorf("dictionary lengths exceed the %d remaining bytes", d.len()))
				return nil
			}
			e[i] = int32(total)
		}
		dict := d.bytes(int(total))
		codesP := getInt32s(n)
		defer int32Pool.Put(codesP)
		codes := *codesP
		decodeIntStream(codes, d)
		if d.err != nil {
			return nil
		}
		size := int64(0)
		for i, c := range codes {
			if c < 0 || int(c) >= count {
				d.fail(fmt.Errorf("dictionary code %d out of range [0, %d)", c, count))
				return nil
			}
			size += int64(e[c+1] - e[c])
			if size > maxPageDecodedLen {
				d.fail(fmt.Errorf("dictionary page expands beyond %d bytes", maxPageDecodedLen))
				return nil
			}
			offsets[i+1] = int32(size)
		}
		buf := newBuf(mem, int(size))
		out := buf.Bytes()
		for i, c := range codes {
			copy(out[offsets[i]:offsets[i+1]], dict[e[c]:e[c+1]])
		}
		return buf
	}
	d.fail(fmt.Errorf("encoding %v is not valid for strings", enc))
	return nil
}

// decodeDictStrings decodes a dict- or constant-encoded string page into its
// dictionary (returned, nil with d.err set on failure) and one code per row
// (into codes). A constant page is a one-entry dictionary.
func decodeDictStrings(d *decbuf, enc Encoding, codes []int32, dt arrow.DataType, mem memory.Allocator) *array.Data {
	var count int
	var ends []int32
	switch enc {
	case EncodingConstant:
		l := d.uvarintLen()
		if d.err == nil && l > d.len() {
			d.fail(fmt.Errorf("constant of %d bytes in %d", l, d.len()))
		}
		if d.err != nil {
			return nil
		}
		count = 1
		ep := getInt32s(2)
		defer int32Pool.Put(ep)
		ends = *ep
		ends[0], ends[1] = 0, int32(l)
		clear(codes)
	case EncodingDict:
		count = d.uvarintLen()
		if d.err == nil && count > d.len() {
			d.fail(fmt.Errorf("%d dictionary entries in %d bytes", count, d.len()))
		}
		if d.err != nil {
			return nil
		}
		ep := getInt32s(count + 1)
		defer int32Pool.Put(ep)
		ends = *ep
		ends[0] = 0
		decodeIntStream(ends[1:], d)
		if d.err != nil {
			return nil
		}
		total := int64(0)
		for i := 1; i <= count; i++ {
			if ends[i] < 0 {
				d.fail(fmt.Errorf("negative dictionary entry length %d", ends[i]))
				return nil
			}
			total += int64(ends[i])
			if total > int64(d.len()) {
				d.fail(fmt.Errorf("dictionary lengths exceed the %d remaining bytes", d.len()))
				return nil
			}
			ends[i] = int32(total)
		}
	default:
		d.fail(fmt.Errorf("encoding %v has no dictionary", enc))
		return nil
	}
	bytes := d.bytes(int(ends[count]))
	if enc == EncodingDict {
		decodeIntStream(codes, d)
		for _, c := range codes {
			if c < 0 || int(c) >= count {
				d.fail(fmt.Errorf("dictionary code %d out of range [0, %d)", c, count))
				break
			}
		}
	}
	if d.err != nil {
		return nil
	}
	offsets := newBuf(mem, (count+1)*4)
	copy(arrow.Int32Traits.CastFromBytes(offsets.Bytes()), ends[:count+1])
	values := newBuf(mem, len(bytes))
	copy(values.Bytes(), bytes)
	data := array.NewData(dt, count, []*memory.Buffer{nil, offsets, values}, nil, 0, 0)
	offsets.Release()
	values.Release()
	return data
}
