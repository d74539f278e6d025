package storage

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Page compression. Encoders and the zstd decoder are process-wide: their
// EncodeAll/DecodeAll methods are safe for concurrent use and keep internal
// pools of state, so no per-page setup cost is paid.

const (
	// minCompressLen: pages smaller than this are never compressed; the
	// codec framing would eat most of the gain.
	minCompressLen = 64
	// maxPageRawLen bounds the decompressed size of one page a reader will
	// allocate for, so a crafted header cannot ask for unbounded memory.
	maxPageRawLen = 1 << 30
	// maxPageDecodedLen bounds the size of a decoded string page (constant
	// and dictionary pages expand).
	maxPageDecodedLen = 1 << 30
)

var (
	// One encoder state per core: EncodeAll takes a free state and waits
	// when none is, so fewer states would serialize concurrent writers
	// (loads and compactions) on compression.
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)))
		if err != nil {
			panic(fmt.Sprintf("BUG: zstd encoder: %v", err))
		}
		return e
	})
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxPageRawLen))
		if err != nil {
			panic(fmt.Sprintf("BUG: zstd decoder: %v", err))
		}
		return d
	})
)

// compressPage returns the codec and stored bytes for raw under option c.
// dst and zdst are scratch space for the s2 and zstd outputs; the result
// may alias either. A codec is used only when it shrinks the page below 90 %.
func compressPage(dst, zdst, raw []byte, c Compression) (Compression, []byte) {
	if c == CompressionNone || len(raw) < minCompressLen {
		return CompressionNone, raw
	}
	pays := func(n int) bool { return n*10 < len(raw)*9 }
	switch c {
	case CompressionS2:
		out := s2.Encode(dst[:cap(dst)], raw)
		if pays(len(out)) {
			return CompressionS2, out
		}
	case CompressionZstd:
		out := zstdEncoder().EncodeAll(raw, zdst[:0])
		if pays(len(out)) {
			return CompressionZstd, out
		}
	case CompressionAuto:
		out := s2.Encode(dst[:cap(dst)], raw)
		if !pays(len(out)) {
			return CompressionNone, raw
		}
		z := zstdEncoder().EncodeAll(raw, zdst[:0])
		if len(z)*4 < len(out)*3 {
			return CompressionZstd, z
		}
		return CompressionS2, out
	default:
		panic(fmt.Sprintf("BUG: compression option %v", c))
	}
	return CompressionNone, raw
}

// decompressPage decodes stored into a buffer of exactly rawLen bytes,
// taken from *dst when it is large enough (*dst is replaced when a larger
// buffer had to be allocated). Sizes are checked before allocating.
func decompressPage(dst *[]byte, stored []byte, codec Compression, rawLen int) ([]byte, error) {
	switch codec {
	case CompressionNone:
		if len(stored) != rawLen {
			return nil, fmt.Errorf("uncompressed page of %d bytes, header says %d: %w", len(stored), rawLen, ErrCorrupt)
		}
		return stored, nil
	case CompressionS2:
		n, err := s2.DecodedLen(stored)
		if err != nil || n != rawLen {
			return nil, fmt.Errorf("s2 page decodes to %d bytes, header says %d (%v): %w", n, rawLen, err, ErrCorrupt)
		}
		if cap(*dst) < rawLen {
			*dst = make([]byte, rawLen)
		}
		out, err := s2.Decode((*dst)[:rawLen], stored)
		if err != nil {
			return nil, fmt.Errorf("decompressing s2 page: %v: %w", err, ErrCorrupt)
		}
		return out, nil
	case CompressionZstd:
		// A frame that declares its content size must declare rawLen;
		// checked before letting the decoder allocate.
		var fh zstd.Header
		if err := fh.Decode(stored); err != nil || (fh.HasFCS && fh.FrameContentSize != uint64(rawLen)) {
			return nil, fmt.Errorf("zstd page frame header does not declare %d bytes (%v): %w", rawLen, err, ErrCorrupt)
		}
		out, err := zstdDecoder().DecodeAll(stored, (*dst)[:0])
		if cap(out) > cap(*dst) {
			*dst = out[:0]
		}
		if err != nil {
			return nil, fmt.Errorf("decompressing zstd page: %v: %w", err, ErrCorrupt)
		}
		if len(out) != rawLen {
			return nil, fmt.Errorf("zstd page decodes to %d bytes, header says %d: %w", len(out), rawLen, ErrCorrupt)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown page codec %d: %w", uint8(codec), ErrCorrupt)
}

// bufPool holds byte buffers for page reads and decompression.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

func getBuf(n int) *[]byte {
	p := bufPool.Get().(*[]byte)
	if cap(*p) < n {
		*p = make([]byte, n)
	}
	*p = (*p)[:n]
	return p
}

func putBuf(p *[]byte) { bufPool.Put(p) }
