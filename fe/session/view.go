package session

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
)

// createView runs CREATE [OR REPLACE] VIEW. The query is bound now, in
// the view's database, to check it and to fix the view's column names and
// types; the view stores its text and binds it again on every read.
func (s *Session) createView(ctx context.Context, st *sql.CreateViewStmt) (*mysqlproto.Result, error) {
	db, err := s.dbFor(st.Name)
	if err != nil {
		return nil, err
	}
	fields, err := s.planner().ViewFields(db, st.Query)
	if err != nil {
		return nil, err
	}
	if len(st.Columns) > 0 && len(st.Columns) != len(fields) {
		return nil, &sqlError{Code: 1353, Msg: "In definition of view, derived table or common table expression, SELECT list and column names list have different column counts"}
	}
	v := &catalog.Table{Name: st.Name.Name, Comment: st.Comment, View: &catalog.ViewDef{Query: strings.TrimSpace(st.QueryText)}}
	seen := map[string]bool{}
	for i, f := range fields {
		c := catalog.Column{Name: f.Name, Type: f.Type, Nullable: f.Nullable}
		if len(st.Columns) > 0 {
			c.Name, c.Comment = st.Columns[i].Name, st.Columns[i].Comment
		}
		if seen[strings.ToLower(c.Name)] {
			return nil, &sqlError{Code: 1060, Msg: fmt.Sprintf("Duplicate column name '%s'", c.Name)}
		}
		seen[strings.ToLower(c.Name)] = true
		v.Schema.Columns = append(v.Schema.Columns, c)
	}
	if err := s.eng.Catalog.CreateView(ctx, db, v, st.OrReplace, st.IfNotExists); err != nil {
		return nil, err
	}
	return ok(0), nil
}

// dropView runs DROP VIEW; naming a table is an error, as in MySQL.
func (s *Session) dropView(ctx context.Context, st *sql.DropViewStmt) (*mysqlproto.Result, error) {
	for _, n := range st.Names {
		db, err := s.dbFor(n)
		if err != nil {
			return nil, err
		}
		t, err := s.eng.Catalog.Snapshot().Table(db, n.Name)
		if err == nil && !t.IsView() {
			return nil, notAView(db, n.Name)
		}
		if err := s.eng.Catalog.DropTable(ctx, db, n.Name, st.IfExists); err != nil {
			return nil, err
		}
	}
	return ok(0), nil
}

func notAView(db, name string) error {
	return &sqlError{Code: 1347, Msg: fmt.Sprintf("'%s.%s' is not VIEW", db, name)}
}

// notBaseTable is the error for writing or altering a view as if it were
// a table.
func notBaseTable(db, name string) error {
	return &sqlError{Code: 1347, Msg: fmt.Sprintf("'%s.%s' is not BASE TABLE", db, name)}
}

// showCreateView renders SHOW CREATE VIEW (and SHOW CREATE TABLE of a
// view) with MySQL's columns.
func showCreateView(db string, v *catalog.Table) *mysqlproto.Result {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE VIEW %s.%s", quoteIdent(db), quoteIdent(v.Name))
	b.WriteString(" (")
	for i, c := range v.Schema.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name))
		if c.Comment != "" {
			b.WriteString(" COMMENT " + quoteString(c.Comment))
		}
	}
	b.WriteString(")")
	if v.Comment != "" {
		b.WriteString(" COMMENT " + quoteString(v.Comment))
	}
	b.WriteString(" AS " + v.View.Query)
	return mysqlproto.NewRowsResult(stringFields("View", "Create View", "character_set_client", "collation_connection"),
		[][]any{{v.Name, b.String(), "utf8mb4", "utf8mb4_0900_bin"}})
}

// lookupBaseTable finds the table a write names; a view is refused.
func (s *Session) lookupBaseTable(n sql.ObjectName) (string, *catalog.Table, error) {
	db, t, err := s.lookupTable(n)
	if err == nil && t.IsView() {
		return "", nil, notBaseTable(db, t.Name)
	}
	return db, t, err
}
