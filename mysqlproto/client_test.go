package mysqlproto

import (
	"database/sql"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
)

func openDB(t *testing.T, addr, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", "root@tcp("+addr+")/"+params)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// scanStrings reads every row as strings; NULL becomes "<nil>".
func scanStrings(t *testing.T, rows *sql.Rows) [][]string {
	t.Helper()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "<nil>"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestDriverTextTypes(t *testing.T) {
	addr, _, _ := startServer(t, Options{})
	db := openDB(t, addr, "")
	rows, err := db.Query("select types")
	require.NoError(t, err)
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	require.NoError(t, err)
	wantTypes := []string{"TINYINT", "TINYINT", "SMALLINT", "INT", "BIGINT", "VARCHAR", "FLOAT", "DOUBLE", "DECIMAL",
		"DATE", "DATETIME", "DATETIME", "VARCHAR", "VARCHAR", "TEXT"}
	for i, ct := range cts {
		require.Equal(t, wantTypes[i], ct.DatabaseTypeName(), "column %s", ct.Name())
	}
	p, s, ok := cts[8].DecimalSize()
	require.True(t, ok)
	require.Equal(t, int64(10), p)
	require.Equal(t, int64(2), s)
	nullable, ok := cts[14].Nullable()
	require.True(t, ok)
	require.False(t, nullable)
	got := scanStrings(t, rows)
	require.Len(t, got, 2)
	require.Equal(t, typeText, got[0])
	for i, v := range got[1][:len(got[1])-1] {
		require.Equal(t, "<nil>", v, "column %d", i)
	}
	require.Equal(t, "", got[1][len(got[1])-1])
}

func TestDriverPreparedBinaryTypes(t *testing.T) {
	addr, _, _ := startServer(t, Options{})
	db := openDB(t, addr, "")
	// An argument forces COM_STMT_PREPARE/EXECUTE and binary rows.
	rows, err := db.Query("select types where ?", 1)
	require.NoError(t, err)
	defer rows.Close()
	got := scanStrings(t, rows)
	require.Len(t, got, 2)
	require.Equal(t, typeText, got[0])
	for i, v := range got[1][:len(got[1])-1] {
		require.Equal(t, "<nil>", v, "column %d", i)
	}

	// parseTime: DATE and DATETIME(6) arrive as time.Time.
	db2 := openDB(t, addr, "?parseTime=true")
	var (
		b    bool
		ti   int8
		si   int16
		i32  int32
		bi   int64
		li   string
		f    float32
		d    float64
		dec  string
		dt   time.Time
		dtm  time.Time
		dtm6 time.Time
		c    string
		vc   string
		s    []byte
	)
	require.NoError(t, db2.QueryRow("select types where ?", 1).Scan(&b, &ti, &si, &i32, &bi, &li, &f, &d, &dec, &dt, &dtm, &dtm6, &c, &vc, &s))
	require.True(t, b)
	require.Equal(t, int8(127), ti)
	require.Equal(t, int16(-32768), si)
	require.Equal(t, int32(2147483647), i32)
	require.Equal(t, int64(-9223372036854775808), bi)
	require.Equal(t, "170141183460469231731687303715884105727", li)
	require.Equal(t, float32(0.1), f)
	require.Equal(t, 1e20, d)
	require.Equal(t, "-12.50", dec)
	require.Equal(t, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), dt)
	require.Equal(t, time.Date(2024, 2, 29, 13, 14, 15, 0, time.UTC), dtm)
	require.Equal(t, time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC), dtm6)
	require.Equal(t, "ab", c)
	require.Equal(t, "héllo", vc)
	require.Equal(t, "long text", string(s))
}

func TestDriverPreparedArgs(t *testing.T) {
	addr, _, h := startServer(t, Options{})
	db := openDB(t, addr, "")
	ts := time.Date(2023, 12, 31, 23, 59, 58, 250000000, time.UTC)
	args := []any{nil, int64(-5), uint64(18446744073709551615), 2.5, "str", []byte("bytes"), true, ts, int8(3)}
	rows, err := db.Query("echo ?,?,?,?,?,?,?,?,?", args...)
	require.NoError(t, err)
	got := scanStrings(t, rows)
	require.NoError(t, rows.Close())
	require.Equal(t, [][]string{{"<nil>", "int64:-5", "uint64:18446744073709551615", "float64:2.5", "string:str",
		"string:bytes", "int64:1", "string:2023-12-31 23:59:58.25", "int64:3"}}, got)
	h.mu.Lock()
	require.Equal(t, []any{nil, int64(-5), uint64(18446744073709551615), 2.5, "str", "bytes", int64(1), "2023-12-31 23:59:58.25", int64(3)}, h.lastArgs)
	h.mu.Unlock()

	// Re-executing a statement reuses its bound types; the OK of an
	// execute carries affected rows.
	st, err := db.Prepare("insert into t values (?, ?)")
	require.NoError(t, err)
	defer st.Close()
	for range 3 {
		res, err := st.Exec(1, "x")
		require.NoError(t, err)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		require.Equal(t, int64(2), n)
	}
}

func TestDriverOKAndErrors(t *testing.T) {
	addr, _, _ := startServer(t, Options{})
	db := openDB(t, addr, "")
	db.SetMaxOpenConns(1)
	res, err := db.Exec("insert into t values (1)")
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.Equal(t, int64(3), n)
	id, err := res.LastInsertId()
	require.NoError(t, err)
	require.Equal(t, int64(7), id)

	var connID int64
	require.NoError(t, db.QueryRow("select connection_id()").Scan(&connID))
	for _, q := range []string{"select nope", "select panic", "select iterfail"} {
		rows, err := db.Query(q)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			_ = rows.Close()
		}
		var me *mysql.MySQLError
		require.ErrorAs(t, err, &me, q)
		switch q {
		case "select nope":
			require.Equal(t, uint16(1146), me.Number)
			require.Equal(t, [5]byte{'4', '2', 'S', '0', '2'}, me.SQLState)
		case "select panic":
			require.Equal(t, uint16(1105), me.Number)
			require.Contains(t, me.Message, "query exploded")
		case "select iterfail":
			require.Equal(t, "scan failed", me.Message)
		}
		// The same connection keeps working.
		var again int64
		require.NoError(t, db.QueryRow("select connection_id()").Scan(&again))
		require.Equal(t, connID, again)
	}
	_, err = db.Prepare("bogus ?")
	require.ErrorContains(t, err, "error in your SQL syntax")
	require.NoError(t, db.Ping())
}

func TestDriverSelectionVector(t *testing.T) {
	addr, _, _ := startServer(t, Options{})
	db := openDB(t, addr, "")
	rows, err := db.Query("select sel")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"40"}, {"<nil>"}, {"10"}}, scanStrings(t, rows))
	require.NoError(t, rows.Close())
}

func TestDriverMultiStatements(t *testing.T) {
	addr, _, _ := startServer(t, Options{})
	db := openDB(t, addr, "?multiStatements=true")
	db.SetMaxOpenConns(1)
	rows, err := db.Query("select 1; insert into t; select types; select database()")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"1"}}, scanStrings(t, rows))
	require.True(t, rows.NextResultSet()) // skips the OK of insert: no columns
	got := scanStrings(t, rows)
	require.Len(t, got, 2)
	require.True(t, rows.NextResultSet())
	require.Equal(t, [][]string{{""}}, scanStrings(t, rows))
	require.False(t, rows.NextResultSet())
	require.NoError(t, rows.Close())

	// An error after the first statement: its result arrives, then the error.
	rows, err = db.Query("select 1; select nope; select 1")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"1"}}, scanStrings(t, rows))
	require.False(t, rows.NextResultSet())
	require.ErrorContains(t, rows.Err(), "doesn't exist")
	_ = rows.Close()
	require.NoError(t, db.Ping())
	var one int
	require.NoError(t, db.QueryRow("select 1").Scan(&one))
}

func TestDriverUseDB(t *testing.T) {
	addr, _, _ := startServer(t, Options{})
	db := openDB(t, addr, "db1")
	var name string
	require.NoError(t, db.QueryRow("select database()").Scan(&name))
	require.Equal(t, "db1", name)

	bad := openDB(t, addr, "nosuch")
	err := bad.Ping()
	var me *mysql.MySQLError
	require.ErrorAs(t, err, &me)
	require.Equal(t, uint16(1049), me.Number)
}

func TestDriverAuth(t *testing.T) {
	addr, _, _ := startServer(t, Options{})
	for _, tc := range []struct {
		dsn  string
		want uint16
	}{
		{"root@tcp(" + addr + ")/", 0},
		{"alice:secret@tcp(" + addr + ")/", 0},
		{"alice:wrong@tcp(" + addr + ")/", 1045},
		{"bob@tcp(" + addr + ")/", 1045},
		{"boom@tcp(" + addr + ")/", 1045}, // a panic in Authenticate denies access
	} {
		db, err := sql.Open("mysql", tc.dsn)
		require.NoError(t, err)
		err = db.Ping()
		_ = db.Close()
		if tc.want == 0 {
			require.NoError(t, err, tc.dsn)
			continue
		}
		var me *mysql.MySQLError
		require.ErrorAs(t, err, &me, tc.dsn)
		require.Equal(t, tc.want, me.Number, tc.dsn)
	}
}

// TestDriverLargeResult streams a result far larger than the heap it may
// use: the server must not build it in memory.
func TestDriverLargeResult(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 200_000
	}
	addr, _, _ := startServer(t, Options{})
	db := openDB(t, addr, "")

	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()

	for _, q := range []struct {
		text string
		args []any
	}{{fmt.Sprintf("select big %d", n), nil}, {"select big ?", []any{n}}} {
		rows, err := db.Query(q.text, q.args...)
		require.NoError(t, err)
		count := 0
		var id int64
		var pad sql.RawBytes
		for rows.Next() {
			require.NoError(t, rows.Scan(&id, &pad))
			require.Equal(t, int64(count), id)
			count++
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		require.Equal(t, n, count)
	}
	close(stop)
	<-done
	resultBytes := uint64(n) * uint64(len(bigPad)+10)
	t.Logf("result %d MiB, peak heap in use %d MiB", resultBytes>>20, peak.Load()>>20)
	require.Less(t, peak.Load(), uint64(64<<20))
}

func TestDriverManyConnections(t *testing.T) {
	addr, srv, h := startServer(t, Options{MaxConnections: 2, ConnWait: 50 * time.Millisecond})
	db1 := openDB(t, addr, "")
	db1.SetMaxOpenConns(2)
	c1, err := db1.Conn(t.Context())
	require.NoError(t, err)
	c2, err := db1.Conn(t.Context())
	require.NoError(t, err)
	require.NoError(t, c1.PingContext(t.Context()))
	require.NoError(t, c2.PingContext(t.Context()))

	db2 := openDB(t, addr, "")
	err = db2.Ping()
	var me *mysql.MySQLError
	require.ErrorAs(t, err, &me)
	require.Equal(t, uint16(1040), me.Number)

	require.NoError(t, c1.Raw(func(any) error { return nil }))
	require.NoError(t, c1.Close())
	require.NoError(t, c2.Close())
	require.NoError(t, db1.Close()) // closes both pooled connections
	require.Eventually(t, func() bool { return srv.NumConnections() == 0 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, db2.Ping())
	h.mu.Lock()
	defer h.mu.Unlock()
	require.GreaterOrEqual(t, h.closed, 2)
}
