package planner

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/types"
)

// literalFromArray reads row i of arr as a constant of type t.
func literalFromArray(arr arrow.Array, i int, t types.Type) (*exec.Literal, error) {
	if arr.IsNull(i) {
		return exec.NewLiteral(nil, t), nil
	}
	var v any
	switch a := arr.(type) {
	case *array.Boolean:
		v = a.Value(i)
	case *array.Int8:
		v = int64(a.Value(i))
	case *array.Int16:
		v = int64(a.Value(i))
	case *array.Int32:
		v = int64(a.Value(i))
	case *array.Int64:
		v = a.Value(i)
	case *array.Float32:
		v = float64(a.Value(i))
	case *array.Float64:
		v = a.Value(i)
	case *array.Decimal128:
		v = a.Value(i)
	case *array.Date32:
		v = int64(a.Value(i))
	case *array.Timestamp:
		v = int64(a.Value(i))
	case *array.String:
		v = a.Value(i)
	default:
		return nil, fmt.Errorf("BUG: constant of arrow type %s", arr.DataType())
	}
	return exec.NewLiteralChecked(v, t)
}
