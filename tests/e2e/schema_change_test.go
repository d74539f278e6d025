package e2e

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
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

// scCol is a column of TestSchemaChangeCompaction's tables as the test
// knows it.
type scCol struct {
	key  string // unique among the columns a table ever had
	name string
	agg  string // in the aggregate table: "", SUM or REPLACE
	def  string // what rows written before it was added read, as mysql prints it
}

// scTable works out what `SELECT *` reads from one table of the test from
// the rows loaded: every row (duplicate keys), the newest row of each id
// (unique keys) or their aggregate (aggregate keys), with a column's
// default where a row predates it.
type scTable struct {
	name, kind string
	cols       []scCol
	rows       []map[string]string // by scCol.key
}

func (tb *scTable) want() []string {
	value := func(r map[string]string, c scCol) string {
		if v, ok := r[c.key]; ok {
			return v
		}
		return c.def
	}
	rows := tb.rows
	switch tb.kind {
	case "unique":
		last := map[string]map[string]string{}
		for _, r := range tb.rows {
			last[r["id"]] = r
		}
		rows = nil
		for _, r := range last {
			rows = append(rows, r)
		}
	case "aggregate":
		acc := map[string]map[string]string{}
		rows = nil
		for _, r := range tb.rows {
			a := acc[r["id"]]
			if a == nil {
				a = map[string]string{}
				for _, c := range tb.cols {
					a[c.key] = value(r, c)
				}
				acc[r["id"]] = a
				rows = append(rows, a)
				continue
			}
			for _, c := range tb.cols {
				switch c.agg {
				case "SUM":
					x, err := strconv.Atoi(a[c.key])
					if err != nil {
						panic(err)
					}
					y, err := strconv.Atoi(value(r, c))
					if err != nil {
						panic(err)
					}
					a[c.key] = strconv.Itoa(x + y)
				case "REPLACE":
					a[c.key] = value(r, c)
				}
			}
		}
	}
	var out []string
	for _, r := range rows {
		var vals []string
		for _, c := range tb.cols {
			vals = append(vals, value(r, c))
		}
		out = append(out, strings.Join(vals, "\t"))
	}
	sort.Strings(out)
	return out
}

// maxVersionCount is the largest VersionCount among the tablets of tables.
func maxVersionCount(t *testing.T, s *Server, tables ...string) int {
	t.Helper()
	most := 0
	for _, table := range tables {
		out := s.MustMySQL("SHOW TABLETS FROM "+table, "--column-names")
		ls := lines(out)
		require.Greater(t, len(ls), 1, "SHOW TABLETS FROM %s:\n%s", table, out)
		col := slices.Index(strings.Split(ls[0], "\t"), "VersionCount")
		require.GreaterOrEqual(t, col, 0, "SHOW TABLETS has no VersionCount:\n%s", out)
		for _, l := range ls[1:] {
			n, err := strconv.Atoi(strings.Split(l, "\t")[col])
			require.NoError(t, err, l)
			most = max(most, n)
		}
	}
	return most
}

// Light schema change does not stop compaction. Loads between ADD COLUMN
// (NOT NULL with a default, nullable with one), DROP COLUMN and ADD COLUMN
// of the dropped name (a new column) with a DECIMAL default and a nullable
// column without one, four of each schema version, so that no run of one
// version is long enough to merge, in duplicate, unique (merge-on-write)
// and aggregate tables: compaction merges across the versions, the
// tablets' version counts fall below the number of loads, and every
// answer, defaults included, stays what it was and what the loaded rows
// say, also after kill -9.
func TestSchemaChangeCompaction(t *testing.T) {
	s := startServer(t, "")
	c := newConnector(t, s)
	base := []scCol{{key: "id", name: "id"}, {key: "name", name: "name", agg: "REPLACE"}, {key: "v", name: "v", agg: "SUM"}}
	tables := []*scTable{
		{name: "d", kind: "duplicate", cols: slices.Clone(base)},
		{name: "u", kind: "unique", cols: slices.Clone(base)},
		{name: "a", kind: "aggregate", cols: slices.Clone(base)},
	}
	s.MustMySQL(`CREATE DATABASE scc;
		CREATE TABLE scc.d (id BIGINT, name VARCHAR(16), v INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2;
		CREATE TABLE scc.u (id BIGINT, name VARCHAR(16), v INT) UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2;
		CREATE TABLE scc.a (id BIGINT, name VARCHAR(16) REPLACE, v INT SUM) AGGREGATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2;`)

	// add adds a column to every table: def is its definition, with
	// "AGG " where the aggregate table's aggregation goes, and shown its
	// default as mysql prints it; a SUM column defaults to 0.
	add := func(key, name, agg, def, shown string) {
		t.Helper()
		for _, tb := range tables {
			d, col := def, scCol{key: key, name: name, agg: agg, def: shown}
			if tb.kind == "aggregate" {
				d = strings.Replace(d, "AGG ", agg+" ", 1)
				if agg == "SUM" {
					d = strings.Replace(d, `DEFAULT "7"`, `DEFAULT "0"`, 1)
					col.def = "0"
				}
			} else {
				d = strings.Replace(d, "AGG ", "", 1)
			}
			s.MustMySQL(fmt.Sprintf("ALTER TABLE scc.%s ADD COLUMN %s %s", tb.name, name, d))
			tb.cols = append(tb.cols, col)
		}
	}
	drop := func(name string) {
		t.Helper()
		for _, tb := range tables {
			s.MustMySQL(fmt.Sprintf("ALTER TABLE scc.%s DROP COLUMN %s", tb.name, name))
			tb.cols = slices.DeleteFunc(tb.cols, func(c scCol) bool { return c.name == name })
		}
	}
	loads := 0
	// load sends 30 rows of the current columns to every table, their ids
	// overlapping the previous load's; n1 is left out (NULL) now and then.
	load := func() {
		t.Helper()
		i := loads
		loads++
		cols := tables[0].cols
		var body bytes.Buffer
		var rows []map[string]string
		for j := range 30 {
			r := map[string]string{}
			var fields []string
			for _, col := range cols {
				var v string
				switch col.name {
				case "id":
					v = strconv.Itoa(i*10 + j)
				case "name":
					v = fmt.Sprintf("n%d_%d", i, j)
				case "v", "c1":
					v = strconv.Itoa(i*100 + j)
				case "s1":
					v = fmt.Sprintf("s%d", i)
				case "d1":
					v = fmt.Sprintf("%d.%02d", j, i)
				case "n1":
					if j%3 == 0 {
						continue
					}
					v = strconv.Itoa(j)
				}
				r[col.key] = v
				fields = append(fields, fmt.Sprintf("%q:%q", col.name, v))
			}
			rows = append(rows, r)
			if j > 0 {
				body.WriteByte('\n')
			}
			body.WriteString("{" + strings.Join(fields, ",") + "}")
		}
		for _, tb := range tables {
			requireSuccess(t, c.load("scc", tb.name, body.Bytes(), false, fmt.Sprintf("label: scc_%s_%d", tb.name, i),
				"format: json", "read_json_by_line: true"))
			tb.rows = append(tb.rows, rows...)
		}
	}

	for range 4 {
		load()
	}
	add("c1", "c1", "SUM", `INT AGG NOT NULL DEFAULT "7"`, "7")
	add("s1", "s1", "REPLACE", `VARCHAR(8) AGG DEFAULT "dflt"`, "dflt")
	for range 4 {
		load()
	}
	drop("name")
	for range 4 {
		load()
	}
	add("name2", "name", "REPLACE", `VARCHAR(16) AGG DEFAULT "again"`, "again")
	add("d1", "d1", "REPLACE", `DECIMAL(10, 2) AGG DEFAULT "1.50"`, "1.50")
	add("n1", "n1", "REPLACE", `INT AGG NULL`, "NULL")
	for range 4 {
		load()
	}

	var queries []string
	for _, tb := range tables {
		queries = append(queries,
			"SELECT * FROM scc."+tb.name,
			"SELECT count(*), sum(v), sum(c1), count(n1), sum(d1), count(DISTINCT s1) FROM scc."+tb.name,
			"SELECT name, count(*) FROM scc."+tb.name+" GROUP BY name",
			"SELECT count(*) FROM scc."+tb.name+" WHERE s1 = 'dflt' OR c1 IN (0, 7) OR name = 'again' OR d1 = 1.5 OR n1 IS NULL",
			"SELECT id, c1, s1, name, d1, n1 FROM scc."+tb.name+" WHERE id IN (0, 39, 75, 150)")
	}
	// answers runs the queries, checking SELECT * against the rows loaded.
	answers := func(what string) []string {
		t.Helper()
		var out []string
		for _, q := range queries {
			got := lines(s.MustMySQL(q))
			sort.Strings(got)
			out = append(out, strings.Join(got, "\n"))
		}
		for i, tb := range tables {
			require.Equal(t, strings.Join(tb.want(), "\n"), out[len(queries)/len(tables)*i], "%s: SELECT * FROM %s", what, tb.name)
		}
		return out
	}
	want := answers("after the loads")
	require.Contains(t, want[len(want)-1], "0\t0\tdflt\tagain\t1.50\tNULL", "id 0 of the aggregate table reads the defaults")

	names := []string{"scc.d", "scc.u", "scc.a"}
	deadline := time.Now().Add(60 * time.Second)
	for maxVersionCount(t, s, names...) > 4 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	require.LessOrEqual(t, maxVersionCount(t, s, names...), 4, "compaction did not merge the %d loads across schema versions", loads)
	require.Equal(t, want, answers("after compaction"))

	s.Kill9()
	s.Restart()
	require.Equal(t, want, answers("after compaction and kill -9"))
	require.LessOrEqual(t, maxVersionCount(t, s, names...), 4)
}
