package exec

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/types"
)

// DenseColumns returns the live rows of b as arrays of the plain Arrow
// type of each column's SQL type (ts, the producer's Schema()): the
// selection vector applied and dictionary arrays decoded, as a batch is
// sent to another process. A column that is already dense is returned
// retained rather than copied. The caller owns the result and releases
// each array; b is left as it was.
func DenseColumns(b *Batch, ts []types.Type) []arrow.Array {
	out := make([]arrow.Array, len(b.Cols))
	for i, c := range b.Cols {
		if b.Sel == nil && arrow.TypeEqual(c.DataType(), ts[i].Arrow()) {
			c.Retain()
			out[i] = c
			continue
		}
		bld := newBuilder(ts[i])
		appendView(bld, newView(c, ts[i]), rowsOf(b))
		out[i] = bld.NewArray()
		bld.Release()
	}
	return out
}

// QueryEvalContext returns the EvalContext attached to ctx by
// [WithEvalContext], or nil. Operators that start work in another process
// read the query's settings (Now, TimeZone) from it.
func QueryEvalContext(ctx context.Context) *EvalContext {
	ec, _ := ctx.Value(evalCtxKey{}).(*EvalContext)
	return ec
}
