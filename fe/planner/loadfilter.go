package planner

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/types"
)

// RowFilter is a compiled stream load where clause: a boolean expression
// over the columns of the load's target table, evaluated a batch at a time.
//
// A RowFilter is reused for every batch of a load; it is used by one
// goroutine at a time.
type RowFilter struct {
	text string
	ncol int
	pred exec.Expr // BOOLEAN; nil when the clause is constant
	// all is the value of a constant clause: keep every row or none.
	all bool
	// now is NOW()'s value for the whole load, fixed at compile time.
	now time.Time
}

// CompileRowFilter compiles the where header of a stream load against the
// columns the load writes. where is a SQL boolean expression; its column
// names are matched case-insensitively against cols and must not be
// qualified. Aggregates, window functions, subqueries, variables and
// placeholders are errors, as is an expression whose type is not BOOLEAN.
// The errors are [*Error]s whose text is fit to return to the client.
func CompileRowFilter(cols []catalog.Column, where string) (*RowFilter, error) {
	e, err := sql.ParseExpr(where)
	if err != nil {
		return nil, &Error{Code: ErrParse, Msg: err.Error()}
	}
	if err := checkRowFilterExpr(e, cols); err != nil {
		return nil, err
	}
	sc := &scope{cols: make([]column, len(cols))}
	for i, c := range cols {
		sc.cols[i] = column{name: c.Name, orgName: c.Name, t: c.Type, nullable: c.Nullable, scanID: -1, schemaIdx: i}
	}
	p := &Planner{sess: loadFilterSession{}}
	b := &exprBinder{p: p, scope: sc}
	x, err := b.bind(e)
	if err != nil {
		return nil, err
	}
	if x.t.Kind != types.KindBoolean {
		return nil, &Error{Code: ErrWrongArguments, Msg: fmt.Sprintf("where clause must be a boolean expression, not %s: %s", x.t, e)}
	}
	if x, err = foldConstants(x); err != nil {
		return nil, typeError(err)
	}
	f := &RowFilter{text: e.String(), ncol: len(cols), now: time.Now()}
	if x.kind == irLit {
		v, _ := x.lit.Value.(bool)
		f.all = v
		return f, nil
	}
	if f.pred, err = x.compile(nil); err != nil {
		return nil, typeError(err)
	}
	return f, nil
}

// foldConstants replaces the constant subexpressions of e (those that read
// no column and call no volatile function) by their values. be/exec's
// comparison kernels assume at most one constant operand (a comparison of
// two constants, as in "1 = 0 OR age > 1", indexes past its constant);
// folding also saves evaluating a constant for every batch.
func foldConstants(e *ir) (*ir, error) {
	if e.kind != irCall {
		return e, nil
	}
	if e.isConst() {
		c, err := e.compile(nil)
		if err != nil {
			return nil, err
		}
		if l, ok := exec.Fold(c).(*exec.Literal); ok {
			return litIR(l), nil
		}
		// Evaluation failed; the error surfaces when a batch is filtered.
		return e, nil
	}
	c := *e
	c.args = make([]*ir, len(e.args))
	for i, a := range e.args {
		x, err := foldConstants(a)
		if err != nil {
			return nil, err
		}
		c.args[i] = x
	}
	return &c, nil
}

// checkRowFilterExpr rejects what a row filter cannot contain and names
// unknown columns the way MySQL does for a WHERE clause.
func checkRowFilterExpr(e sql.Expr, cols []catalog.Column) error {
	var err error
	walkExpr(e, func(x sql.Expr) bool {
		if err != nil {
			return false
		}
		switch x := x.(type) {
		case *sql.ColumnRef:
			if x.DB != "" || x.Table != "" || !hasColumn(cols, x.Column) {
				err = &Error{Code: ErrBadField, Msg: fmt.Sprintf("Unknown column '%s' in 'where clause'", refText(x))}
			}
		case *sql.FuncCall:
			switch {
			case x.Over != nil:
				err = &Error{Code: ErrNotSupportedYet, Msg: fmt.Sprintf("window function %s is not allowed in a where clause", x.Name)}
			case isAggregate(x.Name):
				err = &Error{Code: ErrInvalidGroupFunc, Msg: fmt.Sprintf("aggregate function %s is not allowed in a where clause", x.Name)}
			}
		case *sql.SubqueryExpr, *sql.ExistsExpr:
			err = &Error{Code: ErrNotSupportedYet, Msg: "subqueries are not allowed in a where clause of a load"}
		case *sql.InExpr:
			if x.Query != nil {
				err = &Error{Code: ErrNotSupportedYet, Msg: "subqueries are not allowed in a where clause of a load"}
			}
		case *sql.VarRef:
			err = &Error{Code: ErrNotSupportedYet, Msg: fmt.Sprintf("variable %s is not allowed in a where clause of a load", x)}
		case *sql.Placeholder:
			err = &Error{Code: ErrParse, Msg: "placeholder ? is not allowed in a where clause of a load"}
		}
		return err == nil
	})
	return err
}

func hasColumn(cols []catalog.Column, name string) bool {
	for i := range cols {
		if strings.EqualFold(cols[i].Name, name) {
			return true
		}
	}
	return false
}

// String returns the clause in canonical SQL form.
func (f *RowFilter) String() string { return f.text }

// Select appends to keep the indexes, ascending, of the rows for which the
// clause is TRUE (rows where it is FALSE or NULL are left out) and returns
// the extended slice. cols holds one array per column the filter was
// compiled for, in that order, typed as Column.Type.Arrow() and n rows
// long; Select neither retains nor releases them.
func (f *RowFilter) Select(cols []arrow.Array, n int, keep []int32) ([]int32, error) {
	if len(cols) != f.ncol {
		return keep, fmt.Errorf("where clause compiled for %d columns, batch has %d", f.ncol, len(cols))
	}
	if f.pred == nil {
		if f.all {
			for i := 0; i < n; i++ {
				keep = append(keep, int32(i))
			}
		}
		return keep, nil
	}
	// A fresh context per batch: its view cache would otherwise keep the
	// previous batches' arrays reachable.
	ectx := &exec.EvalContext{Now: f.now, TimeZone: time.Local, Mem: memory.DefaultAllocator}
	arr, err := f.pred.Eval(ectx, &exec.Batch{Cols: cols, Len: n})
	if err != nil {
		return keep, fmt.Errorf("evaluating where clause %s: %w", f.text, err)
	}
	defer arr.Release()
	if arr.Len() != n {
		panic(fmt.Sprintf("BUG: where clause %s gave %d values for %d rows", f.text, arr.Len(), n))
	}
	res, ok := arr.(*array.Boolean)
	if !ok {
		if arr.NullN() == n {
			return keep, nil
		}
		panic(fmt.Sprintf("BUG: where clause %s evaluated to %s", f.text, arr.DataType()))
	}
	if res.NullN() == 0 {
		for i := 0; i < n; i++ {
			if res.Value(i) {
				keep = append(keep, int32(i))
			}
		}
		return keep, nil
	}
	for i := 0; i < n; i++ {
		if res.IsValid(i) && res.Value(i) {
			keep = append(keep, int32(i))
		}
	}
	return keep, nil
}

// loadFilterSession is the session a row filter binds in: a load has no
// current database, user variables or prepared parameters.
type loadFilterSession struct{}

func (loadFilterSession) CurrentDB() string      { return "" }
func (loadFilterSession) User() string           { return "" }
func (loadFilterSession) ConnectionID() uint32   { return 0 }
func (loadFilterSession) Variable(string) string { return "" }
func (loadFilterSession) SystemVariable(name, _ string) (string, bool, error) {
	return "", false, &Error{Code: ErrUnknownSysVar, Msg: fmt.Sprintf("Unknown system variable '%s'", name)}
}
func (loadFilterSession) UserVariable(string) any { return nil }
