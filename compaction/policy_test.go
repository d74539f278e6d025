package compaction

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/tabletstore"
)

const (
	kb = int64(1) << 10
	mb = int64(1) << 20
	gb = int64(1) << 30
)

// rowsetsOf builds a tablet's rowset list from sizes, one version each
// starting at 2.
func rowsetsOf(sizes ...int64) []tabletstore.RowsetInfo {
	out := make([]tabletstore.RowsetInfo, len(sizes))
	for i, s := range sizes {
		v := int64(i + 2)
		out[i] = tabletstore.RowsetInfo{ID: v, StartVersion: v, EndVersion: v, DataSize: s}
	}
	return out
}

func repeat(n int, size int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = size
	}
	return out
}

func cat(parts ...[]int64) []int64 {
	var out []int64
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestPolicyPick(t *testing.T) {
	for _, tc := range []struct {
		name        string
		sizes       []int64
		maxVersions int
		policy      Policy
		want        Run // zero: nothing
	}{
		{name: "one rowset", sizes: []int64{kb}},
		{name: "four small", sizes: repeat(4, kb)},
		{name: "five small", sizes: repeat(5, kb), want: Run{Start: 2, End: 6, Rowsets: 5, Bytes: 5 * kb}},
		{name: "MinRowsets", sizes: repeat(3, kb), policy: Policy{MinRowsets: 3}, want: Run{Start: 2, End: 4, Rowsets: 3, Bytes: 3 * kb}},
		{
			name:  "small ones above the last large one",
			sizes: cat([]int64{200 * mb, kb, 300 * mb}, repeat(5, mb)),
			want:  Run{Start: 5, End: 9, Rowsets: 5, Bytes: 5 * mb},
		},
		{
			// 10 MiB outweighs the four 1 MiB after it: they wait.
			name:  "a merged rowset waits for its peers",
			sizes: cat([]int64{10 * mb}, repeat(4, mb)),
		},
		{
			name:  "then merges with them",
			sizes: cat([]int64{10 * mb}, repeat(9, 2*mb)),
			want:  Run{Start: 2, End: 11, Rowsets: 10, Bytes: 28 * mb},
		},
		{
			name:  "the rowsets beside the largest",
			sizes: cat([]int64{10 * mb}, repeat(6, mb)),
			want:  Run{Start: 3, End: 8, Rowsets: 6, Bytes: 6 * mb},
		},
		{
			// Tiny runs merge whole, whatever their shape.
			name:  "tiny",
			sizes: cat([]int64{2 * mb}, repeat(4, kb)),
			want:  Run{Start: 2, End: 6, Rowsets: 5, Bytes: 2*mb + 4*kb},
		},
		{
			name:   "MaxRowsets takes the oldest",
			sizes:  repeat(30, kb),
			policy: Policy{MaxRowsets: 10},
			want:   Run{Start: 2, End: 11, Rowsets: 10, Bytes: 10 * kb},
		},
		{
			// 2 GiB of data: promotion at 5% is 102 MiB.
			name:  "promotion size scales with the tablet",
			sizes: cat([]int64{2 * gb, 110 * mb}, repeat(5, mb)),
			want:  Run{Start: 4, End: 8, Rowsets: 5, Bytes: 5 * mb},
		},
		{
			name:        "near the limit two are enough",
			sizes:       cat([]int64{500 * mb}, repeat(3, 200*mb), repeat(2, kb)),
			maxVersions: 10,
			want:        Run{Start: 6, End: 7, Rowsets: 2, Bytes: 2 * kb, Urgent: true},
		},
		{
			// Every rowset is large: all but the largest merge.
			name:        "near the limit large ones merge",
			sizes:       cat(repeat(3, 200*mb), []int64{500 * mb}, repeat(2, 200*mb)),
			maxVersions: 10,
			want:        Run{Start: 2, End: 4, Rowsets: 3, Bytes: 600 * mb, Urgent: true},
		},
		{
			// Every rowset is large: no cumulative run, but the large ones
			// weigh more than 0.3 of the first, so a base compaction.
			name:        "base compaction",
			sizes:       cat(repeat(3, 200*mb), []int64{500 * mb}, repeat(2, 200*mb)),
			maxVersions: 2000,
			want:        Run{Start: 2, End: 7, Rowsets: 6, Bytes: 1500 * mb},
		},
		{
			// Four large rowsets after the base that weigh less than 0.3 of
			// it: nothing to do.
			name:        "base not due",
			sizes:       cat([]int64{4000 * mb}, repeat(4, 200*mb)),
			maxVersions: 2000,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.policy.Pick(rowsetsOf(tc.sizes...), tc.maxVersions)
			require.Equal(t, tc.want != Run{}, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

// Loads of equal size, compacted whenever the policy says so: the number
// of rowsets stays small, and each load's bytes are rewritten a few times,
// not once per MinRowsets loads.
func TestPolicyBoundsCountAndRewrites(t *testing.T) {
	var p Policy
	var rowsets []tabletstore.RowsetInfo
	var written, loaded int64
	most := 0
	for v := int64(2); v < 2000; v++ {
		rowsets = append(rowsets, tabletstore.RowsetInfo{ID: v, StartVersion: v, EndVersion: v, DataSize: mb})
		loaded += mb
		for {
			run, ok := p.Pick(rowsets, 2000)
			if !ok {
				break
			}
			i := 0
			for rowsets[i].StartVersion != run.Start {
				i++
			}
			merged := tabletstore.RowsetInfo{ID: v, StartVersion: run.Start, EndVersion: run.End, DataSize: run.Bytes}
			rowsets = append(rowsets[:i], append([]tabletstore.RowsetInfo{merged}, rowsets[i+run.Rowsets:]...)...)
			written += run.Bytes
		}
		most = max(most, len(rowsets))
	}
	require.LessOrEqual(t, most, 30)
	require.Less(t, float64(written)/float64(loaded), 8.0, "write amplification")
	t.Logf("most rowsets %d, final %d, write amplification %.2f", most, len(rowsets), float64(written)/float64(loaded))
}

// Schema versions do not cut runs: rowsets written before and after light
// schema changes merge together (the store writes them in the newest
// schema), the cumulative ones and the base ones alike.
func TestPolicySchemaVersions(t *testing.T) {
	rowsets := rowsetsOf(repeat(12, kb)...)
	for i := range rowsets {
		switch {
		case i < 3:
			rowsets[i].SchemaVersion = 1
		case i < 9:
			rowsets[i].SchemaVersion = 3
		default:
			rowsets[i].SchemaVersion = 2 // loads begun before the last ALTER
		}
	}
	got, ok := Policy{}.Pick(rowsets, 2000)
	require.True(t, ok)
	require.Equal(t, Run{Start: 2, End: 13, Rowsets: 12, Bytes: 12 * kb}, got)
	got, ok = Policy{}.Pick(rowsets[:5], 2000)
	require.True(t, ok, "three of one version, two of another")
	require.Equal(t, Run{Start: 2, End: 6, Rowsets: 5, Bytes: 5 * kb}, got)

	// Base compaction: large rowsets of three schema versions.
	base := rowsetsOf(cat([]int64{1000 * mb}, repeat(5, 200*mb))...)
	for i := range base {
		base[i].SchemaVersion = int64(1 + i/2)
	}
	got, ok = Policy{}.Pick(base, 2000)
	require.True(t, ok)
	require.Equal(t, Run{Start: 2, End: 7, Rowsets: 6, Bytes: 2000 * mb}, got)
}

func TestPolicyScore(t *testing.T) {
	var p Policy
	require.Zero(t, p.Score(rowsetsOf(repeat(4, kb)...), 2000))
	require.Equal(t, 7, p.Score(rowsetsOf(repeat(7, kb)...), 2000))
	require.Equal(t, 12, p.Score(rowsetsOf(cat(repeat(10, 200*mb), repeat(2, kb))...), 20), "urgent: the whole count")
}

// A DELETE's rowset is left to base compaction: the cumulative run starts
// after the newest one, and the base run takes it with the rowsets before.
func TestPickLeavesDeletesToBase(t *testing.T) {
	p := DefaultPolicy()
	rs := []tabletstore.RowsetInfo{
		{StartVersion: 2, EndVersion: 2, DataSize: 200 << 20},
		{StartVersion: 3, EndVersion: 3, DataSize: 150 << 20},
		{StartVersion: 4, EndVersion: 4, Delete: true},
		{StartVersion: 5, EndVersion: 5, DataSize: 2 << 20},
		{StartVersion: 6, EndVersion: 6, DataSize: 2 << 20},
		{StartVersion: 7, EndVersion: 7, DataSize: 2 << 20},
		{StartVersion: 8, EndVersion: 8, DataSize: 2 << 20},
		{StartVersion: 9, EndVersion: 9, DataSize: 2 << 20},
	}
	r, ok := p.Pick(rs, 2000)
	require.True(t, ok)
	require.Equal(t, int64(5), r.Start, "the cumulative run starts after the DELETE")
	require.Equal(t, int64(5), p.CumulativePoint(rs))
	// Many DELETEs, nothing after them: a base run from the first rowset.
	only := []tabletstore.RowsetInfo{{StartVersion: 2, EndVersion: 2, DataSize: 10 << 20}}
	for v := int64(3); v <= 8; v++ {
		only = append(only, tabletstore.RowsetInfo{StartVersion: v, EndVersion: v, Delete: true})
	}
	r, ok = p.Pick(only, 2000)
	require.True(t, ok)
	require.Equal(t, int64(2), r.Start)
	require.Equal(t, Base, p.kindOf(only, r))
}
