package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
)

// FormatVersion is the segment format ratchet. The version byte leads the
// file, the footer, every index block and every page. A reader accepts every
// version from FormatV1 up to FormatCurrent and rejects the rest with
// ErrUnsupportedVersion. Retired versions stay in this list as placeholders so
// that their numbers are never reused.
type FormatVersion uint8

const (
	formatVersionInvalid FormatVersion = iota
	// FormatV1 is the first segment format (see docs/format.md).
	FormatV1

	// FormatCurrent is the version new segments are written with.
	FormatCurrent = FormatV1
)

// Sentinel errors. Errors returned by Open, ReadPage and the seek functions
// wrap one of these where one applies; damaged files always wrap ErrCorrupt.
var (
	// ErrCorrupt marks a segment whose bytes do not make sense: bad magic,
	// checksum mismatch, out-of-range offsets, malformed encodings.
	ErrCorrupt = errors.New("storage: corrupt segment")
	// ErrUnsupportedVersion marks a format version this build cannot read.
	ErrUnsupportedVersion = errors.New("storage: unsupported segment format version")
)

// magic identifies a segment file; it is written at both ends.
var magic = [4]byte{'S', 'T', 'S', 'G'}

const (
	fileHeaderLen = 4 + 1 // magic, version
	// fileTailLen: footer length u32, footer CRC u32, magic.
	fileTailLen = 4 + 4 + 4
	crcLen      = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// appendCRC appends the CRC32-C of b to b, little endian.
func appendCRC(b []byte, from int) []byte {
	return binary.LittleEndian.AppendUint32(b, checksum(b[from:]))
}

// verifyCRC checks that the last four bytes of b are the CRC32-C of the rest
// and returns the rest.
func verifyCRC(b []byte, what string) ([]byte, error) {
	if len(b) < crcLen {
		return nil, fmt.Errorf("%s: %d bytes is too short for a checksum: %w", what, len(b), ErrCorrupt)
	}
	body := b[:len(b)-crcLen]
	want := binary.LittleEndian.Uint32(b[len(b)-crcLen:])
	if got := checksum(body); got != want {
		return nil, fmt.Errorf("%s: checksum mismatch (stored %08x, computed %08x): %w", what, want, got, ErrCorrupt)
	}
	return body, nil
}

func checkVersion(v byte, what string) error {
	if FormatVersion(v) < FormatV1 || FormatVersion(v) > FormatCurrent {
		return fmt.Errorf("%s: format version %d (this build reads %d..%d): %w",
			what, v, FormatV1, FormatCurrent, ErrUnsupportedVersion)
	}
	return nil
}

// Encoding is how the values of one page are laid out. It is chosen per page
// by a cost rule (see chooseIntEncoding and friends) and stored as one byte in
// the page header; nested integer streams (string lengths, dictionary codes)
// carry their own encoding byte.
type Encoding uint8

const (
	encodingInvalid Encoding = iota
	// EncodingPlain stores values at their natural width, little endian;
	// booleans as a bitmap; strings as a length stream plus bytes.
	EncodingPlain
	// EncodingConstant stores one value that every row of the page has.
	EncodingConstant
	// EncodingBitPack stores non-negative integers in the fewest bits that
	// hold the largest value.
	EncodingBitPack
	// EncodingFOR (frame of reference) stores a base (the page minimum) and
	// the bit-packed differences to it.
	EncodingFOR
	// EncodingRLE stores runs of equal integers as (run length, value).
	EncodingRLE
	// EncodingDict stores each distinct string once and a code per row.
	EncodingDict
	encodingCount
)

var encodingNames = [...]string{
	encodingInvalid:  "invalid",
	EncodingPlain:    "plain",
	EncodingConstant: "constant",
	EncodingBitPack:  "bitpack",
	EncodingFOR:      "for",
	EncodingRLE:      "rle",
	EncodingDict:     "dict",
}

func (e Encoding) String() string {
	if e < encodingCount {
		return encodingNames[e]
	}
	return fmt.Sprintf("Encoding(%d)", uint8(e))
}

// IsValid reports whether e is a known encoding.
func (e Encoding) IsValid() bool { return e > encodingInvalid && e < encodingCount }

// Compression selects the page codec. It is a writer option and, with the
// Auto value excluded, the codec byte of a page header.
type Compression uint8

const (
	// CompressionAuto (the zero value, and the default) picks per page: s2
	// when it shrinks the page below 90 %, zstd instead when zstd is smaller
	// than 75 % of the s2 output, otherwise none.
	CompressionAuto Compression = iota
	// CompressionNone stores pages uncompressed.
	CompressionNone
	// CompressionS2 uses klauspost/compress/s2 when it pays.
	CompressionS2
	// CompressionZstd uses klauspost/compress/zstd when it pays.
	CompressionZstd
	compressionCount
)

var compressionNames = [...]string{
	CompressionAuto: "auto",
	CompressionNone: "none",
	CompressionS2:   "s2",
	CompressionZstd: "zstd",
}

func (c Compression) String() string {
	if c < compressionCount {
		return compressionNames[c]
	}
	return fmt.Sprintf("Compression(%d)", uint8(c))
}

// IsValid reports whether c is a known compression setting.
func (c Compression) IsValid() bool { return c < compressionCount }

// isCodec reports whether c may appear in a page header (Auto may not).
func (c Compression) isCodec() bool {
	return c == CompressionNone || c == CompressionS2 || c == CompressionZstd
}

// physType is the on-disk type tag of a column (footer schema).
type physType uint8

const (
	physInvalid physType = iota
	physBool
	physInt8
	physInt16
	physInt32
	physInt64
	physFloat32
	physFloat64
	physDecimal128
	physDate32
	physTimestamp
	physString
	physCount
)

// isInt reports whether values of t go through the integer codecs.
func (t physType) isInt() bool {
	return t == physInt8 || t == physInt16 || t == physInt32 || t == physInt64 || t == physDate32 || t == physTimestamp
}

// intWidth is the byte width of an integer physical type.
func (t physType) intWidth() int {
	switch t {
	case physInt8:
		return 1
	case physInt16:
		return 2
	case physInt32, physDate32:
		return 4
	case physInt64, physTimestamp:
		return 8
	}
	panic(fmt.Sprintf("BUG: intWidth of non-integer physical type %d", t))
}

// intRange is the value range of an integer physical type.
func (t physType) intRange() (int64, int64) {
	switch t.intWidth() {
	case 1:
		return math.MinInt8, math.MaxInt8
	case 2:
		return math.MinInt16, math.MaxInt16
	case 4:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// physTypeOf maps an arrow type to its physical type, or an error for types
// segments cannot store.
func physTypeOf(dt arrow.DataType) (physType, error) {
	if dt == nil {
		return physInvalid, errors.New("nil column type")
	}
	switch dt.ID() {
	case arrow.BOOL:
		return physBool, nil
	case arrow.INT8:
		return physInt8, nil
	case arrow.INT16:
		return physInt16, nil
	case arrow.INT32:
		return physInt32, nil
	case arrow.INT64:
		return physInt64, nil
	case arrow.FLOAT32:
		return physFloat32, nil
	case arrow.FLOAT64:
		return physFloat64, nil
	case arrow.DECIMAL128:
		return physDecimal128, nil
	case arrow.DATE32:
		return physDate32, nil
	case arrow.TIMESTAMP:
		return physTimestamp, nil
	case arrow.STRING:
		return physString, nil
	}
	return physInvalid, fmt.Errorf("column type %s is not supported in segments", dt)
}

// appendTypeDesc appends the footer's type descriptor of dt.
func appendTypeDesc(b []byte, pt physType, dt arrow.DataType) []byte {
	b = append(b, byte(pt))
	switch pt {
	case physDecimal128:
		d := dt.(*arrow.Decimal128Type)
		b = binary.AppendUvarint(b, uint64(d.Precision))
		b = binary.AppendVarint(b, int64(d.Scale))
	case physTimestamp:
		ts := dt.(*arrow.TimestampType)
		b = append(b, byte(ts.Unit))
		b = binary.AppendUvarint(b, uint64(len(ts.TimeZone)))
		b = append(b, ts.TimeZone...)
	}
	return b
}

// readTypeDesc parses a type descriptor written by appendTypeDesc.
func readTypeDesc(d *decbuf) (physType, arrow.DataType) {
	pt := physType(d.byte())
	switch pt {
	case physBool:
		return pt, arrow.FixedWidthTypes.Boolean
	case physInt8:
		return pt, arrow.PrimitiveTypes.Int8
	case physInt16:
		return pt, arrow.PrimitiveTypes.Int16
	case physInt32:
		return pt, arrow.PrimitiveTypes.Int32
	case physInt64:
		return pt, arrow.PrimitiveTypes.Int64
	case physFloat32:
		return pt, arrow.PrimitiveTypes.Float32
	case physFloat64:
		return pt, arrow.PrimitiveTypes.Float64
	case physDate32:
		return pt, arrow.FixedWidthTypes.Date32
	case physString:
		return pt, arrow.BinaryTypes.String
	case physDecimal128:
		p := d.uvarint()
		s := d.varint()
		if d.err != nil {
			return physInvalid, nil
		}
		if p < 1 || p > 38 || s < math.MinInt32 || s > math.MaxInt32 {
			d.fail(fmt.Errorf("decimal precision %d scale %d out of range", p, s))
			return physInvalid, nil
		}
		return pt, &arrow.Decimal128Type{Precision: int32(p), Scale: int32(s)}
	case physTimestamp:
		unit := arrow.TimeUnit(d.byte())
		tz := d.bytes(int(d.uvarintLen()))
		if d.err != nil {
			return physInvalid, nil
		}
		if unit > arrow.Nanosecond {
			d.fail(fmt.Errorf("timestamp unit %d out of range", unit))
			return physInvalid, nil
		}
		return pt, &arrow.TimestampType{Unit: unit, TimeZone: string(tz)}
	}
	d.fail(fmt.Errorf("unknown column type tag %d", pt))
	return physInvalid, nil
}
