package storage

// Page decode throughput per type, encoding and codec. Compare runs with:
//
//	go test -run '^$' -bench BenchmarkReadPage -count 6 ./storage | tee new.txt
//	benchstat -col /enc old.txt new.txt

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var benchSink int

func BenchmarkReadPage(b *testing.B) {
	const rows = 8192
	cases := []struct {
		dt   arrow.DataType
		pat  string
		comp Compression
	}{
		{arrow.PrimitiveTypes.Int64, patConst, CompressionNone},
		{arrow.PrimitiveTypes.Int64, patSmall, CompressionNone},
		{arrow.PrimitiveTypes.Int64, patOffset, CompressionNone},
		{arrow.PrimitiveTypes.Int64, patRuns, CompressionNone},
		{arrow.PrimitiveTypes.Int64, patRandom, CompressionNone},
		{arrow.PrimitiveTypes.Int64, patSeq, CompressionNone},
		{arrow.PrimitiveTypes.Int64, patSeq, CompressionS2},
		{arrow.PrimitiveTypes.Int64, patSeq, CompressionZstd},
		{arrow.PrimitiveTypes.Int32, patSmall, CompressionNone},
		{arrow.PrimitiveTypes.Int32, patOffset, CompressionNone},
		{arrow.PrimitiveTypes.Int32, patRandom, CompressionNone},
		{arrow.PrimitiveTypes.Float64, patRandom, CompressionNone},
		{dec38Type, patRandom, CompressionNone},
		{arrow.BinaryTypes.String, patRandom, CompressionNone},
		{arrow.BinaryTypes.String, patDict, CompressionNone},
		{arrow.BinaryTypes.String, patLong, CompressionNone},
		{arrow.BinaryTypes.String, patLong, CompressionS2},
		{arrow.BinaryTypes.String, patLong, CompressionZstd},
	}
	for _, nulls := range []float64{0, 0.1} {
		for _, tc := range cases {
			rng := rand.New(rand.NewPCG(42, 42))
			arr := genArray(b, memory.DefaultAllocator, rng, tc.dt, tc.pat, nulls, rows)
			metas := []ColumnMeta{{ID: 1, Type: tc.dt, Nullable: nulls > 0}}
			file := writeSegment(b, metas, WriterOptions{PageRows: rows, Compression: tc.comp}, []arrow.Array{arr}, rows)
			seg, err := Open(bytes.NewReader(file), int64(len(file)))
			if err != nil {
				b.Fatal(err)
			}
			col := seg.Column(1)
			enc, codec, err := col.PageEncoding(0)
			if err != nil {
				b.Fatal(err)
			}
			// Decoded bytes: values (+ offsets for strings).
			size := arr.Data().Buffers()[1].Len()
			if tc.dt.ID() == arrow.STRING {
				size = len(arr.Data().Buffers()[2].Bytes()) + 4*rows
			}
			arr.Release()
			name := fmt.Sprintf("type=%s/pat=%s/enc=%s/codec=%s/nulls=%v", tc.dt, tc.pat, enc, codec, nulls)
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for b.Loop() {
					a, err := col.ReadPage(0, memory.DefaultAllocator)
					if err != nil {
						b.Fatal(err)
					}
					benchSink += a.Len()
					a.Release()
				}
				b.ReportMetric(float64(len(file))/rows, "B/row")
			})
			if tc.dt.ID() == arrow.STRING {
				// The dictionary form skips expanding codes into strings.
				b.Run(name+"/form=dict", func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(size))
					for b.Loop() {
						a, err := col.ReadPageDict(0, memory.DefaultAllocator)
						if err != nil {
							b.Fatal(err)
						}
						benchSink += a.Len()
						a.Release()
					}
				})
			}
		}
	}
}

// BenchmarkPageCacheHit reads a decoded page back from the page cache: the
// cost a hot scan pays per page instead of reading and decoding it.
func BenchmarkPageCacheHit(b *testing.B) {
	const rows = 8192
	rng := rand.New(rand.NewPCG(42, 42))
	arr := genArray(b, memory.DefaultAllocator, rng, arrow.PrimitiveTypes.Int32, patRandom, 0, rows)
	file := writeSegment(b, []ColumnMeta{{ID: 1, Type: arr.DataType()}}, WriterOptions{PageRows: rows}, []arrow.Array{arr}, rows)
	arr.Release()
	seg, err := Open(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		b.Fatal(err)
	}
	seg.SetCache(NewPageCache(64 << 20))
	col := seg.Column(1)
	b.ReportAllocs()
	b.SetBytes(4 * rows)
	for b.Loop() {
		a, err := col.ReadPage(0, memory.DefaultAllocator)
		if err != nil {
			b.Fatal(err)
		}
		benchSink += a.Len()
		a.Release()
	}
}

func BenchmarkWrite(b *testing.B) {
	const rows = 64 * 1024
	rng := rand.New(rand.NewPCG(1, 1))
	var metas []ColumnMeta
	var cols []arrow.Array
	for i, tt := range testTypes {
		metas = append(metas, ColumnMeta{ID: uint32(i), Type: tt.dt, Nullable: true})
		cols = append(cols, genArray(b, memory.DefaultAllocator, rng, tt.dt, tt.pats[len(tt.pats)-1], 0.05, rows))
	}
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, metas, WriterOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Append(cols); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Finish(); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(buf.Len()))
	}
}

// BenchmarkDecodeInts measures the integer codecs alone, decoding into a
// reused slice (ReadPage adds the arrow buffer allocation, the CRC and the
// page framing).
func BenchmarkDecodeInts(b *testing.B) {
	const rows = 8192
	for _, pat := range []string{patConst, patSmall, patOffset, patRuns, patRandom, patSeq} {
		rng := rand.New(rand.NewPCG(42, 42))
		vals := make([]int64, rows)
		for i := range vals {
			vals[i] = genInt(rng, pat, i, -1<<63, 1<<63-1)
		}
		st := intStatsOf(vals)
		enc := chooseIntEncoding(rows, st, 8)
		raw, _ := appendIntValues(nil, enc, vals, st, 8, nil)
		dst := make([]int64, rows)
		b.Run(fmt.Sprintf("pat=%s/enc=%s", pat, enc), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(rows * 8)
			for b.Loop() {
				d := decbuf{b: raw}
				decodeInts(dst, enc, &d, 8)
				if d.err != nil {
					b.Fatal(d.err)
				}
			}
			b.ReportMetric(float64(len(raw))/rows, "B/row")
		})
	}
}
