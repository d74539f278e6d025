package local

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/loader"
	"github.com/strata-db/strata/types"
)

// A stream load into a tablet past the version limit fails with Doris's
// TOO_MANY_VERSION wording in the response's Message, through the sink's
// error path, and takes nothing in.
func TestStreamLoadTooManyVersions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	e, err := metatest.Start(dir + "/etcd")
	require.NoError(t, err)
	defer e.Close()
	store := meta.NewStore(e.Client())
	cat, err := catalog.Open(ctx, store, catalog.Options{})
	require.NoError(t, err)
	defer cat.Close()
	require.NoError(t, cat.CreateDatabase(ctx, "db", false))
	tb := &catalog.Table{
		Name:     "t",
		KeysType: catalog.DupKeys,
		Schema: catalog.Schema{Columns: []catalog.Column{
			{Name: "k", Type: types.Type{Kind: types.KindInt}, IsKey: true},
		}},
		KeyColumns:   []string{"k"},
		Distribution: catalog.Distribution{Buckets: 1},
	}
	require.NoError(t, cat.CreateTable(ctx, "db", tb, false))

	const limit = 3
	tabs, err := tabletstore.OpenWithOptions(dir+"/be", tabletstore.Options{MaxVersions: limit})
	require.NoError(t, err)
	defer tabs.Close()
	txns := txn.NewManager(store, cat, txn.Config{
		Self:      txn.Coordinator{Node: "test", Incarnation: uuid.NewString()},
		Publisher: Publisher{S: tabs},
	})
	backend := &sink.Sink{Catalog: cat, Txns: txns, Tablets: Writers{S: tabs}}
	_, beHandler, err := loader.NewHandlers(backend, loader.Config{ErrorLogDir: dir + "/error_log"})
	require.NoError(t, err)
	srv := httptest.NewServer(beHandler)
	defer srv.Close()

	load := func(i int) loader.Result {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL+"/api/db/t/_stream_load",
			strings.NewReader(fmt.Sprintf("%d\n", i)))
		require.NoError(t, err)
		req.SetBasicAuth("root", "")
		req.Header.Set("label", fmt.Sprint("load_", i))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var res loader.Result
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&res))
		return res
	}
	// The slow-down past 80% of the limit is at most a quarter second.
	for i := range limit + 1 {
		res := load(i)
		require.Equal(t, loader.StatusSuccess, res.Status, res.Message)
	}
	tablet := tb.Partitions[0].Tablets[0]
	require.Equal(t, limit+1, tabs.VersionCount(tablet))

	res := load(99)
	require.Equal(t, loader.StatusFail, res.Status)
	require.Contains(t, res.Message, "too many versions")
	require.Contains(t, res.Message, fmt.Sprintf("[E-235]failed to init rowset builder. version count: %d, exceed limit: %d, tablet: %d.",
		limit+1, limit, tablet))
	require.Zero(t, res.NumberLoadedRows)
	require.Equal(t, limit+1, tabs.VersionCount(tablet))
	require.Empty(t, tabs.PendingTxns())
}
