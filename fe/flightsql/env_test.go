package flightsql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	afs "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	_ "github.com/go-sql-driver/mysql"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/strata-db/strata/be/local"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/auth"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
	"github.com/strata-db/strata/fe/session"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/mysqlproto"
)

// testEnv is an in-process frontend and backend serving both the MySQL
// protocol and Flight SQL.
type testEnv struct {
	eng       *session.Engine
	flight    *Server
	flightAdr string
	mysqlAdr  string
}

// testUsers are the accounts the test's Authenticate admits.
var testUsers = map[string]string{"root": "", "alice": "secret"}

func testAuthenticate(user, password, host string) error {
	if pw, ok := testUsers[user]; ok && pw == password {
		return nil
	}
	return fmt.Errorf("Access denied for user '%s'@'%s'", user, host)
}

// newTestEnv starts the whole write and read path in process (an embedded
// etcd, the catalog, transactions, a tablet store) behind both protocols.
func newTestEnv(t testing.TB, cfg Config) *testEnv {
	t.Helper()
	return newTestEnvWith(t, cfg, false)
}

// newTestEnvWith is newTestEnv, with accounts and privileges kept in its
// etcd when withAuth is set (root has every privilege; the others what
// GRANT gives them).
func newTestEnvWith(t testing.TB, cfg Config, withAuth bool) *testEnv {
	t.Helper()
	dir := t.TempDir()
	e, err := metatest.Start(dir)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	store := meta.NewStore(e.Client())
	cat, err := catalog.Open(context.Background(), store, catalog.Options{})
	require.NoError(t, err)
	t.Cleanup(cat.Close)
	tabs, err := tabletstore.Open(dir+"/be", nil)
	require.NoError(t, err)
	t.Cleanup(func() { tabs.Close() })
	txns := txn.NewManager(store, cat, txn.Config{
		Self:      txn.Coordinator{Node: "test", Incarnation: uuid.NewString()},
		Publisher: local.Publisher{S: tabs},
	})
	loads := &sink.Sink{Catalog: cat, Txns: txns, Tablets: local.Writers{S: tabs}}
	eng := &session.Engine{Catalog: cat, Tablets: local.Reader{S: tabs}, Loads: loads, Txns: txns}
	if withAuth {
		accounts, err := auth.Open(context.Background(), store, auth.Options{})
		require.NoError(t, err)
		t.Cleanup(accounts.Close)
		eng.Auth = accounts
	}

	my := mysqlproto.NewServer(eng, mysqlproto.Options{})
	lm, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = my.Serve(lm) }()
	t.Cleanup(func() { my.Close() })

	cfg.Sessions = eng
	if cfg.Authenticate == nil {
		cfg.Authenticate = testAuthenticate
	}
	fs, err := New(cfg)
	require.NoError(t, err)
	lf, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = fs.Serve(lf) }()
	t.Cleanup(func() { require.NoError(t, fs.Close()) })
	return &testEnv{eng: eng, flight: fs, flightAdr: lf.Addr().String(), mysqlAdr: lm.Addr().String()}
}

// client returns a Flight SQL client, not yet authenticated.
func (e *testEnv) client(t testing.TB) *afs.Client {
	t.Helper()
	cl, err := afs.NewClient(e.flightAdr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { cl.Close() })
	return cl
}

// login returns a client and the context that carries its bearer token.
func (e *testEnv) login(t testing.TB, user, password string) (*afs.Client, context.Context) {
	t.Helper()
	cl := e.client(t)
	ctx, err := cl.Client.AuthenticateBasicToken(context.Background(), user, password)
	require.NoError(t, err)
	return cl, ctx
}

// mysql opens a MySQL protocol connection pool as root.
func (e *testEnv) mysql(t testing.TB, db string) *sql.DB {
	t.Helper()
	d, err := sql.Open("mysql", "root@tcp("+e.mysqlAdr+")/"+db+"?multiStatements=true")
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

// exec runs updates over Flight SQL.
func exec(t testing.TB, cl *afs.Client, ctx context.Context, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		_, err := cl.ExecuteUpdate(ctx, s)
		require.NoError(t, err, s)
	}
}

// fetch runs a query over Flight SQL and calls fn with each record batch
// (released after fn returns); it returns the schema.
func fetch(t testing.TB, cl *afs.Client, ctx context.Context, query string, fn func(arrow.RecordBatch)) *arrow.Schema {
	t.Helper()
	info, err := cl.Execute(ctx, query)
	require.NoError(t, err, query)
	schema, err := flight.DeserializeSchema(info.Schema, nil)
	require.NoError(t, err)
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(ctx, ep.Ticket)
		require.NoError(t, err)
		for rdr.Next() {
			fn(rdr.RecordBatch())
		}
		require.NoError(t, rdr.Err())
		rdr.Release()
	}
	return schema
}

// requireCode checks that err is a gRPC status with code c.
func requireCode(t testing.TB, err error, c codes.Code) *status.Status {
	t.Helper()
	require.Error(t, err)
	st, ok := status.FromError(err)
	require.True(t, ok, "not a gRPC status: %v", err)
	require.Equal(t, c, st.Code(), "%v", err)
	return st
}

// eventually polls cond until it holds or d passes.
func eventually(t testing.TB, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(errors.New("condition not met in time"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
