package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/meta/metatest"
	"github.com/strata-db/strata/types"
)

// testStore is one embedded etcd shared by the tests of this package. Tests
// use their own database names so that they do not see each other.
var testStore *meta.Store

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "strata-catalog-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e, err := metatest.Start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testStore = meta.NewStore(e.Client())
	code := m.Run()
	e.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

var nameSeq atomic.Int64

// uniq returns a name no other test uses.
func uniq(prefix string) string { return fmt.Sprintf("%s_%d", prefix, nameSeq.Add(1)) }

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openCatalog(t *testing.T, s *meta.Store) *Catalog {
	t.Helper()
	c, err := Open(testCtx(t), s, Options{})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// newTable is a small DUPLICATE KEY table definition as the SQL layer would
// pass it.
func newTable(name string, buckets int, partitions ...string) *Table {
	t := &Table{
		Name:       name,
		KeysType:   DupKeys,
		KeyColumns: []string{"k"},
		Schema: Schema{Columns: []Column{
			{Name: "k", Type: types.Type{Kind: types.KindBigInt}, IsKey: true},
			{Name: "v", Type: types.Type{Kind: types.KindVarchar, Length: 20}, Nullable: true},
		}},
		Distribution: Distribution{Type: HashDistributed, Columns: []string{"k"}, Buckets: buckets},
	}
	if len(partitions) > 0 {
		t.PartitionType = RangePartitioned
		t.PartitionColumns = []string{"k"}
		for i, p := range partitions {
			t.Partitions = append(t.Partitions, Partition{
				Name:  p,
				Lower: PartitionBound{Values: []string{fmt.Sprint(i * 100)}},
				Upper: PartitionBound{Values: []string{fmt.Sprint((i + 1) * 100)}},
			})
		}
	}
	return t
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
