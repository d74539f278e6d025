package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/bench/ssb"
)

func TestLoadLabel(t *testing.T) {
	seen := map[string]bool{}
	for _, sf := range []float64{0.01, 1, 10, 100, 1e-3} {
		for i := range 3 {
			l := loadLabel(sf, "20261122T184329_0a1b2c3d", i)
			require.Regexp(t, labelRE, l)
			require.False(t, seen[l], l)
			seen[l] = true
		}
	}
	require.Equal(t, "ssb_flat_sf0_01_run_00007", loadLabel(0.01, "run", 7))
	require.Regexp(t, labelRE, loadLabel(1, newRunID(), 99999))
	require.NotEqual(t, newRunID(), newRunID())
}

func TestCreateFlatTable(t *testing.T) {
	cols := ssb.FlatColumnsKeyFirst()
	ddl := createFlatTable(cols, 8, false)
	require.True(t, strings.HasPrefix(ddl, "CREATE TABLE IF NOT EXISTS lineorder_flat (\n  LO_ORDERDATE INT NOT NULL,\n  LO_ORDERKEY INT NOT NULL,\n  LO_LINENUMBER TINYINT NOT NULL,"), ddl)
	require.Equal(t, 38, strings.Count(ddl, " NOT NULL"))
	require.Contains(t, ddl, "  P_CONTAINER VARCHAR(10) NOT NULL\n)\nDUPLICATE KEY(LO_ORDERDATE, LO_ORDERKEY)\nPARTITION BY RANGE(LO_ORDERDATE) (\n"+
		"  PARTITION p1992 VALUES LESS THAN (19930101),\n")
	require.Contains(t, ddl, "  PARTITION p1998 VALUES LESS THAN (19990101)\n)\nDISTRIBUTED BY HASH(LO_ORDERKEY) BUCKETS 8\nPROPERTIES (\"replication_num\" = \"1\")")
	require.Equal(t, 7, strings.Count(ddl, "PARTITION p"))
	require.Contains(t, createFlatTable(cols, 48, true), "LO_ORDERKEY BIGINT NOT NULL")
	require.Contains(t, createFlatTable(cols, 48, true), "BUCKETS 48")
	require.Len(t, flatColumnTypes, 38)
	for _, c := range ssb.FlatColumns {
		require.Contains(t, flatColumnTypes, c)
	}
}

func TestSelectQueries(t *testing.T) {
	all, err := selectQueries("")
	require.NoError(t, err)
	require.Len(t, all, 13)
	qs, err := selectQueries("Q1.1, q2.1,3.4")
	require.NoError(t, err)
	require.Equal(t, []string{"Q1.1", "Q2.1", "Q3.4"}, []string{qs[0].ID, qs[1].ID, qs[2].ID})
	_, err = selectQueries("Q5.1")
	require.Error(t, err)
	require.Equal(t, "SELECT 1", queryText(ssb.Query{Flat: " SELECT 1;\n"}))
}

func TestLoadPlan(t *testing.T) {
	for _, tc := range []struct{ chunks, rows int64 }{{184, 1_500_000}, {2, 1_500_000}, {19, 1}, {1, 10_000_000}} {
		plan := loadPlan(tc.chunks, tc.rows)
		next := int64(0)
		for _, p := range plan {
			require.Equal(t, next, p[0])
			require.Positive(t, p[1])
			next += p[1]
		}
		require.Equal(t, tc.chunks, next)
	}
	require.Equal(t, [][2]int64{{0, 37}, {37, 37}, {74, 37}, {111, 37}, {148, 36}}, loadPlan(184, 1_500_000))
}

func TestEscapeSeparator(t *testing.T) {
	for in, want := range map[string]string{"|": "|", ",": ",", "\t": `\t`, "\x01": `\x01`, "||": "||", `\`: `\\`} {
		require.Equal(t, want, escapeSeparator(in))
	}
}

func res(cols int, rows ...[]string) *result {
	r := &result{columns: make([]string, cols)}
	r.rows = rows
	return r
}

func TestCheckResult(t *testing.T) {
	q11, _ := ssb.QueryByID("Q1.1")
	q21, _ := ssb.QueryByID("Q2.1")
	q34, _ := ssb.QueryByID("Q3.4")
	for _, tc := range []struct {
		name  string
		q     ssb.Query
		sf    float64
		res   *result
		errs  []string
		notes []string
	}{
		{"exact", q11, 1, res(1, []string{"446031203850"}), nil, []string{"groups 1 (dbgen 1), sum +0.0% vs dbgen"}},
		{"decimal", q11, 1, res(1, []string{"446031203850.00"}), nil, []string{"groups 1 (dbgen 1), sum +0.0% vs dbgen"}},
		{"implausible", q11, 1, res(1, []string{"846031203850"}), []string{"implausible: groups 1 (dbgen 1), sum +89.7% vs dbgen"}, nil},
		{"other sf", q11, 10, res(1, []string{"4460312038500"}), nil, nil},
		{"columns", q11, 1, res(2, []string{"1", "2"}), []string{"2 columns, want 1"}, nil},
		{"empty", q11, 1, res(1), []string{"no rows", "implausible: groups 0 (dbgen 1), sum -100.0% vs dbgen"}, nil},
		{"not a number", q11, 1, res(1, []string{"abc"}), []string{`aggregate "abc" is not a number`}, nil},
		{"duplicate", q21, 0.1, res(3, []string{"5", "1992", "MFGR#121"}, []string{"6", "1992", "MFGR#121"}),
			[]string{`duplicate group "1992,MFGR#121"`}, nil},
		{"too many", q34, 0.1, res(4, []string{"a", "b", "1997", "1"}, []string{"a", "c", "1997", "1"},
			[]string{"b", "b", "1997", "1"}, []string{"c", "b", "1997", "1"}, []string{"c", "c", "1997", "1"}),
			[]string{"5 groups, at most 4 possible"}, nil},
		{"selective off", q34, 1, res(4, []string{"UNITED KI1", "UNITED KI5", "1997", "17191717"}), nil,
			[]string{"groups 1 (dbgen 3), sum +0.0% vs dbgen"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := checkResult(tc.q, tc.sf, tc.res, nil)
			require.Equal(t, tc.errs, c.errs)
			require.Equal(t, tc.notes, c.notes)
			require.Equal(t, len(tc.res.rows), c.groups)
		})
	}
}

func TestCheckResultExact(t *testing.T) {
	q21, _ := ssb.QueryByID("Q2.1")
	q31, _ := ssb.QueryByID("Q3.1")
	want := &ssb.Answer{Rows: [][]string{{"10", "1992", "MFGR#121"}, {"20", "1992", "MFGR#1210"}, {"5", "1993", "MFGR#121"}}}
	for _, tc := range []struct {
		name string
		res  *result
		errs []string
	}{
		{"same", res(3, []string{"10", "1992", "MFGR#121"}, []string{"20", "1992", "MFGR#1210"}, []string{"5", "1993", "MFGR#121"}), nil},
		{"decimal sums", res(3, []string{"10.00", "1992", "MFGR#121"}, []string{"20.0", "1992", "MFGR#1210"}, []string{"5", "1993", "MFGR#121"}), nil},
		{"wrong value", res(3, []string{"10", "1992", "MFGR#121"}, []string{"21", "1992", "MFGR#1210"}, []string{"5", "1993", "MFGR#121"}),
			[]string{"differs from the generator's answer: group (1992,MFGR#1210) = 21, want 20"}},
		{"missing", res(3, []string{"10", "1992", "MFGR#121"}, []string{"5", "1993", "MFGR#121"}),
			[]string{"differs from the generator's answer: 1 of 3 groups missing"}},
		{"extra", res(3, []string{"10", "1992", "MFGR#121"}, []string{"20", "1992", "MFGR#1210"}, []string{"5", "1993", "MFGR#121"}, []string{"1", "1993", "MFGR#122"}),
			[]string{"differs from the generator's answer: unexpected group (1993,MFGR#122)"}},
		{"order", res(3, []string{"20", "1992", "MFGR#1210"}, []string{"10", "1992", "MFGR#121"}, []string{"5", "1993", "MFGR#121"}),
			[]string{"rows 1 and 2 out of ORDER BY order"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.errs, checkResult(q21, 0.1, tc.res, want).errs)
		})
	}
	// Q3: year ascending, then revenue descending.
	ok := res(4, []string{"CHINA", "INDIA", "1992", "30"}, []string{"INDIA", "CHINA", "1992", "20"}, []string{"CHINA", "CHINA", "1993", "50"})
	require.Empty(t, checkResult(q31, 0.1, ok, nil).errs)
	bad := res(4, []string{"CHINA", "INDIA", "1992", "20"}, []string{"INDIA", "CHINA", "1992", "30"})
	require.Equal(t, []string{"rows 1 and 2 out of ORDER BY order"}, checkResult(q31, 0.1, bad, nil).errs)
}

func TestPrintTable(t *testing.T) {
	var b bytes.Buffer
	printTable(&b, 1, []timing{
		{id: "Q1.1", best: 12300 * time.Microsecond, runs: []time.Duration{13 * time.Millisecond, 12300 * time.Microsecond},
			check: check{groups: 1, notes: []string{"groups 1 (dbgen 1), sum +0.3% vs dbgen"}}},
		{id: "Q1.2", err: fmt.Errorf("Error 1105: unknown | column\nx")},
		{id: "Q2.1", best: 100 * time.Millisecond, runs: []time.Duration{100 * time.Millisecond},
			check: check{groups: 3, errs: []string{"no rows"}}},
	})
	require.Equal(t, `| query (SF 1) | hot ms | runs ms | groups | check |
|---|---:|---|---:|---|
| Q1.1 | 12.3 | 13.0, 12.3 | 1 | ok; groups 1 (dbgen 1), sum +0.3% vs dbgen |
| Q1.2 | – | – | – | error: Error 1105: unknown \| column x |
| Q2.1 | 100.0 | 100.0 | 3 | WRONG: no rows |
| **total** | **112.3** | | | 2 failed |
`, b.String())
}

// fakeDoris is an FE that redirects stream loads to a BE, as Doris does,
// and a BE that counts the rows it receives.
type fakeDoris struct {
	fe, be *httptest.Server
	rows   atomic.Int64
	labels chan string
	status string // BE Status to answer; "" = Success
}

func newFakeDoris(t *testing.T) *fakeDoris {
	f := &fakeDoris{labels: make(chan string, 100)}
	f.be = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "root" || pass != "pw" {
			fmt.Fprint(w, `{"TxnId":-1,"Label":"","Status":"Fail","Message":"no valid Basic authorization"}`)
			return
		}
		if r.Header.Get("column_separator") != "|" || len(r.TransferEncoding) == 0 || r.TransferEncoding[0] != "chunked" {
			http.Error(w, "bad framing or separator", http.StatusBadRequest)
			return
		}
		var n int64
		sc := bufio.NewScanner(r.Body)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			if strings.Count(sc.Text(), "|") != 37 {
				http.Error(w, "bad row "+sc.Text(), http.StatusBadRequest)
				return
			}
			n++
		}
		status := f.status
		if status == "" {
			status = "Success"
			f.rows.Add(n)
		}
		f.labels <- r.Header.Get("label")
		fmt.Fprintf(w, `{"TxnId":1,"Label":%q,"Status":%q,"Message":"OK","NumberTotalRows":%d,"NumberLoadedRows":%d}`+"\n",
			r.Header.Get("label"), status, n, n)
	}))
	f.fe = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Expect") == "" {
			fmt.Fprint(w, `{"status":"FAILED","msg":"There is no 100-continue header"}`)
			return
		}
		if _, _, ok := r.BasicAuth(); !ok {
			http.Error(w, "no auth", http.StatusUnauthorized)
			return
		}
		// A Go server answers without sending 100 Continue when the handler
		// does not read the body; the client must not send it.
		w.Header().Set("Location", "http://root:pw@"+f.be.Listener.Addr().String()+r.URL.RequestURI())
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	t.Cleanup(func() { f.fe.Close(); f.be.Close() })
	return f
}

func TestStreamLoadRedirect(t *testing.T) {
	f := newFakeDoris(t)
	g, err := ssb.New(0.01)
	require.NoError(t, err)
	hdr := http.Header{}
	hdr.Set("column_separator", "|")
	l := newStreamLoader(f.fe.Listener.Addr().String(), "ssb", "lineorder_flat", "root", "pw", hdr)
	var sent int64
	produced := 0
	r, err := l.load(context.Background(), "lbl_1", func(w io.Writer) error {
		produced++
		return g.WriteFlat(context.Background(), w, ssb.FlatOptions{KeyFirst: true,
			Options: ssb.Options{Progress: func(p ssb.Progress) { sent = p.Rows }}})
	})
	require.NoError(t, err)
	require.Equal(t, "lbl_1", <-f.labels)
	require.Equal(t, sent, r.NumberLoadedRows)
	require.Equal(t, sent, f.rows.Load())
	require.Positive(t, sent)
	require.Equal(t, 1, produced, "the FE's redirect comes before the body is generated")

	// A failed load reports the server's message.
	f.status = "Fail"
	_, err = l.load(context.Background(), "lbl_2", func(w io.Writer) error {
		_, err := io.WriteString(w, strings.Repeat("|", 37)+"\n")
		return err
	})
	require.ErrorContains(t, err, `status "Fail"`)

	// Straight to the BE, with wrong credentials.
	bad := newStreamLoader(f.be.Listener.Addr().String(), "ssb", "lineorder_flat", "root", "nope", hdr)
	_, err = bad.load(context.Background(), "lbl_3", func(w io.Writer) error { return nil })
	require.ErrorContains(t, err, "no valid Basic authorization")
}

func TestGenOnly(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), config{genOnly: true, out: dir, sf: 0.01, runs: 1, buckets: 1,
		loadParallel: 1, rowsPerLoad: 1, sep: ",", tables: strings.Join(ssb.Tables, ",")}, &out))
	for _, name := range []string{"customer.tbl", "supplier.tbl", "part.tbl", "date.tbl", "lineorder.tbl", "lineorder_flat.csv"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		require.Positive(t, bytes.Count(b, []byte{'\n'}), name)
	}
	flat, err := os.ReadFile(filepath.Join(dir, "lineorder_flat.csv"))
	require.NoError(t, err)
	first := strings.SplitN(string(flat), "\n", 2)[0]
	require.Len(t, strings.Split(first, ","), 38)
	require.Contains(t, out.String(), "lineorder_flat.csv")
	require.Error(t, run(context.Background(), config{genOnly: true, sf: 0.01, runs: 1, buckets: 1, loadParallel: 1, rowsPerLoad: 1}, &out))
}

func TestPrintCPU(t *testing.T) {
	var b bytes.Buffer
	printCPU(&b, 10, []string{"be0", "be1"}, []timing{
		{id: "Q1.1", runs: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}, cpu: []float64{0.012, 0.0305}},
		{id: "Q1.2", err: fmt.Errorf("x")},
	})
	require.Equal(t, `| query (SF 10) | mean wall ms | be0 CPU ms | be1 CPU ms | CPU ms, all |
|---|---:|---:|---:|---:|
| Q1.1 | 15.0 | 12 | 30 | 42 |
`, b.String())
}
