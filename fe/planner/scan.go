package planner

import (
	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/storage"
)

// newSegmentScan builds the scan operator over the pinned segments: it
// reads the scan's columns by id, evaluates the pushed-down predicates on
// their columns first (late materialization), and skips pages whose zone
// maps cannot satisfy the predicates' column ranges.
func (p *Planner) newSegmentScan(s *scanNode, segs []*storage.Segment) (exec.Operator, error) {
	return exec.NewSegmentScan(scanSpec(s, segs))
}

// scanSpec describes the scan of s over segs for be/exec.
func scanSpec(s *scanNode, segs []*storage.Segment) exec.ScanSpec {
	cols := make([]exec.ScanColumn, len(s.colIdx))
	for i, si := range s.colIdx {
		c := s.table.Schema.Columns[si]
		sc := exec.ScanColumn{ID: c.ID, Type: c.Type}
		if c.Default != nil {
			if l, err := exec.NewLiteralChecked(*c.Default, c.Type); err == nil {
				sc.Default = l.Value
			}
		}
		cols[i] = sc
	}
	spec := exec.ScanSpec{Segments: segs, Columns: cols}
	if len(s.filters) > 0 {
		spec.Filter = andAll(s.filters).mustCompile(nil)
		spec.Ranges = exec.ExtractRanges(spec.Filter)
	}
	return spec
}
