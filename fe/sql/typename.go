package sql

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/strata-db/strata/types"
)

// TypeName is a type as written in DDL or CAST. Name is the upper-case type
// word (INT, DECIMALV3, DATETIMEV2, ARRAY, SIGNED, ...). Params holds the
// numbers in parentheses (VARCHAR(10), DECIMAL(18, 2), INT(11)); Elems holds
// the element types of ARRAY<T> and MAP<K, V>; Fields the fields of STRUCT.
type TypeName struct {
	Name   string
	Params []int
	Elems  []*TypeName
	Fields []*StructField
}

// StructField is one name:type [COMMENT '...'] of STRUCT<...>.
type StructField struct {
	Name    string
	Type    *TypeName
	Comment string
}

func (t *TypeName) String() string {
	var b strings.Builder
	t.format(&b)
	return b.String()
}

func (t *TypeName) format(b *strings.Builder) {
	b.WriteString(t.Name)
	if len(t.Params) > 0 {
		b.WriteByte('(')
		for i, p := range t.Params {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Itoa(p))
		}
		b.WriteByte(')')
	}
	if len(t.Elems) > 0 {
		b.WriteByte('<')
		for i, e := range t.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			e.format(b)
		}
		b.WriteByte('>')
	}
	if len(t.Fields) > 0 {
		b.WriteByte('<')
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			writeIdent(b, f.Name)
			b.WriteByte(':')
			f.Type.format(b)
			if f.Comment != "" {
				b.WriteString(" COMMENT ")
				writeQuoted(b, f.Comment, '\'')
			}
		}
		b.WriteByte('>')
	}
}

// Default parameters Doris applies when a type is written without them.
const (
	defaultDecimalPrecision = 9
	defaultDecimalScale     = 0
)

// Resolve maps the written type to the shared type vocabulary and checks its
// parameters. Types Strata does not implement yet (ARRAY, MAP, STRUCT, JSON,
// QUANTILE_STATE, ...) give an error such as "type ARRAY is not supported
// yet". BITMAP and HLL take no parameters.
//
// CAST targets resolve too: SIGNED [INTEGER] is BIGINT and UNSIGNED
// [INTEGER] is LARGEINT (wide enough for every unsigned 64-bit value).
func (t *TypeName) Resolve() (types.Type, error) {
	var ty types.Type
	p := t.Params
	switch t.Name {
	case "BOOLEAN", "BOOL":
		ty = types.Boolean
	case "TINYINT":
		ty = types.TinyInt
	case "SMALLINT":
		ty = types.SmallInt
	case "INT", "INTEGER":
		ty = types.Int
	case "BIGINT", "SIGNED":
		ty = types.BigInt
	case "LARGEINT", "UNSIGNED":
		ty = types.LargeInt
	case "FLOAT":
		ty = types.Float
	case "DOUBLE", "REAL":
		ty = types.Double
	case "DECIMAL", "DECIMALV2", "DECIMALV3", "NUMERIC":
		switch len(p) {
		case 0:
			ty = types.Decimal(defaultDecimalPrecision, defaultDecimalScale)
		case 1:
			ty = types.Decimal(p[0], 0)
		case 2:
			ty = types.Decimal(p[0], p[1])
		default:
			return types.Type{}, fmt.Errorf("type %s takes at most 2 parameters", t.Name)
		}
		p = nil
	case "DATE", "DATEV2":
		ty = types.Date
	case "DATETIME", "DATETIMEV2":
		switch len(p) {
		case 0:
			ty = types.DateTime(0)
		case 1:
			ty = types.DateTime(p[0])
		default:
			return types.Type{}, fmt.Errorf("type %s takes at most 1 parameter", t.Name)
		}
		p = nil
	case "CHAR", "CHARACTER":
		switch len(p) {
		case 0:
			ty = types.Char(1)
		case 1:
			ty = types.Char(p[0])
		default:
			return types.Type{}, fmt.Errorf("type %s takes at most 1 parameter", t.Name)
		}
		p = nil
	case "VARCHAR":
		switch len(p) {
		case 0:
			ty = types.Varchar(types.DefaultVarcharLength)
		case 1:
			ty = types.Varchar(p[0])
		default:
			return types.Type{}, fmt.Errorf("type %s takes at most 1 parameter", t.Name)
		}
		p = nil
	case "STRING", "TEXT":
		ty = types.String
	case "BITMAP":
		ty = types.Bitmap
	case "HLL":
		ty = types.HLL
	default:
		return types.Type{}, fmt.Errorf("type %s is not supported yet", t.Name)
	}
	switch ty.Kind {
	case types.KindTinyInt, types.KindSmallInt, types.KindInt, types.KindBigInt, types.KindLargeInt:
		// Display widths such as INT(11) are accepted and ignored.
		if len(p) > 1 {
			return types.Type{}, fmt.Errorf("type %s takes at most 1 parameter", t.Name)
		}
	default:
		if len(p) > 0 {
			return types.Type{}, fmt.Errorf("type %s takes no parameters", t.Name)
		}
	}
	if err := ty.Validate(); err != nil {
		return types.Type{}, fmt.Errorf("invalid type %s: %w", t, err)
	}
	return ty, nil
}
