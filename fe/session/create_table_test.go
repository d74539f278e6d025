package session

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/types"
)

func ddl(t *testing.T, text string) (*catalog.Table, error) {
	t.Helper()
	st, err := sql.Parse(text)
	require.NoError(t, err, text)
	return tableFromDDL(st.(*sql.CreateTableStmt))
}

func TestCreateTableFromDDL(t *testing.T) {
	tb, err := ddl(t, `CREATE TABLE s (
		d DATE NOT NULL COMMENT 'day', id BIGINT NOT NULL, region VARCHAR(16), qty INT DEFAULT "0", price DECIMAL(10, 2), note STRING
	) ENGINE=OLAP DUPLICATE KEY(d, id)
	PARTITION BY RANGE(d) (
		PARTITION p1 VALUES LESS THAN ("2024-01-01"),
		PARTITION p2 VALUES LESS THAN ("2025-01-01"),
		PARTITION p3 VALUES LESS THAN MAXVALUE)
	DISTRIBUTED BY HASH(id) BUCKETS 4
	PROPERTIES ("replication_num" = "1", "compression" = "ZSTD")`)
	require.NoError(t, err)
	require.Equal(t, []string{"d", "id"}, tb.KeyColumns)
	require.True(t, tb.Schema.Columns[0].IsKey && tb.Schema.Columns[1].IsKey && !tb.Schema.Columns[2].IsKey)
	require.False(t, tb.Schema.Columns[0].Nullable)
	require.True(t, tb.Schema.Columns[2].Nullable)
	require.Equal(t, types.Decimal(10, 2), tb.Schema.Columns[4].Type)
	require.Equal(t, "0", *tb.Schema.Columns[3].Default)
	require.Len(t, tb.Partitions, 3)
	require.Empty(t, tb.Partitions[0].Lower.Values)
	require.Equal(t, []string{"2024-01-01"}, tb.Partitions[1].Lower.Values)
	require.True(t, tb.Partitions[2].Upper.MaxValue)
	require.Equal(t, catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"id"}, Buckets: 4}, tb.Distribution)
	require.Equal(t, "ZSTD", tb.Properties["compression"])

	out := renderCreateTable(tb)
	for _, want := range []string{
		"DUPLICATE KEY(`d`, `id`)", "PARTITION BY RANGE(`d`)", "PARTITION `p1` VALUES LESS THAN (\"2024-01-01\")",
		"PARTITION `p2` VALUES [(\"2024-01-01\"), (\"2025-01-01\"))", "DISTRIBUTED BY HASH(`id`) BUCKETS 4",
		`"replication_allocation" = "tag.location.default: 1"`, "`note` STRING NULL",
	} {
		require.Contains(t, out, want)
	}
	// What SHOW CREATE TABLE prints creates the same table again.
	again, err := ddl(t, out)
	require.NoError(t, err, out)
	require.Equal(t, tb.Partitions, again.Partitions)
	require.Equal(t, tb.Schema, again.Schema)
}

func TestCreateTableBatchPartitionsAndDefaults(t *testing.T) {
	tb, err := ddl(t, `CREATE TABLE m (d DATE, v INT) DUPLICATE KEY(d)
		PARTITION BY RANGE(d) (FROM ("2024-01-01") TO ("2024-04-01") INTERVAL 1 MONTH)
		DISTRIBUTED BY HASH(d) BUCKETS AUTO`)
	require.NoError(t, err)
	require.Len(t, tb.Partitions, 3)
	require.Equal(t, "p202402", tb.Partitions[1].Name)
	require.Equal(t, []string{"2024-03-01"}, tb.Partitions[1].Upper.Values)
	require.True(t, tb.Distribution.AutoBuckets)

	// No key clause: Doris's default sort key, up to the first string column.
	tb, err = ddl(t, `CREATE TABLE k (a INT, b VARCHAR(5), c INT, e INT) DISTRIBUTED BY HASH(a) BUCKETS 1`)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, tb.KeyColumns)
}

func TestCreateTableErrors(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{"CREATE TABLE t (k INT, v INT) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1", "AGG_KEYS table should specify aggregate type for non-key column[v]"},
		{"CREATE TABLE t (k INT SUM, v INT SUM) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1", "Key column[k] should not specify aggregate type."},
		{"CREATE TABLE t (k INT, v VARCHAR(3) SUM) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1", "Aggregate type SUM is not compatible with primitive type VARCHAR(3)"},
		{"CREATE TABLE t (k INT, v BITMAP) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1", "AGG_KEYS table should specify aggregate type for non-key column[v]"},
		{"CREATE TABLE t (k INT, v INT BITMAP_UNION) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1", "Aggregate type BITMAP_UNION is not compatible with primitive type INT"},
		{"CREATE TABLE t (k INT, v INT REPLACE) AGGREGATE KEY(k) DISTRIBUTED BY RANDOM BUCKETS 1", "Should not be distributed by random when keys type is agg and column is in replace"},
		{"CREATE TABLE t (k INT, v INT) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('function_column.sequence_col' = 'v', 'function_column.sequence_type' = 'int')", "The sequence_col and sequence_type cannot be set at the same time"},
		{"CREATE TABLE t (k INT, v INT) UNIQUE KEY(k) PARTITION BY RANGE(v) (PARTITION p VALUES LESS THAN (10)) DISTRIBUTED BY HASH(k) BUCKETS 1", "The partition column could not be aggregated column"},
		{"CREATE TABLE t (k INT, v INT) DUPLICATE KEY(v) DISTRIBUTED BY HASH(k) BUCKETS 1", "ordered prefix"},
		{"CREATE TABLE t (k INT, v INT) DUPLICATE KEY(x) DISTRIBUTED BY HASH(k) BUCKETS 1", "does not exist"},
		{"CREATE TABLE t (k STRING, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(v) BUCKETS 1", "can not be a key column"},
		{"CREATE TABLE t (k INT, k INT) DISTRIBUTED BY HASH(k) BUCKETS 1", "Duplicate column name 'k'"},
		{"CREATE TABLE t (k INT, v INT) DISTRIBUTED BY HASH(nope) BUCKETS 1", "Distribution column(nope) doesn't exist"},
		{"CREATE TABLE t (k INT, v INT) PARTITION BY RANGE(k) (PARTITION a VALUES LESS THAN (10), PARTITION b VALUES [(5), (20))) DISTRIBUTED BY HASH(k) BUCKETS 1", "intersects"},
		{"CREATE TABLE t (k INT, v INT) PARTITION BY RANGE(k) (PARTITION a VALUES LESS THAN ('x')) DISTRIBUTED BY HASH(k) BUCKETS 1", "invalid partition value"},
		{"CREATE TABLE t (k INT, v INT DEFAULT 'abc') DISTRIBUTED BY HASH(k) BUCKETS 1", "Invalid default value for 'v'"},
		{"CREATE TABLE t (k INT, v DECIMAL(40, 2)) DISTRIBUTED BY HASH(k) BUCKETS 1", "precision"},
		{"CREATE TABLE t (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '0')", "Invalid replication_num '0'"},
	} {
		_, err := ddl(t, tc.sql)
		require.Error(t, err, tc.sql)
		require.True(t, strings.Contains(err.Error(), tc.want), "%s: got %q, want %q", tc.sql, err.Error(), tc.want)
	}
}
