package planner

import (
	"fmt"
	"strings"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// The information_schema views about schema objects other than tables and
// columns. Strata has no indexes in MySQL's sense, constraints, views,
// routines, triggers or events, so most of them are empty, as they are in
// Doris; they exist with their full column sets because BI tools and ODBC
// drivers select from them and fail on a missing table or column.

// emptyTable is a system table that never has rows.
func emptyTable(name string, cols ...catalog.Column) *systemTable {
	return &systemTable{name: name, columns: cols, rows: func(*sysEnv, *sysRows) error { return nil }}
}

// nc declares a nullable column of a system table.
func nc(name string, t types.Type) catalog.Column { return sysCol(name, t, true) }

func statisticsTable() *systemTable {
	vc, big := types.Varchar, types.BigInt
	// Doris's statistics scanner is empty, as SHOW KEYS is: there are no
	// MySQL-style indexes to describe.
	return emptyTable("statistics",
		nc("TABLE_CATALOG", vc(512)), nc("TABLE_SCHEMA", vc(64)), nc("TABLE_NAME", vc(64)),
		nc("NON_UNIQUE", big), nc("INDEX_SCHEMA", vc(64)), nc("INDEX_NAME", vc(64)),
		nc("SEQ_IN_INDEX", big), nc("COLUMN_NAME", vc(64)), nc("COLLATION", vc(1)),
		nc("CARDINALITY", big), nc("SUB_PART", big), nc("PACKED", vc(10)), nc("NULLABLE", vc(3)),
		nc("INDEX_TYPE", vc(16)), nc("COMMENT", vc(16)), nc("INDEX_COMMENT", vc(1024)))
}

func keyColumnUsageTable() *systemTable {
	vc, big := types.Varchar, types.BigInt
	return emptyTable("key_column_usage",
		nc("CONSTRAINT_CATALOG", vc(64)), nc("CONSTRAINT_SCHEMA", vc(64)), nc("CONSTRAINT_NAME", vc(64)),
		nc("TABLE_CATALOG", vc(64)), nc("TABLE_SCHEMA", vc(64)), nc("TABLE_NAME", vc(64)),
		nc("COLUMN_NAME", vc(64)), nc("ORDINAL_POSITION", big), nc("POSITION_IN_UNIQUE_CONSTRAINT", big),
		nc("REFERENCED_TABLE_SCHEMA", vc(64)), nc("REFERENCED_TABLE_NAME", vc(64)),
		nc("REFERENCED_COLUMN_NAME", vc(64)))
}

func tableConstraintsTable() *systemTable {
	vc := types.Varchar
	return emptyTable("table_constraints",
		nc("CONSTRAINT_CATALOG", vc(512)), nc("CONSTRAINT_SCHEMA", vc(64)), nc("CONSTRAINT_NAME", vc(64)),
		nc("TABLE_SCHEMA", vc(64)), nc("TABLE_NAME", vc(64)), nc("CONSTRAINT_TYPE", vc(64)))
}

func referentialConstraintsTable() *systemTable {
	vc := types.Varchar
	return emptyTable("referential_constraints",
		nc("CONSTRAINT_CATALOG", vc(64)), nc("CONSTRAINT_SCHEMA", vc(64)), nc("CONSTRAINT_NAME", vc(64)),
		nc("UNIQUE_CONSTRAINT_CATALOG", vc(64)), nc("UNIQUE_CONSTRAINT_SCHEMA", vc(64)),
		nc("UNIQUE_CONSTRAINT_NAME", vc(64)), nc("MATCH_OPTION", vc(64)), nc("UPDATE_RULE", vc(64)),
		nc("DELETE_RULE", vc(64)), nc("TABLE_NAME", vc(64)), nc("REFERENCED_TABLE_NAME", vc(64)))
}

// checkConstraintsTable has MySQL 8's columns; Doris has no such table.
func checkConstraintsTable() *systemTable {
	vc := types.Varchar
	return emptyTable("check_constraints",
		nc("CONSTRAINT_CATALOG", vc(64)), nc("CONSTRAINT_SCHEMA", vc(64)), nc("CONSTRAINT_NAME", vc(64)),
		nc("CHECK_CLAUSE", vc(1024)))
}

// viewsTable lists the views of the catalog with their query text.
func viewsTable() *systemTable {
	vc := types.Varchar
	return &systemTable{
		name: "views",
		columns: []catalog.Column{
			nc("TABLE_CATALOG", vc(512)), nc("TABLE_SCHEMA", vc(64)), nc("TABLE_NAME", vc(64)),
			nc("VIEW_DEFINITION", vc(8096)), nc("CHECK_OPTION", vc(8)), nc("IS_UPDATABLE", vc(3)),
			nc("DEFINER", vc(77)), nc("SECURITY_TYPE", vc(7)), nc("CHARACTER_SET_CLIENT", vc(32)),
			nc("COLLATION_CONNECTION", vc(32)),
		},
		rows: func(env *sysEnv, out *sysRows) error {
			for _, db := range env.schemas(1) {
				if _, sys := systemSchemas[db]; sys {
					continue
				}
				for _, t := range env.tables(db, 2) {
					if t.IsView() {
						out.add(sysCatalog, db, t.Name, t.View.Query, "NONE", "NO", "", "", sysCharset, sysCollation)
					}
				}
			}
			return nil
		},
	}
}

func routinesTable() *systemTable {
	vc, dt := types.Varchar, types.DateTime(0)
	return emptyTable("routines",
		nc("SPECIFIC_NAME", vc(64)), nc("ROUTINE_CATALOG", vc(64)), nc("ROUTINE_SCHEMA", vc(64)),
		nc("ROUTINE_NAME", vc(64)), nc("ROUTINE_TYPE", vc(64)), nc("DTD_IDENTIFIER", vc(64)),
		nc("ROUTINE_BODY", vc(64)), nc("ROUTINE_DEFINITION", vc(64)), nc("EXTERNAL_NAME", vc(64)),
		nc("EXTERNAL_LANGUAGE", vc(64)), nc("PARAMETER_STYLE", vc(64)), nc("IS_DETERMINISTIC", vc(64)),
		nc("SQL_DATA_ACCESS", vc(64)), nc("SQL_PATH", vc(64)), nc("SECURITY_TYPE", vc(64)),
		nc("CREATED", dt), nc("LAST_ALTERED", dt), nc("SQL_MODE", vc(64)), nc("ROUTINE_COMMENT", vc(64)),
		nc("DEFINER", vc(64)), nc("CHARACTER_SET_CLIENT", vc(64)), nc("COLLATION_CONNECTION", vc(64)),
		nc("DATABASE_COLLATION", vc(64)))
}

func parametersTable() *systemTable {
	vc := types.Varchar
	// Doris's column set, DATA_TYPEDTD_IDENDS included.
	return emptyTable("parameters",
		nc("SPECIFIC_CATALOG", vc(64)), nc("SPECIFIC_SCHEMA", vc(64)), nc("SPECIFIC_NAME", vc(64)),
		nc("ORDINAL_POSITION", vc(77)), nc("PARAMETER_MODE", vc(77)), nc("PARAMETER_NAME", vc(77)),
		nc("DATA_TYPE", vc(64)), nc("CHARACTER_OCTET_LENGTH", vc(64)), nc("NUMERIC_PRECISION", vc(512)),
		nc("NUMERIC_SCALE", vc(64)), nc("DATETIME_PRECISION", vc(64)), nc("CHARACTER_SET_NAME", vc(256)),
		nc("COLLATION_NAME", vc(64)), nc("DTD_IDENTIFIER", vc(64)), nc("ROUTINE_TYPE", vc(64)),
		nc("DATA_TYPEDTD_IDENDS", vc(64)))
}

func triggersTable() *systemTable {
	vc, dt := types.Varchar, types.DateTime(0)
	return emptyTable("triggers",
		nc("TRIGGER_CATALOG", vc(512)), nc("TRIGGER_SCHEMA", vc(64)), nc("TRIGGER_NAME", vc(64)),
		nc("EVENT_MANIPULATION", vc(6)), nc("EVENT_OBJECT_CATALOG", vc(512)), nc("EVENT_OBJECT_SCHEMA", vc(64)),
		nc("EVENT_OBJECT_TABLE", vc(64)), nc("ACTION_ORDER", vc(4)), nc("ACTION_CONDITION", vc(512)),
		nc("ACTION_STATEMENT", vc(512)), nc("ACTION_ORIENTATION", vc(9)), nc("ACTION_TIMING", vc(6)),
		nc("ACTION_REFERENCE_OLD_TABLE", vc(64)), nc("ACTION_REFERENCE_NEW_TABLE", vc(64)),
		nc("ACTION_REFERENCE_OLD_ROW", vc(3)), nc("ACTION_REFERENCE_NEW_ROW", vc(3)), nc("CREATED", dt),
		nc("SQL_MODE", vc(8192)), nc("DEFINER", vc(77)), nc("CHARACTER_SET_CLIENT", vc(32)),
		nc("COLLATION_CONNECTION", vc(32)), nc("DATABASE_COLLATION", vc(32)))
}

func eventsTable() *systemTable {
	vc, dt := types.Varchar, types.DateTime(0)
	return emptyTable("events",
		nc("EVENT_CATALOG", vc(64)), nc("EVENT_SCHEMA", vc(64)), nc("EVENT_NAME", vc(64)),
		nc("DEFINER", vc(77)), nc("TIME_ZONE", vc(64)), nc("EVENT_BODY", vc(8)),
		nc("EVENT_DEFINITION", vc(512)), nc("EVENT_TYPE", vc(9)), nc("EXECUTE_AT", dt),
		nc("INTERVAL_VALUE", vc(256)), nc("INTERVAL_FIELD", vc(18)), nc("SQL_MODE", vc(8192)),
		nc("STARTS", dt), nc("ENDS", dt), nc("STATUS", vc(18)), nc("ON_COMPLETION", vc(12)),
		nc("CREATED", dt), nc("LAST_ALTERED", dt), nc("LAST_EXECUTED", dt), nc("EVENT_COMMENT", vc(64)),
		nc("ORIGINATOR", types.Int), nc("CHARACTER_SET_CLIENT", vc(32)), nc("COLLATION_CONNECTION", vc(32)),
		nc("DATABASE_COLLATION", vc(32)))
}

// columnStatisticsTable is MySQL 8's histogram table, which mysqldump
// reads; Doris keeps it empty. HISTOGRAM is JSON in both.
func columnStatisticsTable() *systemTable {
	vc := types.Varchar
	return emptyTable("column_statistics",
		nc("SCHEMA_NAME", vc(64)), nc("TABLE_NAME", vc(64)), nc("COLUMN_NAME", vc(64)),
		nc("HISTOGRAM", types.String))
}

// partitionsTable has a row per partition of every table, with Doris's
// columns: MySQL's, then Doris's own (state, replicas, buckets, versions,
// key, range and distribution).
func partitionsTable() *systemTable {
	vc, big, i32, dt, str := types.Varchar, types.BigInt, types.Int, types.DateTime(0), types.String
	return &systemTable{
		name: "partitions",
		columns: []catalog.Column{
			nc("PARTITION_ID", big), nc("TABLE_CATALOG", vc(64)), nc("TABLE_SCHEMA", vc(64)),
			nc("TABLE_NAME", vc(64)), nc("PARTITION_NAME", vc(64)), nc("SUBPARTITION_NAME", vc(64)),
			nc("PARTITION_ORDINAL_POSITION", i32), nc("SUBPARTITION_ORDINAL_POSITION", i32),
			nc("PARTITION_METHOD", vc(13)), nc("SUBPARTITION_METHOD", vc(13)),
			nc("PARTITION_EXPRESSION", vc(2048)), nc("SUBPARTITION_EXPRESSION", vc(2048)),
			nc("PARTITION_DESCRIPTION", str), nc("TABLE_ROWS", big), nc("AVG_ROW_LENGTH", big),
			nc("DATA_LENGTH", big), nc("MAX_DATA_LENGTH", big), nc("INDEX_LENGTH", big), nc("DATA_FREE", big),
			nc("CREATE_TIME", big), nc("UPDATE_TIME", dt), nc("CHECK_TIME", dt), nc("CHECKSUM", big),
			nc("PARTITION_COMMENT", str), nc("NODEGROUP", vc(256)), nc("TABLESPACE_NAME", vc(268)),
			nc("LOCAL_DATA_SIZE", str), nc("REMOTE_DATA_SIZE", str), nc("STATE", str),
			nc("REPLICA_ALLOCATION", str), nc("REPLICA_NUM", i32), nc("STORAGE_POLICY", str),
			nc("STORAGE_MEDIUM", str), nc("COOLDOWN_TIME_MS", str), nc("LAST_CONSISTENCY_CHECK_TIME", str),
			nc("BUCKET_NUM", i32), nc("COMMITTED_VERSION", big), nc("VISIBLE_VERSION", big),
			nc("PARTITION_KEY", str), nc("RANGE", str), nc("DISTRIBUTION", str),
		},
		rows: func(env *sysEnv, out *sysRows) error {
			for _, db := range env.schemas(2) {
				if _, sys := systemSchemas[db]; sys {
					continue
				}
				for _, t := range env.tables(db, 3) {
					addPartitionRows(env, out, db, t)
				}
			}
			return nil
		},
	}
}

func addPartitionRows(env *sysEnv, out *sysRows, db string, t *catalog.Table) {
	var method, expr any
	if t.PartitionType == catalog.RangePartitioned {
		method, expr = "RANGE", strings.Join(t.PartitionColumns, ", ")
	}
	dist := "RANDOM"
	if t.Distribution.Type == catalog.HashDistributed {
		dist = "HASH(" + strings.Join(t.Distribution.Columns, ", ") + ")"
	}
	for i, p := range t.Partitions {
		var desc, rng any
		if t.PartitionType == catalog.RangePartitioned {
			r := fmt.Sprintf("[%s, %s)", partitionBoundText(p.Lower), partitionBoundText(p.Upper))
			desc, rng = r, r
		}
		committed := p.NextVersion - 1
		if committed < p.VisibleVersion {
			committed = p.VisibleVersion
		}
		out.add(p.ID, sysCatalog, db, t.Name, p.Name, nil,
			int64(i+1), nil, method, nil, expr, nil,
			desc, nil, nil, nil, nil, nil, nil,
			nil, env.time(p.VisibleVersionTime), nil, nil,
			"", nil, nil, "0", "0", "NORMAL",
			"tag.location.default: 1", int64(1), "", "HDD", "9999-12-31 23:59:59", nil,
			int64(t.Distribution.Buckets), committed, p.VisibleVersion,
			strings.Join(t.PartitionColumns, ", "), rng, dist)
	}
}

// partitionBoundText renders a range bound as SHOW PARTITIONS does.
func partitionBoundText(b catalog.PartitionBound) string {
	if b.MaxValue {
		return "MAXVALUE"
	}
	if len(b.Values) == 0 {
		return "MINVALUE"
	}
	return "(" + strings.Join(b.Values, ", ") + ")"
}
