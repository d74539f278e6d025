package rpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// checkedAlloc returns an allocator that fails the test if anything it
// allocated is still held when the test's cleanups have run. Call it before
// starting servers and clients, so their cleanups run first.
func checkedAlloc(t *testing.T) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// logBuffer is a slog destination tests can read while servers write.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer is a Server listening on a loopback port.
type testServer struct {
	*Server
	addr string
	logs *logBuffer
}

// startServer starts a server on 127.0.0.1; register calls with s.Handle…
// (registration is allowed while serving). It stops when the test ends.
func startServer(t testing.TB, opts ...Option) *testServer {
	t.Helper()
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := NewServer(log, opts...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &testServer{Server: s, addr: ln.Addr().String(), logs: logs}
}

func newClient(t testing.TB, opts ...Option) *Client {
	t.Helper()
	c := NewClient(opts...)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("closing the client: %v", err)
		}
	})
	return c
}

// requireCode checks that err wraps an *Error with the code and returns it.
func requireCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	require.Error(t, err)
	var e *Error
	require.True(t, errors.As(err, &e), "error %v (%T) wraps no *rpc.Error", err, err)
	require.Equal(t, code, e.Code, "error: %v", err)
	return e
}

// allTypesSchema has a nullable column of every type Strata sends.
var allTypesSchema = arrow.NewSchema([]arrow.Field{
	{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "dec", Type: &arrow.Decimal128Type{Precision: 27, Scale: 9}, Nullable: true},
	{Name: "largeint", Type: &arrow.Decimal128Type{Precision: 38, Scale: 0}, Nullable: true},
	{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	{Name: "dict", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, Nullable: true},
}, nil)

// allTypesBatch builds n rows of allTypesSchema from row number base on;
// every 7th row is null in every column.
func allTypesBatch(mem memory.Allocator, base, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, allTypesSchema)
	defer b.Release()
	for i := base; i < base+n; i++ {
		if i%7 == 3 {
			for _, f := range b.Fields() {
				f.AppendNull()
			}
			continue
		}
		b.Field(0).(*array.Int8Builder).Append(int8(i))
		b.Field(1).(*array.Int16Builder).Append(int16(-i))
		b.Field(2).(*array.Int32Builder).Append(int32(i * 1000))
		b.Field(3).(*array.Int64Builder).Append(int64(i) << 40)
		b.Field(4).(*array.Float32Builder).Append(float32(i) / 3)
		b.Field(5).(*array.Float64Builder).Append(-float64(i) / 7)
		b.Field(6).(*array.BooleanBuilder).Append(i%2 == 0)
		b.Field(7).(*array.StringBuilder).Append(fmt.Sprintf("row %d — ünïcode\n", i))
		b.Field(8).(*array.BinaryBuilder).Append([]byte{byte(i), 0, 0xff})
		b.Field(9).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i)*1_000_000_007 - 5))
		b.Field(10).(*array.Decimal128Builder).Append(decimal128.New(int64(i), 1<<63|uint64(i)))
		b.Field(11).(*array.Date32Builder).Append(arrow.Date32(19000 + i))
		b.Field(12).(*array.TimestampBuilder).Append(arrow.Timestamp(int64(i) * 86_400_123_456))
		if err := b.Field(13).(*array.BinaryDictionaryBuilder).AppendString(fmt.Sprintf("k%d", i%5)); err != nil {
			panic(err)
		}
	}
	return b.NewRecordBatch()
}

// int64StringBatch builds n rows of (id int64, name string) from base on.
func int64StringBatch(mem memory.Allocator, base, n int) arrow.RecordBatch {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	b := array.NewRecordBuilder(mem, int64StringSchema)
	defer b.Release()
	ids := b.Field(0).(*array.Int64Builder)
	names := b.Field(1).(*array.StringBuilder)
	ids.Reserve(n)
	names.Reserve(n)
	for i := base; i < base+n; i++ {
		ids.Append(int64(i))
		names.Append(fmt.Sprintf("customer#%09d", i))
	}
	return b.NewRecordBatch()
}

var int64StringSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String},
}, nil)

// readAll reads r to io.EOF, retaining every batch; the caller releases
// them.
func readAll(t *testing.T, r RecordReader) []arrow.RecordBatch {
	t.Helper()
	var recs []arrow.RecordBatch
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return recs
		}
		require.NoError(t, err)
		rec.Retain()
		recs = append(recs, rec)
	}
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}
