package e2e

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
)

// TestGoDriverModes checks that go-sql-driver/mysql's modes agree: server
// prepared statements (binary rows) and interpolateParams=true (text
// rows) return the same values for every column type, NULLs included;
// multiStatements; and SET time_zone moving NOW() and FROM_UNIXTIME().
func TestGoDriverModes(t *testing.T) {
	s := startServer(t, "")
	base := fmt.Sprintf("root@tcp(127.0.0.1:%d)/", s.Query)
	setup := openDB(t, base)
	for _, q := range []string{
		"CREATE DATABASE drvm",
		`CREATE TABLE drvm.t (
			k BIGINT NOT NULL, b BOOLEAN, ti TINYINT, si SMALLINT, i INT, li LARGEINT, f FLOAT, d DOUBLE,
			dec DECIMAL(12, 3), dt DATE, ts DATETIME, ts6 DATETIME(6), c CHAR(4), v VARCHAR(20), s STRING
		) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2`,
	} {
		_, err := setup.Exec(q)
		require.NoError(t, err, q)
	}
	ins := "INSERT INTO drvm.t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	_, err := setup.Exec(ins, 1, true, -7, 300, 70000, "-170141183460469231731687303715884105728", 1.5, -2.25,
		"-123.456", "2024-02-29", "2024-02-29 13:14:15", "1999-12-31 23:59:59.000001", "ab", "héllo", "a longer string")
	require.NoError(t, err)
	_, err = setup.Exec(ins, 2, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
	require.NoError(t, err)
	_, err = setup.Exec(ins, 3, false, 0, 0, 0, "0", 0.0, 0.0, "0", "1970-01-01", "1970-01-01 00:00:00", "1970-01-01 00:00:00", "", "", "")
	require.NoError(t, err)

	q := "SELECT k, b, ti, si, i, li, f, d, dec, dt, ts, ts6, c, v, s FROM drvm.t WHERE k >= ? ORDER BY k"
	want := [][]string{
		{"1", "1", "-7", "300", "70000", "-170141183460469231731687303715884105728", "1.5", "-2.25", "-123.456",
			"2024-02-29 00:00:00 +0000 UTC", "2024-02-29 13:14:15 +0000 UTC", "1999-12-31 23:59:59.000001 +0000 UTC",
			"ab", "héllo", "a longer string"},
		{"2", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"},
		{"3", "0", "0", "0", "0", "0", "0", "0", "0.000",
			"1970-01-01 00:00:00 +0000 UTC", "1970-01-01 00:00:00 +0000 UTC", "1970-01-01 00:00:00 +0000 UTC", "", "", ""},
	}
	for _, mode := range []string{"parseTime=true", "parseTime=true&interpolateParams=true"} {
		db := openDB(t, base+"?"+mode)
		rs, err := db.Query(q, 0)
		require.NoError(t, err, mode)
		got := scanAny(t, rs)
		require.Equal(t, want, got, mode)
	}
	// Without parseTime, temporal values come back as MySQL text in both
	// protocols.
	for _, mode := range []string{"", "?interpolateParams=true"} {
		db := openDB(t, base+mode)
		var dt, ts, ts6 sql.NullString
		require.NoError(t, db.QueryRow("SELECT dt, ts, ts6 FROM drvm.t WHERE k = ?", 1).Scan(&dt, &ts, &ts6), mode)
		require.Equal(t, []string{"2024-02-29", "2024-02-29 13:14:15", "1999-12-31 23:59:59.000001"},
			[]string{dt.String, ts.String, ts6.String}, mode)
	}

	// multiStatements: one Exec runs several; a Query reads each result.
	db := openDB(t, base+"?multiStatements=true")
	_, err = db.Exec("SET @a = 1; SET @b = 2")
	require.NoError(t, err)
	rs, err := db.Query("SELECT @a; SELECT @b, 'x'; SELECT COUNT(*) FROM drvm.t")
	require.NoError(t, err)
	_, r1 := readRows(t, rs, "@a")
	require.True(t, rs.NextResultSet())
	_, r2 := readRows(t, rs, "@b")
	require.True(t, rs.NextResultSet())
	_, r3 := readRows(t, rs, "count")
	require.False(t, rs.NextResultSet())
	rs.Close()
	require.Equal(t, [][][]string{{{"1"}}, {{"2", "x"}}, {{"3"}}}, [][][]string{r1, r2, r3})

	// Time zones: the session zone moves NOW() and FROM_UNIXTIME(), and
	// CONVERT_TZ between named zones and offsets agrees.
	tz := openDB(t, base)
	var utcNow, shNow, utcFrom, shFrom string
	require.NoError(t, tz.QueryRow("SELECT NOW(), FROM_UNIXTIME(86400)").Scan(&utcNow, &utcFrom))
	_, err = tz.Exec("SET time_zone = 'Asia/Shanghai'")
	require.NoError(t, err)
	require.NoError(t, tz.QueryRow("SELECT NOW(), FROM_UNIXTIME(86400)").Scan(&shNow, &shFrom))
	require.Equal(t, "1970-01-02 00:00:00", utcFrom)
	require.Equal(t, "1970-01-02 08:00:00", shFrom)
	a, err := time.Parse(time.DateTime, utcNow)
	require.NoError(t, err)
	b, err := time.Parse(time.DateTime, shNow)
	require.NoError(t, err)
	require.InDelta(t, 8*time.Hour, b.Sub(a), float64(5*time.Second))
	var conv, offset string
	require.NoError(t, tz.QueryRow("SELECT CONVERT_TZ('2024-01-01 12:00:00', 'Asia/Shanghai', '+00:00'), "+
		"time_format(timediff(now(), convert_tz(now(), @@session.time_zone, '+00:00')), '%H:%i')").Scan(&conv, &offset))
	require.Equal(t, "2024-01-01 04:00:00", conv)
	require.Equal(t, "08:00", offset)
	_, err = tz.Exec("SET time_zone = '-03:00'")
	require.NoError(t, err)
	require.NoError(t, tz.QueryRow("SELECT FROM_UNIXTIME(86400)").Scan(&shFrom))
	require.Equal(t, "1970-01-01 21:00:00", shFrom)
	// A bad zone name in CONVERT_TZ is NULL, as in MySQL.
	var bad sql.NullString
	require.NoError(t, tz.QueryRow("SELECT CONVERT_TZ('2024-01-01 12:00:00', 'Mars/Olympus', '+00:00')").Scan(&bad))
	require.False(t, bad.Valid)
}

// scanAny reads rows through database/sql's default conversions and
// renders each value as text (time.Time with its String form).
func scanAny(t *testing.T, rs *sql.Rows) [][]string {
	t.Helper()
	defer rs.Close()
	cols, err := rs.Columns()
	require.NoError(t, err)
	var out [][]string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rs.Scan(ptrs...))
		row := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				row[i] = "NULL"
			case []byte:
				row[i] = string(x)
			case time.Time:
				row[i] = x.String()
			default:
				row[i] = fmt.Sprint(x)
			}
		}
		out = append(out, row)
	}
	require.NoError(t, rs.Err())
	return out
}
