package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// decbuf is a sticky-error cursor over a byte slice that has already passed
// its framing and checksum checks. Every read after the first failure returns
// a zero value; callers read many fields and check err once.
type decbuf struct {
	b   []byte
	err error
}

var errDecbufShort = errors.New("unexpected end of data")

func (d *decbuf) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decbuf) len() int { return len(d.b) }

func (d *decbuf) byte() byte {
	if len(d.b) < 1 {
		d.fail(errDecbufShort)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decbuf) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errors.New("malformed uvarint"))
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decbuf) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errors.New("malformed varint"))
		return 0
	}
	d.b = d.b[n:]
	return v
}

// uvarintLen reads a uvarint that is a length or count and must not exceed
// the remaining bytes' possible content (it is checked against MaxInt32 here
// and against the data by the caller).
func (d *decbuf) uvarintLen() int {
	v := d.uvarint()
	if v > math.MaxInt32 {
		d.fail(fmt.Errorf("length %d out of range", v))
		return 0
	}
	return int(v)
}

// uvarintInt reads a uvarint that must fit in an int64.
func (d *decbuf) uvarintInt() int64 {
	v := d.uvarint()
	if v > math.MaxInt64 {
		d.fail(fmt.Errorf("value %d out of range", v))
		return 0
	}
	return int64(v)
}

func (d *decbuf) u32() uint32 {
	if len(d.b) < 4 {
		d.fail(errDecbufShort)
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decbuf) u64() uint64 {
	if len(d.b) < 8 {
		d.fail(errDecbufShort)
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

// bytes returns the next n bytes (aliasing the buffer).
func (d *decbuf) bytes(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail(errDecbufShort)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}
