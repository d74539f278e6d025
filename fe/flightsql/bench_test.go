package flightsql

// BenchmarkResultTransfer reads one large result over Arrow Flight SQL and
// over the MySQL text protocol from the same in-process server:
//
//	STRATA_FLIGHT_BENCH_ROWS=8192000 go test -run '^$' -bench BenchmarkResultTransfer \
//	    -benchtime 3x -timeout 30m ./fe/flightsql/
//
// rows/s counts result rows; MB/s (b.SetBytes) counts the Arrow buffer
// bytes of the result, the same figure for both protocols, so the two are
// comparable. The MySQL client is go-sql-driver/mysql scanning every column
// into sql.RawBytes (no conversion); the Flight SQL client receives the
// record batches (no conversion needed). Compare runs with
// benchstat -col /proto.

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"
)

func BenchmarkResultTransfer(b *testing.B) {
	rows := 1000 << 12
	if v := os.Getenv("STRATA_FLIGHT_BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err)
		rows = n
	}
	env := newTestEnv(b, Config{})
	cl, ctx := env.login(b, "root", "")
	exec(b, cl, ctx, "CREATE DATABASE bench",
		`CREATE TABLE bench.t (k BIGINT, i INT, d DOUBLE, dec DECIMAL(12, 2), ts DATETIME, s VARCHAR(64))
			DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 8`)
	var vals []string
	for i := range 1000 {
		vals = append(vals, fmt.Sprintf("(%d, %d, %d.25, %d.75, '2024-01-%02d 10:%02d:%02d', 'customer-%08d-of-the-benchmark')",
			i, i*7, i, i%1000, i%28+1, i%60, i%60, i))
	}
	start := time.Now()
	exec(b, cl, ctx, "INSERT INTO bench.t VALUES "+strings.Join(vals, ","))
	have := 1000
	for have < rows {
		n := min(have, rows-have)
		exec(b, cl, ctx, fmt.Sprintf("INSERT INTO bench.t SELECT k + %d, i, d, dec, ts, s FROM bench.t LIMIT %d", have, n))
		have += n
	}
	b.Logf("loaded %d rows in %v", have, time.Since(start).Round(time.Millisecond))
	const q = "SELECT k, i, d, dec, ts, s FROM bench.t"

	// The Arrow size of the result, for MB/s.
	var arrowBytes int64
	fetch(b, cl, ctx, q, func(r arrow.RecordBatch) { arrowBytes += recordBytes(r) })

	b.Run("proto=flightsql", func(b *testing.B) {
		b.SetBytes(arrowBytes)
		b.ReportAllocs()
		var got int64
		for b.Loop() {
			got = 0
			fetch(b, cl, ctx, q, func(r arrow.RecordBatch) { got += r.NumRows() })
		}
		require.Equal(b, int64(have), got)
		b.ReportMetric(float64(got)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})

	my := env.mysql(b, "")
	b.Run("proto=mysql", func(b *testing.B) {
		b.SetBytes(arrowBytes)
		b.ReportAllocs()
		var got int64
		for b.Loop() {
			got = mysqlScan(b, my, q)
		}
		require.Equal(b, int64(have), got)
		b.ReportMetric(float64(got)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

func recordBytes(r arrow.RecordBatch) int64 {
	var n int64
	for _, c := range r.Columns() {
		for _, buf := range c.Data().Buffers() {
			if buf != nil {
				n += int64(buf.Len())
			}
		}
	}
	return n
}

// mysqlScan reads every column of every row as raw bytes.
func mysqlScan(b *testing.B, db *sql.DB, q string) int64 {
	rs, err := db.QueryContext(context.Background(), q)
	require.NoError(b, err)
	defer rs.Close()
	cols, err := rs.Columns()
	require.NoError(b, err)
	raw := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var n int64
	for rs.Next() {
		require.NoError(b, rs.Scan(ptrs...))
		n++
	}
	require.NoError(b, rs.Err())
	return n
}
