package loader

import (
	"fmt"

	"github.com/strata-db/strata/fe/catalog"
)

// PartialUpdate is a load into a merge-on-write UNIQUE KEY table that gives
// some columns of its rows: a row whose key the table holds keeps that
// row's values in the other columns; a row with a new key takes their
// defaults (or NULL).
type PartialUpdate struct {
	// Columns are the schema indexes of the columns the load gives: every
	// key column, the updated ones, and the hidden delete sign and
	// sequence column when the load sets them.
	Columns []int
	// NewKeyError refuses rows with new keys
	// (partial_update_new_key_behavior ERROR).
	NewKeyError bool
	// Unfillable is a column left out that has neither a default nor NULL,
	// so that a row with a new key cannot be inserted ("": none).
	Unfillable string
}

// PlanPartialUpdate checks a partial update of t that gives the columns
// listed (schema indexes), with Doris's rules and wording, and returns it;
// nil when the load gives every visible column, which makes it an upsert.
// seqGiven and signGiven report that the load sets the hidden sequence
// column (the sequence_col header) and the delete sign (merge_type DELETE
// or MERGE) although they are not listed.
func PlanPartialUpdate(t *catalog.Table, listed []int, seqGiven, signGiven, newKeyError bool) (*PartialUpdate, error) {
	if !t.MergeOnWrite() {
		return nil, fmt.Errorf("Only unique key merge on write support partial update")
	}
	given := make([]bool, len(t.Schema.Columns))
	for _, i := range listed {
		c := t.Schema.Columns[i]
		if isHiddenName(c.Name) && c.Name != catalog.DeleteSignColumn {
			return nil, fmt.Errorf("Partial update should not include invisible column except delete sign column: %s", c.Name)
		}
		given[i] = true
	}
	p := &PartialUpdate{NewKeyError: newKeyError}
	missing := false
	for i, c := range t.Schema.Columns {
		switch {
		case c.Name == catalog.SequenceColumn && seqGiven, c.Name == catalog.DeleteSignColumn && signGiven:
			given[i] = true
		case given[i]:
		case c.IsKey:
			return nil, fmt.Errorf("Partial update should include all key columns, missing: %s", c.Name)
		case isHiddenName(c.Name):
		default:
			missing = true
			if p.Unfillable == "" && c.Default == nil && !c.Nullable {
				p.Unfillable = c.Name
			}
		}
		if given[i] {
			p.Columns = append(p.Columns, i)
		}
	}
	if !missing {
		return nil, nil
	}
	return p, nil
}
