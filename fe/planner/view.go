package planner

import (
	"fmt"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/sql"
)

// maxViewDepth bounds views reading views, which also stops a view that
// (through CREATE OR REPLACE) reads itself.
const maxViewDepth = 32

// defaultDB is the database an unqualified table name refers to: the
// innermost view's while one is expanded, else the session's.
func (p *Planner) defaultDB() string {
	if n := len(p.viewDBs); n > 0 {
		return p.viewDBs[n-1]
	}
	return p.sess.CurrentDB()
}

// bindView expands a view: its query, bound in the view's database, as a
// derived table named alias with the view's column names.
func (p *Planner) bindView(db string, v *catalog.Table, alias string) (node, error) {
	if len(p.viewDBs) >= maxViewDepth {
		return nil, &Error{Code: ErrUnknown, Msg: fmt.Sprintf("View '%s.%s' nests views more than %d deep (or reads itself)", db, v.Name, maxViewDepth)}
	}
	q, err := parseViewQuery(v.View.Query)
	if err != nil {
		return nil, invalidView(db, v.Name)
	}
	p.viewDBs = append(p.viewDBs, db)
	p.expandingViews++
	n, err := p.bindSelect(q, nil)
	p.expandingViews--
	p.viewDBs = p.viewDBs[:len(p.viewDBs)-1]
	if err != nil {
		if pe, ok := err.(*Error); ok && (pe.Code == ErrNoSuchTable || pe.Code == ErrBadField || pe.Code == ErrBadDB) {
			return nil, invalidView(db, v.Name)
		}
		return nil, err
	}
	pn := renameColumns(n, alias).(*projectNode)
	if len(pn.out) != len(v.Schema.Columns) {
		return nil, invalidView(db, v.Name)
	}
	for i := range pn.out {
		pn.out[i].name = v.Schema.Columns[i].Name
		pn.out[i].orgName = v.Schema.Columns[i].Name
		pn.out[i].orgTable = v.Name
		pn.out[i].db = db
	}
	return pn, nil
}

func parseViewQuery(text string) (*sql.SelectStmt, error) {
	st, err := sql.Parse(text)
	if err != nil {
		return nil, err
	}
	q, ok := st.(*sql.SelectStmt)
	if !ok {
		return nil, fmt.Errorf("a view's query is a %T", st)
	}
	return q, nil
}

// invalidView is MySQL's error 1356 for a view whose tables or columns
// have changed under it.
func invalidView(db, name string) error {
	return &Error{Code: 1356, Msg: fmt.Sprintf("View '%s.%s' references invalid table(s) or column(s) or function(s) or definer/invoker of view lack rights to use them", db, name)}
}

// ViewFields binds a view's query as CREATE VIEW does, in the view's
// database db, and returns its output columns.
func (p *Planner) ViewFields(db string, q *sql.SelectStmt) ([]Field, error) {
	p.viewDBs = append(p.viewDBs, db)
	defer func() { p.viewDBs = p.viewDBs[:len(p.viewDBs)-1] }()
	pl, err := p.PlanSelect(q, nil)
	if err != nil {
		return nil, err
	}
	return pl.Fields, nil
}
