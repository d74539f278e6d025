package mysqlproto

// Run with:
//
//	go test -run XXX -bench . -count 6 ./mysqlproto/ | tee new.txt && benchstat old.txt new.txt

import (
	"net"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/types"
)

// BenchmarkWriteBatch encodes a 4096-row batch of (BIGINT, DOUBLE, DATETIME(3),
// VARCHAR) and assembles its row packets.
func BenchmarkWriteBatch(b *testing.B) {
	const n = 4096
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	fb := array.NewFloat64Builder(memory.DefaultAllocator)
	tb := array.NewTimestampBuilder(memory.DefaultAllocator, &arrow.TimestampType{Unit: arrow.Microsecond})
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	for i := range n {
		ib.Append(int64(i) * 7919)
		fb.Append(float64(i) / 3)
		tb.Append(arrow.Timestamp(int64(i) * 86_400_123_456))
		sb.Append("customer#000012345")
	}
	cols := []arrow.Array{ib.NewArray(), fb.NewArray(), tb.NewArray(), sb.NewArray()}
	fields := []Field{{Type: types.BigInt}, {Type: types.Double}, {Type: types.DateTime(3)}, {Type: types.Varchar(32)}}
	for _, proto := range []struct {
		name string
		bin  bool
	}{{"text", false}, {"binary", true}} {
		b.Run("proto="+proto.name, func(b *testing.B) {
			sink := &countConn{}
			c := &conn{nc: sink}
			for i := range fields {
				c.infos = append(c.infos, colInfoOf(&fields[i]))
			}
			b.ReportAllocs()
			bytesPerBatch := 0
			for b.Loop() {
				sink.n = 0
				if err := c.writeBatch(cols, nil, proto.bin); err != nil {
					b.Fatal(err)
				}
				if err := c.flush(); err != nil {
					b.Fatal(err)
				}
				bytesPerBatch = sink.n
			}
			b.SetBytes(int64(bytesPerBatch))
			b.ReportMetric(float64(bytesPerBatch)/n, "B/row")
		})
	}
}

// countConn is a net.Conn whose writes only count bytes.
type countConn struct {
	net.Conn
	n int
}

func (c *countConn) Write(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}
