package rpc

// Run with:
//
//	go test -run XXX -bench BenchmarkStream -count 6 ./rpc/ | tee new.txt && benchstat -col /transport new.txt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkStream moves 1M rows of (BIGINT, VARCHAR) in 64K-row batches:
// through a Stream call over loopback (transport=flight), and through an
// IPC stream written to and read back from memory (transport=ipc-memory),
// which is the floor any transport of Arrow IPC pays. The difference is
// the cost of gRPC and the socket. Bytes are those of the Arrow buffers.
func BenchmarkStream(b *testing.B) {
	const rows, batchRows = 1 << 20, 64 << 10
	var (
		recs      []arrow.RecordBatch
		dataBytes int64
	)
	for base := 0; base < rows; base += batchRows {
		rec := int64StringBatch(memory.DefaultAllocator, base, min(batchRows, rows-base))
		recs = append(recs, rec)
		for _, col := range rec.Columns() {
			for _, buf := range col.Data().Buffers() {
				if buf != nil {
					dataBytes += int64(buf.Len())
				}
			}
		}
	}
	defer releaseAll(recs)

	b.Run("transport=flight", func(b *testing.B) {
		s := startServer(b)
		s.HandleStream("rows", func(_ context.Context, _ json.RawMessage, w RecordWriter) error {
			for _, rec := range recs {
				if err := w.Write(rec); err != nil {
					return err
				}
			}
			return nil
		})
		c := newClient(b)
		b.SetBytes(dataBytes)
		b.ReportAllocs()
		for b.Loop() {
			r, err := c.Stream(context.Background(), s.addr, "rows", nil)
			if err != nil {
				b.Fatal(err)
			}
			n := int64(0)
			for {
				rec, err := r.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n += rec.NumRows()
			}
			r.Close()
			if n != rows {
				b.Fatalf("read %d rows, want %d", n, rows)
			}
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})

	b.Run("transport=ipc-memory", func(b *testing.B) {
		var buf bytes.Buffer
		b.SetBytes(dataBytes)
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			w := ipc.NewWriter(&buf, ipc.WithSchema(int64StringSchema))
			for _, rec := range recs {
				if err := w.Write(rec); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			r, err := ipc.NewReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				b.Fatal(err)
			}
			n := int64(0)
			for r.Next() {
				n += r.RecordBatch().NumRows()
			}
			if err := r.Err(); err != nil {
				b.Fatal(err)
			}
			r.Release()
			if n != rows {
				b.Fatalf("read %d rows, want %d", n, rows)
			}
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
