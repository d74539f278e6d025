package mysqlproto

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// colBuf holds one column of one batch, encoded: the value of output row r is
// buf[ends[r-1]:ends[r]] (ends[-1] = 0). In the text protocol a NULL is the
// byte 0xFB; in the binary protocol it is empty (every non-NULL binary value
// has at least one byte), and the row's NULL bitmap records it.
type colBuf struct {
	buf  []byte
	ends []int
}

func (cb *colBuf) reset() {
	cb.buf = cb.buf[:0]
	cb.ends = cb.ends[:0]
}

// nullBitmap returns the validity bitmap and offset of arr, nil when arr has
// no NULLs.
func nullBitmap(arr arrow.Array) ([]byte, int) {
	if arr.NullN() == 0 {
		return nil, 0
	}
	return arr.NullBitmapBytes(), arr.Data().Offset()
}

// rowIndex returns the array index of output row i.
//
//gcassert:inline
func rowIndex(sel []int32, i int) int {
	if sel != nil {
		return int(sel[i])
	}
	return i
}

func isNull(nulls []byte, off, j int) bool {
	return nulls != nil && !bitutil.BitIsSet(nulls, off+j)
}

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64
}

// encodeColumn encodes n output rows of arr (rows sel[i], or i when sel is
// nil) into cb, in the text or the binary protocol.
func encodeColumn(cb *colBuf, arr arrow.Array, ci *colInfo, sel []int32, n int, bin bool) error {
	cb.reset()
	if sel == nil && arr.Len() < n || sel != nil && len(sel) < n {
		return fmt.Errorf("column batch has %d rows, want %d", arr.Len(), n)
	}
	nulls, off := nullBitmap(arr)
	lenenc := false
	switch a := arr.(type) {
	case *array.Int8:
		encInts(cb, a.Int8Values(), nulls, off, sel, n, bin, ci)
	case *array.Int16:
		encInts(cb, a.Int16Values(), nulls, off, sel, n, bin, ci)
	case *array.Int32:
		encInts(cb, a.Int32Values(), nulls, off, sel, n, bin, ci)
	case *array.Int64:
		encInts(cb, a.Int64Values(), nulls, off, sel, n, bin, ci)
	case *array.Boolean:
		encBools(cb, a, nulls, off, sel, n, bin, ci)
	case *array.Float32:
		encFloats(cb, a.Float32Values(), 32, nulls, off, sel, n, bin, ci)
	case *array.Float64:
		encFloats(cb, a.Float64Values(), 64, nulls, off, sel, n, bin, ci)
	case *array.Decimal128:
		scale := int(a.DataType().(*arrow.Decimal128Type).Scale)
		encDecimals(cb, a, scale, nulls, off, sel, n)
		lenenc = true
	case *array.Date32:
		encDates(cb, a.Date32Values(), nulls, off, sel, n, bin, ci)
	case *array.Timestamp:
		encTimestamps(cb, a, nulls, off, sel, n, bin, ci)
	case *array.String:
		encStrings(cb, a.ValueOffsets(), stringData(a.Data()), nulls, off, sel, n)
		lenenc = true
	case *array.Binary:
		encStrings(cb, a.ValueOffsets(), stringData(a.Data()), nulls, off, sel, n)
		lenenc = true
	default:
		encFallback(cb, arr, sel, n)
		lenenc = true
	}
	if bin && lenenc {
		trimBinaryNulls(cb)
	}
	if bin && !binaryCompatible(arr.DataType().ID(), ci.mtype) {
		return fmt.Errorf("column of type %s cannot be sent as MySQL type %d", arr.DataType(), ci.mtype)
	}
	return nil
}

// binaryCompatible reports whether values of an Arrow type were encoded in
// the binary layout the column definition announced.
func binaryCompatible(id arrow.Type, mtype byte) bool {
	switch mtype {
	case gomysql.MYSQL_TYPE_TINY, gomysql.MYSQL_TYPE_SHORT, gomysql.MYSQL_TYPE_LONG, gomysql.MYSQL_TYPE_LONGLONG:
		return id == arrow.INT8 || id == arrow.INT16 || id == arrow.INT32 || id == arrow.INT64 || id == arrow.BOOL
	case gomysql.MYSQL_TYPE_FLOAT, gomysql.MYSQL_TYPE_DOUBLE:
		return id == arrow.FLOAT32 || id == arrow.FLOAT64
	case gomysql.MYSQL_TYPE_DATE, gomysql.MYSQL_TYPE_DATETIME:
		return id == arrow.DATE32 || id == arrow.TIMESTAMP
	}
	// Length-encoded string types: every text rendering fits, except
	// layouts that are binary numbers.
	switch id {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.BOOL, arrow.FLOAT32, arrow.FLOAT64, arrow.DATE32, arrow.TIMESTAMP:
		return false
	}
	return true
}

func stringData(d arrow.ArrayData) []byte {
	if bufs := d.Buffers(); len(bufs) > 2 && bufs[2] != nil {
		return bufs[2].Bytes()
	}
	return nil
}

// appendBinInt appends v in the width of a binary integer column.
func appendBinInt(b []byte, v int64, mtype byte) []byte {
	switch mtype {
	case gomysql.MYSQL_TYPE_TINY:
		return append(b, byte(v))
	case gomysql.MYSQL_TYPE_SHORT:
		return binary.LittleEndian.AppendUint16(b, uint16(v))
	case gomysql.MYSQL_TYPE_LONG:
		return binary.LittleEndian.AppendUint32(b, uint32(v))
	default:
		return binary.LittleEndian.AppendUint64(b, uint64(v))
	}
}

func encInts[T integer](cb *colBuf, vals []T, nulls []byte, off int, sel []int32, n int, bin bool, ci *colInfo) {
	b, ends := cb.buf, cb.ends
	for i := range n {
		j := rowIndex(sel, i)
		switch {
		case isNull(nulls, off, j):
			if !bin {
				b = append(b, 0xfb)
			}
		case bin:
			b = appendBinInt(b, int64(vals[j]), ci.mtype)
		default:
			p := len(b)
			b = strconv.AppendInt(append(b, 0), int64(vals[j]), 10)
			b[p] = byte(len(b) - p - 1)
		}
		ends = append(ends, len(b))
	}
	cb.buf, cb.ends = b, ends
}

func encBools(cb *colBuf, a *array.Boolean, nulls []byte, off int, sel []int32, n int, bin bool, ci *colInfo) {
	b, ends := cb.buf, cb.ends
	for i := range n {
		j := rowIndex(sel, i)
		var v int64
		if a.Value(j) {
			v = 1
		}
		switch {
		case isNull(nulls, off, j):
			if !bin {
				b = append(b, 0xfb)
			}
		case bin:
			b = appendBinInt(b, v, ci.mtype)
		default:
			b = append(b, 1, byte('0'+v))
		}
		ends = append(ends, len(b))
	}
	cb.buf, cb.ends = b, ends
}

func encFloats[T float32 | float64](cb *colBuf, vals []T, bitSize int, nulls []byte, off int, sel []int32, n int, bin bool, ci *colInfo) {
	b, ends := cb.buf, cb.ends
	for i := range n {
		j := rowIndex(sel, i)
		switch {
		case isNull(nulls, off, j):
			if !bin {
				b = append(b, 0xfb)
			}
		case bin && ci.mtype == gomysql.MYSQL_TYPE_FLOAT:
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(vals[j])))
		case bin:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(vals[j])))
		default:
			p := len(b)
			b = appendFloat(append(b, 0), float64(vals[j]), bitSize)
			b[p] = byte(len(b) - p - 1)
		}
		ends = append(ends, len(b))
	}
	cb.buf, cb.ends = b, ends
}

// appendFloat formats a FLOAT or DOUBLE as Doris does (fmt's "{}"): the
// shortest text that reads back as the same value, in plain notation unless
// the decimal exponent is below -4 or at least 16 (7 for FLOAT), then as
// d.ddde±XX; NaN, Infinity and -Infinity spelled out.
func appendFloat(b []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	upper := 1e16
	if bitSize == 32 {
		upper = 1e7
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-4 || abs >= upper) {
		return strconv.AppendFloat(b, f, 'e', -1, bitSize)
	}
	return strconv.AppendFloat(b, f, 'f', -1, bitSize)
}

func encDecimals(cb *colBuf, a *array.Decimal128, scale int, nulls []byte, off int, sel []int32, n int) {
	b, ends := cb.buf, cb.ends
	vals := a.Values()
	for i := range n {
		j := rowIndex(sel, i)
		if isNull(nulls, off, j) {
			b = append(b, 0xfb) // binary: trimmed below
		} else {
			p := len(b)
			b = appendDecimal128(append(b, 0), vals[j].HighBits(), vals[j].LowBits(), scale)
			b[p] = byte(len(b) - p - 1) // at most 41 characters
		}
		ends = append(ends, len(b))
	}
	cb.buf, cb.ends = b, ends
}

// appendDecimal128 appends the two's complement 128-bit integer hi:lo
// divided by 10^scale, with exactly scale digits after the point.
func appendDecimal128(b []byte, hi int64, lo uint64, scale int) []byte {
	uhi := uint64(hi)
	if hi < 0 {
		b = append(b, '-')
		lo = ^lo + 1
		uhi = ^uhi
		if lo == 0 {
			uhi++
		}
	}
	var tmp [48]byte
	pos := len(tmp)
	const chunk = 10000000000000000000 // 10^19
	for uhi != 0 {
		var r uint64
		uhi, r = uhi/chunk, uhi%chunk
		var q uint64
		q, r = bits.Div64(r, lo, chunk)
		lo = q
		for k := 0; k < 19; k++ {
			pos--
			tmp[pos] = byte('0' + r%10)
			r /= 10
		}
	}
	for lo != 0 || pos == len(tmp) {
		pos--
		tmp[pos] = byte('0' + lo%10)
		lo /= 10
	}
	// Strip the leading zeros a full chunk may have left.
	for pos < len(tmp)-1 && tmp[pos] == '0' {
		pos++
	}
	digits := tmp[pos:]
	if scale <= 0 {
		return append(b, digits...)
	}
	if len(digits) <= scale {
		b = append(b, '0', '.')
		for k := len(digits); k < scale; k++ {
			b = append(b, '0')
		}
		return append(b, digits...)
	}
	b = append(b, digits[:len(digits)-scale]...)
	b = append(b, '.')
	return append(b, digits[len(digits)-scale:]...)
}

func encDates(cb *colBuf, vals []arrow.Date32, nulls []byte, off int, sel []int32, n int, bin bool, ci *colInfo) {
	b, ends := cb.buf, cb.ends
	for i := range n {
		j := rowIndex(sel, i)
		switch {
		case isNull(nulls, off, j):
			if !bin {
				b = append(b, 0xfb)
			}
		case bin:
			y, m, d := civilFromDays(int64(vals[j]))
			if ci.mtype == gomysql.MYSQL_TYPE_DATETIME {
				b = append(b, 7, byte(y), byte(y>>8), byte(m), byte(d), 0, 0, 0)
			} else {
				b = append(b, 4, byte(y), byte(y>>8), byte(m), byte(d))
			}
		default:
			p := len(b)
			y, m, d := civilFromDays(int64(vals[j]))
			b = appendDate(append(b, 0), y, m, d)
			b[p] = byte(len(b) - p - 1)
		}
		ends = append(ends, len(b))
	}
	cb.buf, cb.ends = b, ends
}

// timestampScale returns how to turn a timestamp of unit u into
// microseconds: multiply by mul, then divide by div.
func timestampScale(u arrow.TimeUnit) (mul, div int64) {
	switch u {
	case arrow.Second:
		return 1_000_000, 1
	case arrow.Millisecond:
		return 1000, 1
	case arrow.Nanosecond:
		return 1, 1000
	}
	return 1, 1
}

func encTimestamps(cb *colBuf, a *array.Timestamp, nulls []byte, off int, sel []int32, n int, bin bool, ci *colInfo) {
	mul, div := timestampScale(a.DataType().(*arrow.TimestampType).Unit)
	vals := a.TimestampValues()
	dateOnly := ci.mtype == gomysql.MYSQL_TYPE_DATE
	b, ends := cb.buf, cb.ends
	for i := range n {
		j := rowIndex(sel, i)
		if isNull(nulls, off, j) {
			if !bin {
				b = append(b, 0xfb)
			}
			ends = append(ends, len(b))
			continue
		}
		us := int64(vals[j]) * mul
		if div != 1 {
			us = floorDiv(us, div)
		}
		days := floorDiv(us, 86_400_000_000)
		rem := us - days*86_400_000_000
		y, m, d := civilFromDays(days)
		sec := rem / 1_000_000
		micro := int(rem % 1_000_000)
		hh, mm, ss := int(sec/3600), int(sec/60%60), int(sec%60)
		switch {
		case bin && dateOnly:
			b = append(b, 4, byte(y), byte(y>>8), byte(m), byte(d))
		case bin && micro != 0 && ci.prec > 0:
			micro = truncMicros(micro, ci.prec)
			b = append(b, 11, byte(y), byte(y>>8), byte(m), byte(d), byte(hh), byte(mm), byte(ss))
			b = binary.LittleEndian.AppendUint32(b, uint32(micro))
		case bin:
			b = append(b, 7, byte(y), byte(y>>8), byte(m), byte(d), byte(hh), byte(mm), byte(ss))
		default:
			p := len(b)
			b = appendDate(append(b, 0), y, m, d)
			if !dateOnly {
				b = append(b, ' ')
				b = append2(b, hh)
				b = append(b, ':')
				b = append2(b, mm)
				b = append(b, ':')
				b = append2(b, ss)
				if ci.prec > 0 {
					b = appendFraction(append(b, '.'), micro, ci.prec)
				}
			}
			b[p] = byte(len(b) - p - 1)
		}
		ends = append(ends, len(b))
	}
	cb.buf, cb.ends = b, ends
}

var pow10 = [...]int{1, 10, 100, 1000, 10000, 100000, 1000000}

// truncMicros drops the microsecond digits beyond precision p.
func truncMicros(micro, p int) int {
	d := pow10[6-p]
	return micro / d * d
}

// appendFraction appends the first p digits of a 6-digit microsecond value.
func appendFraction(b []byte, micro, p int) []byte {
	v := micro / pow10[6-p]
	for k := p - 1; k >= 0; k-- {
		b = append(b, byte('0'+v/pow10[k]%10))
	}
	return b
}

func encStrings(cb *colBuf, offsets []int32, data []byte, nulls []byte, off int, sel []int32, n int) {
	b, ends := cb.buf, cb.ends
	for i := range n {
		j := rowIndex(sel, i)
		if isNull(nulls, off, j) {
			b = append(b, 0xfb)
		} else {
			v := data[offsets[j]:offsets[j+1]]
			b = appendLenencBytes(b, v)
		}
		ends = append(ends, len(b))
	}
	cb.buf, cb.ends = b, ends
}

// encFallback renders values of an Arrow type the column types do not
// produce with arrow's own text form. It is slow and only a safety net.
func encFallback(cb *colBuf, arr arrow.Array, sel []int32, n int) {
	b, ends := cb.buf, cb.ends
	for i := range n {
		j := rowIndex(sel, i)
		if arr.IsNull(j) {
			b = append(b, 0xfb)
		} else {
			b = appendLenencString(b, arr.ValueStr(j))
		}
		ends = append(ends, len(b))
	}
	cb.buf, cb.ends = b, ends
}

// trimBinaryNulls turns the 0xFB NULL markers the length-encoded encoders
// write into the empty values of the binary protocol.
func trimBinaryNulls(cb *colBuf) {
	start, w := 0, 0
	b := cb.buf
	for r, e := range cb.ends {
		if e-start == 1 && b[start] == 0xfb {
			// NULL: nothing
		} else {
			w += copy(b[w:], b[start:e])
		}
		start = e
		cb.ends[r] = w
	}
	cb.buf = b[:w]
}

// appendDate appends YYYY-MM-DD (the year zero-padded to four digits).
func appendDate(b []byte, y int64, m, d int) []byte {
	if y >= 0 && y <= 9999 {
		b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	} else {
		b = strconv.AppendInt(b, y, 10)
	}
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	return append2(b, d)
}

func append2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10%10), byte('0'+v%10))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian date.
func civilFromDays(z int64) (y int64, m, d int) {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysFromCivil converts a proleptic Gregorian date to days since 1970-01-01.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mm := int64(m)
	if mm > 2 {
		mm -= 3
	} else {
		mm += 9
	}
	doy := (153*mm+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
