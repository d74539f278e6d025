package mysqlproto

import (
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/strata-db/strata/types"
)

// Character sets sent in column definitions.
const (
	charsetUTF8   = 33 // utf8_general_ci: every text column
	charsetBinary = 63 // numbers and temporal types, never text
)

// colInfo is how one column travels on the wire.
type colInfo struct {
	kind     types.Kind
	mtype    byte   // MYSQL_TYPE_*
	charset  uint16 // collation id
	length   uint32 // display length
	flags    uint16
	decimals byte
	scale    int // DECIMAL scale
	prec     int // DATETIME fractional digits
}

// colInfoOf maps a column type to its MySQL column definition:
//
//	BOOLEAN   TINY (display length 1)   TINYINT  TINY      SMALLINT SHORT
//	INT       LONG                      BIGINT   LONGLONG  LARGEINT VAR_STRING (text)
//	FLOAT     FLOAT                     DOUBLE   DOUBLE    DECIMAL  NEWDECIMAL (decimals = scale)
//	DATE      DATE                      DATETIME DATETIME (decimals = p)
//	CHAR, VARCHAR VAR_STRING            STRING   BLOB (text)
//	BITMAP, HLL   BLOB (binary)
func colInfoOf(f *Field) colInfo {
	t := f.Type
	ci := colInfo{kind: t.Kind, charset: charsetBinary, flags: gomysql.BINARY_FLAG}
	switch t.Kind {
	case types.KindBoolean:
		ci.mtype, ci.length = gomysql.MYSQL_TYPE_TINY, 1
	case types.KindTinyInt:
		ci.mtype, ci.length = gomysql.MYSQL_TYPE_TINY, 4
	case types.KindSmallInt:
		ci.mtype, ci.length = gomysql.MYSQL_TYPE_SHORT, 6
	case types.KindInt:
		ci.mtype, ci.length = gomysql.MYSQL_TYPE_LONG, 11
	case types.KindBigInt:
		ci.mtype, ci.length = gomysql.MYSQL_TYPE_LONGLONG, 20
	case types.KindLargeInt:
		ci.mtype, ci.length, ci.charset, ci.flags = gomysql.MYSQL_TYPE_VAR_STRING, 40*3, charsetUTF8, 0
	case types.KindFloat:
		ci.mtype, ci.length, ci.decimals = gomysql.MYSQL_TYPE_FLOAT, 12, 31
	case types.KindDouble:
		ci.mtype, ci.length, ci.decimals = gomysql.MYSQL_TYPE_DOUBLE, 22, 31
	case types.KindDecimal:
		ci.mtype, ci.scale, ci.decimals = gomysql.MYSQL_TYPE_NEWDECIMAL, t.Scale, byte(t.Scale)
		ci.length = uint32(t.Precision) + 1 // sign
		if t.Scale > 0 {
			ci.length++ // point
		}
	case types.KindDate:
		ci.mtype, ci.length = gomysql.MYSQL_TYPE_DATE, 10
	case types.KindDateTime:
		p := min(max(t.Precision, 0), 6)
		ci.mtype, ci.length, ci.prec, ci.decimals = gomysql.MYSQL_TYPE_DATETIME, 19, p, byte(p)
		if p > 0 {
			ci.length += uint32(p) + 1
		}
	case types.KindChar, types.KindVarchar:
		n := t.Length
		if n <= 0 {
			n = types.DefaultVarcharLength
		}
		ci.mtype, ci.length, ci.charset, ci.flags = gomysql.MYSQL_TYPE_VAR_STRING, uint32(n)*3, charsetUTF8, 0
	case types.KindBitmap, types.KindHLL:
		// Serialized sketches, NULL unless return_object_data_as_binary.
		ci.mtype, ci.length, ci.flags = gomysql.MYSQL_TYPE_BLOB, 65535, gomysql.BINARY_FLAG|gomysql.BLOB_FLAG
	default: // STRING and anything unknown
		ci.mtype, ci.length, ci.charset, ci.flags = gomysql.MYSQL_TYPE_BLOB, 65535*3, charsetUTF8, gomysql.BLOB_FLAG
	}
	if !f.Nullable {
		ci.flags |= gomysql.NOT_NULL_FLAG
	}
	return ci
}

// appendColumnDef appends a Protocol::ColumnDefinition41 payload. withDefault
// adds the NULL default value COM_FIELD_LIST responses carry.
func appendColumnDef(b []byte, f *Field, ci *colInfo, withDefault bool) []byte {
	b = appendLenencString(b, "def")
	b = appendLenencString(b, f.Schema)
	b = appendLenencString(b, f.Table)
	b = appendLenencString(b, f.OrgTable)
	b = appendLenencString(b, f.Name)
	b = appendLenencString(b, f.OrgName)
	b = append(b, 0x0c)
	b = append(b, byte(ci.charset), byte(ci.charset>>8))
	b = append(b, byte(ci.length), byte(ci.length>>8), byte(ci.length>>16), byte(ci.length>>24))
	b = append(b, ci.mtype)
	b = append(b, byte(ci.flags), byte(ci.flags>>8))
	b = append(b, ci.decimals, 0, 0)
	if withDefault {
		b = append(b, 0xfb)
	}
	return b
}

func appendLenencString(b []byte, s string) []byte {
	b = gomysql.AppendLengthEncodedInteger(b, uint64(len(s)))
	return append(b, s...)
}

func appendLenencBytes(b []byte, s []byte) []byte {
	b = gomysql.AppendLengthEncodedInteger(b, uint64(len(s)))
	return append(b, s...)
}
