package compaction

// Run with:
//
//	go test -run '^$' -bench BenchmarkCompact -count 6 ./compaction | tee new.txt
//	benchstat -col /keys old.txt new.txt

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/rowset"
	"github.com/strata-db/strata/be/rowset/rowsettest"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/storage"
)

// benchSchema: a BIGINT key, and the value columns a fact table often has.
var benchSchema = tabletstore.Schema{
	Columns: []storage.ColumnMeta{
		{ID: 1, Type: arrow.PrimitiveTypes.Int64},
		{ID: 2, Type: arrow.BinaryTypes.String, Nullable: true},
		{ID: 3, Type: rowsettest.DecimalType, Nullable: true},
		{ID: 4, Type: arrow.PrimitiveTypes.Int32},
	},
	NumKeys: 1,
}

const (
	benchRowsets = 100
	benchRows    = 1000 // per rowset
)

// benchInputs draws benchRowsets sorted inputs of benchRows rows. With
// interleaved keys every input spans the whole key range (random keys, the
// hard case for the merge: runs of about one row); with sequential keys
// each input holds the next range (time-ordered loads: a run per page).
func benchInputs(interleaved bool) [][][]any {
	r := rand.New(rand.NewPCG(42, 42))
	inputs := make([][][]any, benchRowsets)
	for i := range inputs {
		rows := make([][]any, benchRows)
		for j := range rows {
			key := int64(i*benchRows + j)
			if interleaved {
				key = r.Int64N(benchRowsets * benchRows)
			}
			var name, amount any
			if r.IntN(10) > 0 {
				name = "customer#" + string(rune('a'+r.IntN(26))) + string(rune('a'+r.IntN(26)))
			}
			if r.IntN(10) > 0 {
				amount = r.Int64N(1_000_000)
			}
			rows[j] = []any{key, name, amount, int64(r.IntN(1000))}
		}
		rowsettest.SortRows(rows, 1)
		inputs[i] = rows
	}
	return inputs
}

// BenchmarkCompact merges 100 rowsets of 1,000 rows. path=merge is the
// k-way merge and the segment encoding (to io.Discard); path=store is a
// whole compaction of a tablet on disk: opening the inputs, the merge, the
// fsynced output and the metadata swap.
func BenchmarkCompact(b *testing.B) {
	for _, keys := range []string{"interleaved", "sequential"} {
		inputs := benchInputs(keys == "interleaved")
		b.Run("keys="+keys+"/path=merge", func(b *testing.B) {
			segs := make([]*storage.Segment, len(inputs))
			for i, rows := range inputs {
				segs[i] = rowsettest.SegmentOf(b, benchSchema.Columns, 1, storage.DefaultPageRows, rows)
			}
			b.ReportAllocs()
			for b.Loop() {
				w, err := storage.NewWriter(io.Discard, benchSchema.Columns, storage.WriterOptions{NumSortKeys: 1})
				if err != nil {
					b.Fatal(err)
				}
				n, err := rowset.Merge(context.Background(), segs, benchSchema.Columns, 1, w.Append)
				if err != nil || n != benchRowsets*benchRows {
					b.Fatal(n, err)
				}
				if _, err := w.Finish(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(benchRowsets*benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run("keys="+keys+"/path=store", func(b *testing.B) {
			// One tablet of 100 published rowsets, copied afresh for each
			// compaction.
			template := b.TempDir()
			st, err := tabletstore.Open(template, nil)
			require.NoError(b, err)
			for i, rows := range inputs {
				v := int64(i + 2)
				loadRows(b, st, benchSchema, 1, v, v, rows)
			}
			require.NoError(b, st.Close())
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				dir := filepath.Join(b.TempDir(), "store")
				require.NoError(b, os.CopyFS(dir, os.DirFS(template)))
				st, err := tabletstore.Open(dir, nil)
				require.NoError(b, err)
				b.StartTimer()
				res, err := CompactRange(context.Background(), st, 1, 2, benchRowsets+1)
				if err != nil || res.Output.NumRows != benchRowsets*benchRows {
					b.Fatal(res, err)
				}
				b.StopTimer()
				require.NoError(b, st.Close())
				b.StartTimer()
			}
			b.ReportMetric(float64(benchRowsets*benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
