package sink

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/loader"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// ErrConversion: a row's value does not fit the index column it is
// converted to (a schema change to a type the value cannot take, or NULL
// for a NOT NULL column). Converting again cannot help.
var ErrConversion = errors.New("value cannot be converted")

// IndexProjection computes the rows of a rollup or materialized view from
// rows of the base index (one array per base column, in schema order).
type IndexProjection struct {
	Index  *catalog.Index
	Schema TabletSchema
	exprs  []exec.Expr
	ctx    *exec.EvalContext
	// casts are the columns converted to another type: a value that does
	// not convert (the cast gives NULL) fails the write.
	casts []castCheck
}

type castCheck struct {
	out, in int
	name    string
	to      types.Type
}

// NewIndexProjection returns the projection of base rows of t onto ix.
func NewIndexProjection(t *catalog.Table, ix *catalog.Index) (*IndexProjection, error) {
	p := &IndexProjection{Index: ix, Schema: SchemaOf(t.IndexTable(ix)), ctx: exec.NewEvalContext()}
	pos := map[uint32]int{}
	for i, c := range t.Schema.Columns {
		pos[c.ID] = i
	}
	for i, c := range ix.Schema.Columns {
		d := ix.Defines[i]
		var ref *exec.ColumnRef
		if d.Func != catalog.DefineCountStar && d.Func != catalog.DefineDefault {
			at, ok := pos[d.Base]
			if !ok {
				return nil, fmt.Errorf("index %s: column %s reads base column id %d, which table %s no longer has", ix.Name, c.Name, d.Base, t.Name)
			}
			ref = exec.NewColumnRef(at, t.Schema.Columns[at].Type)
		}
		var e exec.Expr
		var err error
		switch d.Func {
		case "":
			e = ref
			if ref.T != c.Type {
				e, err = exec.NewCast(ref, c.Type)
				p.casts = append(p.casts, castCheck{out: i, in: ref.Idx, name: c.Name, to: c.Type})
			}
		case catalog.DefineDefault:
			e = exec.NewLiteral(nil, c.Type)
			if c.Default != nil {
				e, err = exec.NewLiteralChecked(*c.Default, c.Type)
			}
		case catalog.DefineCount:
			e, err = exec.NewIf(exec.NewIsNull(ref, false), exec.NewLiteral(int64(0), types.BigInt), exec.NewLiteral(int64(1), types.BigInt))
		case catalog.DefineCountStar:
			e = exec.NewLiteral(int64(1), types.BigInt)
		case catalog.DefineToBitmap, catalog.DefineHLLHash:
			var fn exec.Function
			if fn, _, err = exec.LookupFunction(d.Func, []types.Type{ref.T}); err == nil {
				e, err = exec.NewFuncCall(fn, []exec.Expr{ref})
			}
		default:
			err = fmt.Errorf("unknown function %q", d.Func)
		}
		if err != nil {
			return nil, fmt.Errorf("index %s: column %s: %w", ix.Name, c.Name, err)
		}
		p.exprs = append(p.exprs, e)
	}
	return p, nil
}

// Project computes the index's columns of n base rows. The caller
// releases the arrays.
func (p *IndexProjection) Project(cols []arrow.Array) ([]arrow.Array, error) {
	b := &exec.Batch{Cols: cols, Len: cols[0].Len()}
	out := make([]arrow.Array, len(p.exprs))
	for i, e := range p.exprs {
		a, err := e.Eval(p.ctx, b)
		if err != nil {
			for _, x := range out[:i] {
				x.Release()
			}
			return nil, fmt.Errorf("index %s: column %s: %w", p.Index.Name, p.Index.Schema.Columns[i].Name, err)
		}
		out[i] = a
	}
	for _, c := range p.casts {
		in, got := cols[c.in], out[c.out]
		if got.NullN() == in.NullN() {
			continue
		}
		for r := 0; r < got.Len(); r++ {
			if got.IsNull(r) && !in.IsNull(r) {
				err := fmt.Errorf("%w: column %s: the value %s cannot be converted to %s", ErrConversion, c.name, in.ValueStr(r), c.to.SQLName())
				for _, x := range out {
					x.Release()
				}
				return nil, err
			}
		}
	}
	for i, c := range p.Index.Schema.Columns {
		if !c.Nullable && out[i].NullN() > 0 {
			for _, x := range out {
				x.Release()
			}
			return nil, fmt.Errorf("%w: column %s is NOT NULL, and a row has NULL", ErrConversion, c.Name)
		}
	}
	return out, nil
}

// partial maps a partial update of the base onto the index: the index
// columns copied from base columns the load gives. An index of a
// merge-on-write table holds every key, so a row's key is always given.
func (p *IndexProjection) partial(t *catalog.Table, base *loader.PartialUpdate) *loader.PartialUpdate {
	given := map[uint32]bool{}
	for _, i := range base.Columns {
		given[t.Schema.Columns[i].ID] = true
	}
	out := &loader.PartialUpdate{NewKeyError: base.NewKeyError}
	for i, c := range p.Index.Schema.Columns {
		d := p.Index.Defines[i]
		switch {
		case d.Func == "" && given[d.Base]:
			out.Columns = append(out.Columns, i)
		case base.Unfillable != "" && c.Name == base.Unfillable:
			out.Unfillable = c.Name
		}
	}
	return out
}

// CheckDelete refuses a DELETE condition index ix cannot apply as the
// base does: every column it names must be in the index as it is, and a
// key there when the index aggregates.
func CheckDelete(ix *catalog.Index, pred storage.DeletePredicate) error {
	for _, id := range pred.Columns() {
		found := false
		for i, c := range ix.Schema.Columns {
			if c.ID == id && ix.Defines[i].Func == "" && (ix.KeysType == catalog.DupKeys || c.IsKey) {
				found = true
			}
		}
		if !found {
			return &DeleteIndexError{Column: id, Index: ix.Name}
		}
	}
	return nil
}

// DeleteIndexError: a DELETE names a column an index cannot delete by.
type DeleteIndexError struct {
	Column uint32 // id
	Index  string
	// Name is the column's name, when the caller knows it.
	Name string
}

func (e *DeleteIndexError) Error() string {
	name := e.Name
	if name == "" {
		name = fmt.Sprintf("with id %d", e.Column)
	}
	return fmt.Sprintf("The column %s of the DELETE condition is not a column of rollup or materialized view %s that it can delete by; drop the index first", name, e.Index)
}
