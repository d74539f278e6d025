package storage

import (
	"bytes"
	"cmp"
	"fmt"
	"math/big"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// DeletePredicate is the condition of a DELETE on a table whose rows are
// not replaced by key on write (duplicate, aggregate and merge-on-read
// unique keys): the rows of older versions for which every condition holds
// are deleted. It is recorded with the transaction's rowsets, so it is
// plain data.
type DeletePredicate struct {
	Conditions []DeleteCondition `json:"conditions"`
}

// DeleteCondition compares one column with literals. Op is one of "=",
// "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "IS NULL", "IS NOT NULL". A
// NULL value satisfies only IS NULL. The literals are in the column's
// physical form: Ints for integer, boolean (0/1), DATE (days since the
// epoch) and DATETIME (microseconds) columns; Strs for string columns, and
// for DECIMAL and LARGEINT columns the unscaled integer in decimal.
type DeleteCondition struct {
	Column uint32   `json:"column"`
	Op     string   `json:"op"`
	Ints   []int64  `json:"ints,omitempty"`
	Strs   []string `json:"strs,omitempty"`
	// MissingMatches: a row of a segment written before the column was
	// added, which reads the column's default, satisfies the condition.
	MissingMatches bool `json:"missing_matches,omitempty"`
}

// Columns lists the ids of the columns the predicate reads.
func (p *DeletePredicate) Columns() []uint32 {
	var ids []uint32
	for _, c := range p.Conditions {
		if !slices.Contains(ids, c.Column) {
			ids = append(ids, c.Column)
		}
	}
	return ids
}

// Match adds to dst, offset by base, the rows of a batch that every
// condition deletes. cols maps a column id to the batch's values of it; for
// a column the batch lacks (a segment written before the column was added)
// the condition's MissingMatches holds for every row.
func (p *DeletePredicate) Match(cols map[uint32]arrow.Array, n int, base uint32, dst *roaring.Bitmap) error {
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = true
	}
	for ci := range p.Conditions {
		c := &p.Conditions[ci]
		a := cols[c.Column]
		if a == nil {
			if !c.MissingMatches {
				return nil
			}
			continue
		}
		test, err := c.tester(a)
		if err != nil {
			return err
		}
		for i := range keep {
			if keep[i] && !test(i) {
				keep[i] = false
			}
		}
	}
	for i, k := range keep {
		if k {
			dst.Add(base + uint32(i))
		}
	}
	return nil
}

// tester returns whether row i of a satisfies the condition.
func (c *DeleteCondition) tester(a arrow.Array) (func(i int) bool, error) {
	switch c.Op {
	case "IS NULL":
		return a.IsNull, nil
	case "IS NOT NULL":
		return a.IsValid, nil
	}
	cmps, err := c.comparers(a)
	if err != nil {
		return nil, err
	}
	if len(cmps) == 0 {
		return nil, fmt.Errorf("storage: delete condition %s on column %d has no value", c.Op, c.Column)
	}
	var want func(int) bool
	switch c.Op {
	case "=", "IN":
		want = func(r int) bool { return r == 0 }
	case "!=", "NOT IN":
		want = func(r int) bool { return r != 0 }
	case "<":
		want = func(r int) bool { return r < 0 }
	case "<=":
		want = func(r int) bool { return r <= 0 }
	case ">":
		want = func(r int) bool { return r > 0 }
	case ">=":
		want = func(r int) bool { return r >= 0 }
	default:
		return nil, fmt.Errorf("storage: unknown delete condition operator %q", c.Op)
	}
	// IN holds when one literal matches; NOT IN when every one differs;
	// the others have one literal.
	every := c.Op == "NOT IN"
	return func(i int) bool {
		if a.IsNull(i) {
			return false
		}
		for _, compare := range cmps {
			if want(compare(i)) != every {
				return !every
			}
		}
		return every
	}, nil
}

// comparers returns, per literal, the comparison of row i with it.
func (c *DeleteCondition) comparers(a arrow.Array) ([]func(i int) int, error) {
	var out []func(int) int
	ints := func(get func(int) int64) {
		for _, v := range c.Ints {
			out = append(out, func(i int) int { return cmp.Compare(get(i), v) })
		}
	}
	switch x := a.(type) {
	case *array.Int8:
		ints(func(i int) int64 { return int64(x.Value(i)) })
	case *array.Int16:
		ints(func(i int) int64 { return int64(x.Value(i)) })
	case *array.Int32:
		ints(func(i int) int64 { return int64(x.Value(i)) })
	case *array.Int64:
		ints(func(i int) int64 { return x.Value(i) })
	case *array.Date32:
		ints(func(i int) int64 { return int64(x.Value(i)) })
	case *array.Timestamp:
		ints(func(i int) int64 { return int64(x.Value(i)) })
	case *array.Boolean:
		ints(func(i int) int64 {
			if x.Value(i) {
				return 1
			}
			return 0
		})
	case *array.String:
		for _, v := range c.Strs {
			out = append(out, func(i int) int { return cmp.Compare(x.Value(i), v) })
		}
	case *array.Binary:
		for _, v := range c.Strs {
			out = append(out, func(i int) int { return bytes.Compare(x.Value(i), []byte(v)) })
		}
	case *array.Decimal128:
		for _, s := range c.Strs {
			b, ok := new(big.Int).SetString(s, 10)
			if !ok {
				return nil, fmt.Errorf("storage: delete condition on column %d: bad decimal %q", c.Column, s)
			}
			v := decimal128.FromBigInt(b)
			out = append(out, func(i int) int { return x.Value(i).Cmp(v) })
		}
	default:
		return nil, fmt.Errorf("storage: delete condition on column %d of type %s", c.Column, a.DataType())
	}
	return out, nil
}
