package storage

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// smallSegment writes a small file with several types, nulls, compressed
// and uncompressed pages and a short-key index.
func smallSegment(t testing.TB) []byte {
	t.Helper()
	mem := memory.NewGoAllocator()
	rng := rand.New(rand.NewPCG(5, 5))
	metas := []ColumnMeta{
		{ID: 1, Type: arrow.PrimitiveTypes.Int32},
		{ID: 2, Type: arrow.BinaryTypes.String, Nullable: true},
		{ID: 3, Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{ID: 4, Type: dec10Type},
		{ID: 5, Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}
	ib := array.NewInt32Builder(mem)
	for i := range 90 {
		ib.Append(int32(i / 3))
	}
	cols := []arrow.Array{
		ib.NewArray(),
		genArray(t, mem, rng, arrow.BinaryTypes.String, patDict, 0.2, 90),
		genArray(t, mem, rng, arrow.PrimitiveTypes.Float64, patRandom, 0.2, 90),
		genArray(t, mem, rng, dec10Type, patRandom, 0, 90),
		genArray(t, mem, rng, arrow.FixedWidthTypes.Boolean, patRandom, 0.2, 90),
	}
	return writeSegment(t, metas, WriterOptions{PageRows: 40, NumSortKeys: 1, ShortKeyInterval: 16}, cols, 90)
}

// readAll opens a file and reads every page of every column and a seek,
// returning the first error. It fails the test if an error is not marked.
func readAll(file []byte) error {
	s, err := Open(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		return err
	}
	for _, m := range s.Columns() {
		c := s.Column(m.ID)
		for p := range s.NumPages() {
			_ = c.Zone(p)
			a, err := c.ReadPage(p, memory.DefaultAllocator)
			if err != nil {
				return err
			}
			a.Release()
		}
	}
	if len(s.Columns()) > 0 && s.numSortKeys > 0 {
		if _, err := s.SeekShortKey([]any{nil}); err != nil {
			return err
		}
	}
	return nil
}

// TestCorruptEveryByte flips each byte of a small file (with two different
// masks) and requires Open or ReadPage to fail: every byte is covered by a
// magic, a version check or a CRC.
func TestCorruptEveryByte(t *testing.T) {
	file := smallSegment(t)
	require.NoError(t, readAll(file))
	for i := range file {
		for _, mask := range []byte{0x01, 0xff} {
			bad := bytes.Clone(file)
			bad[i] ^= mask
			err := readAll(bad)
			require.Error(t, err, "byte %d of %d flipped with %#x", i, len(file), mask)
			require.True(t, errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnsupportedVersion), "byte %d: %v", i, err)
		}
	}
}

// TestTruncated cuts the file at every length.
func TestTruncated(t *testing.T) {
	file := smallSegment(t)
	for n := range len(file) {
		require.Error(t, readAll(file[:n]), "truncated to %d", n)
	}
	// Extra bytes at either end are rejected too.
	require.Error(t, readAll(append(bytes.Clone(file), 0)))
	require.Error(t, readAll(append([]byte{0}, file...)))
}

// TestUnknownVersion checks that a future version byte is an
// ErrUnsupportedVersion, not a crash.
func TestUnknownVersion(t *testing.T) {
	file := smallSegment(t)
	file[4] = byte(FormatCurrent + 1)
	_, err := Open(bytes.NewReader(file), int64(len(file)))
	require.ErrorIs(t, err, ErrUnsupportedVersion)
}

// TestCorruptPageBodies re-frames valid pages with damaged bodies and a
// correct CRC, so the decoders (not the checksum) must catch the damage.
func TestCorruptPageBodies(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, tt := range testTypes {
		for _, pat := range tt.pats {
			mem := memory.NewGoAllocator()
			arr := genArray(t, mem, rng, tt.dt, pat, 0.3, 50)
			pt, _ := physTypeOf(tt.dt)
			w := &Writer{opts: WriterOptions{PageRows: 50}}
			cb := &colBuf{meta: ColumnMeta{Type: tt.dt, Nullable: true}, pt: pt}
			cb.appendRange(arr, 0, 50)
			var prefix []byte
			flags := byte(0)
			if cb.nulls > 0 {
				flags = pageFlagValidity
				prefix = make([]byte, 7)
				for i, v := range cb.valid {
					if v {
						prefix[i/8] |= 1 << (i % 8)
					}
				}
			}
			nulls := cb.nulls
			raw, enc, _ := w.encodeValues(prefix, cb, 50)
			h := pageHeader{enc: enc, numRows: 50, flags: flags, nullCount: nulls}
			a, err := decodePage(pt, tt.dt, h, raw, memory.DefaultAllocator, false)
			require.NoError(t, err)
			d, err := decodePage(pt, tt.dt, h, raw, memory.DefaultAllocator, true)
			require.NoError(t, err)
			requireSameValues(t, a, d)
			a.Release()
			d.Release()
			for range 200 {
				bad := bytes.Clone(raw)
				switch rng.IntN(3) {
				case 0:
					bad[rng.IntN(len(bad))] ^= byte(1 + rng.IntN(255))
				case 1:
					bad = bad[:rng.IntN(len(bad))]
				default:
					bad = append(bad, byte(rng.IntN(256)))
				}
				for _, dict := range []bool{false, true} {
					a, err := decodePage(pt, tt.dt, h, bad, memory.DefaultAllocator, dict)
					if err == nil {
						a.Release()
					}
				}
			}
			arr.Release()
		}
	}
}
