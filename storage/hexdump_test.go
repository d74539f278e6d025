package storage

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// TestTinyHexDump writes a tiny segment and compares an annotated hex dump
// of it with testdata/v1/tiny.txt, so that any change to the bytes the
// writer produces shows up in review. Regenerate with -rewrite.
func TestTinyHexDump(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	ib := array.NewInt32Builder(mem)
	ib.AppendValues([]int32{10, 10, 11, 12, 20}, nil)
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"a", "bb", "", "bb", "c"}, []bool{true, true, false, true, true})
	cols := []arrow.Array{ib.NewArray(), sb.NewArray()}
	ib.Release()
	sb.Release()
	defer cols[0].Release()
	defer cols[1].Release()
	metas := []ColumnMeta{
		{ID: 1, Type: arrow.PrimitiveTypes.Int32},
		{ID: 2, Type: arrow.BinaryTypes.String, Nullable: true},
	}
	file := writeSegment(t, metas, WriterOptions{PageRows: 3, NumSortKeys: 1, ShortKeyInterval: 2, Compression: CompressionNone}, cols, 5)
	seg, err := Open(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)

	type region struct {
		off, n int64
		name   string
	}
	regions := []region{{0, fileHeaderLen, "header: magic, version"}}
	for ci, c := range seg.cols {
		for p, pr := range c.pages {
			enc, _, err := c.PageEncoding(p)
			require.NoError(t, err)
			regions = append(regions, region{pr.off, pr.n, fmt.Sprintf("page %d of column %d (%s)", p, c.meta.ID, enc)})
		}
		sp := seg.layout.index[ci]
		regions = append(regions, region{sp.off, sp.n, fmt.Sprintf("page index of column %d", c.meta.ID)})
	}
	regions = append(regions,
		region{seg.layout.shortKey.off, seg.layout.shortKey.n, "short-key index"},
		region{seg.layout.footer.off, seg.layout.footer.n, "footer"},
		region{int64(len(file)) - fileTailLen, fileTailLen, "tail: footer length, footer crc, magic"})
	sort.Slice(regions, func(i, j int) bool { return regions[i].off < regions[j].off })

	var out strings.Builder
	pos := int64(0)
	for _, r := range regions {
		require.Equal(t, pos, r.off, "gap or overlap before %s", r.name)
		fmt.Fprintf(&out, "# %s\n", r.name)
		for i := r.off; i < r.off+r.n; i += 16 {
			end := min(i+16, r.off+r.n)
			fmt.Fprintf(&out, "%04x  % x\n", i, file[i:end])
		}
		pos = r.off + r.n
	}
	require.Equal(t, int64(len(file)), pos)

	path := filepath.Join("testdata", "v1", "tiny.txt")
	if *rewrite {
		require.NoError(t, os.WriteFile(path, []byte(out.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), out.String())
}
