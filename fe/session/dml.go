package session

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
)

// DELETE and UPDATE of a merge-on-write UNIQUE KEY table are loads, as in
// Doris: the rows the WHERE clause selects are read and written back in
// one transaction — with the delete sign set (DELETE), or with the SET
// values (UPDATE) — and the publish marks the rows they replace.

// deleteFrom runs DELETE FROM t WHERE ...
func (s *Session) deleteFrom(ctx context.Context, st *sql.DeleteStmt, params []any) (*mysqlproto.Result, error) {
	if st.Using != nil {
		return nil, notSupported("DELETE ... USING")
	}
	db, t, err := s.lookupBaseTable(st.Table)
	if err != nil {
		return nil, err
	}
	if st.Where == nil {
		return nil, ddlError("Where clause only supports compound predicate, binary predicate, is_null predicate or in predicate")
	}
	if !t.MergeOnWrite() {
		return s.deleteByCondition(ctx, db, t, st, params)
	}
	ins, items := rewriteTarget(st.Table, st.Alias, st.Partitions, t)
	signIdx, _ := t.DeleteSignColumn()
	ins.Columns = append(ins.Columns, t.Schema.Columns[signIdx].Name)
	items = append(items, &sql.SelectItem{Expr: &sql.IntLit{Text: "1", Val: 1}, Text: "1"})
	ins.Select = rewriteSelect(st.Table, st.Alias, st.Partitions, items, st.Where)
	return s.insert(ctx, ins, params)
}

// update runs UPDATE t SET c = e, ... WHERE ...
func (s *Session) update(ctx context.Context, st *sql.UpdateStmt, params []any) (*mysqlproto.Result, error) {
	if st.From != nil {
		return nil, notSupported("UPDATE ... FROM")
	}
	_, t, err := s.lookupBaseTable(st.Table)
	if err != nil {
		return nil, err
	}
	if !t.MergeOnWrite() {
		return nil, ddlError("Only unique table could be updated.")
	}
	ins, items := rewriteTarget(st.Table, st.Alias, nil, t)
	for _, a := range st.Set {
		if a.Column.Table != "" && !strings.EqualFold(a.Column.Table, st.Table.Name) && !strings.EqualFold(a.Column.Table, st.Alias) {
			return nil, &sqlError{Code: 1054, Msg: fmt.Sprintf("Unknown column '%s.%s' in 'field list'", a.Column.Table, a.Column.Column)}
		}
		i := -1
		for j, name := range ins.Columns {
			if strings.EqualFold(name, a.Column.Column) {
				i = j
			}
		}
		if i < 0 {
			return nil, &sqlError{Code: 1054, Msg: fmt.Sprintf("Unknown column '%s' in 'field list'", a.Column.Column)}
		}
		if _, c := t.Schema.ColumnByName(a.Column.Column); c.IsKey {
			return nil, ddlError("Only value columns of unique table could be updated")
		}
		items[i] = &sql.SelectItem{Expr: a.Value, Text: a.Value.String()}
	}
	ins.Select = rewriteSelect(st.Table, st.Alias, nil, items, st.Where)
	return s.insert(ctx, ins, params)
}

// rewriteTarget starts the INSERT a DELETE or UPDATE becomes: every column
// but the delete sign, read as it is.
func rewriteTarget(name sql.ObjectName, alias string, parts []string, t *catalog.Table) (*sql.InsertStmt, []*sql.SelectItem) {
	ins := &sql.InsertStmt{Table: name}
	qual := name.Name
	if alias != "" {
		qual = alias
	}
	var items []*sql.SelectItem
	for _, c := range t.Schema.Columns {
		if strings.EqualFold(c.Name, catalog.DeleteSignColumn) {
			continue
		}
		ins.Columns = append(ins.Columns, c.Name)
		items = append(items, &sql.SelectItem{Expr: &sql.ColumnRef{Table: qual, Column: c.Name}, Text: c.Name})
	}
	return ins, items
}

// rewriteSelect is SELECT items FROM t [alias] [PARTITION ...] WHERE where.
func rewriteSelect(name sql.ObjectName, alias string, parts []string, items []*sql.SelectItem, where sql.Expr) *sql.SelectStmt {
	return &sql.SelectStmt{Body: &sql.SelectBlock{
		Items: items,
		From:  &sql.TableSource{Name: name, Alias: alias, Partitions: parts},
		Where: where,
	}}
}
