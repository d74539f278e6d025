package keymodel

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/be/sketch"
)

// Kind is a data model.
type Kind uint8

const (
	Duplicate Kind = iota // every row is kept
	Unique                // one row per key: the newest, or the highest sequence value
	Aggregate             // one row per key: value columns aggregated
)

var kindNames = [...]string{Duplicate: "DUPLICATE", Unique: "UNIQUE", Aggregate: "AGGREGATE"}

// IsValid reports whether k is a known model.
func (k Kind) IsValid() bool { return int(k) < len(kindNames) }

// String returns the model's name as in DUPLICATE KEY, UNIQUE KEY, ...
func (k Kind) String() string {
	if !k.IsValid() {
		return fmt.Sprintf("Kind(%d)", uint8(k))
	}
	return kindNames[k]
}

// Agg is the aggregation of a column of an aggregate-key table.
type Agg uint8

const (
	None Agg = iota // a key column
	Sum
	Min
	Max
	Replace
	ReplaceIfNotNull
	BitmapUnion
	HLLUnion
)

var aggNames = [...]string{
	None: "NONE", Sum: "SUM", Min: "MIN", Max: "MAX", Replace: "REPLACE",
	ReplaceIfNotNull: "REPLACE_IF_NOT_NULL", BitmapUnion: "BITMAP_UNION", HLLUnion: "HLL_UNION",
}

// IsValid reports whether a is a known aggregation.
func (a Agg) IsValid() bool { return int(a) < len(aggNames) }

// String returns the aggregation's name as Doris spells it.
func (a Agg) String() string {
	if !a.IsValid() {
		return fmt.Sprintf("Agg(%d)", uint8(a))
	}
	return aggNames[a]
}

// ParseAgg reads an aggregation as Doris names it, in any case; "" and
// NONE are None.
func ParseAgg(name string) (Agg, error) {
	if name == "" {
		return None, nil
	}
	for a, s := range aggNames {
		if strings.EqualFold(name, s) {
			return Agg(a), nil
		}
	}
	return None, fmt.Errorf("keymodel: unknown aggregation type %q", name)
}

// Model says how the rows of one key fold. A Model is not changed once
// in use and may be used by many goroutines at once.
type Model struct {
	Kind    Kind
	NumKeys int // the leading key columns; at least one unless Duplicate
	// Aggs is the aggregation of every column: None for the keys, another
	// for each value column. Aggregate only.
	Aggs []Agg
	// SeqCol is the column of a unique key's sequence values, -1 for none.
	// Unique only.
	SeqCol int
	// Union merges the serialized sketch values of one key (BITMAP_UNION,
	// HLL_UNION), oldest first; it is called with two or more values and
	// must be associative (see the package doc). Nil means be/sketch's
	// unions, which is what every table wants; tests set their own.
	Union func(agg Agg, vals []string) (string, error)
}

// New returns the model of a table as its catalog describes it: the
// aggregations by name, one per column (Aggregate only), and the sequence
// column's index (-1: none; Unique only).
func New(kind Kind, numKeys int, aggs []string, seqCol int) (*Model, error) {
	m := &Model{Kind: kind, NumKeys: numKeys, SeqCol: -1}
	switch kind {
	case Aggregate:
		m.Aggs = make([]Agg, len(aggs))
		for i, name := range aggs {
			a, err := ParseAgg(name)
			if err != nil {
				return nil, err
			}
			m.Aggs[i] = a
		}
	case Unique:
		m.SeqCol = seqCol
	}
	return m, nil
}

// check returns the number of rows of cols, or an error when m cannot
// fold them.
func (m *Model) check(cols []arrow.Array) (int, error) {
	if !m.Kind.IsValid() {
		return 0, fmt.Errorf("keymodel: unknown data model %d", m.Kind)
	}
	if len(cols) == 0 {
		return 0, fmt.Errorf("keymodel: no columns")
	}
	n := cols[0].Len()
	for c, a := range cols {
		if a.Len() != n {
			return 0, fmt.Errorf("keymodel: column %d has %d rows, column 0 has %d", c, a.Len(), n)
		}
	}
	if m.Kind == Duplicate {
		return n, nil
	}
	if m.NumKeys < 1 || m.NumKeys > len(cols) {
		return 0, fmt.Errorf("keymodel: %d key columns of %d", m.NumKeys, len(cols))
	}
	for c, a := range cols[:m.NumKeys] {
		if !sortable(a.DataType()) {
			return 0, fmt.Errorf("keymodel: key column %d of type %s", c, a.DataType())
		}
	}
	switch m.Kind {
	case Unique:
		if m.SeqCol < -1 || m.SeqCol >= len(cols) {
			return 0, fmt.Errorf("keymodel: sequence column %d of %d", m.SeqCol, len(cols))
		}
		if m.SeqCol >= 0 && !sortable(cols[m.SeqCol].DataType()) {
			return 0, fmt.Errorf("keymodel: sequence column %d of type %s", m.SeqCol, cols[m.SeqCol].DataType())
		}
	case Aggregate:
		if len(m.Aggs) != len(cols) {
			return 0, fmt.Errorf("keymodel: %d aggregations for %d columns", len(m.Aggs), len(cols))
		}
		for c, agg := range m.Aggs {
			if err := checkAgg(agg, c < m.NumKeys, cols[c].DataType()); err != nil {
				return 0, fmt.Errorf("keymodel: column %d: %w", c, err)
			}
		}
	}
	return n, nil
}

// checkAgg says whether agg can fold a column of type dt.
func checkAgg(agg Agg, key bool, dt arrow.DataType) error {
	switch {
	case !agg.IsValid():
		return fmt.Errorf("unknown aggregation %d", agg)
	case key && agg != None:
		return fmt.Errorf("key column aggregated by %s", agg)
	case !key && agg == None:
		return fmt.Errorf("value column without an aggregation")
	}
	ok := true
	switch agg {
	case Sum:
		switch dt.ID() {
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL128:
		default:
			ok = false
		}
	case Min, Max:
		ok = sortable(dt)
	case BitmapUnion, HLLUnion:
		ok = dt.ID() == arrow.STRING
	}
	if !ok {
		return fmt.Errorf("%s of %s", agg, dt)
	}
	return nil
}

// sortable reports whether the tablet store sorts values of type dt.
func sortable(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.FLOAT32, arrow.FLOAT64,
		arrow.DECIMAL128, arrow.DATE32, arrow.TIMESTAMP, arrow.STRING:
		return true
	}
	return false
}

// union returns m's union function.
func (m *Model) union() func(Agg, []string) (string, error) {
	if m.Union != nil {
		return m.Union
	}
	return sketchUnion
}

// sketchUnion merges sketches with be/sketch.
func sketchUnion(agg Agg, vals []string) (string, error) {
	if agg == BitmapUnion {
		return sketch.UnionBitmaps(vals)
	}
	return sketch.UnionHLLs(vals)
}
