package mysqlproto

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/types"
)

// buildArrays converts rows of Go values into one Arrow array per field, typed
// as the field's Type.Arrow().
func buildArrays(fields []Field, rows [][]any) ([]arrow.Array, error) {
	cols := make([]arrow.Array, 0, len(fields))
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	for i := range fields {
		b := array.NewBuilder(memory.DefaultAllocator, arrowType(fields[i].Type))
		b.Reserve(len(rows))
		for r, row := range rows {
			if len(row) != len(fields) {
				b.Release()
				release()
				return nil, fmt.Errorf("row %d has %d values, want %d", r, len(row), len(fields))
			}
			if err := appendValue(b, fields[i].Type, row[i]); err != nil {
				b.Release()
				release()
				return nil, fmt.Errorf("column %q row %d: %w", fields[i].Name, r, err)
			}
		}
		cols = append(cols, b.NewArray())
		b.Release()
	}
	return cols, nil
}

// arrowType is Type.Arrow() that tolerates an invalid (zero) type as a string.
func arrowType(t types.Type) arrow.DataType {
	if !t.Kind.IsValid() {
		return arrow.BinaryTypes.String
	}
	return t.Arrow()
}

func appendValue(b array.Builder, t types.Type, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		i, err := toInt64(v)
		if err != nil {
			return err
		}
		b.Append(i != 0)
	case *array.Int8Builder:
		i, err := toInt64(v)
		if err != nil {
			return err
		}
		b.Append(int8(i))
	case *array.Int16Builder:
		i, err := toInt64(v)
		if err != nil {
			return err
		}
		b.Append(int16(i))
	case *array.Int32Builder:
		i, err := toInt64(v)
		if err != nil {
			return err
		}
		b.Append(int32(i))
	case *array.Int64Builder:
		i, err := toInt64(v)
		if err != nil {
			return err
		}
		b.Append(i)
	case *array.Float32Builder:
		f, err := toFloat64(v)
		if err != nil {
			return err
		}
		b.Append(float32(f))
	case *array.Float64Builder:
		f, err := toFloat64(v)
		if err != nil {
			return err
		}
		b.Append(f)
	case *array.Decimal128Builder:
		n, err := toDecimal128(v, int(b.Type().(*arrow.Decimal128Type).Scale))
		if err != nil {
			return err
		}
		b.Append(n)
	case *array.Date32Builder:
		tm, err := toTime(v)
		if err != nil {
			return err
		}
		y, m, d := tm.Date()
		b.Append(arrow.Date32(daysFromCivil(int64(y), int(m), d)))
	case *array.TimestampBuilder:
		tm, err := toTime(v)
		if err != nil {
			return err
		}
		y, m, d := tm.Date()
		hh, mm, ss := tm.Clock()
		us := daysFromCivil(int64(y), int(m), d)*86_400_000_000 + int64(hh*3600+mm*60+ss)*1_000_000 + int64(tm.Nanosecond()/1000)
		b.Append(arrow.Timestamp(us))
	case *array.StringBuilder:
		b.Append(toString(v))
	default:
		return fmt.Errorf("BUG: no value conversion to %s", b.Type())
	}
	return nil
}

func toInt64(v any) (int64, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		return int64(x), nil
	case float32:
		return int64(x), nil
	case float64:
		return int64(x), nil
	case string:
		return strconv.ParseInt(strings.TrimSpace(x), 10, 64)
	case []byte:
		return strconv.ParseInt(strings.TrimSpace(string(x)), 10, 64)
	}
	return 0, fmt.Errorf("cannot convert %T to an integer", v)
}

func toFloat64(v any) (float64, error) {
	switch x := v.(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		return strconv.ParseFloat(strings.TrimSpace(x), 64)
	case []byte:
		return strconv.ParseFloat(strings.TrimSpace(string(x)), 64)
	}
	i, err := toInt64(v)
	return float64(i), err
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case float64:
		return string(appendFloat(nil, x, 64))
	case float32:
		return string(appendFloat(nil, float64(x), 32))
	case time.Time:
		return x.Format("2006-01-02 15:04:05.999999")
	case fmt.Stringer:
		return x.String()
	}
	if i, err := toInt64(v); err == nil {
		return strconv.FormatInt(i, 10)
	}
	return fmt.Sprint(v)
}

var timeLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"}

func toTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string, []byte:
		s := strings.TrimSpace(toString(x))
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("cannot parse %q as a date or datetime", s)
	}
	return time.Time{}, fmt.Errorf("cannot convert %T to a date or datetime", v)
}

// toDecimal128 converts v to an unscaled 128-bit integer with the given
// scale, rounding half away from zero.
func toDecimal128(v any, scale int) (decimal128.Num, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case float32, float64:
		f, _ := toFloat64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return decimal128.Num{}, fmt.Errorf("cannot convert %v to a decimal", f)
		}
		s = strconv.FormatFloat(f, 'f', -1, 64)
	default:
		i, err := toInt64(v)
		if err != nil {
			return decimal128.Num{}, err
		}
		s = strconv.FormatInt(i, 10)
	}
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return decimal128.Num{}, fmt.Errorf("cannot parse %q as a decimal", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	// Round half away from zero.
	num, den := r.Num(), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if q.BitLen() > 127 {
		return decimal128.Num{}, fmt.Errorf("decimal %q out of range", s)
	}
	return decimal128.FromBigInt(q), nil
}
