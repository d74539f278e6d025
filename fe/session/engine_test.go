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

	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/storage"
)

// The adapters below mirror the ones the server wires between the frontend
// and the backend.

type testPublisher struct{ s *tabletstore.Store }

func (p testPublisher) Publish(_ context.Context, txnID int64, versions map[int64]int64) error {
	return p.s.PublishTxn(txnID, versions)
}

type testReader struct{ s *tabletstore.Store }

func (r testReader) ReadTablet(tabletID, version int64) ([]*storage.Segment, func(), error) {
	snap, err := r.s.Acquire(tabletID, version)
	if err != nil {
		return nil, nil, err
	}
	segs, err := snap.Segments()
	if err != nil {
		snap.Release()
		return nil, nil, err
	}
	return segs, snap.Release, nil
}

type testWriters struct{ s *tabletstore.Store }

func (w testWriters) OpenWriter(tabletID, txnID int64, schema sink.TabletSchema) (sink.TabletWriter, error) {
	return w.s.NewDeltaWriter(tabletID, txnID, tabletstore.Schema{
		SchemaVersion: schema.SchemaVersion, Columns: schema.Columns, NumKeys: schema.NumKeys,
	})
}

func (w testWriters) AbortTxn(txnID int64) error { return w.s.AbortTxn(txnID) }

// newTestEngine runs the whole write and read path in process: an embedded
// etcd, the catalog, transactions, the sink and a tablet store.
func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	return newTestEngineWith(t, nil)
}

// newTestEngineWith is newTestEngine with the publisher wrapped by wrap.
func newTestEngineWith(t *testing.T, wrap func(txn.Publisher) txn.Publisher) *Engine {
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
	var pub txn.Publisher = testPublisher{tabs}
	if wrap != nil {
		pub = wrap(pub)
	}
	txns := txn.NewManager(store, cat, txn.Config{
		Self:      txn.Coordinator{Node: "test", Incarnation: uuid.NewString()},
		Publisher: pub,
	})
	loads := &sink.Sink{Catalog: cat, Txns: txns, Tablets: testWriters{tabs}}
	return &Engine{Catalog: cat, Tablets: testReader{tabs}, Loads: loads}
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
