package storage

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// The fuzz targets check one property: no input makes a decoder panic (an
// error is fine). Run one with, for example:
//
//	go test -run '^$' -fuzz FuzzOpenRead -fuzztime 60s ./storage

// FuzzOpenRead opens arbitrary bytes as a segment and reads everything.
func FuzzOpenRead(f *testing.F) {
	file := smallSegment(f)
	f.Add(file)
	f.Add(file[:len(file)/2])
	f.Add([]byte("STSG\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = readAll(b)
	})
}

// fuzzTypes indexes the physical types for the page fuzzers.
var fuzzTypes = []arrow.DataType{
	arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16,
	arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float32,
	arrow.PrimitiveTypes.Float64, dec38Type, arrow.FixedWidthTypes.Date32, tsType, arrow.BinaryTypes.String,
}

// FuzzPageDecode feeds arbitrary bodies to the page decoder of every type
// and encoding, bypassing the CRC (as a crafted file could).
func FuzzPageDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 3))
	for ti, tt := range testTypes {
		for _, pat := range tt.pats {
			arr := genArray(f, memory.DefaultAllocator, rng, tt.dt, pat, 0, 20)
			pt, _ := physTypeOf(tt.dt)
			w := &Writer{}
			cb := &colBuf{meta: ColumnMeta{Type: tt.dt}, pt: pt}
			cb.appendRange(arr, 0, 20)
			raw, enc, _ := w.encodeValues(nil, cb, 20)
			for fi, ft := range fuzzTypes {
				if arrow.TypeEqual(ft, tt.dt) {
					f.Add(uint8(fi), uint8(enc), uint8(0), uint16(20), uint16(0), raw)
				}
			}
			_ = ti
			arr.Release()
		}
	}
	f.Fuzz(func(t *testing.T, typ, enc, flags uint8, n, nulls uint16, body []byte) {
		dt := fuzzTypes[int(typ)%len(fuzzTypes)]
		pt, _ := physTypeOf(dt)
		h := pageHeader{enc: Encoding(enc), flags: flags & pageFlagValidity, numRows: int(n), nullCount: int(nulls)}
		a, err := decodePage(pt, dt, h, body, memory.DefaultAllocator, false)
		d, derr := decodePage(pt, dt, h, body, memory.DefaultAllocator, true)
		if err == nil {
			// The dictionary form must hold the same values wherever the
			// expanded form decodes.
			require.NoError(t, derr)
			requireSameValues(t, a, d)
		}
		if err == nil {
			a.Release()
		}
		if derr == nil {
			d.Release()
		}
	})
}

// FuzzIntDecode decodes arbitrary integer streams into every width.
func FuzzIntDecode(f *testing.F) {
	vals := []int64{5, 5, 5, 9, 1000, -3, 7, 7}
	st := intStatsOf(vals)
	for _, enc := range []Encoding{EncodingPlain, EncodingConstant, EncodingBitPack, EncodingFOR, EncodingRLE} {
		if enc == EncodingBitPack {
			continue // needs non-negative values
		}
		raw, _ := appendIntValues(nil, enc, vals, st, 8, nil)
		f.Add(uint8(enc), uint16(len(vals)), raw)
	}
	f.Add(uint8(EncodingRLE), uint16(3), []byte{1, 3, 2})
	f.Fuzz(func(t *testing.T, enc uint8, n uint16, b []byte) {
		decodeInts(make([]int8, n), Encoding(enc), &decbuf{b: b}, 1)
		decodeInts(make([]int16, n), Encoding(enc), &decbuf{b: b}, 2)
		decodeInts(make([]int32, n), Encoding(enc), &decbuf{b: b}, 4)
		decodeInts(make([]int64, n), Encoding(enc), &decbuf{b: b}, 8)
	})
}

// FuzzDecompress feeds arbitrary bytes to the page codecs.
func FuzzDecompress(f *testing.F) {
	raw := bytes.Repeat([]byte("segment page "), 20)
	_, s2b := compressPage(nil, nil, raw, CompressionS2)
	_, zb := compressPage(nil, nil, raw, CompressionZstd)
	f.Add(uint8(CompressionS2), uint32(len(raw)), s2b)
	f.Add(uint8(CompressionZstd), uint32(len(raw)), zb)
	f.Fuzz(func(t *testing.T, codec uint8, rawLen uint32, b []byte) {
		if rawLen > 1<<20 {
			rawLen = 1 << 20
		}
		var dst []byte
		_, _ = decompressPage(&dst, b, Compression(codec), int(rawLen))
	})
}
