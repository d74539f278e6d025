package session

import (
	"context"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/types"
)

func (s *Session) runSelect(ctx context.Context, st *sql.SelectStmt, params []any) (*mysqlproto.Result, error) {
	pl := s.planner()
	plan, err := pl.PlanSelect(st, params)
	if err != nil {
		return nil, err
	}
	x, err := pl.Build(plan)
	if err != nil {
		return nil, err
	}
	it, err := newRowIterator(ctx, x)
	if err != nil {
		return nil, err
	}
	if v := s.Variable("return_object_data_as_binary"); v != "1" && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "on") {
		// Doris sends BITMAP and HLL values as NULL unless asked for their
		// serialized bytes.
		for i, f := range plan.Fields {
			if f.Type.Kind.IsObject() {
				it.nullCols = append(it.nullCols, i)
			}
		}
	}
	return &mysqlproto.Result{Fields: fieldsOf(plan.Fields), Rows: it}, nil
}

func fieldsOf(fs []planner.Field) []mysqlproto.Field {
	out := make([]mysqlproto.Field, len(fs))
	for i, f := range fs {
		out[i] = mysqlproto.Field{Name: f.Name, OrgName: f.OrgName, Table: f.Table, OrgTable: f.OrgTable, Schema: f.Schema, Type: f.Type, Nullable: f.Nullable}
	}
	return out
}

// rowIterator streams an operator tree's batches to the protocol layer.
type rowIterator struct {
	ctx    context.Context
	x      *planner.Execution
	b      exec.Batch
	closed bool
	// nullCols are output columns sent as NULL (BITMAP and HLL); cols and
	// nulls are the batch handed out with them replaced, nulls owned here
	// until the next batch.
	nullCols []int
	cols     []arrow.Array
	nulls    []arrow.Array
}

func newRowIterator(ctx context.Context, x *planner.Execution) (*rowIterator, error) {
	ec := exec.NewEvalContext()
	ec.TimeZone = x.TimeZone
	ctx = exec.WithEvalContext(ctx, ec)
	if err := x.Root.Open(ctx); err != nil {
		x.Root.Close()
		x.Release()
		return nil, err
	}
	return &rowIterator{ctx: ctx, x: x}, nil
}

func (r *rowIterator) Next() ([]arrow.Array, []int32, error) {
	for {
		r.b.Reset()
		err := exec.Next(r.ctx, r.x.Root, &r.b)
		if err == io.EOF {
			return nil, nil, io.EOF
		}
		if err != nil {
			return nil, nil, toMySQL(err)
		}
		if r.b.NumRows() == 0 {
			continue
		}
		if len(r.nullCols) == 0 {
			return r.b.Cols, r.b.Sel, nil
		}
		r.releaseNulls()
		r.cols = append(r.cols[:0], r.b.Cols...)
		for _, c := range r.nullCols {
			a := array.MakeArrayOfNull(memory.DefaultAllocator, r.cols[c].DataType(), r.cols[c].Len())
			r.nulls = append(r.nulls, a)
			r.cols[c] = a
		}
		return r.cols, r.b.Sel, nil
	}
}

func (r *rowIterator) releaseNulls() {
	for _, a := range r.nulls {
		a.Release()
	}
	r.nulls = r.nulls[:0]
}

func (r *rowIterator) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.releaseNulls()
	r.x.Root.Close()
	r.x.Release()
}

func (s *Session) explain(st *sql.ExplainStmt) (*mysqlproto.Result, error) {
	var sel *sql.SelectStmt
	switch x := st.Stmt.(type) {
	case *sql.SelectStmt:
		sel = x
	case *sql.InsertStmt:
		if x.Select == nil {
			return nil, notSupported("EXPLAIN of INSERT ... VALUES")
		}
		sel = x.Select
	default:
		return nil, notSupported("EXPLAIN of this statement")
	}
	plan, err := s.planner().PlanSelect(sel, nil)
	if err != nil {
		return nil, err
	}
	lines := plan.Explain()
	rows := make([][]any, len(lines))
	for i, l := range lines {
		rows[i] = []any{l}
	}
	return mysqlproto.NewRowsResult([]mysqlproto.Field{{Name: "Explain String", Type: types.String}}, rows), nil
}

// stringFields declares result columns that are all text.
func stringFields(names ...string) []mysqlproto.Field {
	out := make([]mysqlproto.Field, len(names))
	for i, n := range names {
		out[i] = mysqlproto.Field{Name: n, Type: types.Varchar(256), Nullable: true}
	}
	return out
}

// likeMatch implements SHOW ... LIKE 'pattern' (case-insensitive, % and _).
func likeMatch(pattern, s string) bool {
	return sql.MatchLike(strings.ToLower(pattern), strings.ToLower(s))
}
