// Package types is the column type vocabulary shared by the frontend, the
// backend, the loader and the MySQL protocol: the types a Doris user writes
// in DDL, and how each maps to the Arrow type it is stored and processed as.
package types

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Kind is a column type as a Doris user spells it in DDL. The physical
// representation of every kind is an Arrow type (see [Type.Arrow]); the kind
// keeps what Arrow cannot say, such as CHAR versus VARCHAR or LARGEINT versus
// DECIMAL(38, 0).
type Kind uint8

const (
	KindInvalid Kind = iota
	KindBoolean
	KindTinyInt
	KindSmallInt
	KindInt
	KindBigInt
	KindLargeInt
	KindFloat
	KindDouble
	KindDecimal
	KindDate
	KindDateTime
	KindChar
	KindVarchar
	KindString
	KindBitmap
	KindHLL
	kindCount
)

var kindNames = [...]string{
	KindInvalid:  "INVALID",
	KindBoolean:  "BOOLEAN",
	KindTinyInt:  "TINYINT",
	KindSmallInt: "SMALLINT",
	KindInt:      "INT",
	KindBigInt:   "BIGINT",
	KindLargeInt: "LARGEINT",
	KindFloat:    "FLOAT",
	KindDouble:   "DOUBLE",
	KindDecimal:  "DECIMAL",
	KindDate:     "DATE",
	KindDateTime: "DATETIME",
	KindChar:     "CHAR",
	KindVarchar:  "VARCHAR",
	KindString:   "STRING",
	KindBitmap:   "BITMAP",
	KindHLL:      "HLL",
}

func (k Kind) String() string {
	if k < kindCount {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// IsValid reports whether k is a known kind other than KindInvalid.
func (k Kind) IsValid() bool { return k > KindInvalid && k < kindCount }

// IsInteger reports whether k is one of the integer kinds (LARGEINT included).
func (k Kind) IsInteger() bool { return k >= KindTinyInt && k <= KindLargeInt }

// IsNumeric reports whether k is an integer, floating point or decimal kind.
func (k Kind) IsNumeric() bool { return k >= KindTinyInt && k <= KindDecimal }

// IsString reports whether k is CHAR, VARCHAR or STRING.
func (k Kind) IsString() bool { return k == KindChar || k == KindVarchar || k == KindString }

// IsTemporal reports whether k is DATE or DATETIME.
func (k Kind) IsTemporal() bool { return k == KindDate || k == KindDateTime }

// IsObject reports whether k is BITMAP or HLL, Doris's object types: a
// value is a serialized sketch (see be/sketch) that only the functions and
// aggregates made for it read. They cannot be keys, be compared, sorted,
// grouped on or cast to other types.
func (k Kind) IsObject() bool { return k == KindBitmap || k == KindHLL }

// Limits Doris puts on type parameters.
const (
	MaxDecimalPrecision  = 38
	MaxDateTimePrecision = 6
	MaxCharLength        = 255
	MaxVarcharLength     = 65533
	// DefaultVarcharLength is what VARCHAR without a length means.
	DefaultVarcharLength = 65533
	// MaxStringLength is the default byte limit of a STRING value (1 MiB).
	MaxStringLength = 1 << 20
)

// Type is a fully parameterised column type. The zero value is invalid.
//
// Precision and Scale are used by DECIMAL (1 <= Precision <= 38,
// 0 <= Scale <= Precision) and Precision alone by DATETIME (0..6 fractional
// digits). Length is the declared length of CHAR and VARCHAR in bytes.
type Type struct {
	Kind      Kind
	Precision int
	Scale     int
	Length    int
}

// Convenience constructors for the parameterless kinds.
var (
	Boolean  = Type{Kind: KindBoolean}
	TinyInt  = Type{Kind: KindTinyInt}
	SmallInt = Type{Kind: KindSmallInt}
	Int      = Type{Kind: KindInt}
	BigInt   = Type{Kind: KindBigInt}
	LargeInt = Type{Kind: KindLargeInt}
	Float    = Type{Kind: KindFloat}
	Double   = Type{Kind: KindDouble}
	Date     = Type{Kind: KindDate}
	String   = Type{Kind: KindString}
	Bitmap   = Type{Kind: KindBitmap}
	HLL      = Type{Kind: KindHLL}
)

// Decimal returns DECIMAL(p, s).
func Decimal(p, s int) Type { return Type{Kind: KindDecimal, Precision: p, Scale: s} }

// DateTime returns DATETIME(p).
func DateTime(p int) Type { return Type{Kind: KindDateTime, Precision: p} }

// Char returns CHAR(n).
func Char(n int) Type { return Type{Kind: KindChar, Length: n} }

// Varchar returns VARCHAR(n).
func Varchar(n int) Type { return Type{Kind: KindVarchar, Length: n} }

// Validate checks the type parameters against Doris's limits.
func (t Type) Validate() error {
	switch t.Kind {
	case KindDecimal:
		if t.Precision < 1 || t.Precision > MaxDecimalPrecision {
			return fmt.Errorf("DECIMAL precision must be between 1 and %d, got %d", MaxDecimalPrecision, t.Precision)
		}
		if t.Scale < 0 || t.Scale > t.Precision {
			return fmt.Errorf("DECIMAL scale must be between 0 and precision %d, got %d", t.Precision, t.Scale)
		}
	case KindDateTime:
		if t.Precision < 0 || t.Precision > MaxDateTimePrecision {
			return fmt.Errorf("DATETIME precision must be between 0 and %d, got %d", MaxDateTimePrecision, t.Precision)
		}
	case KindChar:
		if t.Length < 1 || t.Length > MaxCharLength {
			return fmt.Errorf("CHAR length must be between 1 and %d, got %d", MaxCharLength, t.Length)
		}
	case KindVarchar:
		if t.Length < 1 || t.Length > MaxVarcharLength {
			return fmt.Errorf("VARCHAR length must be between 1 and %d, got %d", MaxVarcharLength, t.Length)
		}
	default:
		if !t.Kind.IsValid() {
			return fmt.Errorf("invalid column type %v", t.Kind)
		}
	}
	return nil
}

// String renders the type as SHOW CREATE TABLE and DESC print it.
func (t Type) String() string {
	switch t.Kind {
	case KindDecimal:
		return fmt.Sprintf("DECIMAL(%d, %d)", t.Precision, t.Scale)
	case KindDateTime:
		if t.Precision == 0 {
			return "DATETIME"
		}
		return fmt.Sprintf("DATETIME(%d)", t.Precision)
	case KindChar:
		return fmt.Sprintf("CHAR(%d)", t.Length)
	case KindVarchar:
		return fmt.Sprintf("VARCHAR(%d)", t.Length)
	case KindString:
		return "TEXT"
	case KindInt:
		return "INT"
	default:
		return t.Kind.String()
	}
}

// SQLName is the type's name in CREATE TABLE syntax (STRING stays STRING).
func (t Type) SQLName() string {
	if t.Kind == KindString {
		return "STRING"
	}
	return t.String()
}

// MySQLDataType is the bare lower-case MySQL name information_schema reports
// in DATA_TYPE (no length; apache/doris#4647).
func (t Type) MySQLDataType() string {
	switch t.Kind {
	case KindBoolean:
		return "tinyint"
	case KindLargeInt:
		return "largeint"
	case KindString:
		return "text"
	case KindDecimal:
		return "decimal"
	default:
		return strings.ToLower(t.Kind.String())
	}
}

// Arrow returns the physical type the column is stored and processed as.
//
//	BOOLEAN             arrow.Boolean
//	TINYINT..BIGINT     Int8, Int16, Int32, Int64
//	LARGEINT            Decimal128(38, 0) (int128 storage; the catalog keeps the kind)
//	FLOAT, DOUBLE       Float32, Float64
//	DECIMAL(p, s)       Decimal128(p, s)
//	DATE                Date32 (days since 1970-01-01)
//	DATETIME(p)         Timestamp(µs), no time zone, whatever p is
//	CHAR/VARCHAR/STRING String (UTF-8)
//	BITMAP, HLL         String holding the serialized sketch (any bytes)
func (t Type) Arrow() arrow.DataType {
	switch t.Kind {
	case KindBoolean:
		return arrow.FixedWidthTypes.Boolean
	case KindTinyInt:
		return arrow.PrimitiveTypes.Int8
	case KindSmallInt:
		return arrow.PrimitiveTypes.Int16
	case KindInt:
		return arrow.PrimitiveTypes.Int32
	case KindBigInt:
		return arrow.PrimitiveTypes.Int64
	case KindLargeInt:
		return &arrow.Decimal128Type{Precision: 38, Scale: 0}
	case KindFloat:
		return arrow.PrimitiveTypes.Float32
	case KindDouble:
		return arrow.PrimitiveTypes.Float64
	case KindDecimal:
		return &arrow.Decimal128Type{Precision: int32(t.Precision), Scale: int32(t.Scale)}
	case KindDate:
		return arrow.FixedWidthTypes.Date32
	case KindDateTime:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case KindChar, KindVarchar, KindString, KindBitmap, KindHLL:
		return arrow.BinaryTypes.String
	}
	panic(fmt.Sprintf("BUG: Arrow() of invalid type %v", t.Kind))
}

// CanBeKey reports whether a column of this type may be a key, partition or
// bucket column (Doris forbids STRING, FLOAT, DOUBLE, BITMAP and HLL there).
func (t Type) CanBeKey() bool {
	switch t.Kind {
	case KindString, KindFloat, KindDouble, KindBitmap, KindHLL:
		return false
	}
	return t.Kind.IsValid()
}
