package session

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/types"
)

func (s *Session) show(ctx context.Context, st *sql.ShowStmt) (*mysqlproto.Result, error) {
	snap := s.eng.Catalog.Snapshot()
	match := func(name string) bool { return st.Like == nil || likeMatch(*st.Like, name) }
	switch {
	case st.Where == nil:
	case st.Kind == "VARIABLES", st.Kind == "TRANSACTION", st.Kind == "LOAD", st.Kind == "STREAM LOAD",
		strings.HasPrefix(st.Kind, "ALTER TABLE "):
	case st.Kind == "FUNCTION STATUS", st.Kind == "PROCEDURE STATUS", st.Kind == "PLUGINS":
		// Always empty or static: the condition cannot add rows.
	default:
		return nil, notSupported("SHOW ... WHERE")
	}
	switch st.Kind {
	case "GRANTS", "ALL GRANTS", "ROLES", "PRIVILEGES":
		return s.showAccounts(st)
	case "BACKENDS":
		return s.showBackends()
	case "FRONTENDS":
		return s.showFrontends()
	case "DATABASES":
		var rows [][]any
		names := planner.SystemSchemas()
		for _, db := range snap.Databases() {
			names = append(names, db.Name)
		}
		sort.Strings(names)
		for _, n := range names {
			if match(n) && s.canSeeDB(n) {
				rows = append(rows, []any{n})
			}
		}
		return mysqlproto.NewRowsResult(stringFields("Database"), rows), nil
	case "TABLES":
		db, err := s.showDB(st)
		if err != nil {
			return nil, err
		}
		var names []string
		tableType := "BASE TABLE"
		views := map[string]bool{}
		if sys, ok := planner.IsSystemSchema(db); ok {
			db, tableType = sys, "SYSTEM VIEW"
			for _, t := range planner.SystemTables(sys) {
				names = append(names, t.Name)
			}
		} else {
			tables, err := snap.Tables(db)
			if err != nil {
				return nil, err
			}
			for _, t := range tables {
				names = append(names, t.Name)
				views[t.Name] = t.IsView()
			}
		}
		var rows [][]any
		for _, n := range names {
			if !match(n) || !s.canSeeTable(db, n) {
				continue
			}
			if st.Full && views[n] {
				rows = append(rows, []any{n, "VIEW"})
			} else if st.Full {
				rows = append(rows, []any{n, tableType})
			} else {
				rows = append(rows, []any{n})
			}
		}
		fields := stringFields("Tables_in_" + db)
		if st.Full {
			fields = stringFields("Tables_in_"+db, "Table_type")
		}
		return mysqlproto.NewRowsResult(fields, rows), nil
	case "CREATE TABLE", "CREATE VIEW":
		db, t, err := s.lookupTable(st.Table)
		if err != nil {
			return nil, err
		}
		if t.IsView() {
			return showCreateView(db, t), nil
		}
		if st.Kind == "CREATE VIEW" {
			return nil, notAView(db, t.Name)
		}
		return mysqlproto.NewRowsResult(stringFields("Table", "Create Table"), [][]any{{t.Name, renderCreateTable(t)}}), nil
	case "CREATE DATABASE":
		if _, err := snap.Database(st.DB); err != nil {
			return nil, err
		}
		return mysqlproto.NewRowsResult(stringFields("Database", "Create Database"), [][]any{{st.DB, "CREATE DATABASE " + quoteIdent(st.DB)}}), nil
	case "PARTITIONS":
		_, t, err := s.lookupTable(st.Table)
		if err != nil {
			return nil, err
		}
		return showPartitions(t), nil
	case "TABLETS":
		_, t, err := s.lookupTable(st.Table)
		if err != nil {
			return nil, err
		}
		return s.eng.showTablets(t), nil
	case "COLUMNS":
		name := st.Table
		if st.DB != "" {
			name.DB = st.DB
		}
		_, t, err := s.lookupTableOrSystem(name)
		if err != nil {
			return nil, err
		}
		return showColumns(t, st.Full, match), nil
	case "VARIABLES":
		return s.showVariables(st)
	case "WARNINGS", "ERRORS":
		var rows [][]any
		for _, w := range s.warnings {
			if st.Kind == "ERRORS" && w.level != "Error" {
				continue
			}
			rows = append(rows, []any{w.level, int64(w.code), w.msg})
		}
		return mysqlproto.NewRowsResult([]mysqlproto.Field{
			{Name: "Level", Type: types.Varchar(16)}, {Name: "Code", Type: types.BigInt}, {Name: "Message", Type: types.Varchar(512)},
		}, rows), nil
	case "COUNT WARNINGS", "COUNT ERRORS":
		return mysqlproto.NewRowsResult([]mysqlproto.Field{{Name: "@@session.warning_count", Type: types.BigInt}}, [][]any{{int64(len(s.warnings))}}), nil
	case "ENGINES":
		var rows [][]any
		for _, e := range planner.Engines {
			rows = append(rows, []any{e.Name, e.Support, e.Comment, e.Transactions, e.XA, e.Savepoints})
		}
		return mysqlproto.NewRowsResult(stringFields("Engine", "Support", "Comment", "Transactions", "XA", "Savepoints"), rows), nil
	case "CHARSET":
		var rows [][]any
		for _, c := range planner.Charsets {
			if match(c.Name) {
				rows = append(rows, []any{c.Name, c.Description, c.DefaultCollation, c.MaxLen})
			}
		}
		return mysqlproto.NewRowsResult([]mysqlproto.Field{
			{Name: "Charset", Type: types.Varchar(64)}, {Name: "Description", Type: types.Varchar(64)},
			{Name: "Default collation", Type: types.Varchar(64)}, {Name: "Maxlen", Type: types.BigInt},
		}, rows), nil
	case "COLLATION":
		var rows [][]any
		for _, c := range planner.Collations {
			if match(c.Name) {
				rows = append(rows, []any{c.Name, c.Charset, c.ID, c.Default, c.Compiled, c.SortLen})
			}
		}
		return mysqlproto.NewRowsResult([]mysqlproto.Field{
			{Name: "Collation", Type: types.Varchar(64)}, {Name: "Charset", Type: types.Varchar(64)}, {Name: "Id", Type: types.BigInt},
			{Name: "Default", Type: types.Varchar(8)}, {Name: "Compiled", Type: types.Varchar(8)}, {Name: "Sortlen", Type: types.BigInt},
		}, rows), nil
	case "PLUGINS":
		// MySQL's columns; the one plugin is the authentication method.
		return mysqlproto.NewRowsResult([]mysqlproto.Field{
			{Name: "Name", Type: types.Varchar(64)}, {Name: "Status", Type: types.Varchar(16)},
			{Name: "Type", Type: types.Varchar(80)}, {Name: "Library", Type: types.Varchar(64), Nullable: true},
			{Name: "License", Type: types.Varchar(80)},
		}, [][]any{{"mysql_native_password", "ACTIVE", "AUTHENTICATION", nil, "GPL"}}), nil
	case "FUNCTION STATUS", "PROCEDURE STATUS":
		// There are no stored routines: MySQL's columns, no rows.
		return mysqlproto.NewRowsResult([]mysqlproto.Field{
			{Name: "Db", Type: types.Varchar(64)}, {Name: "Name", Type: types.Varchar(64)}, {Name: "Type", Type: types.Varchar(9)},
			{Name: "Definer", Type: types.Varchar(288)}, {Name: "Modified", Type: types.DateTime(0)},
			{Name: "Created", Type: types.DateTime(0)}, {Name: "Security_type", Type: types.Varchar(7)},
			{Name: "Comment", Type: types.Varchar(1024)}, {Name: "character_set_client", Type: types.Varchar(32)},
			{Name: "collation_connection", Type: types.Varchar(32)}, {Name: "Database Collation", Type: types.Varchar(32)},
		}, nil), nil
	case "PROCESSLIST":
		return s.showProcesslist(), nil
	case "TABLE STATUS":
		return s.showTableStatus(st, match)
	case "INDEX":
		return mysqlproto.NewRowsResult(stringFields("Table", "Non_unique", "Key_name", "Seq_in_index", "Column_name", "Collation",
			"Cardinality", "Sub_part", "Packed", "Null", "Index_type", "Comment"), nil), nil
	case "STATUS":
		return mysqlproto.NewRowsResult(stringFields("Variable_name", "Value"), [][]any{{"Uptime", fmt.Sprint(int64(time.Since(s.start).Seconds()))}}), nil
	case "TRANSACTION":
		return s.showTransaction(ctx, st)
	case "ALTER TABLE ROLLUP":
		return s.showAlterJobs(st, false)
	case "ALTER TABLE MATERIALIZED VIEW":
		return s.showAlterJobs(st, true)
	case "ALTER TABLE COLUMN":
		return s.showSchemaChangeJobs(st)
	case "LOAD", "STREAM LOAD":
		return s.showLoad(ctx, st)
	}
	return nil, notSupported("SHOW " + st.Kind)
}

// showDB is the database of SHOW ... [FROM db]: the named one, else the
// current one.
func (s *Session) showDB(st *sql.ShowStmt) (string, error) {
	if st.DB != "" {
		return st.DB, nil
	}
	if s.db == "" {
		return "", errNoDB()
	}
	return s.db, nil
}

// lookupTable resolves a table name against the current database.
func (s *Session) lookupTable(n sql.ObjectName) (string, *catalog.Table, error) {
	db, err := s.dbFor(n)
	if err != nil {
		return "", nil, err
	}
	t, err := s.eng.Catalog.Snapshot().Table(db, n.Name)
	if err != nil {
		if _, dbErr := s.eng.Catalog.Snapshot().Database(db); dbErr != nil {
			return "", nil, dbErr
		}
		return "", nil, &sqlError{Code: 1146, Msg: fmt.Sprintf("Table '%s.%s' doesn't exist", db, n.Name)}
	}
	return db, t, nil
}

// lookupTableOrSystem is lookupTable that also finds system tables
// (information_schema.columns), as a table without partitions.
func (s *Session) lookupTableOrSystem(n sql.ObjectName) (string, *catalog.Table, error) {
	db, err := s.dbFor(n)
	if err != nil {
		return "", nil, err
	}
	if sys, ok := planner.IsSystemSchema(db); ok {
		t, ok := planner.LookupSystemTable(sys, n.Name)
		if !ok {
			return "", nil, &sqlError{Code: planner.ErrUnknownTable, Msg: fmt.Sprintf("Unknown table '%s' in %s", n.Name, sys)}
		}
		return sys, &catalog.Table{Name: t.Name, Comment: t.Comment, Schema: catalog.Schema{Columns: t.Columns}}, nil
	}
	return s.lookupTable(n)
}

// showPartitions has Doris's 20 columns.
func showPartitions(t *catalog.Table) *mysqlproto.Result {
	fields := []mysqlproto.Field{
		{Name: "PartitionId", Type: types.BigInt}, {Name: "PartitionName", Type: types.Varchar(256)},
		{Name: "VisibleVersion", Type: types.BigInt}, {Name: "VisibleVersionTime", Type: types.Varchar(32)},
		{Name: "State", Type: types.Varchar(16)}, {Name: "PartitionKey", Type: types.Varchar(256)},
		{Name: "Range", Type: types.Varchar(1024)}, {Name: "DistributionKey", Type: types.Varchar(256)},
		{Name: "Buckets", Type: types.BigInt}, {Name: "ReplicationNum", Type: types.BigInt},
		{Name: "StorageMedium", Type: types.Varchar(16)}, {Name: "CooldownTime", Type: types.Varchar(32)},
		{Name: "RemoteStoragePolicy", Type: types.Varchar(64)}, {Name: "LastConsistencyCheckTime", Type: types.Varchar(32)},
		{Name: "DataSize", Type: types.Varchar(32)}, {Name: "IsInMemory", Type: types.Varchar(8)},
		{Name: "ReplicaAllocation", Type: types.Varchar(64)}, {Name: "IsMutable", Type: types.Varchar(8)},
		{Name: "SyncWithBaseTables", Type: types.Varchar(8)}, {Name: "UnsyncTables", Type: types.Varchar(64)},
	}
	distKey := "RANDOM"
	if t.Distribution.Type == catalog.HashDistributed {
		distKey = strings.Join(t.Distribution.Columns, ", ")
	}
	var rows [][]any
	for _, p := range t.Partitions {
		rng := ""
		if t.PartitionType == catalog.RangePartitioned {
			rng = fmt.Sprintf("[%s, %s)", boundText(p.Lower), boundText(p.Upper))
		}
		rows = append(rows, []any{
			p.ID, p.Name, p.VisibleVersion, time.UnixMilli(p.VisibleVersionTime).Format("2006-01-02 15:04:05"),
			"NORMAL", strings.Join(t.PartitionColumns, ", "), rng, distKey,
			int64(t.Distribution.Buckets), int64(1), "HDD", "9999-12-31 23:59:59", "", nil,
			"0.000 ", "false", "tag.location.default: 1", "true", "true", nil,
		})
	}
	return mysqlproto.NewRowsResult(fields, rows)
}

// showTablets lists the tablets of a table with Doris's columns: one row
// per tablet (one replica each here), with the backend's figures.
func (e *Engine) showTablets(t *catalog.Table) *mysqlproto.Result {
	names := []string{"TabletId", "ReplicaId", "BackendId", "SchemaHash", "Version", "LstSuccessVersion",
		"LstFailedVersion", "LstFailedTime", "LocalDataSize", "RemoteDataSize", "RowCount", "State",
		"LstConsistencyCheckTime", "CheckVersion", "VersionCount", "QueryHits", "PathHash", "Path",
		"MetaUrl", "CompactionStatus", "CooldownReplicaId", "CooldownMetaId"}
	fields := make([]mysqlproto.Field, len(names))
	for i, n := range names {
		fields[i] = mysqlproto.Field{Name: n, Type: types.Varchar(64)}
		switch i {
		case 0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 13, 14, 15, 16, 20:
			fields[i].Type = types.BigInt
		}
	}
	want := map[int64][]int64{}
	for _, p := range t.Partitions {
		for b, id := range p.Tablets {
			want[id] = p.BucketBackends(b)
		}
	}
	var stats map[int64][]TabletStats
	if e.TabletStats != nil {
		stats = e.TabletStats(want)
	}
	var rows [][]any
	for _, p := range t.Partitions {
		for _, id := range p.Tablets {
			reps := stats[id]
			if len(reps) == 0 {
				reps = []TabletStats{{Version: p.VisibleVersion}}
			}
			for i, st := range reps {
				// One row per replica, as Doris shows them. A replica
				// behind the partition failed the versions above its own.
				failed, state := int64(-1), "NORMAL"
				if st.Version < p.VisibleVersion {
					failed, state = p.VisibleVersion, "LAGGING"
				}
				if st.Err != "" {
					state = "UNKNOWN"
				}
				replica := id
				if len(reps) > 1 {
					replica = id*10 + int64(i)
				}
				rows = append(rows, []any{
					id, replica, st.Backend, int64(0), st.Version, st.Version,
					failed, "NULL", st.DataSize, int64(0), st.Rows, state,
					"NULL", int64(-1), int64(st.Rowsets), int64(0), int64(0), "", "", st.CompactionStatus, int64(-1), "",
				})
			}
		}
	}
	return mysqlproto.NewRowsResult(fields, rows)
}

func boundText(b catalog.PartitionBound) string {
	if b.MaxValue {
		return "MAXVALUE"
	}
	if len(b.Values) == 0 {
		return "MINVALUE"
	}
	return "(" + strings.Join(b.Values, ", ") + ")"
}

// showColumns is SHOW [FULL] COLUMNS with MySQL's column set.
func showColumns(t *catalog.Table, full bool, match func(string) bool) *mysqlproto.Result {
	names := []string{"Field", "Type", "Null", "Key", "Default", "Extra"}
	if full {
		names = []string{"Field", "Type", "Collation", "Null", "Key", "Default", "Extra", "Privileges", "Comment"}
	}
	var rows [][]any
	for _, c := range t.Schema.Columns {
		if !match(c.Name) {
			continue
		}
		null := "NO"
		if c.Nullable {
			null = "YES"
		}
		key := ""
		if c.IsKey {
			key = "YES"
		}
		var def any
		if c.Default != nil {
			def = *c.Default
		}
		typ := strings.ToLower(c.Type.String())
		if full {
			var coll any
			if c.Type.Kind.IsString() {
				coll = "utf8mb4_0900_bin"
			}
			rows = append(rows, []any{c.Name, typ, coll, null, key, def, "", "select,insert,update,references", c.Comment})
		} else {
			rows = append(rows, []any{c.Name, typ, null, key, def, ""})
		}
	}
	return mysqlproto.NewRowsResult(stringFields(names...), rows)
}

// describe is DESC t: Doris's Field, Type, Null, Key, Default, Extra.
func (s *Session) describe(st *sql.DescribeStmt) (*mysqlproto.Result, error) {
	_, t, err := s.lookupTableOrSystem(st.Table)
	if err != nil {
		return nil, err
	}
	showHidden := s.showHiddenColumns()
	if st.All && t.ID != 0 {
		return describeAll(t, showHidden), nil
	}
	var rows [][]any
	for _, c := range t.Schema.Columns {
		if !showHidden && planner.IsHiddenColumn(c.Name) {
			continue
		}
		rows = append(rows, describeColumn(c))
	}
	return mysqlproto.NewRowsResult(stringFields("Field", "Type", "Null", "Key", "Default", "Extra"), rows), nil
}

// describeColumn is a column's row of DESC: Field, Type, Null, Key,
// Default (NULL when none) and Extra (the aggregation type).
func describeColumn(c catalog.Column) []any {
	null := "No"
	if c.Nullable {
		null = "Yes"
	}
	var def any
	if c.Default != nil {
		def = *c.Default
	}
	return []any{c.Name, c.Type.String(), null, fmt.Sprint(c.IsKey), def, c.AggType}
}

func (s *Session) showVariables(st *sql.ShowStmt) (*mysqlproto.Result, error) {
	if st.Where != nil {
		// SHOW VARIABLES WHERE Variable_name in ('a','b') and = 'x' forms.
		names, err := whereVariableNames(st.Where)
		if err != nil {
			return nil, err
		}
		var rows [][]any
		for _, n := range sortedVarNames() {
			if names[n] {
				rows = append(rows, s.variableRow(n, st.Scope))
			}
		}
		return mysqlproto.NewRowsResult(stringFields("Variable_name", "Value", "Default_Value", "Changed"), rows), nil
	}
	var rows [][]any
	for _, n := range sortedVarNames() {
		if st.Like == nil || likeMatch(*st.Like, n) {
			rows = append(rows, s.variableRow(n, st.Scope))
		}
	}
	return mysqlproto.NewRowsResult(stringFields("Variable_name", "Value", "Default_Value", "Changed"), rows), nil
}

func (s *Session) variableRow(name, scope string) []any {
	v := sysVars[name]
	val := globalValue(v)
	if scope != "GLOBAL" {
		if sv, ok := s.vars[name]; ok {
			val = sv
		}
	}
	changed := "0"
	if val != v.def {
		changed = "1"
	}
	return []any{name, val, v.def, changed}
}

// whereVariableNames reads Variable_name = 'x' / IN (...) / OR of them.
func whereVariableNames(e sql.Expr) (map[string]bool, error) {
	out := map[string]bool{}
	var walk func(sql.Expr) error
	walk = func(e sql.Expr) error {
		switch x := e.(type) {
		case *sql.BinaryExpr:
			if x.Op == "OR" {
				if err := walk(x.L); err != nil {
					return err
				}
				return walk(x.R)
			}
			if x.Op == "=" {
				if s, ok := x.R.(*sql.StringLit); ok {
					out[strings.ToLower(s.Val)] = true
					return nil
				}
			}
		case *sql.InExpr:
			for _, it := range x.List {
				if s, ok := it.(*sql.StringLit); ok {
					out[strings.ToLower(s.Val)] = true
				}
			}
			return nil
		}
		return notSupported("this SHOW VARIABLES WHERE condition")
	}
	return out, walk(e)
}

func (s *Session) showProcesslist() *mysqlproto.Result {
	var rows [][]any
	for _, p := range s.Processes() {
		var db any
		if p.DB != "" {
			db = p.DB
		}
		rows = append(rows, []any{p.ID, p.User, p.Host, db, p.Command, p.TimeSeconds, p.State, processInfo(p)})
	}
	return mysqlproto.NewRowsResult([]mysqlproto.Field{
		{Name: "Id", Type: types.BigInt}, {Name: "User", Type: types.Varchar(64)}, {Name: "Host", Type: types.Varchar(64)},
		{Name: "db", Type: types.Varchar(64), Nullable: true}, {Name: "Command", Type: types.Varchar(16)},
		{Name: "Time", Type: types.BigInt}, {Name: "State", Type: types.Varchar(64)}, {Name: "Info", Type: types.Varchar(1024), Nullable: true},
	}, rows)
}

func (s *Session) showTableStatus(st *sql.ShowStmt, match func(string) bool) (*mysqlproto.Result, error) {
	db, err := s.showDB(st)
	if err != nil {
		return nil, err
	}
	var rows [][]any
	if sys, ok := planner.IsSystemSchema(db); ok {
		for _, t := range planner.SystemTables(sys) {
			if match(t.Name) {
				rows = append(rows, []any{t.Name, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, "utf8mb4_0900_bin", nil, "", t.Comment})
			}
		}
	} else {
		tables, err := s.eng.Catalog.Snapshot().Tables(db)
		if err != nil {
			return nil, err
		}
		for _, t := range tables {
			if !match(t.Name) || !s.canSeeTable(db, t.Name) {
				continue
			}
			created := time.UnixMilli(t.CreateTime).Format("2006-01-02 15:04:05")
			rows = append(rows, []any{t.Name, "Doris", "10", nil, "0", "0", "0", nil, nil, nil, nil, created, nil, nil, "utf8mb4_0900_bin", nil, "", t.Comment})
		}
	}
	return mysqlproto.NewRowsResult(stringFields("Name", "Engine", "Version", "Row_format", "Rows", "Avg_row_length", "Data_length",
		"Max_data_length", "Index_length", "Data_free", "Auto_increment", "Create_time", "Update_time", "Check_time",
		"Collation", "Checksum", "Create_options", "Comment"), rows), nil
}

// showHiddenColumns reports whether the session shows Doris's hidden
// columns (the delete sign of unique tables) in *, DESC and SHOW CREATE.
func (s *Session) showHiddenColumns() bool { return s.boolVariable("show_hidden_columns") }
