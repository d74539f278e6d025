package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/bench/ssb"
)

// fakeMySQL answers the runner's statements: DDL succeeds, COUNT(*) reports
// the rows the fake BE received, and each flat query returns a canned answer
// of the right shape.
type fakeMySQL struct {
	server.EmptyHandler
	countFn func() int64
	answers map[string]ssb.Answer // if set, the rows each query returns
	tamper  bool                  // return a non-numeric Q2.3 aggregate

	mu    sync.Mutex // protects following fields
	stmts []string
}

func (h *fakeMySQL) UseDB(string) error { return nil }

func (h *fakeMySQL) HandleQuery(q string) (*mysql.Result, error) {
	h.mu.Lock()
	h.stmts = append(h.stmts, q)
	h.mu.Unlock()
	switch {
	case strings.HasPrefix(q, "CREATE") || strings.HasPrefix(q, "DROP"):
		return nil, nil
	case strings.HasPrefix(q, "SELECT COUNT(*)"):
		rs, err := mysql.BuildSimpleResultset([]string{"count(*)"}, [][]any{{h.countFn()}}, false)
		return mysql.NewResult(rs), err
	}
	for _, sq := range ssb.Queries() {
		if q != queryText(sq) {
			continue
		}
		names := make([]string, sq.Columns)
		for i := range names {
			names[i] = "c" + string(rune('0'+i))
		}
		var rows [][]any
		for _, r := range h.answers[sq.ID].Rows {
			row := make([]any, len(r))
			for i, v := range r {
				row[i] = v
			}
			rows = append(rows, row)
		}
		if h.answers == nil {
			row := make([]any, sq.Columns)
			for i := range row {
				row[i] = "x"
			}
			row[sq.AggColumn] = int64(12345)
			rows = [][]any{row}
		}
		if sq.ID == "Q2.3" && h.tamper && len(rows) > 0 {
			rows[0][sq.AggColumn] = "oops" // a wrong answer the runner must flag
		}
		rs, err := mysql.BuildSimpleResultset(names, rows, false)
		return mysql.NewResult(rs), err
	}
	return nil, errors.New("unexpected query " + q)
}

func serveFakeMySQL(t *testing.T, h *fakeMySQL) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				conn, err := server.NewConn(c, "root", "pw", h)
				if err != nil {
					return
				}
				for conn.HandleCommand() == nil {
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestRunEndToEnd(t *testing.T) {
	f := newFakeDoris(t)
	h := &fakeMySQL{countFn: f.rows.Load, tamper: true}
	addr := serveFakeMySQL(t, h)
	c := config{addr: addr, httpAddr: f.fe.Listener.Addr().String(), user: "root", password: "pw", db: "ssb",
		sf: 0.01, buckets: 4, runs: 2, rowsPerLoad: 20_000, loadParallel: 2, genWorkers: 1, sep: "|", wait: 5e9}
	var out bytes.Buffer
	err := run(context.Background(), c, &out)
	require.ErrorContains(t, err, "wrong answers") // Q2.3's canned answer is not a number
	t.Log(out.String())
	g, _ := ssb.New(0.01)
	require.Equal(t, int64(len(loadPlan(g.LineorderChunks(), 20_000))), int64(len(f.labels)))
	require.Positive(t, f.rows.Load())
	require.Contains(t, out.String(), "| Q1.1 | ")
	require.Contains(t, out.String(), "| Q2.3 | ")
	require.Contains(t, out.String(), "WRONG: aggregate \"oops\" is not a number")
	require.Contains(t, out.String(), "| **total** |")
	h.mu.Lock()
	require.Equal(t, "CREATE DATABASE IF NOT EXISTS ssb", h.stmts[0])
	require.Equal(t, "DROP TABLE IF EXISTS lineorder_flat", h.stmts[1])
	require.True(t, strings.HasPrefix(h.stmts[2], "CREATE TABLE IF NOT EXISTS lineorder_flat"))
	h.mu.Unlock()

	// -skip-load with a subset of queries runs only those, and passes.
	out.Reset()
	c.skipLoad, c.queries = true, "Q1.1,Q4.3"
	require.NoError(t, run(context.Background(), c, &out))
	require.Contains(t, out.String(), "| Q4.3 | ")
	require.NotContains(t, out.String(), "| Q2.1 | ")

	// With -verify the canned answers are wrong; the generator's exact
	// answers pass.
	c.verify, c.queries = true, ""
	require.ErrorContains(t, run(context.Background(), c, &out), "wrong answers")
	require.Contains(t, out.String(), "differs from the generator's answer")
	h.answers, err = g.FlatAnswers(context.Background(), 0)
	require.NoError(t, err)
	h.tamper = false
	out.Reset()
	require.NoError(t, run(context.Background(), c, &out))
	require.Contains(t, out.String(), "computed the exact answers")
	require.NotContains(t, out.String(), "WRONG")
	t.Log(out.String())
}
