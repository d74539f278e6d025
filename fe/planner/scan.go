package planner

import (
	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/be/keymodel"
	"github.com/strata-db/strata/fe/catalog"
)

// newSegmentScan builds the scan operator over the pinned segments: it
// reads the scan's columns by id, evaluates the pushed-down predicates on
// their columns first (late materialization), and skips pages whose zone
// maps cannot satisfy the predicates' column ranges.
func (p *Planner) newSegmentScan(s *scanNode, segs pinnedSegments) (exec.Operator, error) {
	return exec.NewSegmentScan(scanSpec(s, segs))
}

// scanSpec describes the scan of s over segs for be/exec.
func scanSpec(s *scanNode, segs pinnedSegments) exec.ScanSpec {
	cols := make([]exec.ScanColumn, len(s.colIdx))
	for i, si := range s.colIdx {
		cols[i] = scanColumn(&s.table.Schema.Columns[si])
	}
	spec := exec.ScanSpec{Segments: segs.Segments, Deletes: segs.Deletes, Columns: cols}
	if len(s.filters) > 0 {
		spec.Filter = andAll(s.filters).mustCompile(nil)
		spec.Ranges = exec.ExtractRanges(spec.Filter)
	}
	return spec
}

// foldOf returns how the rows of one key of t are folded when it is read
// (merge-on-read unique keys, aggregate keys), or nil when its rowsets are
// read as they are (duplicate keys, and merge-on-write, whose replaced rows
// the scan skips by their delete bitmaps).
func foldOf(t *catalog.Table) (*keymodel.Model, error) {
	switch {
	case t.KeysType == catalog.AggKeys:
		aggs := make([]string, len(t.Schema.Columns))
		for i, c := range t.Schema.Columns {
			aggs[i] = c.AggType
		}
		return keymodel.New(keymodel.Aggregate, t.Schema.NumKeys(), aggs, -1)
	case t.KeysType == catalog.UniqueKeys && !t.MergeOnWrite():
		seq, _ := t.SequenceColumn()
		return keymodel.New(keymodel.Unique, t.Schema.NumKeys(), nil, seq)
	}
	return nil, nil
}

// newMergeScan builds the scan of a table whose keys are folded when read:
// every column is merged and folded, then the scan's columns returned.
func newMergeScan(s *scanNode, segs pinnedSegments, fold *keymodel.Model) (exec.Operator, error) {
	spec := scanSpec(s, segs)
	all := make([]exec.ScanColumn, len(s.table.Schema.Columns))
	for i := range s.table.Schema.Columns {
		all[i] = scanColumn(&s.table.Schema.Columns[i])
	}
	sign, _ := s.table.DeleteSignColumn()
	return exec.NewMergeScan(exec.MergeScanSpec{
		Tablets: segs.Tablets, Columns: all, NumKeys: s.table.Schema.NumKeys(), Fold: fold,
		SignCol: sign, Output: s.colIdx, Filter: spec.Filter,
	})
}

// scanColumn is how a scan reads column c: by id, with its default where a
// segment predates it.
func scanColumn(c *catalog.Column) exec.ScanColumn {
	sc := exec.ScanColumn{ID: c.ID, Type: c.Type}
	if c.Default != nil {
		if l, err := exec.NewLiteralChecked(*c.Default, c.Type); err == nil {
			sc.Default = l.Value
		}
	}
	return sc
}
