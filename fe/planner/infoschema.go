package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// The information_schema views, with Doris's column sets (SchemaTable.java)
// and its values where MySQL clients depend on them (be/src/exec/
// schema_scanner/schema_*_scanner.cpp). Names follow Doris: the tables are
// listed in lower case, their columns in upper case.

const (
	// sysCatalog is the catalog every schema belongs to, as Doris reports it.
	sysCatalog = "internal"
	// Character set and collation of every string column.
	sysCharset   = "utf8mb4"
	sysCollation = "utf8mb4_0900_bin"
	// maxStringLength is the length Doris reports for STRING columns.
	maxStringLength = 2147483643
)

func infoSchemaTables() []*systemTable {
	return []*systemTable{
		schemataTable(), tablesTable(), columnsTable(),
		statisticsTable(), keyColumnUsageTable(), tableConstraintsTable(), referentialConstraintsTable(),
		checkConstraintsTable(), viewsTable(), routinesTable(), parametersTable(), triggersTable(),
		eventsTable(), columnStatisticsTable(), partitionsTable(),
		enginesTable(), characterSetsTable(), collationsTable(),
		variablesTable("session_variables", false), variablesTable("global_variables", true),
		processlistTable(), profilingTable(),
	}
}

// sysCol declares a column of a system table.
func sysCol(name string, t types.Type, nullable bool) catalog.Column {
	return catalog.Column{Name: name, Type: t, Nullable: nullable}
}

func schemataTable() *systemTable {
	vc := types.Varchar
	return &systemTable{
		name: "schemata",
		columns: []catalog.Column{
			sysCol("CATALOG_NAME", vc(512), false),
			sysCol("SCHEMA_NAME", vc(64), false),
			sysCol("DEFAULT_CHARACTER_SET_NAME", vc(32), false),
			sysCol("DEFAULT_COLLATION_NAME", vc(32), false),
			sysCol("SQL_PATH", vc(512), true),
			sysCol("DEFAULT_ENCRYPTION", vc(3), false),
		},
		rows: func(env *sysEnv, out *sysRows) error {
			for _, db := range env.schemas(1) {
				out.add(sysCatalog, db, sysCharset, sysCollation, nil, "NO")
			}
			return nil
		},
	}
}

func tablesTable() *systemTable {
	vc := types.Varchar
	big := types.BigInt
	dt := types.DateTime(0)
	return &systemTable{
		name: "tables",
		columns: []catalog.Column{
			sysCol("TABLE_CATALOG", vc(512), false),
			sysCol("TABLE_SCHEMA", vc(64), false),
			sysCol("TABLE_NAME", vc(64), false),
			sysCol("TABLE_TYPE", vc(64), false),
			sysCol("ENGINE", vc(64), true),
			sysCol("VERSION", big, true),
			sysCol("ROW_FORMAT", vc(10), true),
			sysCol("TABLE_ROWS", big, true),
			sysCol("AVG_ROW_LENGTH", big, true),
			sysCol("DATA_LENGTH", big, true),
			sysCol("MAX_DATA_LENGTH", big, true),
			sysCol("INDEX_LENGTH", big, true),
			sysCol("DATA_FREE", big, true),
			sysCol("AUTO_INCREMENT", big, true),
			sysCol("CREATE_TIME", dt, true),
			sysCol("UPDATE_TIME", dt, true),
			sysCol("CHECK_TIME", dt, true),
			sysCol("TABLE_COLLATION", vc(32), true),
			sysCol("CHECKSUM", big, true),
			sysCol("CREATE_OPTIONS", vc(255), true),
			sysCol("TABLE_COMMENT", vc(2048), false),
		},
		rows: func(env *sysEnv, out *sysRows) error {
			for _, db := range env.schemas(1) {
				if sys := SystemTables(db); sys != nil {
					for _, t := range sys {
						if env.wantTable(2, t.Name) {
							out.add(sysCatalog, db, t.Name, "SYSTEM VIEW", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
								nil, nil, nil, sysCollation, nil, nil, t.Comment)
						}
					}
					continue
				}
				for _, t := range env.tables(db, 2) {
					if t.IsView() {
						out.add(sysCatalog, db, t.Name, "VIEW", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
							env.time(t.CreateTime), nil, nil, nil, nil, nil, t.Comment)
						continue
					}
					var updated int64
					for _, p := range t.Partitions {
						updated = max(updated, p.VisibleVersionTime)
					}
					out.add(sysCatalog, db, t.Name, "BASE TABLE", "Doris", nil, nil, nil, nil, nil, nil, nil, nil, nil,
						env.time(t.CreateTime), env.time(updated), nil, sysCollation, nil, nil, t.Comment)
				}
			}
			return nil
		},
	}
}

func columnsTable() *systemTable {
	vc := types.Varchar
	big := types.BigInt
	return &systemTable{
		name: "columns",
		columns: []catalog.Column{
			sysCol("TABLE_CATALOG", vc(512), false),
			sysCol("TABLE_SCHEMA", vc(64), false),
			sysCol("TABLE_NAME", vc(64), false),
			sysCol("COLUMN_NAME", vc(64), false),
			sysCol("ORDINAL_POSITION", big, false),
			sysCol("COLUMN_DEFAULT", vc(1024), true),
			sysCol("IS_NULLABLE", vc(3), false),
			sysCol("DATA_TYPE", vc(64), false),
			sysCol("CHARACTER_MAXIMUM_LENGTH", big, true),
			sysCol("CHARACTER_OCTET_LENGTH", big, true),
			sysCol("NUMERIC_PRECISION", big, true),
			sysCol("NUMERIC_SCALE", big, true),
			sysCol("DATETIME_PRECISION", big, true),
			sysCol("CHARACTER_SET_NAME", vc(32), true),
			sysCol("COLLATION_NAME", vc(32), true),
			sysCol("COLUMN_TYPE", vc(32), false),
			sysCol("COLUMN_KEY", vc(3), false),
			sysCol("EXTRA", vc(27), false),
			sysCol("PRIVILEGES", vc(80), false),
			sysCol("COLUMN_COMMENT", vc(1024), false),
			sysCol("COLUMN_SIZE", big, true),
			sysCol("DECIMAL_DIGITS", big, true),
			sysCol("GENERATION_EXPRESSION", vc(64), true),
			sysCol("SRS_ID", big, true),
		},
		rows: func(env *sysEnv, out *sysRows) error {
			for _, db := range env.schemas(1) {
				if sys := SystemTables(db); sys != nil {
					for _, t := range sys {
						if env.wantTable(2, t.Name) {
							addColumnRows(env, out, db, t.Name, t.Columns, "")
						}
					}
					continue
				}
				for _, t := range env.tables(db, 2) {
					addColumnRows(env, out, db, t.Name, t.Schema.Columns, keyMetadata(t.KeysType))
				}
			}
			return nil
		},
	}
}

// addColumnRows adds the COLUMNS rows of one table; key is COLUMN_KEY of its
// key columns.
func addColumnRows(env *sysEnv, out *sysRows, db, table string, cols []catalog.Column, key string) {
	want, filtered := env.equal(3)
	pos := int64(0)
	for _, c := range cols {
		if IsHiddenColumn(c.Name) {
			continue
		}
		pos++
		if filtered && c.Name != want {
			continue
		}
		var def any
		if c.Default != nil && !c.DefaultNull {
			def = *c.Default
		}
		nullable := "NO"
		if c.Nullable {
			nullable = "YES"
		}
		colKey := ""
		if c.IsKey {
			colKey = key
		}
		var charset, collation any
		if c.Type.Kind.IsString() {
			charset, collation = sysCharset, sysCollation
		}
		n := numericOf(c.Type)
		out.add(sysCatalog, db, table, c.Name, pos, def, nullable, mysqlDataType(c.Type),
			n.charLen, n.octetLen, n.precision, n.scale, n.datetimePrecision, charset, collation,
			mysqlColumnType(c.Type), colKey, "", "select,insert,update,references", c.Comment,
			n.size, n.digits, nil, nil)
	}
}

// IsHiddenColumn reports whether a column is one of Doris's hidden columns
// (__DORIS_DELETE_SIGN__ and the like), which DESC and information_schema
// leave out.
func IsHiddenColumn(name string) bool {
	return len(name) >= 8 && strings.EqualFold(name[:8], "__DORIS_")
}

// keyMetadata is COLUMN_KEY of a key column: Doris's KeysType.toMetadata.
func keyMetadata(k catalog.KeysType) string {
	switch k {
	case catalog.UniqueKeys:
		return "UNI"
	case catalog.AggKeys:
		return "AGG"
	}
	return "DUP"
}

// mysqlDataType is DATA_TYPE: the bare lower-case name Doris reports
// (_to_mysql_data_type_string in schema_columns_scanner.cpp).
func mysqlDataType(t types.Type) string {
	switch t.Kind {
	case types.KindBoolean, types.KindTinyInt:
		return "tinyint"
	case types.KindLargeInt:
		return "bigint unsigned"
	case types.KindString:
		return "varchar"
	}
	return strings.ToLower(t.Kind.String())
}

// mysqlColumnType is COLUMN_TYPE: the type with its display width or
// length, as Doris reports it (_type_to_string), except that DECIMAL is
// decimal(p,s) as MySQL writes it rather than Doris's decimalv3(p, s).
func mysqlColumnType(t types.Type) string {
	switch t.Kind {
	case types.KindBoolean:
		return "tinyint(1)"
	case types.KindTinyInt:
		return "tinyint(4)"
	case types.KindSmallInt:
		return "smallint(6)"
	case types.KindInt:
		return "int(11)"
	case types.KindBigInt:
		return "bigint(20)"
	case types.KindLargeInt:
		return "largeint"
	case types.KindDecimal:
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case types.KindDateTime:
		if t.Precision > 0 {
			return fmt.Sprintf("datetime(%d)", t.Precision)
		}
		return "datetime"
	case types.KindChar:
		return fmt.Sprintf("char(%d)", t.Length)
	case types.KindVarchar:
		return fmt.Sprintf("varchar(%d)", t.Length)
	case types.KindString:
		return "string"
	}
	return strings.ToLower(t.Kind.String())
}

// columnNumbers are the length and precision columns of a COLUMNS row; nil
// is NULL.
type columnNumbers struct {
	charLen, octetLen, precision, scale, datetimePrecision, size, digits any
}

// numericOf fills the length and precision columns as Doris does
// (Type.getPrecision, getColumnSize, getDecimalDigits).
func numericOf(t types.Type) columnNumbers {
	var n columnNumbers
	num := func(p, s any) { n.precision, n.scale, n.size, n.digits = p, s, p, s }
	switch t.Kind {
	case types.KindBoolean, types.KindTinyInt:
		num(int64(3), int64(0))
	case types.KindSmallInt:
		num(int64(5), int64(0))
	case types.KindInt:
		num(int64(10), int64(0))
	case types.KindBigInt:
		num(int64(19), int64(0))
	case types.KindLargeInt:
		num(int64(39), int64(0))
	case types.KindFloat:
		num(int64(7), nil)
	case types.KindDouble:
		num(int64(15), nil)
	case types.KindDecimal:
		num(int64(t.Precision), int64(t.Scale))
	case types.KindDate:
		n.size = int64(10)
	case types.KindDateTime:
		n.datetimePrecision = int64(t.Precision)
		size := int64(19)
		if t.Precision > 0 {
			size += 1 + int64(t.Precision)
		}
		n.size = size
	case types.KindChar, types.KindVarchar:
		n.charLen, n.octetLen, n.size = int64(t.Length), int64(t.Length)*4, int64(t.Length)
	case types.KindString:
		n.charLen, n.octetLen, n.size = int64(maxStringLength), int64(maxStringLength)*4, int64(maxStringLength)
	}
	return n
}

// schemas lists the schemas a system table covers, sorted by name: the
// system schemas and the catalog's databases, or only the one that column
// col (the schema name column) must equal.
func (e *sysEnv) schemas(col int) []string {
	if want, ok := e.equal(col); ok {
		if _, sys := systemSchemas[want]; sys || e.cat.HasDatabase(want) {
			return []string{want}
		}
		return nil
	}
	names := SystemSchemas()
	for _, db := range e.cat.Databases() {
		if _, sys := systemSchemas[db.Name]; !sys {
			names = append(names, db.Name)
		}
	}
	slices.Sort(names)
	return names
}

// tables lists the tables of catalog database db, or only the one that
// column col (the table name column) must equal.
func (e *sysEnv) tables(db string, col int) []*catalog.Table {
	if want, ok := e.equal(col); ok {
		if t, ok := e.cat.Table(db, want); ok {
			return []*catalog.Table{t}
		}
		return nil
	}
	return e.cat.Tables(db)
}

// wantTable reports whether a table named name can match the equality on
// column col (the table name column).
func (e *sysEnv) wantTable(col int, name string) bool {
	want, ok := e.equal(col)
	return !ok || want == name
}

// time is a DATETIME value for a unix time in milliseconds; NULL when unset.
func (e *sysEnv) time(ms int64) any {
	if ms <= 0 {
		return nil
	}
	return sysTime{ms: ms, loc: e.loc}
}
