package catalog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/strata-db/strata/fe/meta"
)

// Layout of the catalog in etcd (values are JSON):
//
//	/strata/catalog/db/<db name>                  Database
//	/strata/catalog/table/<db id>/<table name>    Table, partitions inline
//	/strata/catalog/ver/<db id>/<table id>        TableVersions
//
// Names are path-escaped (meta.Key). A name is unique because it is a key:
// creating one is a put conditioned on "key does not exist".
//
// Partition definitions (ranges, tablets) live inline in the table value:
// 1 000 partitions of 64 buckets encode to about 600 KiB, under
// meta.MaxValueBytes; a bigger table is refused with meta.ErrTooLarge.
//
// Partition versions change with every load, so they live apart in one small
// value per table: a load's commit or publish rewrites that value and never
// the table definition, DDL never races with loads on the same key, and a
// load that touches many partitions of one table is still one key. A
// partition with no entry in the versions value has the versions stored in
// its definition (1 and 2 when created). Snapshots overlay the two.
var (
	dbPrefix    = meta.KeyPrefix("catalog", "db")
	tablePrefix = meta.KeyPrefix("catalog", "table")
	verPrefix   = meta.KeyPrefix("catalog", "ver")
	// catalogPrefix is watched by every Catalog.
	catalogPrefix = meta.KeyPrefix("catalog")
)

func dbKey(name string) string { return meta.Key("catalog", "db", name) }

// TableKey is the key of a table definition.
func TableKey(dbID int64, name string) string { return tableKey(dbID, name) }

func tableKey(dbID int64, name string) string {
	return meta.Key("catalog", "table", strconv.FormatInt(dbID, 10), name)
}

func dbTablesPrefix(dbID int64) string {
	return meta.KeyPrefix("catalog", "table", strconv.FormatInt(dbID, 10))
}

// VersionsKey is the key of a table's partition versions.
func VersionsKey(dbID, tableID int64) string {
	return meta.Key("catalog", "ver", strconv.FormatInt(dbID, 10), strconv.FormatInt(tableID, 10))
}

func dbVersionsPrefix(dbID int64) string {
	return meta.KeyPrefix("catalog", "ver", strconv.FormatInt(dbID, 10))
}

// PartitionVersion is the version state of one partition.
//
// INVARIANTS: 1 <= Visible < Next; versions Visible+1 .. Next-1 are
// committed but not yet visible, and become visible in order.
type PartitionVersion struct {
	Visible     int64 `json:"visible"`
	VisibleTime int64 `json:"visible_time"` // unix ms
	Next        int64 `json:"next"`
}

// TableVersions is the value at VersionsKey: the versions of the partitions
// of one table that have had at least one load.
type TableVersions struct {
	Partitions map[int64]PartitionVersion `json:"partitions"`
}

type keyKind uint8

const (
	keyUnknown keyKind = iota
	keyDB
	keyTable
	keyVersions
)

// parseKey splits a catalog key into its kind, db id (table and versions
// keys), name (db and table keys) and table id (versions keys).
func parseKey(k string) (kind keyKind, dbID int64, name string, tableID int64, err error) {
	switch {
	case strings.HasPrefix(k, dbPrefix):
		name, err = meta.UnescapeKeyPart(k[len(dbPrefix):])
		return keyDB, 0, name, 0, err
	case strings.HasPrefix(k, tablePrefix):
		id, rest, ok := strings.Cut(k[len(tablePrefix):], "/")
		if !ok {
			return keyUnknown, 0, "", 0, fmt.Errorf("catalog: malformed key %q", k)
		}
		if dbID, err = strconv.ParseInt(id, 10, 64); err != nil {
			return keyUnknown, 0, "", 0, fmt.Errorf("catalog: malformed key %q: %w", k, err)
		}
		name, err = meta.UnescapeKeyPart(rest)
		return keyTable, dbID, name, 0, err
	case strings.HasPrefix(k, verPrefix):
		a, b, ok := strings.Cut(k[len(verPrefix):], "/")
		if !ok {
			return keyUnknown, 0, "", 0, fmt.Errorf("catalog: malformed key %q", k)
		}
		if dbID, err = strconv.ParseInt(a, 10, 64); err != nil {
			return keyUnknown, 0, "", 0, fmt.Errorf("catalog: malformed key %q: %w", k, err)
		}
		if tableID, err = strconv.ParseInt(b, 10, 64); err != nil {
			return keyUnknown, 0, "", 0, fmt.Errorf("catalog: malformed key %q: %w", k, err)
		}
		return keyVersions, dbID, "", tableID, nil
	}
	return keyUnknown, 0, "", 0, nil
}
