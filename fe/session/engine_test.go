package session

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/local"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/auth"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/mysqlproto"
)

// newTestEngine runs the whole write and read path in process: an embedded
// etcd, the catalog, transactions, the sink and a tablet store.
func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	return newTestEngineWith(t, nil)
}

// newTestEngineWith is newTestEngine with the publisher wrapped by wrap.
func newTestEngineWith(t *testing.T, wrap func(txn.Publisher) txn.Publisher) *Engine {
	t.Helper()
	return newTestEngineClock(t, wrap, nil)
}

// newTestEngineClock is newTestEngineWith with the transactions' clock (nil:
// the wall clock). A wrap that returns nil leaves publishing to the manager
// alone (no backend is asked).
func newTestEngineClock(t *testing.T, wrap func(txn.Publisher) txn.Publisher, clock txn.Clock) *Engine {
	t.Helper()
	return buildTestEngine(t, wrap, clock, false)
}

// buildTestEngine makes the engines of the tests; withAuth keeps accounts
// in its etcd and makes the load sink check stream loads against them.
func buildTestEngine(t *testing.T, wrap func(txn.Publisher) txn.Publisher, clock txn.Clock, withAuth bool) *Engine {
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
	var pub txn.Publisher = local.Publisher{S: tabs}
	if wrap != nil {
		pub = wrap(pub)
	}
	txns := txn.NewManager(store, cat, txn.Config{
		Self:      txn.Coordinator{Node: "test", Incarnation: uuid.NewString()},
		Publisher: pub,
		Clock:     clock,
	})
	loads := &sink.Sink{Catalog: cat, Txns: txns, Tablets: local.Writers{S: tabs}}
	eng := &Engine{Catalog: cat, Tablets: local.Reader{S: tabs}, Loads: loads, Txns: txns}
	if withAuth {
		accounts, err := auth.Open(context.Background(), store, auth.Options{})
		require.NoError(t, err)
		t.Cleanup(accounts.Close)
		loads.CheckLoad = accounts.CheckLoad
		eng.Auth = accounts
	}
	testStores.Store(eng, tabs)
	t.Cleanup(func() { testStores.Delete(eng) })
	return eng
}

func newTestSession(t *testing.T, e *Engine, id uint32) *Session {
	t.Helper()
	ms, err := e.NewSession(id, "root", "127.0.0.1", "")
	require.NoError(t, err)
	s := ms.(*Session)
	t.Cleanup(s.Close)
	return s
}

// query runs one statement and returns its rows as text, cells joined by
// tabs.
func query(t *testing.T, s *Session, text string) []string {
	t.Helper()
	rs, err := s.Query(context.Background(), text)
	require.NoError(t, err, text)
	require.Len(t, rs, 1)
	return rowsOf(t, rs[0])
}

func rowsOf(t *testing.T, res *mysqlproto.Result) []string {
	t.Helper()
	if res.Rows == nil {
		return nil
	}
	defer res.Rows.Close()
	var out []string
	for {
		cols, sel, err := res.Rows.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		emit := func(i int) {
			cells := make([]string, len(cols))
			for c, a := range cols {
				cells[c] = cellText(a, i)
			}
			out = append(out, strings.Join(cells, "\t"))
		}
		if sel != nil {
			for _, i := range sel {
				emit(int(i))
			}
			continue
		}
		if len(cols) > 0 {
			for i := 0; i < cols[0].Len(); i++ {
				emit(i)
			}
		}
	}
}

func cellText(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	return fmt.Sprint(a.ValueStr(i))
}
