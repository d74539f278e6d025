// Package keymodel folds the rows of one key into one, as the UNIQUE and
// AGGREGATE KEY data models want: the newest row (or the one with the
// largest sequence value) of a unique key, and the aggregation of each
// value column of an aggregate key.
//
// Rows come sorted on their key columns with the rows of one key in
// arrival order, oldest first: a load's memtable after its stable sort,
// or the k-way merge of a tablet's rowsets in version order. Folding runs
// where those are: when a memtable is flushed, in compaction, and when a
// merge-on-read or aggregate-key table is read.
package keymodel

import (
	"fmt"
	"strings"
)

// Kind is a data model.
type Kind uint8

const (
	Duplicate Kind = iota // every row is kept
	Unique                // one row per key: the newest, or the highest sequence value
	Aggregate             // one row per key: value columns aggregated
)

// Agg is the aggregation of a value column of an aggregate-key table.
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

var aggNames = map[string]Agg{
	"": None, "NONE": None, "SUM": Sum, "MIN": Min, "MAX": Max, "REPLACE": Replace,
	"REPLACE_IF_NOT_NULL": ReplaceIfNotNull, "BITMAP_UNION": BitmapUnion, "HLL_UNION": HLLUnion,
}

// ParseAgg reads an aggregation as Doris names it, in any case; "" and
// NONE are None.
func ParseAgg(name string) (Agg, error) {
	a, ok := aggNames[strings.ToUpper(name)]
	if !ok {
		return None, fmt.Errorf("unknown aggregation type %q", name)
	}
	return a, nil
}

// Model says how rows of one key fold.
type Model struct {
	Kind    Kind
	NumKeys int // the leading key columns
	// Aggs is the aggregation of every column (None for keys); Aggregate
	// only.
	Aggs []Agg
	// SeqCol is the column of a unique key's sequence values, -1 for none.
	SeqCol int
	// Union merges serialized sketch values (BITMAP_UNION, HLL_UNION),
	// oldest first; nil: be/sketch's unions.
	Union func(agg Agg, vals []string) (string, error)
}
