package txnrpc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/rpc"
	"github.com/strata-db/strata/types"
)

var (
	_ sink.TxnService = (*Client)(nil)
	_ sink.TxnService = (*Router)(nil)
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// cluster is an etcd of its own (elections are global to an etcd) with an
// unfenced admin store and catalog for the tests' DDL.
type cluster struct {
	etcd  *meta.Embedded
	admin *meta.Store
	cat   *catalog.Catalog
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	e, err := metatest.Start(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(e.Close)
	admin := meta.NewStore(e.Client())
	cat, err := catalog.Open(testCtx(t), admin, catalog.Options{Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(cat.Close)
	return &cluster{etcd: e, admin: admin, cat: cat}
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// connect opens an etcd client of its own, as another process would.
func (c *cluster) connect(t *testing.T) *clientv3.Client {
	t.Helper()
	cli, err := meta.Connect(c.etcd.Endpoints())
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return cli
}

// catalog opens a catalog of its own (a backend's).
func (c *cluster) catalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Open(testCtx(t), meta.NewStore(c.connect(t)), catalog.Options{Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(cat.Close)
	return cat
}

// frontend is one FE: a fenced store, its catalog and manager, and an rpc
// server with the transaction calls registered.
type frontend struct {
	name  string
	store *meta.Store
	cat   *catalog.Catalog
	m     *txn.Manager
	srv   *rpc.Server
	addr  string

	stopped atomic.Bool
	resign  context.CancelFunc
}

func (c *cluster) frontend(t *testing.T, name string, cfg txn.Config) *frontend {
	t.Helper()
	store := meta.NewFencedStore(c.connect(t))
	cat, err := catalog.Open(testCtx(t), store, catalog.Options{Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(cat.Close)
	cfg.Self = txn.Coordinator{Node: name, Incarnation: "1"}
	cfg.Logger = quiet
	f := &frontend{name: name, store: store, cat: cat, m: txn.NewManager(store, cat, cfg), srv: rpc.NewServer(quiet)}
	Register(f.srv, f.m, cat)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f.addr = ln.Addr().String()
	go func() { _ = f.srv.Serve(ln) }()
	t.Cleanup(f.stop)
	return f
}

// stop stops the rpc server: its callers get "unavailable".
func (f *frontend) stop() {
	if f.stopped.CompareAndSwap(false, true) {
		f.srv.Stop()
	}
}

// campaign runs f's election; f publishes its rpc address as the leader's.
func (f *frontend) campaign(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	// A lease long enough that a test slowed down by -race does not lose
	// the leadership by accident; the tests hand it over by resigning.
	el := meta.NewElector(f.store, f.addr, 10*time.Second, quiet)
	go func() {
		defer close(done)
		_ = el.Run(ctx, func(lctx context.Context) { <-lctx.Done() })
	}()
	f.resign = func() {
		cancel()
		<-done
	}
	t.Cleanup(f.resign)
}

// awaitLeading waits until f leads.
func (f *frontend) awaitLeading(t *testing.T) {
	t.Helper()
	require.Eventually(t, f.store.IsLeader, 30*time.Second, 10*time.Millisecond, "%s never became the leader", f.name)
}

// client returns a Client on cat that finds the leader through etcd.
func (c *cluster) client(t *testing.T, cat *catalog.Catalog) *Client {
	t.Helper()
	rc := rpc.NewClient()
	t.Cleanup(func() { _ = rc.Close() })
	return &Client{
		RPC:     rc,
		Leader:  func(ctx context.Context) (string, error) { return meta.Leader(ctx, c.admin.Client()) },
		Catalog: cat, RetryFor: 20 * time.Second, Logger: quiet,
	}
}

var seq atomic.Int64

// fixture creates a database with one table of two range partitions and
// waits until the given catalogs show it.
func (c *cluster) fixture(t *testing.T, cats ...*catalog.Catalog) (*catalog.Database, *catalog.Table) {
	t.Helper()
	ctx := testCtx(t)
	dbName := fmt.Sprintf("db_%d", seq.Add(1))
	require.NoError(t, c.cat.CreateDatabase(ctx, dbName, false))
	tb := &catalog.Table{
		Name:     "t",
		KeysType: catalog.DupKeys,
		Schema: catalog.Schema{Columns: []catalog.Column{
			{Name: "k", Type: types.Type{Kind: types.KindInt}, IsKey: true},
		}},
		KeyColumns:       []string{"k"},
		Distribution:     catalog.Distribution{Buckets: 2},
		PartitionType:    catalog.RangePartitioned,
		PartitionColumns: []string{"k"},
	}
	for p := range 2 {
		tb.Partitions = append(tb.Partitions, catalog.Partition{
			Name:  fmt.Sprint("p", p),
			Lower: catalog.PartitionBound{Values: []string{fmt.Sprint(p * 10)}},
			Upper: catalog.PartitionBound{Values: []string{fmt.Sprint(p*10 + 10)}},
		})
	}
	require.NoError(t, c.cat.CreateTable(ctx, dbName, tb, false))
	c.sync(t, cats...)
	snap := c.cat.Snapshot()
	db, err := snap.Database(dbName)
	require.NoError(t, err)
	got, err := snap.Table(dbName, "t")
	require.NoError(t, err)
	return db, got
}

// sync waits until the catalogs have what the admin catalog has.
func (c *cluster) sync(t *testing.T, cats ...*catalog.Catalog) {
	t.Helper()
	rev := c.cat.Snapshot().Revision()
	for _, cat := range cats {
		require.NoError(t, cat.WaitRevision(testCtx(t), rev))
	}
}

func allParts(tb *catalog.Table) []txn.PartitionRef {
	var out []txn.PartitionRef
	for _, p := range tb.Partitions {
		out = append(out, txn.PartitionRef{TableID: tb.ID, PartitionID: p.ID})
	}
	return out
}
