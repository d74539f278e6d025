package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sale is one generated row of demo.sales.
type sale struct {
	date   string // YYYY-MM-DD
	id     int64
	region string
	store  int32
	qty    *int32 // nil = NULL
	cents  int64  // price DECIMAL(10,2) in cents
	note   string
}

var regions = []string{"north", "south", "east", "west", "central"}

// genSales makes n deterministic rows with ids starting at firstID.
func genSales(seed uint64, firstID int64, n int) []sale {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]sale, n)
	for i := range out {
		y := 2023 + r.IntN(3) // 2023..2025
		m := 1 + r.IntN(12)
		d := 1 + r.IntN(28)
		s := sale{
			date:   fmt.Sprintf("%04d-%02d-%02d", y, m, d),
			id:     firstID + int64(i),
			region: regions[r.IntN(len(regions))],
			store:  int32(1 + r.IntN(20)),
			cents:  int64(r.IntN(10_000_00)),
			note:   fmt.Sprintf("n%d", r.IntN(1000)),
		}
		if r.IntN(10) != 0 {
			q := int32(r.IntN(100))
			s.qty = &q
		}
		out[i] = s
	}
	return out
}

func centsString(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// writeCSV writes rows with the given column separator.
func writeCSV(t *testing.T, rows []sale, sep string) string {
	t.Helper()
	var b strings.Builder
	for _, s := range rows {
		q := `\N`
		if s.qty != nil {
			q = fmt.Sprint(*s.qty)
		}
		fmt.Fprintf(&b, "%s%s%d%s%s%s%d%s%s%s%s%s%s\n", s.date, sep, s.id, sep, s.region, sep, s.store, sep, q, sep, centsString(s.cents), sep, s.note)
	}
	path := filepath.Join(t.TempDir(), "sales.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// writeJSONLines writes rows as JSON lines with every value a string, as
// the Flink connector sends them.
func writeJSONLines(t *testing.T, rows []sale) string {
	t.Helper()
	var b strings.Builder
	for _, s := range rows {
		m := map[string]any{
			"sale_date": s.date, "id": fmt.Sprint(s.id), "region": s.region,
			"store_id": fmt.Sprint(s.store), "price": centsString(s.cents), "note": s.note,
			"unknown_key": "ignored",
		}
		if s.qty != nil {
			m["qty"] = fmt.Sprint(*s.qty)
		} else {
			m["qty"] = nil
		}
		line, err := json.Marshal(m)
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "sales.json")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m), "response: %s", s)
	return m
}

// lines splits mysql --batch output into rows.
func lines(out string) []string {
	out = strings.TrimRight(out, "\n")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func sortedKeys[K ~string | ~int32 | ~int64, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
