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

// foldsOnRead reports whether the rows of one key of t are folded when it
// is read (merge-on-read unique keys, aggregate keys), rather than read as
// they are (duplicate keys, and merge-on-write, whose replaced rows the
// scan skips by their delete bitmaps).
func foldsOnRead(t *catalog.Table) bool {
	return t.KeysType == catalog.AggKeys || t.KeysType == catalog.UniqueKeys && !t.MergeOnWrite()
}

// newMergeScan builds the scan of a table whose keys are folded when read:
// it reads the key columns, the columns the fold orders by or drops by (the
// sequence, the delete sign) and the columns the query needs. A unique
// key's row wins whole and an aggregate column folds on its own, so the
// other columns need not be read.
func newMergeScan(s *scanNode, segs pinnedSegments, keepSigns bool) (exec.Operator, error) {
	spec := scanSpec(s, segs)
	t := s.table
	numKeys := t.Schema.NumKeys()
	seq, _ := t.SequenceColumn()
	sign, _ := t.DeleteSignColumn()
	read := make([]bool, len(t.Schema.Columns))
	for i := range numKeys {
		read[i] = true
	}
	for _, i := range append([]int{seq, sign}, s.colIdx...) {
		if i >= 0 {
			read[i] = true
		}
	}
	var cols []exec.ScanColumn
	var aggs []string
	at := make([]int, len(read)) // schema position -> position among cols
	for i, r := range read {
		at[i] = -1
		if r {
			at[i] = len(cols)
			cols = append(cols, scanColumn(&t.Schema.Columns[i]))
			aggs = append(aggs, t.Schema.Columns[i].AggType)
		}
	}
	var fold *keymodel.Model
	var err error
	if t.KeysType == catalog.AggKeys {
		fold, err = keymodel.New(keymodel.Aggregate, numKeys, aggs, -1)
	} else {
		seqAt := -1
		if seq >= 0 {
			seqAt = at[seq]
		}
		fold, err = keymodel.New(keymodel.Unique, numKeys, nil, seqAt)
	}
	if err != nil {
		return nil, err
	}
	out := make([]int, len(s.colIdx))
	for i, si := range s.colIdx {
		out[i] = at[si]
	}
	signAt := -1
	if sign >= 0 && !keepSigns {
		signAt = at[sign]
	}
	return exec.NewMergeScan(exec.MergeScanSpec{
		Tablets: segs.Tablets, Columns: cols, NumKeys: numKeys, Fold: fold,
		SignCol: signAt, Output: out, Filter: spec.Filter,
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
