package e2e

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSmallLoadSoak runs 1,000 small two-phase loads from several clients
// into a table of 16 tablets, every tenth aborted instead of committed,
// with queries running alongside. At the end every committed row is
// present exactly once, no aborted row is, and compaction has kept each
// tablet's version count bounded.
func TestSmallLoadSoak(t *testing.T) {
	const (
		loads   = 1000
		clients = 8
		rows    = 40 // per load, spread over the buckets by hash
	)
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE db;
CREATE TABLE db.s (id BIGINT NOT NULL, v INT NOT NULL) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 16`)
	c := newConnector(t, s)

	body := func(load int) []byte {
		var b bytes.Buffer
		for i := range rows {
			if i > 0 {
				b.WriteByte('\n')
			}
			fmt.Fprintf(&b, "%d,%d", load*rows+i, load)
		}
		return b.Bytes()
	}
	aborted := func(load int) bool { return load%10 == 9 }

	work := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, clients+1)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for load := range work {
				res := c.load("db", "s", body(load), load%2 == 0, fmt.Sprintf("label: soak_%d", load), "two_phase_commit: true", "column_separator: ,")
				if res.str("Status") != "Success" {
					errs <- fmt.Errorf("load %d: %v", load, res)
					return
				}
				var rep map[string]string
				if aborted(load) {
					rep = c.abort("db", res.num("TxnId"))
				} else {
					rep = c.commit("db", res.num("TxnId"))
				}
				if rep["status"] != "Success" {
					errs <- fmt.Errorf("decision on load %d: %v", load, rep)
					return
				}
			}
		}()
	}
	// Queries run alongside; a committed load never shows partly.
	stop := make(chan struct{})
	queried := make(chan int, 1)
	go func() {
		n := 0
		defer func() { queried <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			out, err := s.MySQL("SELECT count(*) % 40, count(DISTINCT v) FROM db.s")
			if err != nil {
				errs <- fmt.Errorf("query during the soak: %v", err)
				return
			}
			if !strings.HasPrefix(out, "0\t") {
				errs <- fmt.Errorf("a query saw part of a load: %q", out)
				return
			}
			n++
		}
	}()
	for load := range loads {
		select {
		case err := <-errs:
			t.Fatal(err)
		case work <- load:
		}
	}
	close(work)
	wg.Wait()
	close(stop)
	require.Greater(t, <-queried, 0)
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}

	var wantRows, wantSum int
	for load := range loads {
		if aborted(load) {
			continue
		}
		for i := range rows {
			wantRows++
			wantSum += load*rows + i
		}
	}
	require.Equal(t, fmt.Sprintf("%d\t%d\t%d\t0\n", wantRows, wantRows, wantSum),
		s.MustMySQL("SELECT count(*), count(DISTINCT id), sum(id), sum(CASE WHEN v % 10 = 9 THEN 1 ELSE 0 END) FROM db.s"))

	// 900 committed loads each touched every tablet; compaction keeps the
	// versions each query has to merge far below that.
	out := s.MustMySQL("SHOW TABLETS FROM db.s")
	tablets := lines(out)
	require.Len(t, tablets, 16)
	for _, line := range tablets {
		f := strings.Split(line, "\t")
		versions, err := strconv.Atoi(f[14]) // VersionCount
		require.NoError(t, err, line)
		require.LessOrEqual(t, versions, 50, "tablet %s has %d versions", f[0], versions)
	}
}
