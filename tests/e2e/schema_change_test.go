package e2e

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Light schema change against a running server: ALTER TABLE while two-phase
// loads have their bodies open and queries run, then a restart.

// openLoad is a chunked two-phase JSON-lines stream load whose body stays
// open until finish.
type openLoad struct {
	t     *testing.T
	pw    *io.PipeWriter
	reply chan loadResult
	sent  bool
}

// startLoad begins the load and sends its first rows. When it returns, the
// load has begun: the client sends body bytes only after the server's
// 100 Continue, which the server sends once it has begun the transaction
// and starts reading.
func startLoad(t *testing.T, c *connector, table, label string, first []byte) *openLoad {
	t.Helper()
	pr, pw := io.Pipe()
	o := &openLoad{t: t, pw: pw, reply: make(chan loadResult, 1)}
	go func() {
		resp, body := c.do(request{method: http.MethodPut, url: c.beURL("/api/db/" + table + "/_stream_load"), body: pr, length: -1,
			headers: []string{"label: " + label, "two_phase_commit: true", "format: json", "read_json_by_line: true"}})
		o.reply <- decodeReply(t, resp, body)
	}()
	o.send(first)
	return o
}

// send writes more JSON lines into the open body.
func (o *openLoad) send(lines []byte) {
	o.t.Helper()
	if o.sent {
		lines = append([]byte("\n"), lines...)
	}
	o.sent = true
	_, err := o.pw.Write(lines)
	require.NoError(o.t, err)
}

// finish closes the body and returns the load's reply.
func (o *openLoad) finish() loadResult {
	o.t.Helper()
	require.NoError(o.t, o.pw.Close())
	select {
	case res := <-o.reply:
		return res
	case <-time.After(time.Minute):
		o.t.Fatal("the load did not answer within a minute of its body's end")
		return nil
	}
}

// jsonRowsWith is jsonRows with one more key, name, valued prefix+id.
func jsonRowsWith(first, n int, name, prefix string) []byte {
	var b bytes.Buffer
	for i, l := range bytes.Split(jsonRows(first, n), []byte("\n")) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.Write(l[:len(l)-1])
		fmt.Fprintf(&b, `,"%s":"%s%d"}`, name, prefix, first+i)
	}
	return b.Bytes()
}

// scalar runs a one-value query through the mysql client.
func scalar(t *testing.T, s *Server, q string) string {
	t.Helper()
	return strings.TrimSpace(s.MustMySQL(q))
}

// queryLoop runs queries over its own connection until stop, failing on
// any error and on a row count that goes down (a lost row).
type queryLoop struct {
	stop chan struct{}
	done chan error
	runs int
}

func startQueryLoop(t *testing.T, s *Server) *queryLoop {
	t.Helper()
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/db", s.Query))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	l := &queryLoop{stop: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		last := 0
		for {
			select {
			case <-l.stop:
				l.done <- nil
				return
			default:
			}
			var n int
			if err := db.QueryRow("SELECT count(*) FROM sc").Scan(&n); err != nil {
				l.done <- fmt.Errorf("count after %d runs: %w", l.runs, err)
				return
			}
			if n < last {
				l.done <- fmt.Errorf("count went from %d to %d", last, n)
				return
			}
			last = n
			rows, err := db.Query("SELECT * FROM sc WHERE id < 200")
			if err != nil {
				l.done <- fmt.Errorf("select * after %d runs: %w", l.runs, err)
				return
			}
			cols, _ := rows.Columns()
			cells := make([]any, len(cols))
			for i := range cells {
				cells[i] = new(sql.RawBytes)
			}
			got := 0
			for rows.Next() {
				if err := rows.Scan(cells...); err != nil {
					l.done <- err
					return
				}
				got++
			}
			if err := rows.Close(); err != nil {
				l.done <- err
				return
			}
			if got != 100 {
				l.done <- fmt.Errorf("select * found %d rows with id < 200, want 100", got)
				return
			}
			l.runs++
		}
	}()
	return l
}

func (l *queryLoop) end(t *testing.T) {
	t.Helper()
	close(l.stop)
	require.NoError(t, <-l.done)
	require.Greater(t, l.runs, 0)
	t.Logf("query loop: %d runs", l.runs)
}

func TestSchemaChange(t *testing.T) {
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE db;
		CREATE TABLE db.sc (id BIGINT, name VARCHAR(32), age INT, ts BIGINT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 4;`)
	c := newConnector(t, s)
	load := func(t *testing.T, label string, body []byte) {
		t.Helper()
		requireSuccess(t, c.load("db", "sc", body, true, "label: "+label, "format: json", "read_json_by_line: true"))
	}
	commit := func(t *testing.T, res loadResult) {
		t.Helper()
		requireSuccess(t, res)
		require.Equal(t, "true", res.str("TwoPhaseCommit"))
		rep := c.commit("db", res.num("TxnId"))
		require.Equal(t, "Success", rep["status"], "%v", rep)
	}
	countWhere := func(t *testing.T, where string) int {
		t.Helper()
		var n int
		_, err := fmt.Sscan(scalar(t, s, "SELECT count(*) FROM db.sc WHERE "+where), &n)
		require.NoError(t, err)
		return n
	}
	load(t, "base", jsonRows(100, 100)) // ids 100..199

	// (a) ADD COLUMN with a default while a two-phase load has its body
	// open: the load keeps its schema (its rows read the default, and the
	// new key it sends is ignored), a load begun after the ALTER stores
	// the new column.
	t.Run("add during load", func(t *testing.T) {
		l := startLoad(t, c, "sc", "sc_a", jsonRows(1000, 50))
		start := time.Now()
		s.MustMySQL("ALTER TABLE db.sc ADD COLUMN city VARCHAR(16) DEFAULT 'nowhere' COMMENT 'added'")
		t.Logf("ALTER TABLE ADD COLUMN through the mysql client: %v", time.Since(start))
		l.send(jsonRowsWith(1050, 50, "city", "late"))
		load(t, "after_add", jsonRowsWith(2000, 50, "city", "c"))
		commit(t, l.finish())

		require.Equal(t, 100+100, countWhere(t, "city = 'nowhere'"))
		require.Equal(t, 0, countWhere(t, "city LIKE 'late%'"))
		require.Equal(t, 50, countWhere(t, "city LIKE 'c%'"))
		require.Equal(t, "c2042", scalar(t, s, "SELECT city FROM db.sc WHERE id = 2042"))
		require.Equal(t, "1049\tn1049\tnowhere", scalar(t, s, "SELECT id, name, city FROM db.sc WHERE id = 1049"))
		require.Equal(t, 250, countWhere(t, "id > 0"))
	})

	// (b) DROP COLUMN while a load is in flight and a query loop runs:
	// no query fails, no row is lost; a later load's key for the dropped
	// column is ignored.
	t.Run("drop during load and queries", func(t *testing.T) {
		loop := startQueryLoop(t, s)
		l := startLoad(t, c, "sc", "sc_b", jsonRows(3000, 50))
		time.Sleep(50 * time.Millisecond)
		s.MustMySQL("ALTER TABLE db.sc DROP COLUMN age")
		l.send(jsonRows(3050, 50)) // still sends age: that load's schema has it
		load(t, "after_drop", jsonRows(4000, 20))
		time.Sleep(50 * time.Millisecond)
		commit(t, l.finish())
		time.Sleep(50 * time.Millisecond)
		loop.end(t)

		require.Equal(t, 250+100+20, countWhere(t, "id > 0"))
		require.Equal(t, 100, countWhere(t, "id BETWEEN 3000 AND 3099"))
		_, err := s.MySQL("SELECT age FROM db.sc")
		require.ErrorContains(t, err, "ERROR 1054")
		require.Equal(t, "id\nname\nts\ncity", strings.TrimSpace(s.MustMySQL("SELECT COLUMN_NAME FROM information_schema.COLUMNS "+
			"WHERE TABLE_SCHEMA = 'db' AND TABLE_NAME = 'sc' ORDER BY ORDINAL_POSITION")))
	})

	// (c) DROP then ADD the same name: a new column id, so the old values
	// (including those the in-flight load wrote after the drop) never come
	// back; the default does.
	t.Run("drop then add the same name", func(t *testing.T) {
		s.MustMySQL("ALTER TABLE db.sc ADD COLUMN age INT DEFAULT '-1'")
		require.Equal(t, 370, countWhere(t, "age = -1"))
		load(t, "age_again", jsonRows(5000, 10))
		require.Equal(t, 370, countWhere(t, "age = -1"))
		require.Equal(t, "5007\t57", scalar(t, s, "SELECT id, age FROM db.sc WHERE id = 5007"))
	})

	// Scenario 38: the statements Flink CDC sends over HTTP.
	t.Run("flink cdc statements", func(t *testing.T) {
		m := c.query("db", "ALTER TABLE `db`.`sc` ADD COLUMN `c2` VARCHAR(10) DEFAULT 'x' COMMENT 'n'")
		require.EqualValues(t, 0, m["code"], "%v", m)
		require.Equal(t, "exec_status", m["data"].(map[string]any)["type"])
		m = c.query("db", "ALTER TABLE db.sc MODIFY COLUMN c2 VARCHAR(10) DEFAULT 'x' COMMENT 'n'")
		require.EqualValues(t, 1, m["code"], "%v", m)
		require.Contains(t, fmt.Sprint(m["data"]), "Nothing is changed. please check your alter stmt.")
		m = c.query("db", "ALTER TABLE `db`.`sc` RENAME COLUMN `c2` `c3`")
		require.EqualValues(t, 0, m["code"], "%v", m)
		m = c.query("db", "ALTER TABLE `db`.`sc` DROP COLUMN `c3`")
		require.EqualValues(t, 0, m["code"], "%v", m)
	})

	// ALTER costs one catalog write, whatever the table holds.
	t.Run("latency", func(t *testing.T) {
		db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/db", s.Query))
		require.NoError(t, err)
		defer db.Close()
		var took []time.Duration
		for i := range 10 {
			for _, q := range []string{"ALTER TABLE sc ADD COLUMN tmp%d INT", "ALTER TABLE sc DROP COLUMN tmp%d"} {
				start := time.Now()
				_, err := db.Exec(fmt.Sprintf(q, i))
				require.NoError(t, err)
				took = append(took, time.Since(start))
			}
		}
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		t.Logf("ALTER TABLE round trip over %d statements: median %v, max %v", len(took), took[len(took)/2], took[len(took)-1])
		require.Less(t, took[len(took)/2], 500*time.Millisecond)
	})

	// (d) The new schema and the data survive a clean restart and a
	// kill -9 right after an acknowledged ALTER.
	t.Run("restart", func(t *testing.T) {
		want := func() {
			t.Helper()
			require.Equal(t, 380, countWhere(t, "id > 0"))
			require.Equal(t, 200+100+20+10, countWhere(t, "city = 'nowhere'"))
			require.Equal(t, 370, countWhere(t, "age = -1"))
			require.Equal(t, "c2042\t-1", scalar(t, s, "SELECT city, age FROM db.sc WHERE id = 2042"))
			create := s.MustMySQL("SHOW CREATE TABLE db.sc")
			require.Contains(t, create, "`city` VARCHAR(16) NULL DEFAULT \"nowhere\" COMMENT \"added\"")
			require.NotContains(t, create, "tmp")
		}
		s.Stop()
		s.Restart()
		want()

		s.MustMySQL("ALTER TABLE db.sc RENAME COLUMN name nm")
		s.Kill9()
		s.Restart()
		want()
		require.Equal(t, "n2042", scalar(t, s, "SELECT nm FROM db.sc WHERE id = 2042"))
		load(t, "after_restart", jsonRowsWith(6000, 5, "nm", "m"))
		require.Equal(t, "m6003", scalar(t, s, "SELECT nm FROM db.sc WHERE id = 6003"))
	})
}
