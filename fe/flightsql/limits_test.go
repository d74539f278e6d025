package flightsql

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	afs "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	beexec "github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/mysqlproto"
)

// Statement timeouts and memory limits get the gRPC codes that say so.
func TestStatusCodes(t *testing.T) {
	memErr := &beexec.MemLimitError{Limit: 100, Used: 90, Request: 20, Op: "HashAgg", Label: "exec_mem_limit"}
	for _, tc := range []struct {
		name string
		err  error
		want codes.Code
	}{
		{"statement timeout", mysqlproto.NewError(3024, "Query execution was interrupted, maximum statement execution time exceeded"), codes.DeadlineExceeded},
		{"killed", mysqlproto.NewError(mysqlproto.ER_QUERY_INTERRUPTED, "Query execution was interrupted"), codes.Canceled},
		{"memory limit", memErr, codes.ResourceExhausted},
		{"wrapped memory limit", fmt.Errorf("fragment 1 on backend 2: %w", memErr), codes.ResourceExhausted},
		{"memory limit as SQL error", mysqlproto.NewError(mysqlproto.ER_UNKNOWN_ERROR, "fragment 1 on backend 2: %s", memErr.Error()), codes.ResourceExhausted},
		{"other 1105", mysqlproto.NewError(mysqlproto.ER_UNKNOWN_ERROR, "disk on fire"), codes.Internal},
		{"syntax", mysqlproto.NewError(mysqlproto.ER_PARSE_ERROR, "You have an error"), codes.InvalidArgument},
		{"no SQL error", errors.New("boom"), codes.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := requireCode(t, toStatus(tc.err), tc.want)
			require.Contains(t, tc.err.Error(), st.Message())
		})
	}
	// The memory limit keeps MySQL's number (Doris's 1105) in its detail.
	require.EqualValues(t, mysqlproto.ER_UNKNOWN_ERROR, sqlErrno(toStatus(memErr)))
}

// A query over its exec_mem_limit fails with ResourceExhausted.
func TestMemLimitResourceExhausted(t *testing.T) {
	env := newTestEnv(t, Config{})
	cl, ctx := env.login(t, "root", "")
	exec(t, cl, ctx,
		"CREATE DATABASE d",
		// g is 0 everywhere: joins on it are cross products.
		"CREATE TABLE d.t (k INT NOT NULL, g INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
		"INSERT INTO d.t VALUES (0,0),(1,0),(2,0),(3,0),(4,0),(5,0),(6,0),(7,0),(8,0),(9,0)",
		"SET exec_mem_limit = 10000")
	const q = "SELECT a.k * 1000 + b.k * 100 + c.k * 10 + d.k, count(*) " +
		"FROM d.t a JOIN d.t b ON a.g = b.g JOIN d.t c ON b.g = c.g JOIN d.t d ON c.g = d.g GROUP BY 1"
	err := runQuery(ctx, cl, q)
	st := requireCode(t, err, codes.ResourceExhausted)
	require.Contains(t, st.Message(), "MEM_LIMIT_EXCEEDED")
}

// runQuery runs a query and reads its rows, returning the first error.
func runQuery(ctx context.Context, cl *afs.Client, q string) error {
	info, err := cl.Execute(ctx, q)
	if err != nil {
		return err
	}
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(ctx, ep.Ticket)
		if err != nil {
			return err
		}
		for rdr.Next() {
		}
		err = rdr.Err()
		rdr.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// slowSessions opens sessions slowly, so that handshakes overlap.
type slowSessions struct{ SessionFactory }

func (f slowSessions) NewSession(connID uint32, user, host, db string) (mysqlproto.Session, error) {
	time.Sleep(20 * time.Millisecond)
	return f.SessionFactory.NewSession(connID, user, host, db)
}

// Concurrent handshakes never open more than MaxSessions sessions.
func TestMaxSessionsConcurrent(t *testing.T) {
	env := newTestEnv(t, Config{})
	const max, tries = 3, 16
	s, err := New(Config{Sessions: slowSessions{env.eng}, Authenticate: testAuthenticate, MaxSessions: max})
	require.NoError(t, err)
	defer s.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	opened, refused := 0, 0
	for range tries {
		wg.Go(func() {
			_, err := s.newClient("root", "127.0.0.1", "")
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				opened++
				return
			}
			if st, ok := status.FromError(err); ok && st.Code() == codes.ResourceExhausted {
				refused++
			}
		})
	}
	wg.Wait()
	require.Equal(t, max, opened)
	require.Equal(t, tries-max, refused)
	require.Equal(t, max, s.NumSessions())
}

// GetTables with the tables' schemas lists every table the user sees,
// with SELECT *'s schema, whether or not it may read the table.
func TestGetTablesSchemaWithoutSelect(t *testing.T) {
	env := newTestEnvWith(t, Config{Authenticate: func(string, string, string) error { return nil }}, true)
	cl, ctx := env.login(t, "root", "")
	exec(t, cl, ctx, allTypes...)
	exec(t, cl, ctx,
		"CREATE TABLE d.other (a INT, b VARCHAR(10)) DUPLICATE KEY(a) DISTRIBUTED BY HASH(a) BUCKETS 1",
		"CREATE TABLE d.hidden (h INT) DUPLICATE KEY(h) DISTRIBUTED BY HASH(h) BUCKETS 1",
		"CREATE VIEW d.v AS SELECT k, vc, dec FROM d.t",
		"CREATE USER 'jack'@'%' IDENTIFIED BY 'pw'",
		"GRANT LOAD_PRIV ON d.t TO 'jack'@'%'",
		"GRANT SELECT_PRIV ON d.other TO 'jack'@'%'",
		"GRANT SELECT_PRIV ON d.v TO 'jack'@'%'")

	// SELECT *'s schemas, as root reads them.
	want := map[string]*arrow.Schema{}
	for _, name := range []string{"t", "other", "v"} {
		info, err := cl.Execute(ctx, "SELECT * FROM d."+name)
		require.NoError(t, err)
		want[name], err = flight.DeserializeSchema(info.Schema, nil)
		require.NoError(t, err)
	}

	tablesOf := func(ctx context.Context, cl *afs.Client) map[string]*arrow.Schema {
		t.Helper()
		db := "d"
		info, err := cl.GetTables(ctx, &afs.GetTablesOpts{DbSchemaFilterPattern: &db, IncludeSchema: true})
		require.NoError(t, err)
		rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
		require.NoError(t, err)
		defer rdr.Release()
		out := map[string]*arrow.Schema{}
		for rdr.Next() {
			r := rdr.RecordBatch()
			for i := 0; i < int(r.NumRows()); i++ {
				ts, err := flight.DeserializeSchema(r.Column(4).(*array.Binary).Value(i), nil)
				require.NoError(t, err)
				out[r.Column(2).ValueStr(i)] = ts
			}
		}
		require.NoError(t, rdr.Err())
		return out
	}
	got := tablesOf(ctx, cl)
	require.Len(t, got, 4)
	for name, ws := range want {
		require.True(t, ws.Equal(got[name]), "%s:\nwant %v\ngot  %v", name, ws, got[name])
	}

	jcl, jctx := env.login(t, "jack", "pw")
	_, err := jcl.Execute(jctx, "SELECT * FROM d.t")
	requireCode(t, err, codes.PermissionDenied)
	got = tablesOf(jctx, jcl)
	require.Len(t, got, 3, "every table jack sees, none he does not")
	for name, ws := range want {
		require.True(t, ws.Equal(got[name]), "%s:\nwant %v\ngot  %v", name, ws, got[name])
	}

	// Every table, information_schema's included, has its schema.
	info, err := cl.GetTables(ctx, &afs.GetTablesOpts{IncludeSchema: true})
	require.NoError(t, err)
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(ctx, ep.Ticket)
		require.NoError(t, err)
		for rdr.Next() {
		}
		require.NoError(t, rdr.Err())
		rdr.Release()
	}
}
