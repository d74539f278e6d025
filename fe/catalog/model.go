// Package catalog is the frontend's model of databases, tables, schemas,
// partitions and tablets, and the type vocabulary every other package uses to
// talk about columns.
//
// The model types here are plain values: they are encoded as JSON into etcd
// by [Catalog] and decoded into immutable snapshots. Nothing in a snapshot is
// changed in place; a DDL statement builds a new value and writes it with a
// compare-and-swap on the etcd revision it read.
package catalog

import (
	"fmt"

	"github.com/strata-db/strata/types"
)

// KeysType is the data model of a table.
type KeysType uint8

const (
	DupKeys KeysType = iota
	UniqueKeys
	AggKeys
)

// String returns the name used by SHOW CREATE TABLE (`DUPLICATE KEY` etc.).
func (k KeysType) String() string {
	switch k {
	case DupKeys:
		return "DUPLICATE"
	case UniqueKeys:
		return "UNIQUE"
	case AggKeys:
		return "AGGREGATE"
	}
	return fmt.Sprintf("KeysType(%d)", uint8(k))
}

// RESTName is the name the HTTP schema API reports (`DUP_KEYS` etc.).
func (k KeysType) RESTName() string {
	switch k {
	case DupKeys:
		return "DUP_KEYS"
	case UniqueKeys:
		return "UNIQUE_KEYS"
	case AggKeys:
		return "AGG_KEYS"
	}
	return k.String()
}

// Column is one column of a table schema. ID is unique within the table and
// never reused, so that renames and drops never confuse data written under an
// older schema with data written under a newer one.
type Column struct {
	ID       uint32     `json:"id"`
	Name     string     `json:"name"`
	Type     types.Type `json:"type"`
	Nullable bool       `json:"nullable"`
	IsKey    bool       `json:"is_key"`
	// AggType is the aggregation of a value column in an AGGREGATE table
	// (SUM, MIN, MAX, REPLACE, ...); empty elsewhere.
	AggType string `json:"agg_type,omitempty"`
	// Default is the literal DEFAULT value as written (nil: no default;
	// DefaultNull is set for DEFAULT NULL).
	Default     *string `json:"default,omitempty"`
	DefaultNull bool    `json:"default_null,omitempty"`
	Comment     string  `json:"comment,omitempty"`
}

// Schema is a version of a table's columns. Key columns come first, in key
// order.
type Schema struct {
	Version int64    `json:"version"`
	Columns []Column `json:"columns"`
}

// ColumnByName finds a column case-insensitively, as Doris does.
func (s *Schema) ColumnByName(name string) (int, *Column) {
	for i := range s.Columns {
		if equalFold(s.Columns[i].Name, name) {
			return i, &s.Columns[i]
		}
	}
	return -1, nil
}

// NumKeys is the number of leading key columns.
func (s *Schema) NumKeys() int {
	n := 0
	for n < len(s.Columns) && s.Columns[n].IsKey {
		n++
	}
	return n
}

// PartitionType says how a table is partitioned.
type PartitionType uint8

const (
	// Unpartitioned tables have exactly one partition, named after the table.
	Unpartitioned PartitionType = iota
	RangePartitioned
)

// PartitionBound is one end of a range partition: the values of the
// partition columns as text literals, or MaxValue. A bound compares as the
// tuple of its values in column order; an absent trailing value is the
// minimum of its column.
type PartitionBound struct {
	Values   []string `json:"values,omitempty"`
	MaxValue bool     `json:"max_value,omitempty"`
}

// Partition is one partition of a table: a half-open range [Lower, Upper)
// of the partition columns (unused when unpartitioned), a visible version
// and its tablets, one per bucket.
type Partition struct {
	ID    int64          `json:"id"`
	Name  string         `json:"name"`
	Lower PartitionBound `json:"lower"`
	Upper PartitionBound `json:"upper"`
	// VisibleVersion is the highest version every query may read. Version 1
	// is the empty initial version of a new partition.
	VisibleVersion     int64   `json:"visible_version"`
	VisibleVersionTime int64   `json:"visible_version_time"` // unix ms
	NextVersion        int64   `json:"next_version"`
	Tablets            []int64 `json:"tablets"` // index = bucket number
	// IndexTablets are the tablets of the table's rollups and materialized
	// views in this partition, by index id, one per bucket as Tablets.
	IndexTablets map[int64][]int64 `json:"index_tablets,omitempty"`
	// Backends are, per bucket, the backends holding a replica of the
	// bucket's tablets (the base's and every index's); nil in a catalog
	// written before backends were placed, where the only backend holds
	// everything.
	Backends   [][]int64         `json:"backends,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

// BucketBackends returns the backends holding bucket b's replicas, or nil.
func (p *Partition) BucketBackends(b int) []int64 {
	if b < len(p.Backends) {
		return p.Backends[b]
	}
	return nil
}

// DistributionType says how rows are placed in buckets.
type DistributionType uint8

const (
	HashDistributed DistributionType = iota
	RandomDistributed
)

// Distribution is the DISTRIBUTED BY clause.
type Distribution struct {
	Type    DistributionType `json:"type"`
	Columns []string         `json:"columns,omitempty"` // HASH only
	Buckets int              `json:"buckets"`
	// AutoBuckets records BUCKETS AUTO as written; Buckets then holds the
	// number that was chosen.
	AutoBuckets bool `json:"auto_buckets,omitempty"`
}

// Table is an OLAP table.
type Table struct {
	ID       int64    `json:"id"`
	DBID     int64    `json:"db_id"`
	Name     string   `json:"name"`
	KeysType KeysType `json:"keys_type"`
	// KeyColumns are the KEY(...) columns as written; they are also the
	// leading columns of Schema with IsKey set.
	KeyColumns       []string          `json:"key_columns"`
	Schema           Schema            `json:"schema"`
	NextColumnID     uint32            `json:"next_column_id"`
	PartitionType    PartitionType     `json:"partition_type"`
	PartitionColumns []string          `json:"partition_columns,omitempty"`
	Partitions       []Partition       `json:"partitions"`
	Distribution     Distribution      `json:"distribution"`
	Properties       map[string]string `json:"properties,omitempty"`
	Comment          string            `json:"comment,omitempty"`
	CreateTime       int64             `json:"create_time"` // unix ms
	// Indexes are the rollups and synchronous materialized views (see
	// index.go); AlterJobs the background jobs building them, running and
	// recently ended.
	Indexes   []Index    `json:"indexes,omitempty"`
	AlterJobs []AlterJob `json:"alter_jobs,omitempty"`
	// View is set for a view (see view.go): Schema then holds its output
	// columns, and it has no partitions, indexes or tablets.
	View *ViewDef `json:"view,omitempty"`
}

// PartitionByName finds a partition case-insensitively.
func (t *Table) PartitionByName(name string) *Partition {
	for i := range t.Partitions {
		if equalFold(t.Partitions[i].Name, name) {
			return &t.Partitions[i]
		}
	}
	return nil
}

// Database is a namespace of tables.
type Database struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	CreateTime int64  `json:"create_time"`
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}

// Hidden columns and properties of the UNIQUE KEY model, as Doris names
// them.
const (
	DeleteSignColumn = "__DORIS_DELETE_SIGN__"
	SequenceColumn   = "__DORIS_SEQUENCE_COL__"
	PropMergeOnWrite = "enable_unique_key_merge_on_write"
	PropSequenceCol  = "function_column.sequence_col"
	PropSequenceType = "function_column.sequence_type"
)

// MergeOnWrite reports whether t is a UNIQUE KEY table that resolves keys
// when loads are published (the default) rather than when rows are read.
func (t *Table) MergeOnWrite() bool {
	if t.KeysType != UniqueKeys {
		return false
	}
	return !equalFold(t.Properties[PropMergeOnWrite], "false")
}

// SequenceColumn returns the column whose values order the rows of one key
// of a UNIQUE KEY table (the one function_column.sequence_col names, or the
// hidden __DORIS_SEQUENCE_COL__), or -1 and nil.
func (t *Table) SequenceColumn() (int, *Column) {
	if t.KeysType != UniqueKeys {
		return -1, nil
	}
	if name, ok := t.Properties[PropSequenceCol]; ok {
		return t.Schema.ColumnByName(name)
	}
	return t.Schema.ColumnByName(SequenceColumn)
}

// DeleteSignColumn returns the hidden delete-sign column of a UNIQUE KEY
// table, or -1 and nil.
func (t *Table) DeleteSignColumn() (int, *Column) {
	if t.KeysType != UniqueKeys {
		return -1, nil
	}
	return t.Schema.ColumnByName(DeleteSignColumn)
}
