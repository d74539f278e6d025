package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Indexes.
//
// A table's rows are stored in its base index (Table.Schema, the tablets
// of Partition.Tablets) and in every rollup and synchronous materialized
// view (Table.Indexes): each is another sorted copy of the rows, of some
// of the columns, possibly aggregated on fewer keys. An index has, in
// every partition, one tablet per bucket (Partition.IndexTablets); a row
// goes to the same bucket in every index. A load writes every index of
// the table in its one transaction, so the indexes of a partition share
// its versions and are never behind the base.

// IndexState is the life-cycle state of an index.
type IndexState string

const (
	// IndexShadow: being built. Loads write it; queries do not read it.
	IndexShadow IndexState = "SHADOW"
	// IndexNormal: complete; the planner may read it.
	IndexNormal IndexState = "NORMAL"
)

// ColumnDefine says how an index column is computed from a row of the
// base index.
type ColumnDefine struct {
	// Base is the id of the base column read; 0 for COUNT(*).
	Base uint32 `json:"base,omitempty"`
	// Func is "" (the base column itself), "to_bitmap", "hll_hash",
	// "count" (1 when the base column is not NULL, else 0) or "count_star"
	// (always 1).
	Func string `json:"func,omitempty"`
}

// Index functions of ColumnDefine.Func.
const (
	DefineToBitmap  = "to_bitmap"
	DefineHLLHash   = "hll_hash"
	DefineCount     = "count"
	DefineCountStar = "count_star"
	// DefineDefault: the column's default (a column a schema change adds).
	DefineDefault = "default"
)

// Index is a rollup or synchronous materialized view of a table.
type Index struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// MV: created by CREATE MATERIALIZED VIEW (Query holds its text),
	// rather than ALTER TABLE ADD ROLLUP.
	MV       bool       `json:"mv,omitempty"`
	Query    string     `json:"query,omitempty"`
	State    IndexState `json:"state"`
	KeysType KeysType   `json:"keys_type"`
	// Schema holds the index's columns, keys first. A column copied from
	// the base (Define.Func == "") keeps the base column's id, name and
	// type (its AggType is the index's); a computed one has an id of its
	// own, from Table.NextColumnID.
	Schema Schema `json:"schema"`
	// Defines is parallel to Schema.Columns.
	Defines []ColumnDefine `json:"defines"`
	// SchemaChange: the shadow of a heavy schema change, which replaces
	// the base index when its job finishes.
	SchemaChange bool `json:"schema_change,omitempty"`
}

// AlterJob is a background ALTER on a table: building a rollup or
// materialized view for the rows already loaded. It lives in the table's
// catalog entry, so its state changes with the index it builds in one
// compare-and-swap.
type AlterJob struct {
	ID   int64        `json:"id"`
	Type AlterJobType `json:"type"`
	// IndexID and IndexName are the index being built.
	IndexID   int64    `json:"index_id"`
	IndexName string   `json:"index_name"`
	MV        bool     `json:"mv,omitempty"`
	State     JobState `json:"state"`
	// Watershed is a transaction id the job takes once the index is in
	// the catalog (0 until then): every load that begins with a larger one
	// writes the index, and the loads of the table with a smaller one must
	// finish before the rows loaded so far are converted. The job's
	// converted rows are written under it.
	Watershed  int64 `json:"watershed"`
	CreateTime int64 `json:"create_time"` // unix ms
	FinishTime int64 `json:"finish_time,omitempty"`
	// Timeout in seconds from CreateTime.
	Timeout int64  `json:"timeout"`
	Msg     string `json:"msg,omitempty"`
	// Done lists the partitions whose rows are converted.
	Done []int64 `json:"done,omitempty"`
	// SchemaVersion is the schema version a schema change leads to.
	SchemaVersion int64 `json:"schema_version,omitempty"`
}

// AlterJobType is the kind of an AlterJob.
type AlterJobType string

const (
	JobRollup       AlterJobType = "ROLLUP"
	JobSchemaChange AlterJobType = "SCHEMA_CHANGE"
)

// JobState is the state of an AlterJob, with Doris's names.
type JobState string

const (
	// JobWaitingTxn: loads that began before the job must finish.
	JobWaitingTxn JobState = "WAITING_TXN"
	// JobRunning: the rows loaded so far are being converted.
	JobRunning   JobState = "RUNNING"
	JobFinished  JobState = "FINISHED"
	JobCancelled JobState = "CANCELLED"
)

// Finished reports whether the job has ended.
func (s JobState) Finished() bool { return s == JobFinished || s == JobCancelled }

// MaxFinishedJobs bounds the finished jobs a table keeps for SHOW ALTER.
const MaxFinishedJobs = 16

// IndexByName finds an index case-insensitively; the base index is found
// by the table's name (as Doris names it) and returned as nil with ok.
func (t *Table) IndexByName(name string) (ix *Index, ok bool) {
	if equalFold(name, t.Name) {
		return nil, true
	}
	for i := range t.Indexes {
		if equalFold(t.Indexes[i].Name, name) {
			return &t.Indexes[i], true
		}
	}
	return nil, false
}

// IndexByID finds an index by id.
func (t *Table) IndexByID(id int64) *Index {
	for i := range t.Indexes {
		if t.Indexes[i].ID == id {
			return &t.Indexes[i]
		}
	}
	return nil
}

// JobByID finds an alter job by id.
func (t *Table) JobByID(id int64) *AlterJob {
	for i := range t.AlterJobs {
		if t.AlterJobs[i].ID == id {
			return &t.AlterJobs[i]
		}
	}
	return nil
}

// RunningJob returns the job of the table that has not ended, or nil.
func (t *Table) RunningJob() *AlterJob {
	for i := range t.AlterJobs {
		if !t.AlterJobs[i].State.Finished() {
			return &t.AlterJobs[i]
		}
	}
	return nil
}

// AddJob appends a job, forgetting the oldest finished ones past
// MaxFinishedJobs.
func (t *Table) AddJob(j AlterJob) {
	t.AlterJobs = append(t.AlterJobs, j)
	finished := 0
	for _, j := range t.AlterJobs {
		if j.State.Finished() {
			finished++
		}
	}
	for i := 0; finished > MaxFinishedJobs && i < len(t.AlterJobs); {
		if t.AlterJobs[i].State.Finished() {
			t.AlterJobs = slices.Delete(t.AlterJobs, i, i+1)
			finished--
			continue
		}
		i++
	}
}

// DropIndex removes an index and its tablets from every partition.
func (t *Table) DropIndex(id int64) {
	t.Indexes = slices.DeleteFunc(t.Indexes, func(ix Index) bool { return ix.ID == id })
	for i := range t.Partitions {
		delete(t.Partitions[i].IndexTablets, id)
	}
}

// ForEachTablet calls fn with every tablet of every index of the table.
func (t *Table) ForEachTablet(fn func(tabletID int64)) {
	for _, p := range t.Partitions {
		for _, id := range p.Tablets {
			fn(id)
		}
		for _, ids := range p.IndexTablets {
			for _, id := range ids {
				fn(id)
			}
		}
	}
}

// IndexTable returns the table as the planner and loads see one index of
// it: ix's schema, keys type and key columns, and in every partition ix's
// tablets in place of the base's. The result shares nothing that callers
// change with t.
func (t *Table) IndexTable(ix *Index) *Table {
	c := *t
	c.Schema = ix.Schema
	c.KeysType = ix.KeysType
	c.Indexes = nil
	c.AlterJobs = nil
	c.KeyColumns = nil
	for _, col := range ix.Schema.Columns {
		if col.IsKey {
			c.KeyColumns = append(c.KeyColumns, col.Name)
		}
	}
	c.Partitions = slices.Clone(t.Partitions)
	for i := range c.Partitions {
		c.Partitions[i].Tablets = t.Partitions[i].IndexTablets[ix.ID]
		c.Partitions[i].IndexTablets = nil
	}
	return &c
}

// NewIndexTablets gives ix a tablet per bucket in every partition, with
// ids taken in order from first; it returns how many it took.
func (t *Table) NewIndexTablets(ix int64, first int64) int64 {
	next := first
	for i := range t.Partitions {
		p := &t.Partitions[i]
		if p.IndexTablets == nil {
			p.IndexTablets = map[int64][]int64{}
		}
		ids := make([]int64, len(p.Tablets))
		for b := range ids {
			ids[b] = next
			next++
		}
		p.IndexTablets[ix] = ids
	}
	return next - first
}

// CheckIndexName refuses a name an index or the table already has.
func (t *Table) CheckIndexName(name string) error {
	if _, ok := t.IndexByName(name); ok {
		return fmt.Errorf("%w: index %q already exists in table %q", ErrInvalid, name, t.Name)
	}
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: empty index name", ErrInvalid)
	}
	return nil
}

// NextIDs reserves n consecutive catalog ids (for index and tablet ids)
// and returns the first.
func (c *Catalog) NextIDs(ctx context.Context, n int64) (int64, error) {
	return c.ids.NextIDs(ctx, n)
}
