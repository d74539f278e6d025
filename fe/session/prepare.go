package session

import (
	"context"

	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
)

// Prepare implements COM_STMT_PREPARE: the statement is parsed once; a query
// is also planned once without arguments so that the client learns its
// result columns at prepare time (some drivers need them).
func (s *Session) Prepare(_ context.Context, text string) (*mysqlproto.Prepared, error) {
	st, err := sql.Parse(text)
	if err != nil {
		return nil, toMySQL(err)
	}
	p := &mysqlproto.Prepared{NumParams: st.ParamCount(), Impl: st}
	if sel, ok := st.(*sql.SelectStmt); ok {
		plan, err := s.planner().PlanSelect(sel, nil)
		if err != nil {
			return nil, toMySQL(err)
		}
		p.Columns = fieldsOf(plan.Fields)
	}
	return p, nil
}

// Execute implements COM_STMT_EXECUTE.
func (s *Session) Execute(ctx context.Context, p *mysqlproto.Prepared, args []any) (*mysqlproto.Result, error) {
	st, ok := p.Impl.(sql.Stmt)
	if !ok {
		return nil, mysqlproto.NewError(mysqlproto.ER_UNKNOWN_ERROR, "unknown prepared statement")
	}
	r, err := s.execute(ctx, st, args)
	if err != nil {
		return nil, toMySQL(err)
	}
	return r, nil
}

// ClosePrepared implements COM_STMT_CLOSE; a parsed statement holds nothing
// to free.
func (s *Session) ClosePrepared(*mysqlproto.Prepared) {}

// FieldList implements COM_FIELD_LIST for the mysql client's completion.
func (s *Session) FieldList(_ context.Context, table, wildcard string) ([]mysqlproto.Field, error) {
	if e := s.effective(); e != nil {
		// As DESC: the table must be visible, before its existence is told.
		if err := s.needVisibleTable(e, sql.ObjectName{Name: table}); err != nil {
			return nil, toMySQL(err)
		}
	}
	db, t, err := s.lookupTableOrSystem(sql.ObjectName{Name: table})
	if err != nil {
		return nil, toMySQL(err)
	}
	var out []mysqlproto.Field
	for _, c := range t.Schema.Columns {
		if wildcard != "" && !likeMatch(wildcard, c.Name) {
			continue
		}
		out = append(out, mysqlproto.Field{Name: c.Name, OrgName: c.Name, Table: t.Name, OrgTable: t.Name, Schema: db, Type: c.Type, Nullable: c.Nullable})
	}
	return out, nil
}
