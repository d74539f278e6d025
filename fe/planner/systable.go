package planner

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// System tables are read-only tables whose rows are computed when a query
// reads them, such as the information_schema views. They bind like any
// table, so WHERE, ORDER BY, LIMIT, joins and projections work on them; the
// rows are made by the table's rows function when the plan is built, from
// the planner's catalog snapshot and session, into Arrow columns that a
// Values operator serves.
//
// Adding a table is adding a systemTable to a schema in systemSchemas: its
// columns and a rows function. The function gets a sysEnv with the catalog,
// the session, the session time zone and the equalities the query's WHERE
// puts on string columns (hints it may use to skip work; the filter runs on
// its output anyway).

// systemTable is one table of a system schema.
type systemTable struct {
	name    string // as SHOW TABLES lists it
	comment string
	columns []catalog.Column // Name, Type and Nullable are used
	rows    func(env *sysEnv, out *sysRows) error
}

// systemSchemas holds the system schemas by lower-case name, each with its
// tables by lower-case name. Names are matched case-insensitively, as MySQL
// and Doris do for information_schema. It is set once by init (the rows
// functions read it, which a variable initializer may not refer to).
var systemSchemas map[string]map[string]*systemTable

func init() {
	systemSchemas = map[string]map[string]*systemTable{
		InformationSchema: tableMap(append(infoSchemaTables(), privilegeTables()...)),
		"mysql":           tableMap(append(mysqlSchema(), mysqlRoutineTables()...)),
	}
}

// InformationSchema is the canonical name of the information_schema schema.
const InformationSchema = "information_schema"

func tableMap(ts []*systemTable) map[string]*systemTable {
	m := make(map[string]*systemTable, len(ts))
	for _, t := range ts {
		m[strings.ToLower(t.name)] = t
	}
	return m
}

// IsSystemSchema reports whether db names a system schema; canonical is its
// canonical spelling.
func IsSystemSchema(db string) (canonical string, ok bool) {
	lower := strings.ToLower(db)
	if _, ok := systemSchemas[lower]; ok {
		return lower, true
	}
	return "", false
}

// SystemSchemas lists the system schemas by name.
func SystemSchemas() []string {
	out := make([]string, 0, len(systemSchemas))
	for name := range systemSchemas {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// SystemTable describes a table of a system schema for SHOW and DESC.
type SystemTable struct {
	Name    string
	Comment string
	Columns []catalog.Column
}

// SystemTables lists the tables of a system schema by name; nil when db is
// not one.
func SystemTables(db string) []SystemTable {
	schema, ok := systemSchemas[strings.ToLower(db)]
	if !ok {
		return nil
	}
	out := make([]SystemTable, 0, len(schema))
	for _, t := range schema {
		out = append(out, SystemTable{Name: t.name, Comment: t.comment, Columns: t.columns})
	}
	slices.SortFunc(out, func(a, b SystemTable) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// LookupSystemTable finds a table of a system schema case-insensitively.
func LookupSystemTable(db, name string) (SystemTable, bool) {
	t, ok := lookupSystemTable(db, name)
	if !ok {
		return SystemTable{}, false
	}
	return SystemTable{Name: t.name, Comment: t.comment, Columns: t.columns}, true
}

func lookupSystemTable(db, name string) (*systemTable, bool) {
	schema, ok := systemSchemas[strings.ToLower(db)]
	if !ok {
		return nil, false
	}
	t, ok := schema[strings.ToLower(name)]
	return t, ok
}

// sysScanNode reads a system table. It outputs every column of the table.
type sysScanNode struct {
	db    string // canonical schema name
	table *systemTable
	alias string
	out   []column
	// filters are conjuncts over out, pushed down by the rules.
	filters []*ir
}

func (n *sysScanNode) columns() []column { return n.out }

// bindSystemTable binds a FROM item naming a table of system schema db.
func (p *Planner) bindSystemTable(db, name, alias string) (node, error) {
	t, ok := lookupSystemTable(db, name)
	if !ok {
		return nil, &Error{Code: ErrUnknownTable, Msg: fmt.Sprintf("Unknown table '%s' in %s", name, db)}
	}
	if alias == "" {
		alias = name
	}
	s := &sysScanNode{db: db, table: t, alias: alias}
	for _, c := range t.columns {
		s.out = append(s.out, column{
			name: c.Name, table: alias, db: db, orgTable: t.name, orgName: c.Name,
			t: c.Type, nullable: c.Nullable, scanID: -1, foldCase: foldsCase(c),
		})
	}
	return s, nil
}

// sysEnv is what a system table's rows are computed from.
type sysEnv struct {
	cat Catalog
	// sess is the session planning the query, for tables that describe it
	// (variables, connections).
	sess Session
	// loc is the session time zone, for DATETIME values made from unix
	// times.
	loc *time.Location
	// eq holds, by column index, the string a pushed-down equality of the
	// query requires the column to be.
	eq map[int]string
}

// equal returns the value the query's WHERE requires column col to equal,
// if it requires one. Rows functions may use it to skip rows; they need not.
func (e *sysEnv) equal(col int) (string, bool) {
	v, ok := e.eq[col]
	return v, ok
}

// buildSysScan computes a system table's rows and serves them, filtered by
// the pushed-down predicates. x frees the rows when it is released.
func (p *Planner) buildSysScan(s *sysScanNode, x *Execution) (exec.Operator, error) {
	env := &sysEnv{cat: p.cat, sess: p.sess, loc: p.location(), eq: map[int]string{}}
	for col, r := range extractRanges(s.filters, s.out) {
		if r.empty || r.lo == nil || r.hi == nil || !r.loIncl || !r.hiIncl || compareLit(r.lo, r.hi) != 0 {
			continue
		}
		if v, ok := r.lo.Value.(string); ok {
			env.eq[col] = v
		}
	}
	out := newSysRows(s.table.columns)
	if err := s.table.rows(env, out); err != nil {
		out.release()
		return nil, fmt.Errorf("reading %s.%s: %w", s.db, s.table.name, err)
	}
	schema := make([]types.Type, len(s.table.columns))
	for i, c := range s.table.columns {
		schema[i] = c.Type
	}
	values := exec.NewValuesFromArrays(schema, out.finish())
	x.releases = append(x.releases, values.Release)
	var op exec.Operator = values
	if len(s.filters) > 0 {
		op = exec.NewFilter(op, andAll(s.filters).mustCompile(nil))
	}
	return op, nil
}

// location is the session time zone (@@time_zone).
func (p *Planner) location() *time.Location {
	return TimeZone(p.sess.Variable("time_zone"))
}

// TimeZone resolves a time_zone value: SYSTEM (the process's zone), an
// offset such as +08:00, or a zone name such as UTC or Asia/Shanghai. A
// value it cannot resolve means the process's zone.
func TimeZone(name string) *time.Location {
	name = strings.TrimSpace(name)
	if name == "" || strings.EqualFold(name, "SYSTEM") {
		return time.Local
	}
	if name[0] == '+' || name[0] == '-' {
		var h, m int
		if _, err := fmt.Sscanf(name[1:], "%d:%d", &h, &m); err == nil && h <= 14 && m < 60 {
			off := h*3600 + m*60
			if name[0] == '-' {
				off = -off
			}
			return time.FixedZone(name, off)
		}
		return time.Local
	}
	if strings.EqualFold(name, "UTC") {
		return time.UTC
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.Local
}

// sysRows accumulates a system table's rows into Arrow builders typed as
// the table's columns.
type sysRows struct {
	cols []catalog.Column
	blds []array.Builder
}

func newSysRows(cols []catalog.Column) *sysRows {
	r := &sysRows{cols: cols, blds: make([]array.Builder, len(cols))}
	for i, c := range cols {
		r.blds[i] = array.NewBuilder(memory.DefaultAllocator, c.Type.Arrow())
	}
	return r
}

// sysTime is a DATETIME value of a system table: a unix time in
// milliseconds shown in a time zone.
type sysTime struct {
	ms  int64
	loc *time.Location
}

// add appends one row: a value per column, each nil (NULL), a string, an
// int64 or a sysTime, matching the column's type. A mismatch is a bug in
// the table's rows function.
func (r *sysRows) add(vals ...any) {
	if len(vals) != len(r.blds) {
		panic(fmt.Sprintf("BUG: system table row has %d values for %d columns", len(vals), len(r.blds)))
	}
	for i, v := range vals {
		switch b := r.blds[i].(type) {
		case *array.StringBuilder:
			switch x := v.(type) {
			case nil:
				b.AppendNull()
			case string:
				b.Append(x)
			default:
				panic(fmt.Sprintf("BUG: %T value for string column %s", v, r.cols[i].Name))
			}
		case *array.Int64Builder:
			switch x := v.(type) {
			case nil:
				b.AppendNull()
			case int64:
				b.Append(x)
			default:
				panic(fmt.Sprintf("BUG: %T value for BIGINT column %s", v, r.cols[i].Name))
			}
		case *array.Int32Builder:
			switch x := v.(type) {
			case nil:
				b.AppendNull()
			case int64:
				b.Append(int32(x))
			default:
				panic(fmt.Sprintf("BUG: %T value for INT column %s", v, r.cols[i].Name))
			}
		case *array.TimestampBuilder:
			switch x := v.(type) {
			case nil:
				b.AppendNull()
			case sysTime:
				// DATETIME holds the wall clock as if it were UTC.
				_, off := time.UnixMilli(x.ms).In(x.loc).Zone()
				b.Append(arrow.Timestamp(x.ms*1000 + int64(off)*1_000_000))
			default:
				panic(fmt.Sprintf("BUG: %T value for DATETIME column %s", v, r.cols[i].Name))
			}
		default:
			panic(fmt.Sprintf("BUG: system table column %s of type %v", r.cols[i].Name, r.cols[i].Type))
		}
	}
}

func (r *sysRows) finish() []arrow.Array {
	out := make([]arrow.Array, len(r.blds))
	for i, b := range r.blds {
		out[i] = b.NewArray()
		b.Release()
	}
	r.blds = nil
	return out
}

func (r *sysRows) release() {
	for _, b := range r.blds {
		b.Release()
	}
	r.blds = nil
}

// foldsCase reports whether a system table column compares without
// regard to case, as MySQL's information_schema values (IS_NULLABLE =
// 'yes') do. Names of schemas, tables and columns keep their case, as
// they do in MySQL on Linux and in Strata's catalog.
func foldsCase(c catalog.Column) bool {
	if !c.Type.Kind.IsString() {
		return false
	}
	n := strings.ToUpper(c.Name)
	return !strings.HasSuffix(n, "_NAME") && !strings.HasSuffix(n, "_SCHEMA") && !strings.HasSuffix(n, "_CATALOG") &&
		n != "SCHEMA_NAME" && n != "DB" && n != "USER" && n != "HOST"
}
