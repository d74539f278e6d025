package storage

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// ZoneMap summarises one page of one column, so that a reader can skip pages
// whose value range cannot match a predicate without reading them.
//
// Min and Max are typed as follows: int64 for all integer kinds, Date32
// (days) and Timestamp (in the column's unit); float64 for floats;
// []byte for strings; decimal128.Num for Decimal128; bool for Boolean.
//
// String bounds may be truncated to MaxZoneStringLen bytes: a truncated Min
// is a prefix of the true minimum (so still <= every value) and a truncated
// Max is rounded up (so still >= every value). For floats, Max is NaN when
// the page holds a NaN, and Min is NaN only when every non-null value is
// NaN; as Go comparisons with NaN are false, a reader that prunes with
// "lit < Min || lit > Max" stays correct.
type ZoneMap struct {
	HasMinMax bool // false when every value of the page is null
	Min, Max  any
	NullCount int
}

// MaxZoneStringLen is the longest string bound a zone map stores.
const MaxZoneStringLen = 64

// appendValue encodes one zone-map or short-key value of physical type pt:
// bool as one byte, integers as a zig-zag varint, floats as the 8-byte
// little-endian float64 bits, decimals as 16 bytes (low word first), strings
// as a uvarint length and the bytes.
func appendValue(b []byte, pt physType, v any) []byte {
	switch pt {
	case physBool:
		if v.(bool) {
			return append(b, 1)
		}
		return append(b, 0)
	case physFloat32, physFloat64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.(float64)))
	case physDecimal128:
		n := v.(decimal128.Num)
		b = binary.LittleEndian.AppendUint64(b, n.LowBits())
		return binary.LittleEndian.AppendUint64(b, uint64(n.HighBits()))
	case physString:
		s := v.([]byte)
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	}
	if pt.isInt() {
		return binary.AppendVarint(b, v.(int64))
	}
	panic(fmt.Sprintf("BUG: appendValue of physical type %d", pt))
}

// readValue decodes a value written by appendValue. Strings are copied.
func readValue(d *decbuf, pt physType) any {
	switch pt {
	case physBool:
		v := d.byte()
		if v > 1 {
			d.fail(fmt.Errorf("boolean value byte %d", v))
		}
		return v == 1
	case physFloat32, physFloat64:
		return math.Float64frombits(d.u64())
	case physDecimal128:
		lo := d.u64()
		hi := d.u64()
		return decimal128.New(int64(hi), lo)
	case physString:
		return bytes.Clone(d.bytes(d.uvarintLen()))
	}
	if pt.isInt() {
		v := d.varint()
		lo, hi := pt.intRange()
		if v < lo || v > hi {
			d.fail(fmt.Errorf("value %d out of range of physical type %d", v, pt))
		}
		return v
	}
	d.fail(fmt.Errorf("value of physical type %d", pt))
	return nil
}

// truncateMin shortens a string lower bound to at most MaxZoneStringLen
// bytes; any prefix of a string sorts at or below it.
func truncateMin(s []byte) []byte {
	if len(s) <= MaxZoneStringLen {
		return s
	}
	return s[:MaxZoneStringLen]
}

// truncateMax shortens a string upper bound to at most MaxZoneStringLen
// bytes, rounding up: the last byte of the prefix that is not 0xff is
// incremented and the rest dropped, which sorts above every string with the
// original prefix. A prefix of all 0xff bytes cannot be rounded up, so the
// bound is then kept whole.
func truncateMax(s []byte) []byte {
	if len(s) <= MaxZoneStringLen {
		return s
	}
	p := bytes.Clone(s[:MaxZoneStringLen])
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xff {
			p[i]++
			return p[:i+1]
		}
	}
	return s
}

// compareValues orders two non-null values of physical type pt: integers
// numerically, floats with cmp.Compare (NaN first), decimals numerically,
// strings bytewise, false before true.
func compareValues(pt physType, a, b any) int {
	switch pt {
	case physBool:
		x, y := a.(bool), b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case physFloat32, physFloat64:
		return cmp.Compare(a.(float64), b.(float64))
	case physDecimal128:
		return a.(decimal128.Num).Cmp(b.(decimal128.Num))
	case physString:
		return bytes.Compare(a.([]byte), b.([]byte))
	}
	return cmp.Compare(a.(int64), b.(int64))
}
