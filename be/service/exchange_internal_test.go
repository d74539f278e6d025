package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/be/local"
	"github.com/strata-db/strata/be/rowset/rowsettest"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/partition"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/rpc"
	"github.com/strata-db/strata/types"
)

// xBackend is a backend serving the exchange calls on a loopback port,
// over a tablet store of its own.
type xBackend struct {
	id    int64
	store *tabletstore.Store
	svc   *Service
	ex    *exchangeService
	addr  string
}

func startXBackends(t *testing.T, n int) []*xBackend {
	t.Helper()
	var out []*xBackend
	for id := int64(1); id <= int64(n); id++ {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		store, err := tabletstore.OpenWithOptions(t.TempDir(), tabletstore.Options{Strict: true, Logger: log})
		require.NoError(t, err)
		svc := &Service{Store: store, Log: log}
		srv := rpc.NewServer(log, rpc.WithStopTimeout(300*time.Millisecond))
		ex := registerExchange(srv, svc, &inputs{})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		t.Cleanup(func() {
			srv.Stop()
			require.NoError(t, <-served)
			require.NoError(t, ex.close())
			require.NoError(t, store.Close())
		})
		out = append(out, &xBackend{id: id, store: store, svc: svc, ex: ex, addr: ln.Addr().String()})
	}
	return out
}

func xCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func int64Batch(t *testing.T, vals ...int64) []arrow.Array {
	t.Helper()
	rows := make([][]any, len(vals))
	for i, v := range vals {
		rows[i] = []any{v}
	}
	return rowsettest.BuildArrays(t, sink.SchemaOf(&catalog.Table{Schema: catalog.Schema{Columns: []catalog.Column{{ID: 1, Type: types.BigInt}}}}).Columns, rows)
}

// TestExchangePush pushes rows to a backend's hub over RPC, as the sinks
// of producing fragments do, and reads them as a consuming fragment does.
func TestExchangePush(t *testing.T) {
	ctx := xCtx(t)
	bes := startXBackends(t, 3)
	dest := bes[2]
	envOf := func(b *xBackend) *backendExchange {
		return &backendExchange{ex: b.ex, self: b.id, addrs: map[int64]string{1: bes[0].addr, 2: bes[1].addr, 3: bes[2].addr}}
	}
	read := func(src exec.Operator) ([]int64, error) {
		if err := src.Open(ctx); err != nil {
			return nil, err
		}
		defer src.Close()
		var out []int64
		for {
			var b exec.Batch
			err := exec.Next(ctx, src, &b)
			if errors.Is(err, io.EOF) {
				slices.Sort(out)
				return out, nil
			}
			if err != nil {
				return out, err
			}
			for _, r := range rowsettest.RowsOf(t, b.Cols) {
				out = append(out, r[0].(int64))
			}
		}
	}
	write := func(w exec.ExchangeWriter, vals ...int64) {
		t.Helper()
		cols := int64Batch(t, vals...)
		require.NoError(t, w.Write(ctx, cols))
		for _, c := range cols {
			c.Release()
		}
	}

	t.Run("senders near and far", func(t *testing.T) {
		const q = "q-ok"
		// Backend 1 and 2 push over RPC, backend 3 into its own hub;
		// backend 2 pushes before the reader claims the partition.
		w2, err := envOf(bes[1]).Writer(ctx, q, 4, 0, 1, dest.id)
		require.NoError(t, err)
		write(w2, 20, 21)
		src, err := envOf(dest).Source(q, 4, 0, []int64{1, 2, 3}, []types.Type{types.BigInt})
		require.NoError(t, err)
		done := make(chan struct{})
		var got []int64
		var rerr error
		go func() {
			defer close(done)
			got, rerr = read(src)
		}()
		w1, err := envOf(bes[0]).Writer(ctx, q, 4, 0, 0, dest.id)
		require.NoError(t, err)
		require.IsType(t, &pushWriter{}, w1)
		write(w1, 10)
		require.NoError(t, w1.Close())
		require.NoError(t, w2.Close())
		w3, err := envOf(dest).Writer(ctx, q, 4, 0, 2, dest.id)
		require.NoError(t, err)
		require.IsType(t, &exec.HubWriter{}, w3)
		require.NoError(t, w3.Close()) // a sender without rows still ends its stream
		<-done
		require.NoError(t, rerr)
		require.Equal(t, []int64{10, 20, 21}, got)
		require.Zero(t, dest.ex.hub.Entries())
	})
	t.Run("a sender fails mid-stream", func(t *testing.T) {
		const q = "q-fail"
		src, err := envOf(dest).Source(q, 1, 2, []int64{1, 2}, []types.Type{types.BigInt})
		require.NoError(t, err)
		w1, err := envOf(bes[0]).Writer(ctx, q, 1, 2, 0, dest.id)
		require.NoError(t, err)
		write(w1, 1, 2, 3)
		// Once the hub has the batch (a sender whose stream never reached
		// the hub is the coordinator's to notice: it cancels the query),
		// the sender fails.
		require.Eventually(t, func() bool { return dest.ex.hub.Entries() == 1 }, 5*time.Second, time.Millisecond)
		w1.Cancel(errors.New("scan failed"))
		_, err = read(src)
		require.ErrorIs(t, err, exec.ErrExchangeSender)
		require.ErrorContains(t, err, "sender 0 on backend 1")
		require.ErrorContains(t, err, "its stream from backend 1 broke")

		// The coordinator releases the query everywhere; a late sender
		// is refused and nothing stays behind.
		w2, err := envOf(bes[1]).Writer(ctx, q, 1, 2, 1, dest.id)
		require.NoError(t, err)
		r := &FragmentRunner{RPC: bes[0].ex.client(), Addr: func(id int64) (string, error) { return bes[id-1].addr, nil }}
		for _, b := range bes {
			require.NoError(t, r.ReleaseQuery(ctx, b.id, q))
		}
		cols := int64Batch(t, 4)
		err = w2.Write(ctx, cols)
		if err == nil {
			err = w2.Close()
		}
		for _, c := range cols {
			c.Release()
		}
		require.ErrorContains(t, err, "exchange closed")
		for _, b := range bes {
			require.Eventually(t, func() bool { return b.ex.hub.Entries() == 0 }, 5*time.Second, 10*time.Millisecond)
		}
	})
	t.Run("a sender that never comes", func(t *testing.T) {
		ex := &exchangeService{s: dest.svc, hub: dest.ex.hub, timeout: 50 * time.Millisecond}
		env := &backendExchange{ex: ex, self: dest.id}
		src, err := env.Source("q-late", 1, 0, []int64{2}, []types.Type{types.BigInt})
		require.NoError(t, err)
		_, err = read(src)
		require.ErrorIs(t, err, exec.ErrExchangeTimeout)
		require.ErrorContains(t, err, "nothing from sender 0 on backend 2")
		require.Zero(t, dest.ex.hub.Entries())
	})
}

// TestExchangeQueries runs shuffle and bucket-shuffle joins through
// FragmentRunner on three backends over loopback RPC, each holding one
// bucket of each table, and compares their rows with the plan run in
// one process over the same tablets.
func TestExchangeQueries(t *testing.T) {
	ctx := xCtx(t)
	bes := startXBackends(t, 3)
	col := func(id uint32, name string, ty types.Type, key, null bool) catalog.Column {
		return catalog.Column{ID: id, Name: name, Type: ty, IsKey: key, Nullable: null}
	}
	tbl := func(name string, first int64, placed [][]int64, cols ...catalog.Column) *catalog.Table {
		return &catalog.Table{Name: name, DBID: 1, KeysType: catalog.DupKeys, KeyColumns: []string{"k"},
			Schema:       catalog.Schema{Version: 1, Columns: cols},
			Partitions:   []catalog.Partition{{Name: name, Tablets: []int64{first, first + 1, first + 2}, VisibleVersion: 2, Backends: placed}},
			Distribution: catalog.Distribution{Type: catalog.HashDistributed, Columns: []string{"k"}, Buckets: 3},
		}
	}
	tt := tbl("t", 11, [][]int64{{1}, {2}, {3}}, col(1, "k", types.BigInt, true, false), col(2, "v", types.Varchar(16), false, true), col(3, "g", types.Int, false, false))
	ut := tbl("u", 21, [][]int64{{2}, {3}, {1}}, col(1, "k", types.BigInt, true, false), col(2, "v", types.Varchar(16), false, true), col(3, "w", types.Int, false, true))
	cat := xCatalog{"t": tt, "u": ut}
	where := map[int64]int64{} // tablet -> backend
	stores := map[int64]*tabletstore.Store{}
	load := func(tb *catalog.Table, rows [][]any) {
		schema := sink.SchemaOf(tb)
		cols := rowsettest.BuildArrays(t, schema.Columns, rows)
		router, err := partition.NewRouter(tb)
		require.NoError(t, err)
		part, bucket := make([]int32, len(rows)), make([]int32, len(rows))
		router.Route(cols, len(rows), part, bucket)
		for _, c := range cols {
			c.Release()
		}
		byTablet := map[int64][][]any{}
		for i, r := range rows {
			id := tb.Partitions[part[i]].Tablets[bucket[i]]
			byTablet[id] = append(byTablet[id], r)
		}
		for b, id := range tb.Partitions[0].Tablets {
			be := bes[tb.Partitions[0].Backends[b][0]-1]
			where[id], stores[id] = be.id, be.store
			w, err := be.svc.OpenWriter(id, 1, schema)
			require.NoError(t, err)
			if rs := byTablet[id]; len(rs) > 0 {
				tc := rowsettest.BuildArrays(t, schema.Columns, rs)
				require.NoError(t, w.Write(tc))
				for _, c := range tc {
					c.Release()
				}
			}
			_, err = w.Close()
			require.NoError(t, err)
			_, err = be.store.PublishReplica([]tabletstore.TxnPublish{{TxnID: 1, Tablets: map[int64]tabletstore.PublishTablet{id: {Version: 2, Written: true}}}})
			require.NoError(t, err)
		}
	}
	var trows, urows [][]any
	for i := range 900 {
		var v any = fmt.Sprint("v", i%37)
		if i%7 == 0 {
			v = nil
		}
		trows = append(trows, []any{int64(i), v, int64(i % 5)})
	}
	for i := range 500 {
		var v any = fmt.Sprint("v", i%41)
		if i%9 == 0 {
			v = nil
		}
		urows = append(urows, []any{int64(2 * i), v, int64(i)})
	}
	// The second load goes in as txn 1 too, in other tablets.
	load(tt, trows)
	load(ut, urows)

	cli := rpc.NewClient()
	t.Cleanup(func() { require.NoError(t, cli.Close()) })
	runner := &FragmentRunner{RPC: cli,
		Addr:       func(id int64) (string, error) { return bes[id-1].addr, nil },
		ReplicasOf: func(tablet int64) []int64 { return []int64{where[tablet]} },
	}
	run := func(strategy, q string, remote planner.Remote) ([]string, string, error) {
		t.Helper()
		st, err := sql.Parse(q)
		require.NoError(t, err)
		p := planner.New(xSession{strategy}, cat, xTablets(stores))
		p.SetRemote(remote)
		pl, err := p.PlanSelect(st.(*sql.SelectStmt), nil)
		require.NoError(t, err)
		x, err := p.Build(pl)
		require.NoError(t, err)
		defer x.Release()
		ectx := exec.WithEvalContext(ctx, exec.NewEvalContext())
		var out []string
		err = exec.Drain(ectx, x.Root, func(b *exec.Batch) error {
			cols := exec.DenseColumns(b, x.Root.Schema())
			defer func() {
				for _, c := range cols {
					c.Release()
				}
			}()
			for _, r := range rowsettest.RowsOf(t, cols) {
				out = append(out, fmt.Sprint(r))
			}
			return nil
		})
		slices.Sort(out)
		return out, strings.Join(pl.Explain(), "\n"), err
	}
	for _, tc := range []struct{ strategy, q, want string }{
		{"shuffle", "SELECT t.k, u.k, t.v FROM t JOIN u ON t.v = u.v", "(PARTITIONED)"},
		{"shuffle", "SELECT t.g, count(*), sum(u.w) FROM t LEFT JOIN u ON t.v = u.v GROUP BY t.g", "(PARTITIONED)"},
		{"bucket", "SELECT t.k, t.v, u.w FROM t LEFT JOIN u ON t.k = u.k", "(BUCKET_SHUFFLE)"},
		{"bucket", "SELECT u.v, count(*), sum(t.g) FROM u JOIN t ON u.k = t.k AND u.v = t.v GROUP BY u.v", "(BUCKET_SHUFFLE)"},
	} {
		want, _, err := run("", tc.q, nil)
		require.NoError(t, err, tc.q)
		require.NotEmpty(t, want)
		got, explained, err := run(tc.strategy, tc.q, runner)
		require.NoError(t, err, tc.q)
		require.Contains(t, explained, tc.want, tc.q)
		require.Equal(t, want, got, tc.q)
		for _, b := range bes {
			require.Eventually(t, func() bool { return b.ex.hub.Entries() == 0 }, 5*time.Second, 10*time.Millisecond)
		}
	}

	// A producer whose replica lacks its tablet's version fails the
	// query, naming its backend; nothing stays in the hubs.
	stale := tt.Partitions[0]
	stale.VisibleVersion = 3
	tt.Partitions = []catalog.Partition{stale}
	_, _, err := run("shuffle", "SELECT t.k, u.k FROM u JOIN t ON u.v = t.v", runner)
	require.Error(t, err)
	require.ErrorContains(t, err, "on backend")
	require.ErrorContains(t, err, "reading tablet")
	require.NotErrorIs(t, err, exec.ErrExchangeSender)
	t.Log(err)
	for _, b := range bes {
		require.Eventually(t, func() bool { return b.ex.hub.Entries() == 0 }, 5*time.Second, 10*time.Millisecond)
	}
}

// xCatalog is a planner catalog of database d.
type xCatalog map[string]*catalog.Table

func (c xCatalog) Table(db, name string) (*catalog.Table, bool) {
	t, ok := c[name]
	return t, ok && db == "d"
}
func (c xCatalog) HasDatabase(db string) bool { return db == "d" }
func (c xCatalog) Databases() []*catalog.Database {
	return []*catalog.Database{{ID: 1, Name: "d"}}
}
func (c xCatalog) Tables(db string) []*catalog.Table {
	var out []*catalog.Table
	for _, t := range c {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *catalog.Table) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// xSession is a session of database d forcing a join strategy.
type xSession struct{ strategy string }

func (xSession) CurrentDB() string    { return "d" }
func (xSession) User() string         { return "root" }
func (xSession) ConnectionID() uint32 { return 1 }
func (s xSession) Variable(name string) string {
	if name == planner.JoinStrategyVariable {
		return s.strategy
	}
	return ""
}
func (xSession) SystemVariable(name, _ string) (string, bool, error) {
	return "", false, fmt.Errorf("unknown variable %s", name)
}
func (xSession) UserVariable(string) any { return nil }

// xTablets reads each tablet from the store holding it.
type xTablets map[int64]*tabletstore.Store

func (x xTablets) ReadTablet(id, version int64) (planner.TabletData, error) {
	s, ok := x[id]
	if !ok {
		return planner.TabletData{}, fmt.Errorf("no tablet %d", id)
	}
	return local.Reader{S: s}.ReadTablet(id, version)
}
