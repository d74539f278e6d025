package tabletstore

import (
	"fmt"

	"github.com/strata-db/strata/be/keymodel"
	"github.com/strata-db/strata/storage"
)

// Model is the data model of a tablet as its writers and readers need it.
// The zero value is the duplicate-key model: every row is kept.
type Model struct {
	Kind keymodel.Kind
	// MergeOnWrite: a unique-key tablet whose loads mark the rows they
	// replace in delete bitmaps when they are published, so that readers
	// need not merge.
	MergeOnWrite bool
	// Aggs is the aggregation of every column ("" for keys) of an
	// aggregate-key tablet, as Doris names them (SUM, REPLACE, ...).
	Aggs []string
	// SeqCol and DeleteSignCol are the column indexes of a unique-key
	// tablet's sequence and delete-sign columns, -1 when it has none.
	SeqCol, DeleteSignCol int
}

// ModelMeta is a tablet's data model as a rowset records it, by column id
// (docs/format.md, "Rowset metadata"). Duplicate-key rowsets record none.
type ModelMeta struct {
	Kind         string   `json:"kind"` // "unique" or "aggregate"
	MergeOnWrite bool     `json:"merge_on_write,omitempty"`
	Aggs         []string `json:"aggs,omitempty"` // parallel to the columns
	SeqCol       *uint32  `json:"seq_col,omitempty"`
	DeleteSign   *uint32  `json:"delete_sign_col,omitempty"`
}

// meta records m for a rowset of the given columns; nil for the
// duplicate-key model.
func (m Model) meta(cols []storage.ColumnMeta) *ModelMeta {
	switch m.Kind {
	case keymodel.Unique:
		mm := &ModelMeta{Kind: "unique", MergeOnWrite: m.MergeOnWrite}
		if m.SeqCol >= 0 {
			id := cols[m.SeqCol].ID
			mm.SeqCol = &id
		}
		if m.DeleteSignCol >= 0 {
			id := cols[m.DeleteSignCol].ID
			mm.DeleteSign = &id
		}
		return mm
	case keymodel.Aggregate:
		return &ModelMeta{Kind: "aggregate", Aggs: m.Aggs}
	}
	return nil
}

// modelOf reads a rowset's recorded model against its columns.
func modelOf(mm *ModelMeta, cols []storage.ColumnMeta) (Model, error) {
	m := Model{SeqCol: -1, DeleteSignCol: -1}
	if mm == nil {
		return m, nil
	}
	find := func(id *uint32) (int, error) {
		if id == nil {
			return -1, nil
		}
		for i, c := range cols {
			if c.ID == *id {
				return i, nil
			}
		}
		return -1, fmt.Errorf("model names column %d, which the rowset lacks", *id)
	}
	var err error
	switch mm.Kind {
	case "unique":
		m.Kind, m.MergeOnWrite = keymodel.Unique, mm.MergeOnWrite
		if m.SeqCol, err = find(mm.SeqCol); err != nil {
			return m, err
		}
		if m.DeleteSignCol, err = find(mm.DeleteSign); err != nil {
			return m, err
		}
	case "aggregate":
		if len(mm.Aggs) != len(cols) {
			return m, fmt.Errorf("model has %d aggregations for %d columns", len(mm.Aggs), len(cols))
		}
		m.Kind, m.Aggs = keymodel.Aggregate, mm.Aggs
	default:
		return m, fmt.Errorf("unknown data model %q", mm.Kind)
	}
	return m, nil
}

// folder returns the fold of m over rows with numKeys key columns.
func (m Model) folder(numKeys int) (*keymodel.Model, error) {
	return keymodel.New(m.Kind, numKeys, m.Aggs, m.SeqCol)
}

// Folds returns how a merge of m's rowsets folds the rows of one key
// (merge-on-read unique keys, aggregate keys), or nil when it keeps them
// as they are (duplicate keys, and merge-on-write, whose replaced rows are
// left out by their delete marks instead).
func (m Model) Folds(numKeys int) (*keymodel.Model, error) {
	if m.Kind == keymodel.Duplicate || m.MergeOnWrite {
		return nil, nil
	}
	return m.folder(numKeys)
}
