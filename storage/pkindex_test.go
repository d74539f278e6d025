package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/bits-and-blooms/bloom/v3"
	"github.com/stretchr/testify/require"
)

// pkFixedKeys returns n strictly increasing keys of width w (>= 8): a
// constant prefix, then 2*i+2 big endian. Odd numbers, 0 and 2n+2 and up
// are absent keys of the same width (see pkFixedKey).
func pkFixedKeys(n, w int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = pkFixedKey(uint64(2*i+2), w)
	}
	return keys
}

func pkFixedKey(v uint64, w int) []byte {
	k := bytes.Repeat([]byte{0x01}, w)
	binary.BigEndian.PutUint64(k[w-8:], v)
	return k
}

// pkVarKeys returns n distinct sorted non-empty random keys over a small
// alphabet (including 0x00 and 0xff), so that many are prefixes of others.
func pkVarKeys(rng *rand.Rand, n int) [][]byte {
	seen := map[string]bool{}
	var keys [][]byte
	for len(keys) < n {
		b := make([]byte, 1+rng.IntN(12))
		for i := range b {
			b[i] = []byte{0x00, 0x01, 'k', 0xff}[rng.IntN(4)]
		}
		if !seen[string(b)] {
			seen[string(b)] = true
			keys = append(keys, b)
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	return keys
}

func writePK(t testing.TB, keys [][]byte, signs *roaring.Bitmap) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WritePKIndex(&buf, keys, signs))
	return buf.Bytes()
}

// checkPK opens file and checks that it holds exactly keys and signs.
func checkPK(t *testing.T, file []byte, keys [][]byte, signs *roaring.Bitmap) *PKIndex {
	t.Helper()
	x, err := OpenPKIndex(file)
	require.NoError(t, err)
	require.Equal(t, PKIndexCurrent, x.Version())
	require.Equal(t, len(keys), x.NumKeys())
	for i, k := range keys {
		require.Equal(t, k, x.Key(i))
		require.True(t, x.MayContain(k), "key %d", i)
		row, ok := x.Find(k)
		require.True(t, ok, "key %d %x not found", i, k)
		require.Equal(t, i, row)
	}
	if signs == nil {
		signs = roaring.New()
	}
	require.NotNil(t, x.DeleteSigns())
	require.True(t, signs.Equals(x.DeleteSigns()), "delete signs %v, want %v", x.DeleteSigns(), signs)
	require.GreaterOrEqual(t, x.MemSize(), len(file))
	return x
}

// requireAbsent checks that Find misses every probe, and that the bloom
// filter lets few of them through.
func requireAbsent(t *testing.T, x *PKIndex, probes [][]byte) {
	t.Helper()
	for _, p := range probes {
		row, ok := x.Find(p)
		require.False(t, ok, "absent key %x found at row %d", p, row)
	}
}

func TestPKIndexRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	signsOf := func(n int, every int) *roaring.Bitmap {
		bm := roaring.New()
		for i := 0; i < n; i += every {
			bm.Add(uint32(i))
		}
		return bm
	}
	allRows := roaring.New()
	allRows.AddRange(0, 3000)
	varKeys := pkVarKeys(rng, 2000)
	cases := []struct {
		name  string
		keys  [][]byte
		signs *roaring.Bitmap
		width int // expected layout: key width, -1 variable
	}{
		{"empty", nil, nil, 0},
		{"empty/empty-signs", nil, roaring.New(), 0},
		{"one", [][]byte{[]byte("k")}, nil, 1},
		{"one/signed", [][]byte{pkFixedKey(4, 9)}, signsOf(1, 1), 9},
		{"one/empty-key", [][]byte{{}}, nil, 0},
		{"empty-key-first", [][]byte{{}, {0}, {0, 0}, {1}}, nil, -1},
		{"fixed", pkFixedKeys(3000, 10), nil, 10},
		{"fixed/signs", pkFixedKeys(3000, 10), signsOf(3000, 7), 10},
		{"fixed/all-signed", pkFixedKeys(3000, 10), allRows, 10},
		{"variable", varKeys, nil, -1},
		{"variable/signs", varKeys, signsOf(2000, 3), -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := writePK(t, tc.keys, tc.signs)
			x := checkPK(t, file, tc.keys, tc.signs)
			require.Equal(t, tc.width, x.width)

			// Absent keys: before, between and after the keys.
			probes := [][]byte{{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []byte("absent")}
			if tc.width >= 8 {
				n := uint64(len(tc.keys))
				probes = append(probes, pkFixedKey(0, tc.width), pkFixedKey(1, tc.width), pkFixedKey(2*n+2, tc.width), pkFixedKey(1<<60, tc.width))
				for i := range n {
					probes = append(probes, pkFixedKey(2*i+1, tc.width))
				}
			} else {
				for _, k := range tc.keys {
					probes = append(probes, append(slices.Clone(k), 0x00), append(slices.Clone(k), 0x02))
				}
			}
			present := map[string]bool{}
			for _, k := range tc.keys {
				present[string(k)] = true
			}
			probes = slices.DeleteFunc(probes, func(p []byte) bool { return present[string(p)] })
			requireAbsent(t, x, probes)
		})
	}
}

// TestPKIndexFixedLayout checks the sizes the layouts promise: a fixed-width
// file holds the keys with no per-key overhead but the bloom filter, a
// variable-width one adds a 4-byte offset per key.
func TestPKIndexFixedLayout(t *testing.T) {
	const n, w = 10000, 10
	fixed := writePK(t, pkFixedKeys(n, w), nil)
	perKey := float64(len(fixed)) / n
	require.InDelta(t, w+1.2, perKey, 0.1, "fixed: %.2f bytes per key", perKey)

	keys := pkFixedKeys(n, w)
	keys[n-1] = append(keys[n-1], 0) // one longer key: variable width
	variable := writePK(t, keys, nil)
	require.Equal(t, len(fixed)+4*(n+1)+1-1, len(variable), "offsets, one more key byte, no key_width uvarint")
}

// TestPKIndexWithKeyEncoder indexes rows encoded by a KeyEncoder, sorted by
// the reference comparator, and finds every row by its key.
func TestPKIndexWithKeyEncoder(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(2, 9))
	for _, types := range [][]arrow.DataType{
		{arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64},
		{arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32},
	} {
		var rows [][]any
		for range 2000 {
			r := make([]any, len(types))
			for c, dt := range types {
				r[c] = genKeyValue(rng, dt)
			}
			rows = append(rows, r)
		}
		slices.SortFunc(rows, refCompareRow)
		rows = slices.CompactFunc(rows, func(a, b []any) bool { return refCompareRow(a, b) == 0 })
		cols := keyArrays(t, mem, types, rows)
		enc, err := NewKeyEncoder(types)
		require.NoError(t, err)
		keys := make([][]byte, len(rows))
		for i := range rows {
			keys[i] = enc.AppendKey(nil, cols, i)
		}
		releaseAll(cols)
		x := checkPK(t, writePK(t, keys, nil), keys, nil)
		if enc.Fixed() > 0 {
			require.Equal(t, enc.Fixed(), x.width)
		} else {
			require.Equal(t, -1, x.width)
		}
	}
}

func TestPKIndexWriterErrors(t *testing.T) {
	k := func(s string) []byte { return []byte(s) }
	cases := []struct {
		name  string
		keys  [][]byte
		signs []uint32
		want  string
	}{
		{"unsorted", [][]byte{k("a"), k("b"), k("d"), k("c")}, nil, "key 3"},
		{"unsorted/first", [][]byte{k("b"), k("a")}, nil, "key 1"},
		{"prefix-after", [][]byte{k("ab"), k("a")}, nil, "key 1"},
		{"duplicate", [][]byte{k("a"), k("b"), k("b")}, nil, "key 2 duplicates key 1"},
		{"duplicate/empty", [][]byte{{}, {}}, nil, "key 1 duplicates key 0"},
		{"sign-past-end", [][]byte{k("a"), k("b")}, []uint32{0, 2}, "delete sign on row 2 of 2"},
		{"sign-no-keys", nil, []uint32{0}, "delete sign on row 0 of 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WritePKIndex(&buf, tc.keys, roaring.BitmapOf(tc.signs...))
			require.ErrorContains(t, err, tc.want)
		})
	}

	// Write errors are returned.
	wantErr := errors.New("disk full")
	err := WritePKIndex(failWriter{wantErr}, pkFixedKeys(100000, 10), nil)
	require.ErrorIs(t, err, wantErr)
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// pkSmallFiles are small index files of each layout, for the corruption
// tests and the fuzz corpus.
func pkSmallFiles(t testing.TB) map[string][]byte {
	rng := rand.New(rand.NewPCG(5, 1))
	return map[string][]byte{
		"fixed":    writePK(t, pkFixedKeys(12, 9), roaring.BitmapOf(1, 5, 11)),
		"variable": writePK(t, pkVarKeys(rng, 10), roaring.BitmapOf(0, 3)),
		"empty":    writePK(t, nil, nil),
	}
}

// openPKAll opens a file and uses every accessor. A file that opens must be
// consistent: a key found is the key probed, and keys are sorted.
func openPKAll(t testing.TB, file []byte, verify bool) error {
	x, err := openPKIndex(file, verify)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupportedVersion) {
			t.Fatalf("error not marked corrupt: %v", err)
		}
		return err
	}
	_ = x.MemSize()
	_ = x.DeleteSigns().GetCardinality()
	for i := 0; i < x.NumKeys() && i < 1000; i++ {
		k := x.Key(i)
		if i > 0 && bytes.Compare(x.Key(i-1), k) >= 0 {
			t.Fatalf("keys %d and %d out of order", i-1, i)
		}
		if row, ok := x.Find(k); ok && row != i {
			t.Fatalf("key %d found at row %d", i, row)
		}
		if verify && !x.MayContain(k) {
			t.Fatalf("verified file: key %d not in the bloom filter", i)
		}
		if row, ok := x.Find(append(slices.Clone(k), 0)); ok && !bytes.Equal(x.Key(row), append(slices.Clone(k), 0)) {
			t.Fatalf("probe found at row %d holding another key", row)
		}
	}
	return nil
}

// TestPKIndexCorruptEveryByte flips each byte of small files and requires
// OpenPKIndex to fail: every byte is covered by a magic, a version check or
// a CRC.
func TestPKIndexCorruptEveryByte(t *testing.T) {
	for name, file := range pkSmallFiles(t) {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, openPKAll(t, file, true))
			for i := range file {
				for _, mask := range []byte{0x01, 0x80, 0xff} {
					bad := bytes.Clone(file)
					bad[i] ^= mask
					require.Error(t, openPKAll(t, bad, true), "byte %d of %d flipped with %#x", i, len(file), mask)
					_ = openPKAll(t, bad, false)
				}
			}
		})
	}
}

func TestPKIndexTruncated(t *testing.T) {
	for name, file := range pkSmallFiles(t) {
		t.Run(name, func(t *testing.T) {
			for n := range len(file) {
				require.Error(t, openPKAll(t, file[:n], true), "truncated to %d", n)
				require.Error(t, openPKAll(t, file[len(file)-n:], true), "first %d bytes cut", len(file)-n)
				_ = openPKAll(t, file[:n], false)
			}
			require.Error(t, openPKAll(t, append(bytes.Clone(file), 0), true))
			require.Error(t, openPKAll(t, append([]byte{0}, file...), true))
		})
	}
}

func TestPKIndexUnknownVersion(t *testing.T) {
	file := pkSmallFiles(t)["fixed"]
	file[4] = byte(PKIndexCurrent + 1)
	_, err := OpenPKIndex(file)
	require.ErrorIs(t, err, ErrUnsupportedVersion)
	file[4] = 0
	_, err = OpenPKIndex(file)
	require.ErrorIs(t, err, ErrUnsupportedVersion)
}

// pkAssemble builds an index file from section bodies and footer fields
// with valid checksums, for the tests of what the checksums cannot catch.
type pkAssemble struct {
	version, footerVersion byte
	n                      uint64
	layout                 byte
	width                  uint64
	keys, bloom, signs     []byte
	extraFooter            []byte
}

func (a pkAssemble) bytes() []byte {
	b := append(pkMagic[:], a.version)
	var lens []uint64
	for _, sec := range [][]byte{a.keys, a.bloom, a.signs} {
		b = append(b, sec...)
		b = binary.LittleEndian.AppendUint32(b, checksum(sec))
		lens = append(lens, uint64(len(sec)+crcLen))
	}
	footer := []byte{a.footerVersion}
	footer = binary.AppendUvarint(footer, a.n)
	footer = append(footer, a.layout)
	if a.layout == pkLayoutFixed {
		footer = binary.AppendUvarint(footer, a.width)
	}
	for _, l := range lens {
		footer = binary.AppendUvarint(footer, l)
	}
	footer = append(footer, a.extraFooter...)
	b = append(b, footer...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(footer)))
	b = binary.LittleEndian.AppendUint32(b, checksum(footer))
	return append(b, pkMagic[:]...)
}

// pkBloomBody is a bloom section body over keys.
func pkBloomBody(keys ...[]byte) []byte {
	f := bloom.NewWithEstimates(uint(max(len(keys), 1)), pkBloomFP)
	for _, k := range keys {
		f.Add(k)
	}
	b := []byte{byte(f.K())}
	b = binary.AppendUvarint(b, uint64(f.Cap()))
	for _, w := range f.BitSet().Words() {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

func pkOffsets(offs ...uint32) []byte {
	var b []byte
	for _, o := range offs {
		b = binary.LittleEndian.AppendUint32(b, o)
	}
	return b
}

// TestPKIndexMalformed opens files with valid checksums whose content is
// inconsistent.
func TestPKIndexMalformed(t *testing.T) {
	signs, err := roaring.BitmapOf(0, 1).ToBytes()
	require.NoError(t, err)
	good := pkAssemble{
		version: 1, footerVersion: 1, n: 3, layout: pkLayoutFixed, width: 2,
		keys:  []byte("aabbcc"),
		bloom: pkBloomBody([]byte("aa"), []byte("bb"), []byte("cc")),
		signs: signs,
	}
	x, err := OpenPKIndex(good.bytes())
	require.NoError(t, err)
	row, ok := x.Find([]byte("cc"))
	require.True(t, ok)
	require.Equal(t, 2, row)

	goodVar := good
	goodVar.layout, goodVar.width = pkLayoutVariable, 0
	goodVar.keys = append(pkOffsets(0, 1, 3, 6), "abbccc"...)
	goodVar.bloom = pkBloomBody([]byte("a"), []byte("bb"), []byte("ccc"))
	_, err = OpenPKIndex(goodVar.bytes())
	require.NoError(t, err)

	with := func(base pkAssemble, f func(a *pkAssemble)) pkAssemble {
		f(&base)
		return base
	}
	cases := []struct {
		name string
		file pkAssemble
		want string
	}{
		{"footer-version", with(good, func(a *pkAssemble) { a.footerVersion = 2 }), "footer: format version 2"},
		{"version-mismatch", with(good, func(a *pkAssemble) { a.version = 1; a.footerVersion = 0 }), "format version 0"},
		{"layout", with(good, func(a *pkAssemble) { a.layout = 3 }), "unknown key layout 3"},
		{"footer-trailing", with(good, func(a *pkAssemble) { a.extraFooter = []byte{0} }), "trailing footer bytes"},
		{"too-many-keys", with(good, func(a *pkAssemble) { a.n = 1 << 32 }), "4294967296 keys"},
		{"fixed-count", with(good, func(a *pkAssemble) { a.n = 4 }), "4 keys of 2 bytes in 6 bytes"},
		{"fixed-width", with(good, func(a *pkAssemble) { a.width = 4 }), "3 keys of 4 bytes"},
		{"fixed-width-huge", with(good, func(a *pkAssemble) { a.n, a.keys, a.width = 0, nil, 1<<62 }), "0 keys of 4611686018427387904 bytes"},
		{"width-0-twice", with(good, func(a *pkAssemble) { a.n, a.width, a.keys = 2, 0, nil }), "2 keys of 0 bytes"},
		{"unsorted", with(good, func(a *pkAssemble) { a.keys = []byte("aaccbb") }), "key 2 is not above key 1"},
		{"duplicate", with(good, func(a *pkAssemble) { a.keys = []byte("aabbbb") }), "key 2 is not above key 1"},
		{"var-unsorted", with(goodVar, func(a *pkAssemble) { a.keys = append(pkOffsets(0, 1, 4, 6), "abccbb"...) }), "key 2 is not above key 1"},
		{"var-prefix-after", with(goodVar, func(a *pkAssemble) { a.keys = append(pkOffsets(0, 2, 3, 6), "bbbccc"...) }), "key 1 is not above key 0"},
		{"var-first-offset", with(goodVar, func(a *pkAssemble) { a.keys = append(pkOffsets(1, 1, 3, 6), "abbccc"...) }), "first offset 1"},
		{"var-offset-back", with(goodVar, func(a *pkAssemble) { a.keys = append(pkOffsets(0, 3, 1, 6), "abbccc"...) }), "offset 1 of key 1"},
		{"var-offset-range", with(goodVar, func(a *pkAssemble) { a.keys = append(pkOffsets(0, 1, 3, 7), "abbccc"...) }), "offset 7 of key 2"},
		{"var-offset-short", with(goodVar, func(a *pkAssemble) { a.keys = append(pkOffsets(0, 1, 3, 5), "abbccc"...) }), "offsets end at 5 of 6"},
		{"var-no-offsets", with(goodVar, func(a *pkAssemble) { a.keys = pkOffsets(0, 1) }), "3 variable-width keys in 8 bytes"},
		{"bloom-k0", with(good, func(a *pkAssemble) { a.bloom = append([]byte{0}, a.bloom[1:]...) }), "0 hashes"},
		{"bloom-k33", with(good, func(a *pkAssemble) { a.bloom = append([]byte{33}, a.bloom[1:]...) }), "33 hashes"},
		{"bloom-m0", with(good, func(a *pkAssemble) { a.bloom = []byte{7, 0} }), "7 hashes over 0 bits"},
		{"bloom-m-big", with(good, func(a *pkAssemble) { a.bloom = append([]byte{7, 0x80, 1}, make([]byte, 8)...) }), "7 hashes over 128 bits in 8 bytes"},
		{"bloom-words", with(good, func(a *pkAssemble) { a.bloom = append(slices.Clone(a.bloom), 0) }), "bits in"},
		{"bloom-empty", with(good, func(a *pkAssemble) { a.bloom = nil }), "bloom filter: unexpected end"},
		{"signs-garbage", with(good, func(a *pkAssemble) { a.signs = []byte("garbage!") }), "delete signs"},
		{"signs-trailing", with(good, func(a *pkAssemble) { a.signs = append(slices.Clone(signs), 0) }), "1 trailing bytes"},
		{"signs-past-end", with(good, func(a *pkAssemble) {
			a.signs, _ = roaring.BitmapOf(3).ToBytes()
		}), "delete sign on row 3 of 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file.bytes()
			_, err := OpenPKIndex(file)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnsupportedVersion), "%v", err)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestPKIndexBloomHashing pins the bloom filter's hashing: files store the
// filter's bits, so a bloom library that hashed differently would make
// every lookup of an old file miss. If this fails after an upgrade of
// bits-and-blooms/bloom, the format needs a new version.
func TestPKIndexBloomHashing(t *testing.T) {
	f := bloom.New(1000, 7)
	f.Add([]byte("strata"))
	var set []uint
	for i, ok := f.BitSet().NextSet(0); ok; i, ok = f.BitSet().NextSet(i + 1) {
		set = append(set, i)
	}
	require.Equal(t, []uint{194, 220, 424, 435, 734, 832, 895}, set)
}

// TestPKIndexHexDump pins the bytes of a tiny file of each layout, as
// documented in docs/format.md.
func TestPKIndexHexDump(t *testing.T) {
	dump := func(file []byte) string {
		var out strings.Builder
		for i := 0; i < len(file); i += 16 {
			fmt.Fprintf(&out, "%04x  % x\n", i, file[i:min(i+16, len(file))])
		}
		return out.String()
	}
	fixed := writePK(t, [][]byte{[]byte("ab"), []byte("ac")}, roaring.BitmapOf(1))
	require.Equal(t, strings.TrimLeft(`
0000  53 54 50 4b 01 61 62 61 63 34 5e 47 61 07 14 76
0010  5c 06 00 00 00 00 00 c8 a3 29 77 3a 30 00 00 01
0020  00 00 00 00 00 00 00 10 00 00 00 01 00 ba fb 96
0030  04 01 02 01 02 08 0e 16 07 00 00 00 83 26 b2 75
0040  53 54 50 4b
`, "\n"), dump(fixed))
	variable := writePK(t, [][]byte{[]byte("a"), []byte("a\x00"), []byte("b")}, nil)
	require.Equal(t, strings.TrimLeft(`
0000  53 54 50 4b 01 00 00 00 00 01 00 00 00 03 00 00
0010  00 04 00 00 00 61 61 00 62 0f 4e 1d 9e 07 1d 1e
0020  85 9d 04 00 00 00 00 48 e5 08 33 00 00 00 00 01
0030  03 02 18 0e 04 06 00 00 00 3c c2 fc 34 53 54 50
0040  4b
`, "\n"), dump(variable))
}

// TestPKIndexFalsePositives measures the bloom filter's false-positive
// rate and that Find rejects the keys it lets through.
func TestPKIndexFalsePositives(t *testing.T) {
	const n = 20000
	x, err := OpenPKIndex(writePK(t, pkFixedKeys(n, 10), nil))
	require.NoError(t, err)
	fp := 0
	for i := range uint64(100000) {
		k := pkFixedKey(2*i+1, 10) // odd: absent
		if x.MayContain(k) {
			fp++
		}
		_, ok := x.Find(k)
		require.False(t, ok)
	}
	rate := float64(fp) / 100000
	t.Logf("false-positive rate %.3f%%", 100*rate)
	require.Greater(t, fp, 0, "the miss path after a false positive is exercised")
	require.Less(t, rate, 0.02)
}

func TestPKIndexFindAllocs(t *testing.T) {
	keys := pkFixedKeys(1000, 10)
	x, err := OpenPKIndex(writePK(t, keys, nil))
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	rng2 := rand.New(rand.NewPCG(4, 2))
	vkeys := pkVarKeys(rng2, 500)
	y, err := OpenPKIndex(writePK(t, vkeys, nil))
	require.NoError(t, err)
	miss := pkFixedKey(7, 10)
	allocs := testing.AllocsPerRun(1000, func() {
		x.Find(keys[rng.IntN(len(keys))])
		x.Find(miss)
		y.Find(vkeys[rng.IntN(len(vkeys))])
		y.Find(miss)
	})
	require.Zero(t, allocs)
}

// TestPKIndexConcurrent looks keys up from many goroutines (run with -race).
func TestPKIndexConcurrent(t *testing.T) {
	keys := pkFixedKeys(5000, 12)
	x, err := OpenPKIndex(writePK(t, keys, roaring.BitmapOf(3)))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < len(keys); i += 8 {
				row, ok := x.Find(keys[i])
				if !ok || row != i {
					t.Errorf("key %d: row %d, %v", i, row, ok)
					return
				}
				_ = x.DeleteSigns().Contains(uint32(i))
			}
		})
	}
	wg.Wait()
}

// FuzzOpenPKIndex opens arbitrary bytes as a primary-key index, with and
// without checking the checksums (a crafted file can carry valid ones), and
// uses it: no input may make it panic, and an index that opens must be
// consistent. Run with:
//
//	go test -run '^$' -fuzz FuzzOpenPKIndex -fuzztime 60s ./storage/
func FuzzOpenPKIndex(f *testing.F) {
	for _, file := range pkSmallFiles(f) {
		f.Add(file)
		f.Add(file[:len(file)/2])
	}
	f.Add([]byte("STPK\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = openPKAll(t, b, true)
		_ = openPKAll(t, b, false)
	})
}

// BenchmarkPKIndexFind looks up keys present (hit) and absent (miss, of
// the same width, so that the bloom filter decides) in an index of 1 M
// fixed-width keys in random order, as a publish does. Compare runs with:
//
//	go test -run '^$' -bench 'BenchmarkPKIndex' -count 6 ./storage | tee new.txt
//	benchstat -col /probe old.txt new.txt
func BenchmarkPKIndexFind(b *testing.B) {
	for _, tc := range []struct {
		n, width int
	}{{1 << 20, 10}} {
		keys := pkFixedKeys(tc.n, tc.width)
		// Spread the keys over the key space as real keys are, keeping
		// their order and the odd numbers absent.
		rng := rand.New(rand.NewPCG(42, 42))
		next := uint64(0)
		for i, k := range keys {
			next += 2 * (1 + rng.Uint64N(1<<20))
			binary.BigEndian.PutUint64(k[tc.width-8:], next)
			keys[i] = k
		}
		// An exact-size copy, as os.ReadFile returns, for MemSize.
		file := slices.Clone(writePK(b, keys, nil))
		x, err := OpenPKIndex(file)
		require.NoError(b, err)
		const nprobes = 1 << 16
		hits := make([][]byte, nprobes)
		misses := make([][]byte, nprobes)
		for i := range hits {
			k := keys[rng.IntN(len(keys))]
			hits[i] = k
			miss := slices.Clone(k)
			miss[tc.width-1] |= 1
			misses[i] = miss
		}
		for _, p := range []struct {
			name   string
			probes [][]byte
			want   bool
		}{{"hit", hits, true}, {"miss", misses, false}} {
			b.Run(fmt.Sprintf("keys=%d/width=%d/probe=%s", tc.n, tc.width, p.name), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, ok := x.Find(p.probes[i%nprobes]); ok != p.want {
						b.Fatalf("probe %d: found %v", i%nprobes, ok)
					}
					i++
				}
				b.ReportMetric(float64(len(file))/float64(tc.n), "file-B/key")
				b.ReportMetric(float64(x.MemSize())/float64(tc.n), "mem-B/key")
			})
		}
	}
}

// BenchmarkOpenPKIndex measures opening (verifying) an index of 1 M keys.
func BenchmarkOpenPKIndex(b *testing.B) {
	rng := rand.New(rand.NewPCG(42, 42))
	for _, tc := range []struct {
		name string
		keys [][]byte
	}{
		{"layout=fixed/keys=1M/width=10", pkFixedKeys(1<<20, 10)},
		{"layout=variable/keys=1M", pkVarKeys(rng, 1<<20)},
	} {
		file := writePK(b, tc.keys, nil)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(file)))
			for b.Loop() {
				x, err := OpenPKIndex(file)
				if err != nil {
					b.Fatal(err)
				}
				benchSink += x.NumKeys()
			}
		})
	}
}
