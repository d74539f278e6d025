package session

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/types"
)

// Rollups and synchronous materialized views.
//
// ALTER TABLE t ADD ROLLUP and CREATE MATERIALIZED VIEW check the
// definition against the table (Doris's rules and messages), then add the
// index in state SHADOW, its tablets and an alter job to the table in one
// compare-and-swap, and return: loads that begin from then on write the
// index too, and the job (fe/alter) converts the rows loaded before,
// then makes the index NORMAL for the planner. DROP removes the index and
// its tablets from the catalog at once (the backend deletes their files
// later); CANCEL ALTER drops an index still being built.

// defaultAlterTimeout is a job's timeout when PROPERTIES gives none
// (Doris's alter_table_timeout_second).
const defaultAlterTimeout = 86400

// addRollups is ALTER TABLE t ADD ROLLUP r1(...), r2(...).
func (s *Session) addRollups(ctx context.Context, db string, table string, cmd *sql.AlterCmd) (*mysqlproto.Result, error) {
	for _, def := range cmd.Rollups {
		if def.FromIndex != "" {
			snap := s.eng.Catalog.Snapshot()
			t, err := snap.Table(db, table)
			if err != nil {
				return nil, err
			}
			if !strings.EqualFold(def.FromIndex, t.Name) {
				return nil, notSupported("ADD ROLLUP ... FROM a rollup")
			}
		}
		timeout, err := jobTimeout(def.Properties)
		if err != nil {
			return nil, err
		}
		build := func(t *catalog.Table) (catalog.Index, error) { return rollupIndex(t, def) }
		if err := s.addIndex(ctx, db, table, def.Name, false, timeout, build); err != nil {
			return nil, err
		}
	}
	return ok(0), nil
}

// createMaterializedView is CREATE MATERIALIZED VIEW mv AS SELECT ... FROM t.
func (s *Session) createMaterializedView(ctx context.Context, st *sql.CreateMaterializedViewStmt) (*mysqlproto.Result, error) {
	blk, src, err := mvSource(st.Query)
	if err != nil {
		return nil, err
	}
	db, err := s.dbFor(src.Name)
	if err != nil {
		return nil, err
	}
	if st.Name.DB != "" && st.Name.DB != db {
		return nil, ddlError("The materialized view and its base table must be in the same database")
	}
	timeout, err := jobTimeout(st.Properties)
	if err != nil {
		return nil, err
	}
	build := func(t *catalog.Table) (catalog.Index, error) {
		ix, err := mvIndex(t, st.Name.Name, blk, st.Query.OrderBy)
		ix.Query = st.QueryText
		return ix, err
	}
	err = s.addIndex(ctx, db, src.Name.Name, st.Name.Name, true, timeout, build)
	var exists *indexExistsError
	if errors.As(err, &exists) {
		if st.IfNotExists {
			return ok(0), nil
		}
		return nil, ddlError("Materialized view[%s] already exists", st.Name.Name)
	}
	if err != nil {
		return nil, err
	}
	return ok(0), nil
}

type indexExistsError struct{ name string }

func (e *indexExistsError) Error() string { return "index " + e.name + " exists" }

func jobTimeout(props []sql.Property) (int64, error) {
	timeout := int64(defaultAlterTimeout)
	for _, p := range props {
		if strings.EqualFold(p.Key, "timeout") {
			n, err := strconv.ParseInt(p.Value, 10, 64)
			if err != nil || n <= 0 {
				return 0, ddlError("Invalid timeout '%s': it must be a positive number of seconds", p.Value)
			}
			timeout = n
		}
	}
	return timeout, nil
}

// addIndex adds the index build makes of the table, with its tablets and
// its job, in one update of the table.
func (s *Session) addIndex(ctx context.Context, db, table, name string, mv bool, timeout int64, build func(*catalog.Table) (catalog.Index, error)) error {
	if sys, ok := planner.IsSystemSchema(db); ok {
		return ddlErrorCode(mysqlproto.ER_DBACCESS_DENIED_ERROR, "Access denied for user '%s'@'%s' to database '%s'", s.user, s.host, sys)
	}
	err := s.addIndexJob(ctx, db, table, func(t *catalog.Table) (catalog.Index, catalog.AlterJob, error) {
		if j := t.RunningJob(); j != nil && j.Type == catalog.JobSchemaChange {
			return catalog.Index{}, catalog.AlterJob{}, tableNotNormal(t, j)
		}
		if _, exists := t.IndexByName(name); exists {
			return catalog.Index{}, catalog.AlterJob{}, &indexExistsError{name}
		}
		ix, err := build(t)
		ix.Name, ix.MV = name, mv
		return ix, catalog.AlterJob{Type: catalog.JobRollup, MV: mv, Timeout: timeout}, err
	})
	var exists *indexExistsError
	if errors.As(err, &exists) && !mv {
		return ddlError("Rollup name[%s] already exists", name)
	}
	return err
}

// addIndexJob adds the index prepare makes of the table, in state SHADOW
// with its tablets, and the alter job that builds it (prepare gives its
// type, timeout and the like; the job takes its watershed when it runs),
// in one update of the table. prepare runs on the private copy of
// Catalog.UpdateTable and may be called again.
func (s *Session) addIndexJob(ctx context.Context, db, table string, prepare func(*catalog.Table) (catalog.Index, catalog.AlterJob, error)) error {
	if s.eng.Txns == nil {
		return notSupported("ALTER jobs without a transaction service")
	}
	t, err := s.eng.Catalog.Snapshot().Table(db, table)
	if err != nil {
		return err
	}
	// Ids: the index, the job, and one tablet per bucket per partition;
	// partitions added meanwhile make the update retry with more.
	need := int64(2 + len(t.Partitions)*t.Distribution.Buckets)
	for attempt := 0; ; attempt++ {
		first, err := s.eng.Catalog.NextIDs(ctx, need)
		if err != nil {
			return err
		}
		short := false
		err = s.eng.Catalog.UpdateTable(ctx, db, table, func(t *catalog.Table) error {
			if tablets := int64(len(t.Partitions) * t.Distribution.Buckets); 2+tablets > need {
				short, need = true, 2+tablets
				return errRetryUpdate
			}
			ix, job, err := prepare(t)
			if err != nil {
				return err
			}
			ix.ID, ix.State = first, catalog.IndexShadow
			t.Indexes = append(t.Indexes, ix)
			t.NextColumnID = nextColumnID(t) // past the index's own columns
			t.NewIndexTablets(ix.ID, first+2)
			job.ID, job.IndexID, job.IndexName = first+1, ix.ID, ix.Name
			job.State, job.CreateTime = catalog.JobWaitingTxn, time.Now().UnixMilli()
			t.AddJob(job)
			return nil
		})
		if short && attempt < 3 {
			continue
		}
		return err
	}
}

var errRetryUpdate = errors.New("retry")

// rollupIndex checks ADD ROLLUP r(cols) [DUPLICATE KEY(keys)] against the
// base index and builds the index, as Doris does: on aggregate and unique
// tables the base's keys among cols are the keys (before every value), a
// unique table's rollup holds every key, and so does one with a REPLACE
// value; a duplicate table's rollup takes DUPLICATE KEY or Doris's
// default sort key of its leading columns.
func rollupIndex(t *catalog.Table, def *sql.RollupDef) (catalog.Index, error) {
	if err := checkIndexModel(t); err != nil {
		return catalog.Index{}, err
	}
	ix := catalog.Index{KeysType: t.KeysType}
	seen := map[string]bool{}
	add := func(c catalog.Column) {
		ix.Schema.Columns = append(ix.Schema.Columns, c)
		ix.Defines = append(ix.Defines, catalog.ColumnDefine{Base: c.ID})
	}
	for _, name := range def.Columns {
		if seen[strings.ToLower(name)] {
			return ix, ddlErrorCode(1060, "Duplicate column name '%s'", name)
		}
		seen[strings.ToLower(name)] = true
		if planner.IsHiddenColumn(name) {
			return ix, ddlError("Column[%s] does not exist", name)
		}
	}
	base := t.Schema.Columns
	if t.KeysType != catalog.DupKeys {
		if len(def.DupKeys) > 0 {
			return ix, ddlError("Only duplicate table can add rollup with duplicate keys")
		}
		meetValue, replace, keys := false, false, 0
		for _, name := range def.Columns {
			_, c := t.Schema.ColumnByName(name)
			if c == nil {
				return ix, ddlError("Column[%s] does not exist", name)
			}
			if c.IsKey && meetValue {
				return ix, ddlError("Invalid column order. value should be after key")
			}
			if c.IsKey {
				if c.Type.Kind == types.KindFloat || c.Type.Kind == types.KindDouble {
					return ix, ddlError("Do not support float/double type on group by, you can change it to decimal")
				}
				keys++
			} else {
				meetValue = true
				replace = replace || c.AggType == "REPLACE" || c.AggType == "REPLACE_IF_NOT_NULL"
			}
			add(*c)
		}
		if keys == 0 {
			return ix, ddlError("No key column is found")
		}
		numKeys := t.Schema.NumKeys()
		if t.KeysType == catalog.UniqueKeys || replace {
			if keys != numKeys {
				if t.KeysType == catalog.UniqueKeys {
					return ix, ddlError("Rollup should contains all unique keys in basetable")
				}
				return ix, ddlError("Rollup should contains all keys if there is a REPLACE value")
			}
			for _, c := range base {
				if planner.IsHiddenColumn(c.Name) {
					add(c)
				}
			}
			if _, seq := t.SequenceColumn(); seq != nil && !planner.IsHiddenColumn(seq.Name) {
				if _, in := ix.Schema.ColumnByName(seq.Name); in == nil {
					return ix, ddlError("The rollup of a table whose rows are ordered by sequence column %s must hold the column", seq.Name)
				}
			}
		}
		if keys == numKeys {
			same := true
			for i := 0; i < keys; i++ {
				same = same && strings.EqualFold(ix.Schema.Columns[i].Name, base[i].Name)
			}
			if same {
				return ix, ddlError("Rollup contains all keys in base table with same order for aggregation or unique table is useless.")
			}
		}
		return ix, nil
	}

	// Duplicate keys.
	if len(def.DupKeys) > len(def.Columns) {
		return ix, ddlError("Num of duplicate keys should less than or equal to num of rollup columns.")
	}
	prefix := true // cols start with the base's key columns in order
	for i, name := range def.Columns {
		_, c := t.Schema.ColumnByName(name)
		if c == nil {
			return ix, ddlError("Column[%s] does not exist in base index", name)
		}
		if i < len(base) && base[i].IsKey && !strings.EqualFold(name, base[i].Name) {
			prefix = false
		}
		col := *c
		col.IsKey, col.AggType = false, ""
		add(col)
	}
	if len(def.DupKeys) > 0 {
		for i, k := range def.DupKeys {
			if !strings.EqualFold(def.Columns[i], k) {
				return ix, ddlError("Duplicate keys should be the prefix of rollup columns")
			}
			c := &ix.Schema.Columns[i]
			if !c.Type.CanBeKey() {
				return ix, ddlError("%s column can not be a key column: %s", c.Type.SQLName(), c.Name)
			}
			c.IsKey = true
		}
	} else {
		setDefaultKeys(ix.Schema.Columns)
		if !ix.Schema.Columns[0].IsKey {
			return ix, ddlError("The first column could not be float or double")
		}
	}
	if prefix {
		return ix, ddlError("Rollup contain the columns of the base table in prefix order for duplicate table is useless.")
	}
	return ix, nil
}

// setDefaultKeys makes Doris's default sort key of a duplicate index: the
// leading columns, at most three and 36 bytes of short key, up to and
// including the first VARCHAR, stopping before a type that cannot be a
// key.
func setDefaultKeys(cols []catalog.Column) {
	size := 0
	for i := range cols {
		c := &cols[i]
		size += shortKeySize(c.Type)
		if (i+1 > 3 || size > 36) && (i != 0 || !c.Type.Kind.IsString()) {
			return
		}
		if !c.Type.CanBeKey() {
			return
		}
		c.IsKey = true
		if c.Type.Kind == types.KindVarchar || c.Type.Kind == types.KindString {
			return
		}
	}
}

// shortKeySize is the bytes a key column takes in Doris's short key index.
func shortKeySize(t types.Type) int {
	switch t.Kind {
	case types.KindBoolean, types.KindTinyInt:
		return 1
	case types.KindSmallInt:
		return 2
	case types.KindInt, types.KindFloat, types.KindDate:
		return 4
	case types.KindBigInt, types.KindDouble, types.KindDateTime:
		return 8
	case types.KindChar:
		return t.Length
	case types.KindVarchar, types.KindString:
		return 20
	}
	return 16
}

// checkIndexModel refuses the tables that cannot have indexes.
func checkIndexModel(t *catalog.Table) error {
	return nil
}

// mvSource checks the shape of a materialized view's query: one SELECT
// block over one table.
func mvSource(q *sql.SelectStmt) (*sql.SelectBlock, *sql.TableSource, error) {
	blk, ok := q.Body.(*sql.SelectBlock)
	if !ok || len(q.With) > 0 {
		return nil, nil, ddlError("The materialized view only supports a single SELECT on one table")
	}
	src, ok := blk.From.(*sql.TableSource)
	if !ok {
		return nil, nil, ddlError("The materialized view only supports one table in the FROM clause")
	}
	if q.Limit != nil {
		return nil, nil, ddlError("The limit clause is not supported in add materialized view clause, expr:limit")
	}
	if blk.Having != nil {
		return nil, nil, ddlError("The having clause is not supported in add materialized view clause")
	}
	if blk.Where != nil {
		return nil, nil, ddlError("The where clause is not supported in add materialized view clause")
	}
	if blk.Distinct {
		return nil, nil, ddlError("The materialized view does not support distinct")
	}
	return blk, src, nil
}

// mvIndex builds the index of CREATE MATERIALIZED VIEW name AS SELECT ...:
// without aggregates, a copy of the chosen columns sorted on the ORDER BY
// columns (or on the default sort key); with them, an aggregate index
// keyed on the GROUP BY columns holding sum, min, max, count,
// bitmap_union(to_bitmap(x)) and hll_union(hll_hash(x)) of columns.
func mvIndex(t *catalog.Table, name string, blk *sql.SelectBlock, orderBy []*sql.OrderItem) (catalog.Index, error) {
	if err := checkIndexModel(t); err != nil {
		return catalog.Index{}, err
	}
	ix := catalog.Index{KeysType: catalog.DupKeys}
	type item struct {
		col    catalog.Column
		define catalog.ColumnDefine
		agg    string // "" for a plain column
	}
	var items []item
	nextID := t.NextColumnID
	for _, c := range t.Schema.Columns {
		nextID = max(nextID, c.ID+1)
	}
	for _, ix := range t.Indexes {
		for _, c := range ix.Schema.Columns {
			nextID = max(nextID, c.ID+1)
		}
	}
	names := map[string]bool{}
	for _, si := range blk.Items {
		var it item
		switch e := si.Expr.(type) {
		case *sql.ColumnRef:
			_, c := t.Schema.ColumnByName(e.Column)
			if c == nil || planner.IsHiddenColumn(e.Column) {
				return ix, ddlErrorCode(mysqlproto.ER_BAD_FIELD_ERROR, "Unknown column '%s' in 'table list'", e.Column)
			}
			it = item{col: *c, define: catalog.ColumnDefine{Base: c.ID}}
		case *sql.FuncCall:
			var err error
			if it, err = func() (item, error) {
				col, define, agg, err := mvAggregate(t, e, nextID)
				return item{col, define, agg}, err
			}(); err != nil {
				return ix, err
			}
			if it.col.ID == nextID {
				nextID++
			}
		default:
			return ix, ddlError("The materialized view only supports columns and the functions sum, min, max, count, bitmap_union(to_bitmap(c)) and hll_union(hll_hash(c)), not %s", si.Text)
		}
		if names[strings.ToLower(it.col.Name)] {
			return ix, ddlError("The select expr %s is duplicated.", si.Text)
		}
		names[strings.ToLower(it.col.Name)] = true
		items = append(items, it)
	}
	aggregated := false
	for _, it := range items {
		aggregated = aggregated || it.agg != ""
	}
	if len(blk.GroupBy) > 0 && !aggregated {
		return ix, ddlError("The materialized view with GROUP BY needs at least one aggregate function")
	}
	if aggregated {
		// The group keys come first, in the select list's order, and must
		// be exactly the GROUP BY columns.
		groups := map[string]bool{}
		for _, g := range blk.GroupBy {
			ref, ok := g.(*sql.ColumnRef)
			if !ok {
				return ix, ddlError("The materialized view only supports columns in GROUP BY")
			}
			groups[strings.ToLower(ref.Column)] = true
		}
		meetValue := false
		for _, it := range items {
			if it.agg == "" {
				if meetValue {
					return ix, ddlError("The aggregate column should be after the single column")
				}
				if !groups[strings.ToLower(it.col.Name)] {
					return ix, ddlErrorCode(planner.ErrWrongFieldWithGroup, "The select expr %s is not in the GROUP BY clause", it.col.Name)
				}
				delete(groups, strings.ToLower(it.col.Name))
				continue
			}
			meetValue = true
		}
		for g := range groups {
			return ix, ddlError("The group by column %s is not in the select list", g)
		}
		ix.KeysType = catalog.AggKeys
		for _, it := range items {
			c := it.col
			c.IsKey, c.AggType = it.agg == "", it.agg
			if c.IsKey && !c.Type.CanBeKey() {
				return ix, ddlError("%s column can not be a key column: %s", c.Type.SQLName(), c.Name)
			}
			ix.Schema.Columns = append(ix.Schema.Columns, c)
			ix.Defines = append(ix.Defines, it.define)
		}
		if t.KeysType == catalog.UniqueKeys {
			return ix, ddlError("The materialized view of a unique table can only reorder columns, not aggregate them")
		}
		if t.KeysType == catalog.AggKeys {
			if err := checkAggMV(t, ix); err != nil {
				return ix, err
			}
		}
		return ix, nil
	}

	// A copy of some columns, maybe in another order: on an aggregate or
	// unique table it keeps the table's model and is a rollup.
	def := &sql.RollupDef{Name: name}
	for _, it := range items {
		def.Columns = append(def.Columns, it.col.Name)
	}
	if t.KeysType != catalog.DupKeys {
		if len(orderBy) > 0 {
			return ix, ddlError("The ORDER BY of a materialized view is supported on duplicate tables only")
		}
		return rollupIndex(t, def)
	}
	for i, o := range orderBy {
		ref, ok := o.Expr.(*sql.ColumnRef)
		if !ok || i >= len(items) || !strings.EqualFold(ref.Column, items[i].col.Name) {
			return ix, ddlError("The order of columns in order by clause must be same as the order of columns in select list")
		}
		def.DupKeys = append(def.DupKeys, ref.Column)
	}
	out, err := rollupIndex(t, def)
	if err != nil && strings.Contains(err.Error(), "is useless") {
		return out, ddlError("The materialized view has the same columns and sort key as the base table, which makes it useless")
	}
	return out, err
}

// mvAggregate builds the column of one aggregate of a materialized view.
// A column computed by a function gets id nextID.
func mvAggregate(t *catalog.Table, f *sql.FuncCall, nextID uint32) (catalog.Column, catalog.ColumnDefine, string, error) {
	fn := strings.ToLower(f.Name)
	bad := func() (catalog.Column, catalog.ColumnDefine, string, error) {
		return catalog.Column{}, catalog.ColumnDefine{}, "", ddlError("The materialized view does not support %s: only sum, min, max, count, bitmap_union(to_bitmap(c)) and hll_union(hll_hash(c)) of a column", f.String())
	}
	if f.Distinct || f.Over != nil {
		return bad()
	}
	if fn == "count" && f.Star {
		c := catalog.Column{ID: nextID, Name: "mv_count_star", Type: types.Type{Kind: types.KindBigInt}, Default: ptr("0")}
		return c, catalog.ColumnDefine{Func: catalog.DefineCountStar}, "SUM", nil
	}
	if len(f.Args) != 1 {
		return bad()
	}
	arg := f.Args[0]
	inner := ""
	if g, ok := arg.(*sql.FuncCall); ok && len(g.Args) == 1 {
		inner = strings.ToLower(g.Name)
		arg = g.Args[0]
	}
	ref, ok := arg.(*sql.ColumnRef)
	if !ok {
		return bad()
	}
	_, base := t.Schema.ColumnByName(ref.Column)
	if base == nil || planner.IsHiddenColumn(ref.Column) {
		return catalog.Column{}, catalog.ColumnDefine{}, "", ddlErrorCode(mysqlproto.ER_BAD_FIELD_ERROR, "Unknown column '%s' in 'table list'", ref.Column)
	}
	c := *base
	// Every aggregate column has an id of its own: min(v) and max(v) of
	// one column are two columns of the index.
	c.IsKey, c.AggType, c.Comment, c.ID = false, "", "", nextID
	define := catalog.ColumnDefine{Base: base.ID}
	switch {
	case inner == "" && (fn == "sum" || fn == "min" || fn == "max"):
		if isSketch(base.Type) || fn == "sum" && !base.Type.Kind.IsNumeric() {
			return bad()
		}
		c.Name = "mv_" + fn + "_" + base.Name
		if fn == "sum" {
			c.Type = sumType(base.Type)
			c.Default = ptr("0")
		}
		return c, define, strings.ToUpper(fn), nil
	case inner == "" && fn == "count":
		c = catalog.Column{ID: nextID, Name: "mv_count_" + base.Name, Type: types.Type{Kind: types.KindBigInt}, Default: ptr("0")}
		define.Func = catalog.DefineCount
		return c, define, "SUM", nil
	case inner == "to_bitmap" && fn == "bitmap_union":
		if !base.Type.Kind.IsInteger() || base.Type.Kind == types.KindLargeInt {
			return catalog.Column{}, catalog.ColumnDefine{}, "", ddlError("The function to_bitmap of the materialized view needs an integer column, not %s", base.Type.SQLName())
		}
		c = catalog.Column{ID: nextID, Name: "mv_bitmap_union_" + base.Name, Type: types.Type{Kind: types.KindBitmap}}
		define.Func = catalog.DefineToBitmap
		return c, define, "BITMAP_UNION", nil
	case inner == "hll_hash" && fn == "hll_union":
		c = catalog.Column{ID: nextID, Name: "mv_hll_union_" + base.Name, Type: types.Type{Kind: types.KindHLL}}
		define.Func = catalog.DefineHLLHash
		return c, define, "HLL_UNION", nil
	case inner == "" && fn == "bitmap_union" && base.Type.Kind == types.KindBitmap,
		inner == "" && fn == "hll_union" && base.Type.Kind == types.KindHLL:
		c.Name = "mv_" + fn + "_" + base.Name
		return c, define, strings.ToUpper(fn), nil
	}
	return bad()
}

// sumType is the type SUM of a column of type t is stored as: the widest
// of its family, as Doris's MV column.
func sumType(t types.Type) types.Type {
	switch {
	case t.Kind == types.KindLargeInt:
		return t
	case t.Kind.IsInteger():
		return types.Type{Kind: types.KindBigInt}
	case t.Kind == types.KindFloat:
		return types.Type{Kind: types.KindDouble}
	case t.Kind == types.KindDecimal:
		return types.Type{Kind: types.KindDecimal, Precision: 38, Scale: t.Scale}
	}
	return t
}

// checkAggMV: on an aggregate table an aggregate MV may only fold a value
// column with the column's own aggregation, and group on keys.
func checkAggMV(t *catalog.Table, ix catalog.Index) error {
	for i, c := range ix.Schema.Columns {
		d := ix.Defines[i]
		_, base := t.Schema.ColumnByName(baseName(t, d.Base))
		if base == nil {
			return ddlError("The materialized view of an aggregate table can not use COUNT")
		}
		if c.IsKey {
			if !base.IsKey {
				return ddlError("The value column %s of an aggregate table can not be a group key of a materialized view", base.Name)
			}
			continue
		}
		if d.Func != "" || base.IsKey || base.AggType != c.AggType {
			return ddlError("The aggregation of %s in the materialized view must be its aggregation in the table (%s)", base.Name, base.AggType)
		}
	}
	return nil
}

func baseName(t *catalog.Table, id uint32) string {
	for _, c := range t.Schema.Columns {
		if c.ID == id {
			return c.Name
		}
	}
	return ""
}

func ptr(s string) *string { return &s }

// dropRollups is ALTER TABLE t DROP ROLLUP r1, r2.
func (s *Session) dropRollups(ctx context.Context, db, table string, names []string) (*mysqlproto.Result, error) {
	err := s.eng.Catalog.UpdateTable(ctx, db, table, func(t *catalog.Table) error {
		for _, name := range names {
			if err := dropIndex(t, name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ok(0), nil
}

// dropIndex removes an index by name, cancelling its job if it is still
// being built.
func dropIndex(t *catalog.Table, name string) error {
	ix, found := t.IndexByName(name)
	if found && ix == nil {
		return ddlError("Cannot drop base index by using DROP ROLLUP or DROP MATERIALIZED VIEW.")
	}
	if !found {
		return ddlError("Rollup index[%s] does not exist in table[%s]", name, t.Name)
	}
	for i := range t.AlterJobs {
		j := &t.AlterJobs[i]
		if j.IndexID == ix.ID && !j.State.Finished() {
			j.State, j.Msg, j.FinishTime = catalog.JobCancelled, "the index was dropped", time.Now().UnixMilli()
		}
	}
	t.DropIndex(ix.ID)
	return nil
}

// dropMaterializedView is DROP MATERIALIZED VIEW [IF EXISTS] mv ON t.
func (s *Session) dropMaterializedView(ctx context.Context, st *sql.DropMaterializedViewStmt) (*mysqlproto.Result, error) {
	if st.Table == nil {
		return nil, notSupported("DROP MATERIALIZED VIEW without ON table (asynchronous materialized views)")
	}
	db, err := s.dbFor(*st.Table)
	if err != nil {
		return nil, err
	}
	err = s.eng.Catalog.UpdateTable(ctx, db, st.Table.Name, func(t *catalog.Table) error {
		ix, found := t.IndexByName(st.Name.Name)
		if !found || ix != nil && !ix.MV {
			if st.IfExists {
				return errNothing
			}
			return ddlError("Materialized view [%s] does not exist in table [%s]", st.Name.Name, t.Name)
		}
		return dropIndex(t, st.Name.Name)
	})
	if err != nil && !errors.Is(err, errNothing) {
		return nil, err
	}
	return ok(0), nil
}

var errNothing = errors.New("nothing to do")

// cancelAlter is CANCEL ALTER TABLE ROLLUP|MATERIALIZED VIEW|COLUMN FROM t
// [(job ids)]: the jobs still running end as CANCELLED and their indexes
// are dropped.
func (s *Session) cancelAlter(ctx context.Context, st *sql.CancelAlterStmt) (*mysqlproto.Result, error) {
	db, err := s.dbFor(st.Table)
	if err != nil {
		return nil, err
	}
	err = s.eng.Catalog.UpdateTable(ctx, db, st.Table.Name, func(t *catalog.Table) error {
		var cancel []*catalog.AlterJob
		for i := range t.AlterJobs {
			j := &t.AlterJobs[i]
			if j.State.Finished() || !st.Matches(string(j.Type), j.MV) {
				continue
			}
			if len(st.JobIDs) > 0 && !containsID(st.JobIDs, j.ID) {
				continue
			}
			cancel = append(cancel, j)
		}
		if len(cancel) == 0 {
			if len(st.JobIDs) > 0 {
				return ddlError("Job %v does not exist or has finished", st.JobIDs)
			}
			return ddlError("No job to cancel for Table[%s]", t.Name)
		}
		for _, j := range cancel {
			j.State, j.Msg, j.FinishTime = catalog.JobCancelled, "user cancelled", time.Now().UnixMilli()
			t.DropIndex(j.IndexID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ok(0), nil
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// showAlterJobs is SHOW ALTER TABLE ROLLUP|MATERIALIZED VIEW [FROM db]
// [WHERE ...] [ORDER BY ...] [LIMIT n], with Doris's columns.
func (s *Session) showAlterJobs(st *sql.ShowStmt, mvOnly bool) (*mysqlproto.Result, error) {
	names := []string{"JobId", "TableName", "CreateTime", "FinishTime", "BaseIndexName", "RollupIndexName",
		"RollupId", "TransactionId", "State", "Msg", "Progress", "Timeout"}
	keep := func(j *catalog.AlterJob) bool { return j.Type == catalog.JobRollup && (!mvOnly || j.MV) }
	return s.showJobs(st, names, keep, func(t *catalog.Table, j *catalog.AlterJob, times [2]string, progress string) []any {
		return []any{
			fmt.Sprint(j.ID), t.Name, times[0], times[1], t.Name, j.IndexName,
			fmt.Sprint(j.IndexID), fmt.Sprint(j.Watershed), string(j.State), j.Msg, progress, fmt.Sprint(j.Timeout),
		}
	})
}

// showJobs lists the alter jobs keep selects of the tables of SHOW's
// database, one row each from row, which gets the job's create and finish
// times as text and its progress (partitions converted of all while it
// runs), then applies SHOW's WHERE, ORDER BY and LIMIT.
func (s *Session) showJobs(st *sql.ShowStmt, names []string, keep func(*catalog.AlterJob) bool,
	row func(t *catalog.Table, j *catalog.AlterJob, times [2]string, progress string) []any) (*mysqlproto.Result, error) {
	db, err := s.showDB(st)
	if err != nil {
		return nil, err
	}
	if err := s.checkUseDB(db); err != nil {
		return nil, err
	}
	tables, err := s.eng.Catalog.Snapshot().Tables(db)
	if err != nil {
		return nil, err
	}
	loc := s.location()
	var rows [][]any
	for _, t := range tables {
		if !s.canSeeTable(db, t.Name) {
			continue
		}
		for i := range t.AlterJobs {
			j := &t.AlterJobs[i]
			if !keep(j) {
				continue
			}
			progress := "N/A"
			if j.State == catalog.JobRunning {
				progress = fmt.Sprintf("%d/%d", len(j.Done), len(t.Partitions))
			}
			rows = append(rows, row(t, j, [2]string{timeText(j.CreateTime, loc), timeText(j.FinishTime, loc)}, progress))
		}
	}
	rows, err = filterRows(names, rows, st)
	if err != nil {
		return nil, err
	}
	return mysqlproto.NewRowsResult(stringFields(names...), rows), nil
}

// filterRows applies SHOW's WHERE (equalities of columns and strings,
// joined by AND), ORDER BY (columns) and LIMIT to rows of text.
func filterRows(names []string, rows [][]any, st *sql.ShowStmt) ([][]any, error) {
	col := func(e sql.Expr) (int, error) {
		ref, ok := e.(*sql.ColumnRef)
		if ok {
			for i, n := range names {
				if strings.EqualFold(n, ref.Column) {
					return i, nil
				}
			}
		}
		return 0, ddlError("The column of SHOW ... WHERE or ORDER BY must be one of %s", strings.Join(names, ", "))
	}
	type eq struct {
		col int
		val string
	}
	var conds []eq
	var walk func(e sql.Expr) error
	walk = func(e sql.Expr) error {
		b, ok := e.(*sql.BinaryExpr)
		if ok && strings.EqualFold(b.Op, "AND") {
			if err := walk(b.L); err != nil {
				return err
			}
			return walk(b.R)
		}
		if ok && b.Op == "=" {
			i, err := col(b.L)
			if err != nil {
				return err
			}
			switch v := b.R.(type) {
			case *sql.StringLit:
				conds = append(conds, eq{i, v.Val})
				return nil
			case *sql.IntLit:
				conds = append(conds, eq{i, strconv.FormatInt(v.Val, 10)})
				return nil
			}
		}
		return notSupported("this SHOW ... WHERE condition (only column = 'value' joined by AND)")
	}
	if st.Where != nil {
		if err := walk(st.Where); err != nil {
			return nil, err
		}
	}
	out := rows[:0:0]
	for _, r := range rows {
		keep := true
		for _, c := range conds {
			keep = keep && strings.EqualFold(fmt.Sprint(r[c.col]), c.val)
		}
		if keep {
			out = append(out, r)
		}
	}
	for k := len(st.OrderBy) - 1; k >= 0; k-- {
		o := st.OrderBy[k]
		i, err := col(o.Expr)
		if err != nil {
			return nil, err
		}
		sort.SliceStable(out, func(a, b int) bool {
			x, y := fmt.Sprint(out[a][i]), fmt.Sprint(out[b][i])
			if o.Desc {
				return x > y
			}
			return x < y
		})
	}
	if st.Limit != nil {
		n, ok := st.Limit.Count.(*sql.IntLit)
		if !ok {
			return nil, notSupported("SHOW ... LIMIT that is not a number")
		}
		if n.Val < int64(len(out)) {
			out = out[:max(n.Val, 0)]
		}
	}
	return out, nil
}

// describeAll is DESC t ALL: the columns of the base index and of every
// rollup and materialized view, with Doris's columns.
func describeAll(t *catalog.Table, showHidden bool) *mysqlproto.Result {
	names := []string{"IndexName", "IndexKeysType", "Field", "Type", "InternalType", "Null", "Key", "Default", "Extra", "Visible", "DefineExpr", "WhereClause"}
	var rows [][]any
	add := func(name string, keys catalog.KeysType, cols []catalog.Column, defines []catalog.ColumnDefine) {
		first := true
		for i, c := range cols {
			if !showHidden && planner.IsHiddenColumn(c.Name) {
				continue
			}
			idx, kt := "", ""
			if first {
				idx, kt, first = name, keys.RESTName(), false
			}
			define := ""
			if defines != nil {
				define = defineText(t, defines[i])
			}
			d := describeColumn(c) // Field, Type, Null, Key, Default, Extra
			row := append([]any{idx, kt, d[0], d[1], d[1]}, d[2:]...)
			rows = append(rows, append(row, "true", define, ""))
		}
		rows = append(rows, []any{"", "", "", "", "", "", "", nil, "", "", "", ""})
	}
	add(t.Name, t.KeysType, t.Schema.Columns, nil)
	for _, ix := range t.Indexes {
		if ix.State == catalog.IndexNormal {
			add(ix.Name, ix.KeysType, ix.Schema.Columns, ix.Defines)
		}
	}
	return mysqlproto.NewRowsResult(stringFields(names...), rows[:len(rows)-1])
}

// defineText renders how an index column is computed from the base.
func defineText(t *catalog.Table, d catalog.ColumnDefine) string {
	base := quoteIdent(baseName(t, d.Base))
	switch d.Func {
	case catalog.DefineCount:
		return "CASE WHEN " + base + " IS NULL THEN 0 ELSE 1 END"
	case catalog.DefineCountStar:
		return "1"
	case "":
		return base
	}
	return d.Func + "(" + base + ")"
}
