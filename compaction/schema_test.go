package compaction

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/keymodel"
	"github.com/strata-db/strata/be/rowset/rowsettest"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/storage"
)

// Rowsets of three schema versions (ADD COLUMN with a default and ADD
// COLUMN nullable without one, then DROP COLUMN), and a load begun before
// the DROP published after it: the policy takes them all in one run, and
// CompactRange writes the newest schema, with the defaults (or NULL) in
// the rows written before a column was added, folded by the model; a
// restart reads the same.
func TestCompactAcrossSchemaVersions(t *testing.T) {
	for _, model := range []string{"duplicate", "aggregate", "merge-on-write"} {
		t.Run(model, func(t *testing.T) { testCompactAcrossSchemaVersions(t, model) })
	}
}

func testCompactAcrossSchemaVersions(t *testing.T, model string) {
	k := storage.ColumnMeta{ID: 1, Type: arrow.PrimitiveTypes.Int32}
	v := storage.ColumnMeta{ID: 2, Type: arrow.PrimitiveTypes.Int64}
	a := storage.ColumnMeta{ID: 3, Type: arrow.PrimitiveTypes.Int64}               // DEFAULT 5 (0 for SUM)
	s := storage.ColumnMeta{ID: 4, Type: arrow.BinaryTypes.String, Nullable: true} // no default
	sign := storage.ColumnMeta{ID: 9, Type: arrow.PrimitiveTypes.Int8}             // unique keys: the delete sign
	aDefault := int64(5)
	if model == "aggregate" {
		aDefault = 0
	}
	schemaOf := func(version int64, cols ...storage.ColumnMeta) tabletstore.Schema {
		sc := tabletstore.Schema{SchemaVersion: version, Columns: cols, NumKeys: 1}
		for _, c := range cols {
			switch c.ID {
			case a.ID:
				sc.Defaults = append(sc.Defaults, tabletstore.ColumnDefault{Column: a.ID, Int: &aDefault})
			case s.ID:
				sc.Defaults = append(sc.Defaults, tabletstore.ColumnDefault{Column: s.ID, Null: true})
			case sign.ID:
				zero := int64(0)
				sc.Defaults = append(sc.Defaults, tabletstore.ColumnDefault{Column: sign.ID, Int: &zero})
			}
		}
		switch model {
		case "aggregate":
			sc.Model = tabletstore.Model{Kind: keymodel.Aggregate, SeqCol: -1, DeleteSignCol: -1}
			for _, c := range cols {
				sc.Model.Aggs = append(sc.Model.Aggs, map[uint32]string{1: "", 2: "SUM", 3: "SUM", 4: "REPLACE"}[c.ID])
			}
		case "merge-on-write":
			sc.Model = tabletstore.Model{Kind: keymodel.Unique, MergeOnWrite: true, SeqCol: -1, DeleteSignCol: len(cols) - 1}
		}
		return sc
	}
	var hidden []storage.ColumnMeta
	if model == "merge-on-write" {
		hidden = []storage.ColumnMeta{sign}
	}
	s1 := schemaOf(1, append([]storage.ColumnMeta{k, v}, hidden...)...)
	s2 := schemaOf(2, append([]storage.ColumnMeta{k, v, a, s}, hidden...)...)
	s3 := schemaOf(3, append([]storage.ColumnMeta{k, a, s}, hidden...)...)

	dir := t.TempDir()
	st, err := tabletstore.Open(dir, nil)
	require.NoError(t, err)
	defer func() { st.Close() }()
	r := rand.New(rand.NewPCG(5, 6))
	// logical: every row loaded, as a reader of s3 reads it (k, a, s).
	var logical [][]any
	load := func(sc tabletstore.Schema, version int64) {
		rows := make([][]any, 20)
		for i := range rows {
			vals := map[uint32]any{1: int64(r.IntN(8)), 2: int64(r.IntN(100)), 3: int64(r.IntN(100)), 4: fmt.Sprint("s", r.IntN(100)), 9: int64(0)}
			if r.IntN(4) == 0 {
				vals[4] = nil
			}
			row := make([]any, len(sc.Columns))
			for c, col := range sc.Columns {
				row[c] = vals[col.ID]
			}
			rows[i] = row
			l := []any{vals[1], aDefault, nil}
			for _, col := range sc.Columns {
				switch col.ID {
				case a.ID:
					l[1] = vals[3]
				case s.ID:
					l[2] = vals[4]
				}
			}
			logical = append(logical, l)
		}
		loadRows(t, st, sc, 1, version, version, rows)
	}
	for version := int64(2); version <= 4; version++ {
		load(s1, version)
	}
	for version := int64(5); version <= 7; version++ {
		load(s2, version)
	}
	for version := int64(8); version <= 10; version++ {
		load(s3, version)
	}
	load(s2, 11) // began before the DROP

	var want [][]any
	switch model {
	case "duplicate":
		want = logical
	case "merge-on-write":
		last := map[any][]any{}
		for _, l := range logical {
			last[l[0]] = l
		}
		for _, l := range last {
			want = append(want, l)
		}
	case "aggregate":
		acc := map[any][]any{}
		for _, l := range logical {
			if acc[l[0]] == nil {
				acc[l[0]] = append([]any(nil), l...)
				continue
			}
			acc[l[0]][1] = acc[l[0]][1].(int64) + l[1].(int64) // SUM
			acc[l[0]][2] = l[2]                                // REPLACE
		}
		for _, l := range acc {
			want = append(want, l)
		}
	}
	rowsettest.SortRows(want, 3)
	if model == "merge-on-write" {
		for i := range want {
			want[i] = append(want[i], int64(0))
		}
	}

	run, ok := Policy{}.Pick(st.Rowsets(1), st.MaxVersions())
	require.True(t, ok)
	require.Equal(t, Run{Start: 2, End: 11, Rowsets: 10, Bytes: run.Bytes}, run, "one run across the schema versions")
	res, err := CompactRange(context.Background(), st, 1, run.Start, run.End)
	require.NoError(t, err)
	require.Equal(t, 10, res.InputRowsets)
	require.Equal(t, int64(3), res.Output.SchemaVersion)
	require.Equal(t, 1, st.VersionCount(1))
	check := func() {
		t.Helper()
		got := readRows(t, st, s3.Columns, 1, 11)
		rowsettest.SortRows(got, 3)
		rowsettest.SameRows(t, want, got)
		if model == "merge-on-write" {
			require.NoError(t, st.CheckDeleteBitmaps(1))
		}
	}
	check()
	require.NoError(t, st.Close())
	st, err = tabletstore.Open(dir, nil)
	require.NoError(t, err)
	check()
}
