package loader

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// ValueError is a row error: a value that cannot be stored in its column.
type ValueError struct {
	Column string
	Reason string
}

func (e *ValueError) Error() string { return "column(" + e.Column + ") " + e.Reason }

// BatchBuilder converts rows of text values into Arrow arrays for a fixed
// list of columns. It is the conversion shared by stream load and INSERT ...
// VALUES.
//
// A row is built by calling Set or SetNull at most once per column, in any
// order, then EndRow, which fills the columns not set with their defaults.
// After an error from Set, SetNull or EndRow the caller must call
// DiscardRow, which rolls every column back to the previous row. Build hands
// out the finished rows and starts an empty batch.
//
// Values are converted straight into typed Go slices: no allocation per
// value except the growth of those slices. A BatchBuilder is not safe for
// concurrent use.
type BatchBuilder struct {
	cols []colBuf
	n    int    // complete rows
	gen  uint32 // current row's generation, for colBuf.setGen
}

// colBuf accumulates one column. Exactly one of the typed slices is used,
// chosen by kind.
type colBuf struct {
	name     string
	typ      types.Type
	dt       arrow.DataType
	nullable bool
	maxLen   int // CHAR/VARCHAR/STRING byte limit

	setGen uint32 // == BatchBuilder.gen when set in the current row

	// Default for a row that does not set the column.
	defKind int // defNone, defNull, defValue
	defText []byte

	valid []bool
	nulls int
	bools []bool
	i8    []int8
	i16   []int16
	i32   []int32
	i64   []int64
	f32   []float32
	f64   []float64
	dec   []decimal128.Num
	date  []arrow.Date32
	ts    []arrow.Timestamp
	offs  []int32 // strings: len = rows+1
	data  []byte
}

const (
	defNone = iota
	defNull
	defValue
	defZero // a placeholder a partial update fills
)

// NewBatchBuilder returns a builder for cols. now is the value of a
// CURRENT_TIMESTAMP default. Defaults are checked here: a default that does
// not convert to its column's type is an error.
func NewBatchBuilder(cols []catalog.Column, now time.Time) (*BatchBuilder, error) {
	b := &BatchBuilder{cols: make([]colBuf, len(cols)), gen: 1}
	for i, c := range cols {
		if err := c.Type.Validate(); err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		cb := &b.cols[i]
		cb.name = c.Name
		cb.typ = c.Type
		cb.dt = c.Type.Arrow()
		cb.nullable = c.Nullable
		switch c.Type.Kind {
		case types.KindChar, types.KindVarchar:
			cb.maxLen = c.Type.Length
		case types.KindString:
			cb.maxLen = types.MaxStringLength
		}
		cb.offs = []int32{0}
		switch {
		case c.Default != nil:
			d := *c.Default
			if c.Type.Kind.IsTemporal() && isCurrentTimestamp(d) {
				d = now.Format("2006-01-02 15:04:05.000000")
			}
			cb.defKind = defValue
			cb.defText = []byte(d)
			probe := colBuf{typ: cb.typ, name: cb.name, maxLen: cb.maxLen, offs: []int32{0}}
			if err := probe.appendText(cb.defText); err != nil {
				return nil, fmt.Errorf("default value of column %s: %w", c.Name, err)
			}
		case c.Nullable:
			cb.defKind = defNull
		default:
			cb.defKind = defNone
		}
	}
	return b, nil
}

func isCurrentTimestamp(s string) bool {
	s = strings.ToUpper(strings.TrimSpace(s))
	return s == "CURRENT_TIMESTAMP" || s == "CURRENT_TIMESTAMP()" || s == "NOW()"
}

// Len is the number of complete rows in the batch.
func (b *BatchBuilder) Len() int { return b.n }

// NumColumns is the number of columns.
func (b *BatchBuilder) NumColumns() int { return len(b.cols) }

// Placeholder lets rows leave column i unset although it has neither a
// default nor NULL: they hold the type's zero value, which a partial
// update replaces by the value of the row it updates.
func (b *BatchBuilder) Placeholder(i int) {
	if c := &b.cols[i]; c.defKind == defNone {
		c.defKind = defZero
	}
}

// HasDefault reports whether column i can be left unset in a row.
func (b *BatchBuilder) HasDefault(i int) bool { return b.cols[i].defKind != defNone }

// ByteSize estimates the memory held by the batch.
func (b *BatchBuilder) ByteSize() int {
	s := 0
	for i := range b.cols {
		c := &b.cols[i]
		s += len(c.data) + 16*b.n + 4*len(c.offs)
	}
	return s
}

// Set converts v and stores it in column i of the current row. A second Set
// of the same column in a row is ignored. v is not retained.
func (b *BatchBuilder) Set(i int, v []byte) error {
	c := &b.cols[i]
	if c.setGen == b.gen {
		return nil
	}
	c.setGen = b.gen
	return c.appendText(v)
}

// SetNull stores NULL in column i of the current row.
func (b *BatchBuilder) SetNull(i int) error {
	c := &b.cols[i]
	if c.setGen == b.gen {
		return nil
	}
	c.setGen = b.gen
	return c.appendNull()
}

// EndRow completes the current row, giving unset columns their default (or
// NULL), and reports an error when an unset column has neither.
func (b *BatchBuilder) EndRow() error {
	for i := range b.cols {
		c := &b.cols[i]
		if c.setGen == b.gen {
			continue
		}
		c.setGen = b.gen
		var err error
		switch c.defKind {
		case defValue:
			err = c.appendText(c.defText)
		case defNull:
			err = c.appendNull()
		case defZero:
			err = c.appendZero()
		default:
			err = &ValueError{Column: c.name, Reason: "has no default value and is not in the input"}
		}
		if err != nil {
			return err
		}
	}
	b.n++
	b.gen++
	return nil
}

// DiscardRow drops whatever the current row has set.
func (b *BatchBuilder) DiscardRow() {
	for i := range b.cols {
		b.cols[i].truncate(b.n)
	}
	b.gen++
}

// Build returns the batch's rows as one array per column (the caller owns
// them and must Release them) and starts an empty batch. A row in progress
// is discarded.
func (b *BatchBuilder) Build() []arrow.Array {
	b.DiscardRow()
	out := make([]arrow.Array, len(b.cols))
	for i := range b.cols {
		out[i] = b.cols[i].finish(b.n)
	}
	b.n = 0
	return out
}

func (c *colBuf) truncate(n int) {
	if len(c.valid) == n {
		return
	}
	if len(c.valid) < n {
		panic(fmt.Sprintf("BUG: column %s has %d values, batch has %d rows", c.name, len(c.valid), n))
	}
	for _, v := range c.valid[n:] {
		if !v {
			c.nulls--
		}
	}
	c.valid = c.valid[:n]
	switch c.typ.Kind {
	case types.KindBoolean:
		c.bools = c.bools[:n]
	case types.KindTinyInt:
		c.i8 = c.i8[:n]
	case types.KindSmallInt:
		c.i16 = c.i16[:n]
	case types.KindInt:
		c.i32 = c.i32[:n]
	case types.KindBigInt:
		c.i64 = c.i64[:n]
	case types.KindFloat:
		c.f32 = c.f32[:n]
	case types.KindDouble:
		c.f64 = c.f64[:n]
	case types.KindLargeInt, types.KindDecimal:
		c.dec = c.dec[:n]
	case types.KindDate:
		c.date = c.date[:n]
	case types.KindDateTime:
		c.ts = c.ts[:n]
	default:
		c.offs = c.offs[:n+1]
		c.data = c.data[:c.offs[n]]
	}
}

// appendZero appends the type's zero value (as appendNull stores under a
// NULL, but valid).
func (c *colBuf) appendZero() error {
	nullable := c.nullable
	c.nullable = true
	err := c.appendNull()
	c.nullable = nullable
	if err == nil {
		c.valid[len(c.valid)-1] = true
		c.nulls--
	}
	return err
}

func (c *colBuf) appendNull() error {
	if !c.nullable {
		return &ValueError{Column: c.name, Reason: "value is null but the column is NOT NULL"}
	}
	c.valid = append(c.valid, false)
	c.nulls++
	switch c.typ.Kind {
	case types.KindBoolean:
		c.bools = append(c.bools, false)
	case types.KindTinyInt:
		c.i8 = append(c.i8, 0)
	case types.KindSmallInt:
		c.i16 = append(c.i16, 0)
	case types.KindInt:
		c.i32 = append(c.i32, 0)
	case types.KindBigInt:
		c.i64 = append(c.i64, 0)
	case types.KindFloat:
		c.f32 = append(c.f32, 0)
	case types.KindDouble:
		c.f64 = append(c.f64, 0)
	case types.KindLargeInt, types.KindDecimal:
		c.dec = append(c.dec, decimal128.Num{})
	case types.KindDate:
		c.date = append(c.date, 0)
	case types.KindDateTime:
		c.ts = append(c.ts, 0)
	default:
		c.offs = append(c.offs, int32(len(c.data)))
	}
	return nil
}

func (c *colBuf) invalid(v []byte) error {
	return &ValueError{Column: c.name, Reason: fmt.Sprintf("value is incorrect: '%s' is not a valid %s", truncateBytes(v, 64), c.typ)}
}

func (c *colBuf) outOfRange(v []byte) error {
	return &ValueError{Column: c.name, Reason: fmt.Sprintf("value is incorrect: '%s' is out of range of %s", truncateBytes(v, 64), c.typ)}
}

// appendText converts v to the column type and appends it. Empty text in a
// nullable non-string column is NULL.
func (c *colBuf) appendText(v []byte) error {
	k := c.typ.Kind
	if k == types.KindBitmap || k == types.KindHLL {
		// Doris fills these through a function in columns (v=to_bitmap(x)),
		// which loads cannot do yet; text is not a value of them.
		return &ValueError{Column: c.name, Reason: fmt.Sprintf("value is incorrect: '%s': a %s column is loaded through to_bitmap, bitmap_hash or hll_hash in columns, which is not supported yet",
			truncateBytes(v, 64), c.typ)}
	}
	if k.IsString() {
		if len(v) > c.maxLen {
			return &ValueError{Column: c.name, Reason: fmt.Sprintf("the length of input is too long than schema. input: '%s'; schema length: %d; actual length: %d",
				truncateBytes(v, 64), c.maxLen, len(v))}
		}
		if len(c.data)+len(v) > math.MaxInt32 {
			return &ValueError{Column: c.name, Reason: "batch string data exceeds 2 GiB"}
		}
		c.data = append(c.data, v...)
		c.offs = append(c.offs, int32(len(c.data)))
		c.valid = append(c.valid, true)
		return nil
	}
	t := trimSpace(v)
	if len(t) == 0 {
		if c.nullable {
			return c.appendNull()
		}
		return c.invalid(v)
	}
	switch k {
	case types.KindBoolean:
		x, ok := parseBool(t)
		if !ok {
			return c.invalid(v)
		}
		c.bools = append(c.bools, x)
	case types.KindTinyInt, types.KindSmallInt, types.KindInt, types.KindBigInt:
		x, ok, overflow := parseInt64(t)
		if !ok {
			if overflow {
				return c.outOfRange(v)
			}
			return c.invalid(v)
		}
		switch k {
		case types.KindTinyInt:
			if x < math.MinInt8 || x > math.MaxInt8 {
				return c.outOfRange(v)
			}
			c.i8 = append(c.i8, int8(x))
		case types.KindSmallInt:
			if x < math.MinInt16 || x > math.MaxInt16 {
				return c.outOfRange(v)
			}
			c.i16 = append(c.i16, int16(x))
		case types.KindInt:
			if x < math.MinInt32 || x > math.MaxInt32 {
				return c.outOfRange(v)
			}
			c.i32 = append(c.i32, int32(x))
		default:
			c.i64 = append(c.i64, x)
		}
	case types.KindLargeInt:
		x, st := parseDecimal(t, 39, 0, true)
		if st != decOK {
			if st == decOverflow {
				return c.outOfRange(v)
			}
			return c.invalid(v)
		}
		c.dec = append(c.dec, x)
	case types.KindDecimal:
		x, st := parseDecimal(t, c.typ.Precision, c.typ.Scale, false)
		if st != decOK {
			if st == decOverflow {
				return c.outOfRange(v)
			}
			return c.invalid(v)
		}
		c.dec = append(c.dec, x)
	case types.KindFloat, types.KindDouble:
		f, err := strconv.ParseFloat(bytesToString(t), 64)
		if err != nil && !isRangeErr(err) {
			return c.invalid(v)
		}
		if k == types.KindFloat {
			c.f32 = append(c.f32, float32(f))
		} else {
			c.f64 = append(c.f64, f)
		}
	case types.KindDate:
		d, ok := parseDate(t)
		if !ok {
			return c.invalid(v)
		}
		c.date = append(c.date, arrow.Date32(d))
	case types.KindDateTime:
		us, ok := parseDateTime(t, c.typ.Precision)
		if !ok {
			return c.invalid(v)
		}
		c.ts = append(c.ts, arrow.Timestamp(us))
	default:
		panic(fmt.Sprintf("BUG: column %s of unsupported kind %v", c.name, k))
	}
	c.valid = append(c.valid, true)
	return nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// bytesToString views b as a string without copying. The string must not
// outlive the call it is passed to; strconv copies the input into any error
// it returns, so passing it to strconv parsers is safe.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

func truncateBytes(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

func parseBool(b []byte) (bool, bool) {
	switch len(b) {
	case 1:
		switch b[0] {
		case '1':
			return true, true
		case '0':
			return false, true
		}
	case 4:
		if (b[0]|0x20) == 't' && (b[1]|0x20) == 'r' && (b[2]|0x20) == 'u' && (b[3]|0x20) == 'e' {
			return true, true
		}
	case 5:
		if (b[0]|0x20) == 'f' && (b[1]|0x20) == 'a' && (b[2]|0x20) == 'l' && (b[3]|0x20) == 's' && (b[4]|0x20) == 'e' {
			return false, true
		}
	}
	return false, false
}

// parseInt64 parses an optionally signed decimal integer. overflow reports
// a well-formed number outside int64.
func parseInt64(b []byte) (x int64, ok, overflow bool) {
	if len(b) == 0 {
		return 0, false, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false, false
	}
	var u uint64
	for _, ch := range b {
		d := ch - '0'
		if d > 9 {
			return 0, false, false
		}
		if u > (math.MaxUint64-9)/10 {
			overflow = true
			continue
		}
		u = u*10 + uint64(d)
	}
	if overflow {
		return 0, false, true
	}
	if neg {
		if u > 1<<63 {
			return 0, false, true
		}
		return -int64(u), true, false
	}
	if u > math.MaxInt64 {
		return 0, false, true
	}
	return int64(u), true, false
}

type decStatus uint8

const (
	decOK decStatus = iota
	decInvalid
	decOverflow
)

// uint128 is an unsigned 128-bit accumulator.
type uint128 struct{ hi, lo uint64 }

// mulAdd returns u*10+d and whether it overflowed 128 bits.
func (u uint128) mulAdd(d uint64) (uint128, bool) {
	hh, hl := bits.Mul64(u.hi, 10)
	lh, ll := bits.Mul64(u.lo, 10)
	hi, c1 := bits.Add64(hl, lh, 0)
	lo, c2 := bits.Add64(ll, d, 0)
	hi, c3 := bits.Add64(hi, 0, c2)
	return uint128{hi, lo}, hh != 0 || c1 != 0 || c3 != 0
}

// pow10u128[i] = 10^i for i <= 38.
var pow10u128 = func() [39]uint128 {
	var t [39]uint128
	t[0] = uint128{0, 1}
	for i := 1; i < len(t); i++ {
		t[i], _ = t[i-1].mulAdd(0)
	}
	return t
}()

func (u uint128) less(v uint128) bool { return u.hi < v.hi || (u.hi == v.hi && u.lo < v.lo) }

// parseDecimal parses [sign]digits[.digits][e[sign]digits] into an integer
// scaled by 10^scale, rounding half away from zero. With largeInt the
// value must be an integer within int128 (prec is then ignored); otherwise it
// must have at most prec digits.
func parseDecimal(b []byte, prec, scale int, largeInt bool) (decimal128.Num, decStatus) {
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	// Split into integer digits, fraction digits and exponent.
	i := 0
	intStart := i
	for i < len(b) && b[i]-'0' <= 9 {
		i++
	}
	intDigits := b[intStart:i]
	var fracDigits []byte
	if i < len(b) && b[i] == '.' {
		i++
		fs := i
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
		fracDigits = b[fs:i]
	}
	if len(intDigits) == 0 && len(fracDigits) == 0 {
		return decimal128.Num{}, decInvalid
	}
	exp := 0
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		e, ok, _ := parseInt64(b[i+1:])
		if !ok || e > 100 || e < -100 {
			return decimal128.Num{}, decInvalid
		}
		exp = int(e)
		i = len(b)
	}
	if i != len(b) {
		return decimal128.Num{}, decInvalid
	}
	if largeInt {
		if len(fracDigits) > 0 || exp != 0 {
			for _, d := range fracDigits {
				if d != '0' {
					return decimal128.Num{}, decInvalid
				}
			}
			if exp != 0 {
				return decimal128.Num{}, decInvalid
			}
		}
	}
	// Digit string d = intDigits ++ fracDigits with the decimal point after
	// position pointPos; we need the digits up to pointPos+scale.
	for len(intDigits) > 0 && intDigits[0] == '0' {
		intDigits = intDigits[1:]
	}
	digit := func(k int) byte { // k-th digit of intDigits ++ fracDigits
		if k < len(intDigits) {
			return intDigits[k]
		}
		k -= len(intDigits)
		if k < len(fracDigits) {
			return fracDigits[k]
		}
		return '0'
	}
	pointPos := len(intDigits) + exp
	end := pointPos + scale // digits [0, end) form the result
	var u uint128
	var of bool
	nd := 0
	for k := 0; k < end; k++ {
		d := uint64(digit(k) - '0')
		if nd == 0 && d == 0 {
			continue
		}
		u, of = u.mulAdd(d)
		nd++
		if of || nd > 39 {
			return decimal128.Num{}, decOverflow
		}
	}
	if end >= 0 && digit(end) >= '5' {
		var c uint64
		u.lo, c = bits.Add64(u.lo, 1, 0)
		u.hi += c
	}
	if largeInt {
		limit := uint128{1 << 63, 0} // 2^127
		if neg {
			if limit.less(u) {
				return decimal128.Num{}, decOverflow
			}
		} else if !u.less(limit) {
			return decimal128.Num{}, decOverflow
		}
	} else if !u.less(pow10u128[prec]) {
		return decimal128.Num{}, decOverflow
	}
	n := decimal128.New(int64(u.hi), u.lo)
	if neg {
		n = n.Negate()
	}
	return n, decOK
}

func digits(b []byte, n int) (int, bool) {
	if len(b) < n {
		return 0, false
	}
	v := 0
	for _, c := range b[:n] {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + int(d)
	}
	return v, true
}

// upTo2 parses one or two digits at the start of b.
func upTo2(b []byte) (v, n int, ok bool) {
	if len(b) == 0 || b[0]-'0' > 9 {
		return 0, 0, false
	}
	v, n = int(b[0]-'0'), 1
	if len(b) > 1 && b[1]-'0' <= 9 {
		v, n = v*10+int(b[1]-'0'), 2
	}
	return v, n, true
}

// parseDatePart parses YYYY-MM-DD, YYYY-M-D, YYYY/MM/DD or YYYYMMDD at the
// start of b and returns the days since 1970-01-01 and the rest of b.
func parseDatePart(b []byte) (days int64, rest []byte, ok bool) {
	y, ok := digits(b, 4)
	if !ok {
		return 0, nil, false
	}
	var m, d int
	if len(b) >= 8 && b[4]-'0' <= 9 {
		if m, ok = digits(b[4:], 2); !ok {
			return 0, nil, false
		}
		if d, ok = digits(b[6:], 2); !ok {
			return 0, nil, false
		}
		rest = b[8:]
	} else {
		if len(b) < 5 || (b[4] != '-' && b[4] != '/') {
			return 0, nil, false
		}
		sep := b[4]
		var n int
		if m, n, ok = upTo2(b[5:]); !ok {
			return 0, nil, false
		}
		p := 5 + n
		if p >= len(b) || b[p] != sep {
			return 0, nil, false
		}
		if d, n, ok = upTo2(b[p+1:]); !ok {
			return 0, nil, false
		}
		rest = b[p+1+n:]
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, nil, false
	}
	return daysFromCivil(y, m, d), rest, true
}

func parseDate(b []byte) (int64, bool) {
	days, rest, ok := parseDatePart(b)
	if !ok {
		return 0, false
	}
	if len(rest) > 0 {
		// A datetime is accepted and truncated to its date.
		if _, ok := parseTimePart(rest, 6); !ok {
			return 0, false
		}
	}
	return days, true
}

// parseDateTime parses a date optionally followed by ' ' or 'T' and
// HH:MM[:SS[.ffffff]], rounding the fraction half up to prec digits.
func parseDateTime(b []byte, prec int) (int64, bool) {
	days, rest, ok := parseDatePart(b)
	if !ok {
		return 0, false
	}
	var us int64
	if len(rest) > 0 {
		if us, ok = parseTimePart(rest, prec); !ok {
			return 0, false
		}
	}
	return days*86400_000_000 + us, true
}

var pow10i64 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000}

// parseTimePart parses [ T]HH:MM[:SS[.f*]] (or HHMMSS after the compact
// date form) into microseconds of the day.
func parseTimePart(b []byte, prec int) (int64, bool) {
	if b[0] != ' ' && b[0] != 'T' {
		return 0, false
	}
	b = b[1:]
	h, n, ok := upTo2(b)
	if !ok {
		return 0, false
	}
	b = b[n:]
	var mi, s int
	if len(b) == 0 || b[0] != ':' {
		return 0, false
	}
	if mi, n, ok = upTo2(b[1:]); !ok {
		return 0, false
	}
	b = b[1+n:]
	if len(b) > 0 && b[0] == ':' {
		if s, n, ok = upTo2(b[1:]); !ok {
			return 0, false
		}
		b = b[1+n:]
	}
	if h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	var frac int64
	if len(b) > 0 && b[0] == '.' {
		b = b[1:]
		k := 0
		for k < len(b) && b[k]-'0' <= 9 {
			k++
		}
		if k == 0 {
			return 0, false
		}
		fd := b[:k]
		b = b[k:]
		if prec < 0 || prec > 6 {
			prec = 6
		}
		for i := 0; i < prec; i++ {
			frac *= 10
			if i < len(fd) {
				frac += int64(fd[i] - '0')
			}
		}
		if len(fd) > prec && fd[prec] >= '5' {
			frac++
		}
		frac *= pow10i64[6-prec]
	}
	if len(b) != 0 {
		return 0, false
	}
	return (int64(h)*3600+int64(mi)*60+int64(s))*1_000_000 + frac, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// finish turns the first n rows into an array and resets the column.
func (c *colBuf) finish(n int) arrow.Array {
	c.truncate(n)
	var nullBuf *memory.Buffer
	if c.nulls > 0 {
		bm := make([]byte, (n+7)/8)
		for i, v := range c.valid {
			if v {
				bm[i>>3] |= 1 << (i & 7)
			}
		}
		nullBuf = memory.NewBufferBytes(bm)
	}
	var bufs []*memory.Buffer
	switch c.typ.Kind {
	case types.KindBoolean:
		bm := make([]byte, (n+7)/8)
		for i, v := range c.bools {
			if v {
				bm[i>>3] |= 1 << (i & 7)
			}
		}
		bufs = []*memory.Buffer{nullBuf, memory.NewBufferBytes(bm)}
		c.bools = make([]bool, 0, cap(c.bools))
	case types.KindTinyInt:
		bufs = []*memory.Buffer{nullBuf, memory.NewBufferBytes(arrow.Int8Traits.CastToBytes(c.i8))}
		c.i8 = make([]int8, 0, cap(c.i8))
	case types.KindSmallInt:
		bufs = []*memory.Buffer{nullBuf, memory.NewBufferBytes(arrow.Int16Traits.CastToBytes(c.i16))}
		c.i16 = make([]int16, 0, cap(c.i16))
	case types.KindInt:
		bufs = []*memory.Buffer{nullBuf, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.i32))}
		c.i32 = make([]int32, 0, cap(c.i32))
	case types.KindBigInt:
		bufs = []*memory.Buffer{nullBuf, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(c.i64))}
		c.i64 = make([]int64, 0, cap(c.i64))
	case types.KindFloat:
		bufs = []*memory.Buffer{nullBuf, memory.NewBufferBytes(arrow.Float32Traits.CastToBytes(c.f32))}
		c.f32 = make([]float32, 0, cap(c.f32))
	case types.KindDouble:
		bufs = []*memory.Buffer{nullBuf, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(c.f64))}
		c.f64 = make([]float64, 0, cap(c.f64))
	case types.KindLargeInt, types.KindDecimal:
		bufs = []*memory.Buffer{nullBuf, memory.NewBufferBytes(arrow.Decimal128Traits.CastToBytes(c.dec))}
		c.dec = make([]decimal128.Num, 0, cap(c.dec))
	case types.KindDate:
		bufs = []*memory.Buffer{nullBuf, memory.NewBufferBytes(arrow.Date32Traits.CastToBytes(c.date))}
		c.date = make([]arrow.Date32, 0, cap(c.date))
	case types.KindDateTime:
		bufs = []*memory.Buffer{nullBuf, memory.NewBufferBytes(arrow.TimestampTraits.CastToBytes(c.ts))}
		c.ts = make([]arrow.Timestamp, 0, cap(c.ts))
	default:
		bufs = []*memory.Buffer{nullBuf, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.offs)), memory.NewBufferBytes(c.data)}
		c.offs = make([]int32, 1, cap(c.offs))
		c.data = make([]byte, 0, cap(c.data))
	}
	data := array.NewData(c.dt, n, bufs, nil, c.nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	c.valid = c.valid[:0]
	c.nulls = 0
	return arr
}
