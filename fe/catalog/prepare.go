package catalog

import (
	"fmt"
)

// idsNeeded is how many catalog ids prepareTable consumes for t: one for the
// table, one per partition and one per tablet (bucket) of each partition.
// An unpartitioned table without a partition gets one.
func idsNeeded(t *Table) (int64, error) {
	if t.Distribution.Buckets < 1 {
		return 0, fmt.Errorf("%w: table %q has %d buckets", ErrInvalid, t.Name, t.Distribution.Buckets)
	}
	parts := int64(len(t.Partitions))
	if parts == 0 {
		if t.PartitionType != Unpartitioned {
			return 0, fmt.Errorf("%w: range-partitioned table %q has no partitions", ErrInvalid, t.Name)
		}
		parts = 1
	}
	return 1 + parts*(1+int64(t.Distribution.Buckets)), nil
}

// prepareTable fills in what CreateTable assigns: the table id and database
// id, column ids left at zero, the implicit partition of an unpartitioned
// table, partition ids, one tablet per bucket per partition and the initial
// versions (visible 1, next 2). Ids are taken in order from first, which
// starts a range of idsNeeded(t) ids. nowMs is the creation time.
//
// It is pure: the same inputs give the same table.
func prepareTable(t *Table, dbID, first, nowMs int64) error {
	need, err := idsNeeded(t)
	if err != nil {
		return err
	}
	next := first
	take := func() int64 { next++; return next - 1 }

	t.ID = take()
	t.DBID = dbID
	if t.CreateTime == 0 {
		t.CreateTime = nowMs
	}
	if err := assignColumnIDs(t); err != nil {
		return err
	}
	if len(t.Partitions) == 0 {
		t.Partitions = []Partition{{Name: t.Name, Upper: PartitionBound{MaxValue: true}}}
	}
	for i := range t.Partitions {
		p := &t.Partitions[i]
		p.ID = take()
		p.VisibleVersion = 1
		p.VisibleVersionTime = nowMs
		p.NextVersion = 2
		p.Tablets = make([]int64, t.Distribution.Buckets)
		for b := range p.Tablets {
			p.Tablets[b] = take()
		}
	}
	if next-first != need {
		panic(fmt.Sprintf("BUG: catalog: prepareTable used %d ids, expected %d", next-first, need))
	}
	return nil
}

// assignColumnIDs gives every column with id 0 a fresh id above all used
// ones and sets NextColumnID past the highest. Column ids start at 1.
func assignColumnIDs(t *Table) error {
	used := make(map[uint32]bool, len(t.Schema.Columns))
	maxID := uint32(0)
	for _, c := range t.Schema.Columns {
		if c.ID == 0 {
			continue
		}
		if used[c.ID] {
			return fmt.Errorf("%w: table %q: column id %d used twice", ErrInvalid, t.Name, c.ID)
		}
		used[c.ID] = true
		maxID = max(maxID, c.ID)
	}
	next := max(maxID+1, t.NextColumnID, 1)
	for i := range t.Schema.Columns {
		if t.Schema.Columns[i].ID == 0 {
			t.Schema.Columns[i].ID = next
			next++
		}
	}
	t.NextColumnID = next
	return nil
}
