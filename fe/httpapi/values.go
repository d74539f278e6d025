package httpapi

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/strata-db/strata/types"
)

// A Doris result set travels to the HTTP API through the MariaDB JDBC
// driver (StatementSubmitter), so its cells are what ResultSet.getObject
// returns, serialized by Jackson: integers, decimals and floats as JSON
// numbers, booleans as true/false, LARGEINT (sent as a string column) and
// text as strings, DATE and DATETIME as their text, NULL as null.

// valueFunc returns the JSON value of row j of one column.
type valueFunc func(j int) any

// jsonValueFunc returns the converter of one column of a batch; t is the
// column's type, arr its array in the batch. The switch runs once per
// column and batch, not per value.
func jsonValueFunc(t types.Type, arr arrow.Array) valueFunc {
	nullable := func(f valueFunc) valueFunc {
		if arr.NullN() == 0 {
			return f
		}
		return func(j int) any {
			if arr.IsNull(j) {
				return nil
			}
			return f(j)
		}
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return nullable(func(j int) any { return a.Value(j) })
	case *array.Int8:
		return nullable(func(j int) any { return intNumber(int64(a.Value(j))) })
	case *array.Int16:
		return nullable(func(j int) any { return intNumber(int64(a.Value(j))) })
	case *array.Int32:
		return nullable(func(j int) any { return intNumber(int64(a.Value(j))) })
	case *array.Int64:
		return nullable(func(j int) any { return intNumber(a.Value(j)) })
	case *array.Float32:
		return nullable(func(j int) any { return jsonFloat(float64(a.Value(j)), 32) })
	case *array.Float64:
		return nullable(func(j int) any { return jsonFloat(a.Value(j), 64) })
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		if t.Kind == types.KindLargeInt {
			return nullable(func(j int) any { return a.Value(j).ToString(scale) })
		}
		return nullable(func(j int) any { return json.Number(a.Value(j).ToString(scale)) })
	case *array.Date32:
		return nullable(func(j int) any { return string(types.AppendDate(nil, int32(a.Value(j)))) })
	case *array.Timestamp:
		mul, div := microsPer(a.DataType().(*arrow.TimestampType).Unit)
		prec := min(max(t.Precision, 0), types.MaxDateTimePrecision)
		if t.Kind == types.KindDate {
			return nullable(func(j int) any {
				us := floorDiv(int64(a.Value(j))*mul, div)
				return string(types.AppendDate(nil, int32(floorDiv(us, types.MicrosPerDay))))
			})
		}
		return nullable(func(j int) any {
			return string(types.AppendDateTime(nil, floorDiv(int64(a.Value(j))*mul, div), prec))
		})
	case *array.String:
		return nullable(func(j int) any { return a.Value(j) })
	case *array.LargeString:
		return nullable(func(j int) any { return a.Value(j) })
	case *array.Binary:
		return nullable(func(j int) any { return string(a.Value(j)) })
	}
	return nullable(func(j int) any { return arr.ValueStr(j) })
}

// jsonFloat is a FLOAT or DOUBLE as JSON: a number, or for NaN and the
// infinities the string Jackson writes.
func jsonFloat(f float64, bitSize int) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return json.Number(formatFloat(f, bitSize))
}

func intNumber(v int64) json.Number { return json.Number(strconv.FormatInt(v, 10)) }

// microsPer converts a timestamp in unit u to microseconds: us = v*mul/div.
func microsPer(u arrow.TimeUnit) (mul, div int64) {
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

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// formatFloat formats a finite FLOAT or DOUBLE as the shortest text that
// reads back as the same value, in plain notation unless the exponent is
// below -4 or at least 16 (7 for FLOAT), the way Strata sends it over the
// MySQL protocol; the text is valid JSON.
func formatFloat(f float64, bitSize int) string {
	upper := 1e16
	if bitSize == 32 {
		upper = 1e7
	}
	if abs := math.Abs(f); abs != 0 && (abs < 1e-4 || abs >= upper) {
		return strconv.FormatFloat(f, 'e', -1, bitSize)
	}
	return strconv.FormatFloat(f, 'f', -1, bitSize)
}

// metaTypeName is the column type name a Doris result set reports through
// the MariaDB driver (ResultSetMetaData.getColumnTypeName): Doris sends
// CHAR, VARCHAR and LARGEINT as MYSQL_TYPE_STRING (CHAR), STRING as a BLOB
// with a character set (TEXT), BOOLEAN as TINYINT(1) (BIT) and INT as LONG
// (INTEGER).
func metaTypeName(t types.Type) string {
	switch t.Kind {
	case types.KindBoolean:
		return "BIT"
	case types.KindInt:
		return "INTEGER"
	case types.KindLargeInt, types.KindChar, types.KindVarchar:
		return "CHAR"
	case types.KindString:
		return "TEXT"
	}
	return t.Kind.String()
}
