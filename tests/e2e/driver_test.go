package e2e

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
)

// TestGoDriver drives the server with go-sql-driver/mysql, which sends every
// parameterised query as a server-side prepared statement and reads binary
// rows.
func TestGoDriver(t *testing.T) {
	s := startServer(t, "")
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/?parseTime=true", s.Query))
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Ping())

	for _, q := range []string{
		"CREATE DATABASE drv",
		`CREATE TABLE drv.t (
			k BIGINT NOT NULL, b BOOLEAN, ti TINYINT, si SMALLINT, i INT, li LARGEINT, f FLOAT, d DOUBLE,
			dec DECIMAL(12, 3), dt DATE, ts DATETIME(6), c CHAR(4), v VARCHAR(20), s STRING
		) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ("replication_num" = "1")`,
	} {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
	res, err := db.Exec(`INSERT INTO drv.t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		1, true, 7, 300, 70000, "170141183460469231731687303715884105727", 1.5, 2.25, "123.456",
		"2024-02-29", "2024-02-29 13:14:15.123456", "abcd", "hello", "a longer string")
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	_, err = db.Exec(`INSERT INTO drv.t (k) VALUES (?)`, 2)
	require.NoError(t, err)

	var (
		k                  int64
		b                  sql.NullBool
		ti, si, i          sql.NullInt64
		li, dec, c, v, str sql.NullString
		f, d               sql.NullFloat64
		dt, ts             sql.NullTime
	)
	row := db.QueryRow(`SELECT k, b, ti, si, i, li, f, d, dec, dt, ts, c, v, s FROM drv.t WHERE k = ?`, 1)
	require.NoError(t, row.Scan(&k, &b, &ti, &si, &i, &li, &f, &d, &dec, &dt, &ts, &c, &v, &str))
	require.Equal(t, int64(1), k)
	require.True(t, b.Bool)
	require.Equal(t, int64(7), ti.Int64)
	require.Equal(t, int64(300), si.Int64)
	require.Equal(t, int64(70000), i.Int64)
	require.Equal(t, "170141183460469231731687303715884105727", li.String)
	require.Equal(t, 1.5, f.Float64)
	require.Equal(t, 2.25, d.Float64)
	require.Equal(t, "123.456", dec.String)
	require.Equal(t, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), dt.Time)
	require.Equal(t, time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC), ts.Time)
	require.Equal(t, "abcd", c.String)
	require.Equal(t, "hello", v.String)
	require.Equal(t, "a longer string", str.String)

	// NULLs come back as NULLs through the binary protocol.
	row = db.QueryRow(`SELECT b, i, dec, ts, v FROM drv.t WHERE k = ?`, 2)
	require.NoError(t, row.Scan(&b, &i, &dec, &ts, &v))
	require.False(t, b.Valid || i.Valid || dec.Valid || ts.Valid || v.Valid)

	// Text protocol (no arguments) and an error that leaves the
	// connection usable.
	var cnt int64
	require.NoError(t, db.QueryRow("SELECT count(*) FROM drv.t").Scan(&cnt))
	require.Equal(t, int64(2), cnt)
	_, err = db.Query("SELECT nope FROM drv.t WHERE k = ?", 1)
	require.ErrorContains(t, err, "Unknown column 'nope'")
	require.NoError(t, db.QueryRow("SELECT count(*) FROM drv.t WHERE k > ?", 0).Scan(&cnt))
	require.Equal(t, int64(2), cnt)
}

// TestQueryFeatures checks SQL features over loaded data against answers
// computed here.
func TestQueryFeatures(t *testing.T) {
	s := startServer(t, "")
	s.MustMySQL(salesDDL)
	rows := genSales(5, 1, 5000)
	resp := s.StreamLoad("demo", "sales", writeCSV(t, rows, "\t"))
	require.Equal(t, "Success", resp["Status"], "%v", resp)

	distinctStores := map[int32]bool{}
	var qtySum, qtyN int64
	var early, late int
	for _, r := range rows {
		distinctStores[r.store] = true
		if r.qty != nil {
			qtySum += int64(*r.qty)
			qtyN++
		}
		if r.date < "2024-01-01" {
			early++
		} else {
			late++
		}
	}
	got := s.MustMySQL("SELECT count(DISTINCT store_id), avg(qty) FROM demo.sales")
	require.Equal(t, fmt.Sprintf("%d\t%.4f\n", len(distinctStores), float64(qtySum)/float64(qtyN)), roundAvg(got))

	got = s.MustMySQL(`SELECT part, n FROM (
		SELECT 'early' AS part, count(*) AS n FROM demo.sales WHERE sale_date < '2024-01-01'
		UNION ALL
		SELECT 'late', count(*) FROM demo.sales WHERE sale_date >= '2024-01-01') x ORDER BY part`)
	require.Equal(t, fmt.Sprintf("early\t%d\nlate\t%d\n", early, late), got)

	var nullQty int
	for _, r := range rows {
		if r.qty == nil {
			nullQty++
		}
	}
	got = s.MustMySQL(`SELECT sum(CASE WHEN qty IS NULL THEN 1 ELSE 0 END), count(*) - count(qty) FROM demo.sales`)
	require.Equal(t, fmt.Sprintf("%d\t%d\n", nullQty, nullQty), got)

	// INSERT ... SELECT copies a filtered subset in one transaction.
	s.MustMySQL(`CREATE TABLE demo.copy (id BIGINT NOT NULL, region VARCHAR(16)) DUPLICATE KEY(id) DISTRIBUTED BY RANDOM BUCKETS 3`)
	var east int
	for _, r := range rows {
		if r.region == "east" && r.id%2 == 0 {
			east++
		}
	}
	s.MustMySQL(`INSERT INTO demo.copy SELECT id, region FROM demo.sales WHERE region = 'east' AND id % 2 = 0`)
	require.Equal(t, fmt.Sprintf("%d\n", east), s.MustMySQL("SELECT count(*) FROM demo.copy"))
	require.Equal(t, "0\n", s.MustMySQL("SELECT count(*) FROM demo.copy WHERE region <> 'east'"))

	// EXPLAIN names the pruned partitions.
	plan := s.MustMySQL(`EXPLAIN SELECT id FROM demo.sales WHERE sale_date BETWEEN '2025-01-01' AND '2025-12-31'`)
	require.Contains(t, plan, "partitions=1/3")
	require.Contains(t, plan, "pmax")
}

// roundAvg rounds the second column of "n\tavg" to four decimals so that
// the comparison does not depend on how many digits DOUBLE prints.
func roundAvg(s string) string {
	var n int64
	var f float64
	fmt.Sscanf(s, "%d\t%g", &n, &f)
	return fmt.Sprintf("%d\t%.4f\n", n, f)
}
