package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLoadVisibility checks that a query never sees part of a load: while
// stream loads that each span every partition and bucket commit one after
// another, concurrent count(*) queries only ever see whole loads.
func TestLoadVisibility(t *testing.T) {
	s := startServer(t, "")
	s.MustMySQL(salesDDL)
	const loads, perLoad = 6, 20_000
	paths := make([]string, loads)
	for i := range paths {
		paths[i] = writeCSV(t, genSales(uint64(50+i), int64(i*perLoad+1), perLoad), "\t")
	}

	var done atomic.Bool
	var wg sync.WaitGroup
	var seen sync.Map
	var bad atomic.Value
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				out, err := s.MySQL("SELECT count(*) FROM demo.sales")
				if err != nil {
					bad.Store(err.Error())
					return
				}
				n, err := strconv.Atoi(strings.TrimSpace(out))
				if err != nil || n%perLoad != 0 {
					bad.Store(fmt.Sprintf("a query saw %q rows, not a whole number of %d-row loads", out, perLoad))
					return
				}
				seen.Store(n, true)
			}
		}()
	}
	for i, p := range paths {
		resp := s.StreamLoad("demo", "sales", p, fmt.Sprintf("label: vis_%d", i))
		require.Equal(t, "Success", resp["Status"], "%v", resp)
	}
	done.Store(true)
	wg.Wait()
	if msg := bad.Load(); msg != nil {
		t.Fatal(msg)
	}
	require.Equal(t, fmt.Sprintf("%d\n", loads*perLoad), s.MustMySQL("SELECT count(*) FROM demo.sales"))
	distinct := 0
	seen.Range(func(any, any) bool { distinct++; return true })
	t.Logf("queries observed %d distinct row counts while loading", distinct)
}
