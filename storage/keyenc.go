package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Memcomparable keys.
//
// A KeyEncoder turns the key columns of a row into bytes whose bytewise
// order (bytes.Compare) is the order rows are sorted by in a segment:
// columns left to right; NULL before every value; integers, dates,
// timestamps and decimals by value; floats as cmp.Compare orders them (NaN
// before every number, every NaN equal, -0 equal to +0); strings bytewise;
// false before true. Equal keys encode to equal bytes, so the encoding is
// also the identity of a key in the primary-key index (see pkindex.go).
//
// Each column is a marker byte, 0x00 for NULL and 0x01 for a value, then:
//
//	BOOL                       1 byte, 0 or 1
//	INT8/16/32/64, DATE32,     big endian, sign bit flipped (1, 2, 4, 8 bytes)
//	TIMESTAMP
//	FLOAT32/64                 big endian IEEE-754 bits of the value with -0
//	                           taken as +0: sign bit set for >= +0, all bits
//	                           flipped for < 0; every NaN is all zero bits
//	DECIMAL128                 16 bytes: high word big endian with the sign
//	                           bit flipped, low word big endian
//	STRING                     the bytes, each 0x00 written as 0x00 0xFF,
//	                           then the terminator 0x00 0x01
//
// A NULL of a fixed-width column is followed by as many zero bytes as its
// values take, so that keys of fixed-width columns all have one width
// (KeyEncoder.Fixed); a NULL string is the marker alone. The marker alone
// decides the order of a NULL against a value.
//
// The string terminator sorts below any continuation (0x01..0xFF, or the
// escape 0x00 0xFF), so a string sorts before the strings it is a proper
// prefix of, and the bytes of the next column never take part in comparing
// two different strings.

const (
	keyNull  = 0x00 // marker of a NULL column value
	keyValue = 0x01 // marker of a non-NULL column value

	keyStrEscape = 0xFF // 0x00 inside a string is written 0x00 0xFF
	keyStrEnd    = 0x01 // a string ends with 0x00 0x01
)

// keyKind is how one key column is encoded.
type keyKind uint8

const (
	keyBool keyKind = iota
	keyInt8
	keyInt16
	keyInt32 // INT32 and DATE32
	keyInt64 // INT64 and TIMESTAMP
	keyFloat32
	keyFloat64
	keyDecimal128
	keyString
)

// width is the value width of a fixed-width kind (0 for strings).
func (k keyKind) width() int {
	switch k {
	case keyBool, keyInt8:
		return 1
	case keyInt16:
		return 2
	case keyInt32, keyFloat32:
		return 4
	case keyInt64, keyFloat64:
		return 8
	case keyDecimal128:
		return 16
	}
	return 0
}

// KeyEncoder encodes the key columns of rows as memcomparable byte strings
// (the layout is described at the top of keyenc.go and in docs/format.md).
// It is immutable after NewKeyEncoder and safe for concurrent use.
type KeyEncoder struct {
	types []arrow.DataType
	kinds []keyKind
	fixed int // encoded width when every column is fixed-width, else 0
}

// NewKeyEncoder returns an encoder for key columns of the given types:
// BOOL, INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, DECIMAL128, DATE32,
// TIMESTAMP or STRING. Other types, and an empty list, are errors.
func NewKeyEncoder(types []arrow.DataType) (*KeyEncoder, error) {
	if len(types) == 0 {
		return nil, errors.New("storage: key encoder without key columns")
	}
	e := &KeyEncoder{types: types, kinds: make([]keyKind, len(types))}
	fixed := 0
	for i, dt := range types {
		if dt == nil {
			return nil, fmt.Errorf("storage: key column %d has no type", i)
		}
		var k keyKind
		switch dt.ID() {
		case arrow.BOOL:
			k = keyBool
		case arrow.INT8:
			k = keyInt8
		case arrow.INT16:
			k = keyInt16
		case arrow.INT32, arrow.DATE32:
			k = keyInt32
		case arrow.INT64, arrow.TIMESTAMP:
			k = keyInt64
		case arrow.FLOAT32:
			k = keyFloat32
		case arrow.FLOAT64:
			k = keyFloat64
		case arrow.DECIMAL128:
			k = keyDecimal128
		case arrow.STRING:
			k = keyString
		default:
			return nil, fmt.Errorf("storage: key column %d of type %s cannot be a key", i, dt)
		}
		e.kinds[i] = k
		if w := k.width(); w > 0 && fixed >= 0 {
			fixed += 1 + w
		} else {
			fixed = -1
		}
	}
	e.fixed = max(fixed, 0)
	return e, nil
}

// Fixed returns the length of every encoded key when all key columns are
// fixed-width, and 0 when some column is a string.
func (e *KeyEncoder) Fixed() int { return e.fixed }

// AppendKey appends the encoding of row row of the key columns cols to dst
// and returns the extended slice. cols holds one array per key column, in
// the order and of the types given to NewKeyEncoder; anything else is a
// programmer error and panics.
func (e *KeyEncoder) AppendKey(dst []byte, cols []arrow.Array, row int) []byte {
	if len(cols) != len(e.kinds) {
		panic(fmt.Sprintf("BUG: AppendKey with %d columns for %d key columns", len(cols), len(e.kinds)))
	}
	for i, a := range cols {
		k := e.kinds[i]
		if a.IsNull(row) {
			dst = append(dst, keyNull)
			for range k.width() {
				dst = append(dst, 0)
			}
			continue
		}
		dst = append(dst, keyValue)
		switch k {
		case keyBool:
			b := byte(0)
			if e.boolCol(a, i).Value(row) {
				b = 1
			}
			dst = append(dst, b)
		case keyInt8:
			dst = append(dst, uint8(e.int8Col(a, i).Value(row))^0x80)
		case keyInt16:
			dst = binary.BigEndian.AppendUint16(dst, uint16(e.int16Col(a, i).Value(row))^1<<15)
		case keyInt32:
			dst = binary.BigEndian.AppendUint32(dst, uint32(e.int32Value(a, i, row))^1<<31)
		case keyInt64:
			dst = binary.BigEndian.AppendUint64(dst, uint64(e.int64Value(a, i, row))^1<<63)
		case keyFloat32:
			dst = binary.BigEndian.AppendUint32(dst, float32Key(e.float32Col(a, i).Value(row)))
		case keyFloat64:
			dst = binary.BigEndian.AppendUint64(dst, float64Key(e.float64Col(a, i).Value(row)))
		case keyDecimal128:
			v := e.decimalCol(a, i).Value(row)
			dst = binary.BigEndian.AppendUint64(dst, uint64(v.HighBits())^1<<63)
			dst = binary.BigEndian.AppendUint64(dst, v.LowBits())
		case keyString:
			dst = appendKeyString(dst, e.stringCol(a, i).Value(row))
		}
	}
	return dst
}

// float32Key maps a float32 to a uint32 whose unsigned order is
// cmp.Compare's order: NaN (any payload) lowest, -0 equal to +0.
func float32Key(v float32) uint32 {
	if v != v {
		return 0 // NaN: below -Inf (0x007FFFFF); no number maps to 0
	}
	if v == 0 {
		v = 0 // -0 becomes +0
	}
	u := math.Float32bits(v)
	if u&(1<<31) != 0 {
		return ^u
	}
	return u | 1<<31
}

// float64Key is float32Key for float64.
func float64Key(v float64) uint64 {
	if v != v {
		return 0
	}
	if v == 0 {
		v = 0
	}
	u := math.Float64bits(v)
	if u&(1<<63) != 0 {
		return ^u
	}
	return u | 1<<63
}

// appendKeyString appends s escaped and terminated.
func appendKeyString(dst []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			break
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, 0x00, keyStrEscape)
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, 0x00, keyStrEnd)
}

// The accessors below assert a column's array type, panicking with the
// column and types involved when the caller passed the wrong array.

func (e *KeyEncoder) mismatch(a arrow.Array, i int) string {
	return fmt.Sprintf("BUG: key column %d of type %s given an array of type %s", i, e.types[i], a.DataType())
}

func (e *KeyEncoder) boolCol(a arrow.Array, i int) *array.Boolean {
	if x, ok := a.(*array.Boolean); ok {
		return x
	}
	panic(e.mismatch(a, i))
}

func (e *KeyEncoder) int8Col(a arrow.Array, i int) *array.Int8 {
	if x, ok := a.(*array.Int8); ok {
		return x
	}
	panic(e.mismatch(a, i))
}

func (e *KeyEncoder) int16Col(a arrow.Array, i int) *array.Int16 {
	if x, ok := a.(*array.Int16); ok {
		return x
	}
	panic(e.mismatch(a, i))
}

func (e *KeyEncoder) int32Value(a arrow.Array, i, row int) int32 {
	switch x := a.(type) {
	case *array.Int32:
		return x.Value(row)
	case *array.Date32:
		return int32(x.Value(row))
	}
	panic(e.mismatch(a, i))
}

func (e *KeyEncoder) int64Value(a arrow.Array, i, row int) int64 {
	switch x := a.(type) {
	case *array.Int64:
		return x.Value(row)
	case *array.Timestamp:
		return int64(x.Value(row))
	}
	panic(e.mismatch(a, i))
}

func (e *KeyEncoder) float32Col(a arrow.Array, i int) *array.Float32 {
	if x, ok := a.(*array.Float32); ok {
		return x
	}
	panic(e.mismatch(a, i))
}

func (e *KeyEncoder) float64Col(a arrow.Array, i int) *array.Float64 {
	if x, ok := a.(*array.Float64); ok {
		return x
	}
	panic(e.mismatch(a, i))
}

func (e *KeyEncoder) decimalCol(a arrow.Array, i int) *array.Decimal128 {
	if x, ok := a.(*array.Decimal128); ok {
		return x
	}
	panic(e.mismatch(a, i))
}

func (e *KeyEncoder) stringCol(a arrow.Array, i int) *array.String {
	if x, ok := a.(*array.String); ok {
		return x
	}
	panic(e.mismatch(a, i))
}
