package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/types"
)

// intBatch is a batch of one BIGINT column.
func intBatch(t *testing.T, vals ...int64) []arrow.Array {
	t.Helper()
	rows := make([][]any, len(vals))
	for i, v := range vals {
		rows[i] = []any{v}
	}
	b := batchOf(t, []types.Type{types.BigInt}, rows)
	return b.Cols
}

func ints(t *testing.T, cols []arrow.Array) []int64 {
	t.Helper()
	var out []int64
	for i := range cols[0].Len() {
		out = append(out, valueAt(cols[0], types.BigInt, i).(int64))
	}
	return out
}

// readAll reads a receiver to its end.
func readAll(t *testing.T, r *ExchangeReceiver) ([]int64, error) {
	t.Helper()
	var out []int64
	for {
		cols, err := r.Next(context.Background(), time.Second)
		if err != nil || cols == nil {
			return out, err
		}
		out = append(out, ints(t, cols)...)
		releaseAll(cols)
	}
}

func TestExchangeHub(t *testing.T) {
	key := ExchangeKey{Query: "q1", Exchange: 2, Partition: 1}
	senders := []string{"backend 1", "backend 2"}
	ctx := context.Background()

	t.Run("rows before and after the receiver arrives", func(t *testing.T) {
		h := NewExchangeHub(ExchangeHubOptions{})
		require.NoError(t, h.Push(ctx, key, 0, intBatch(t, 1, 2)))
		h.Finish(key, 0, nil) // sender 0 ends before the consumer came
		require.Equal(t, 1, h.Entries())
		r, err := h.Receive(key, senders)
		require.NoError(t, err)
		_, err = h.Receive(key, senders)
		require.ErrorContains(t, err, "already being read")
		go func() {
			_ = h.Push(ctx, key, 1, intBatch(t, 3))
			h.Finish(key, 1, nil)
		}()
		got, err := readAll(t, r)
		require.NoError(t, err)
		require.Equal(t, []int64{1, 2, 3}, got)
		r.Close()
		require.Zero(t, h.Entries())
		// The partition ended: late rows are refused.
		err = h.Push(ctx, key, 1, intBatch(t, 4))
		require.ErrorIs(t, err, ErrExchangeClosed)
		h.Finish(key, 1, nil)
		require.Zero(t, h.Entries())
	})
	t.Run("a sender fails", func(t *testing.T) {
		h := NewExchangeHub(ExchangeHubOptions{})
		r, err := h.Receive(key, senders)
		require.NoError(t, err)
		require.NoError(t, h.Push(ctx, key, 0, intBatch(t, 1)))
		h.Finish(key, 1, errors.New("disk on fire"))
		_, err = readAll(t, r)
		require.ErrorIs(t, err, ErrExchangeSender)
		require.ErrorContains(t, err, "sender 1 on backend 2: disk on fire")
		r.Close()
		require.Zero(t, h.Entries())
	})
	t.Run("unknown sender", func(t *testing.T) {
		h := NewExchangeHub(ExchangeHubOptions{})
		r, err := h.Receive(key, senders)
		require.NoError(t, err)
		h.Finish(key, 7, nil)
		_, err = readAll(t, r)
		require.ErrorContains(t, err, "unknown sender 7")
		r.Close()
	})
	t.Run("timeout names the senders not done", func(t *testing.T) {
		h := NewExchangeHub(ExchangeHubOptions{})
		r, err := h.Receive(key, senders)
		require.NoError(t, err)
		h.Finish(key, 0, nil)
		_, err = r.Next(ctx, 20*time.Millisecond)
		require.ErrorIs(t, err, ErrExchangeTimeout)
		require.ErrorContains(t, err, "nothing from sender 1 on backend 2")
		require.NotContains(t, err.Error(), "sender 0")
		r.Close()
	})
	t.Run("canceled", func(t *testing.T) {
		h := NewExchangeHub(ExchangeHubOptions{})
		r, err := h.Receive(key, senders)
		require.NoError(t, err)
		cctx, cancel := context.WithCancel(ctx)
		go func() {
			time.Sleep(10 * time.Millisecond)
			cancel()
		}()
		_, err = r.Next(cctx, time.Minute)
		require.ErrorIs(t, err, ErrCanceled)
		r.Close()
	})
	t.Run("release drops the query", func(t *testing.T) {
		h := NewExchangeHub(ExchangeHubOptions{})
		other := ExchangeKey{Query: "q2", Exchange: 1}
		require.NoError(t, h.Push(ctx, other, 0, intBatch(t, 9)))
		r, err := h.Receive(key, senders)
		require.NoError(t, err)
		require.NoError(t, h.Push(ctx, key, 0, intBatch(t, 1)))
		k2 := key
		k2.Partition = 0
		require.NoError(t, h.Push(ctx, k2, 0, intBatch(t, 1)))
		done := make(chan error)
		go func() {
			cols, err := r.Next(ctx, time.Minute)
			if err == nil {
				releaseAll(cols)
				_, err = r.Next(ctx, time.Minute)
			}
			done <- err
		}()
		time.Sleep(10 * time.Millisecond)
		h.ReleaseQuery("q1")
		require.ErrorIs(t, <-done, ErrExchangeClosed)
		r.Close()
		require.Equal(t, 1, h.Entries(), "q2 stays")
		require.ErrorIs(t, h.Push(ctx, k2, 1, intBatch(t, 2)), ErrExchangeClosed)
		h.Finish(k2, 1, errors.New("late"))
		_, err = h.Receive(k2, senders)
		require.ErrorIs(t, err, ErrExchangeClosed)
		require.Equal(t, 1, h.Entries())
		h.ReleaseQuery("q2")
		require.Zero(t, h.Entries())
	})
	t.Run("unclaimed rows expire", func(t *testing.T) {
		h := NewExchangeHub(ExchangeHubOptions{TTL: 30 * time.Millisecond})
		require.NoError(t, h.Push(ctx, key, 0, intBatch(t, 1)))
		require.Eventually(t, func() bool { return h.Entries() == 0 }, time.Second, 5*time.Millisecond)
		_, err := h.Receive(key, senders)
		require.ErrorIs(t, err, ErrExchangeClosed)
		// The memory of it goes too.
		require.Eventually(t, func() bool {
			h.mu.Lock()
			defer h.mu.Unlock()
			return len(h.ended) == 0 && h.sweep == nil
		}, time.Second, 5*time.Millisecond)
	})
	t.Run("a full partition holds its pushers back", func(t *testing.T) {
		h := NewExchangeHub(ExchangeHubOptions{MaxBufferBytes: 1})
		require.NoError(t, h.Push(ctx, key, 0, intBatch(t, 1))) // an empty buffer takes any batch
		pushed := make(chan error, 1)
		go func() { pushed <- h.Push(ctx, key, 0, intBatch(t, 2)) }()
		select {
		case err := <-pushed:
			t.Fatalf("push into a full partition returned %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		r, err := h.Receive(key, senders[:1])
		require.NoError(t, err)
		cols, err := r.Next(ctx, time.Second)
		require.NoError(t, err)
		require.Equal(t, []int64{1}, ints(t, cols))
		releaseAll(cols)
		require.NoError(t, <-pushed)
		// A pusher waiting for room gives up with its ctx.
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, h.Push(cctx, key, 0, intBatch(t, 3)), context.DeadlineExceeded)
		r.Close()
	})
}

// TestExchangeSink routes rows through hubs to sources: by a hash of the
// keys (equal keys meet, NULL keys spread) and by a route with a fanout.
func TestExchangeSink(t *testing.T) {
	ctx := context.Background()
	schema := []types.Type{types.BigInt, types.Varchar(8)}
	var rows [][]any
	for i := range 3000 {
		var k any = int64(i % 97)
		if i%10 == 0 {
			k = nil
		}
		rows = append(rows, []any{k, fmt.Sprint("v", i)})
	}
	run := func(t *testing.T, q string, spec ExchangeSinkSpec, senders int) [][][]any {
		t.Helper()
		h := NewExchangeHub(ExchangeHubOptions{})
		names := make([]string, senders)
		for i := range names {
			names[i] = fmt.Sprint("backend ", i)
		}
		var wg sync.WaitGroup
		for s := range senders {
			part := rows[s*len(rows)/senders : (s+1)*len(rows)/senders]
			src, err := NewValues(schema, part)
			require.NoError(t, err)
			spec := spec
			spec.Open = func(_ context.Context, p int) (ExchangeWriter, error) {
				return &HubWriter{Hub: h, Key: ExchangeKey{Query: q, Exchange: 1, Partition: p}, Sender: s}, nil
			}
			sink, err := NewExchangeSink(src, spec)
			require.NoError(t, err)
			wg.Go(func() {
				require.NoError(t, Drain(ctx, sink, func(*Batch) error { return errors.New("a sink output rows") }))
			})
		}
		out := make([][][]any, spec.Partitions)
		for p := range out {
			out[p] = collect(t, NewExchangeSource(h, ExchangeKey{Query: q, Exchange: 1, Partition: p}, names, schema, time.Second))
		}
		wg.Wait()
		require.Zero(t, h.Entries())
		return out
	}
	keyOf := func(r []any) string { return fmt.Sprint(r[0]) }

	t.Run("hash", func(t *testing.T) {
		out := run(t, "h", ExchangeSinkSpec{Keys: []Expr{col(0, types.BigInt)}, Partitions: 3}, 2)
		var all [][]any
		where := map[string]int{}
		nulls := map[int]int{}
		for p, rs := range out {
			require.NotEmpty(t, rs, "partition %d", p)
			for _, r := range rs {
				all = append(all, r)
				if r[0] == nil {
					nulls[p]++
					continue
				}
				k := keyOf(r)
				if q, ok := where[k]; ok {
					require.Equal(t, q, p, "key %s in partitions %d and %d", k, q, p)
				}
				where[k] = p
			}
		}
		require.Len(t, nulls, 3, "NULL keys spread over every partition")
		require.ElementsMatch(t, rows, all)
		// The route is the same in every process and for every integer
		// width (the planner converts both sides to one type).
		r32 := HashRoute([]types.Type{types.Int}, 3)
		r64 := HashRoute([]types.Type{types.BigInt}, 3)
		b32 := batchOf(t, []types.Type{types.Int}, [][]any{{int64(5)}, {int64(-8)}})
		b64 := batchOf(t, []types.Type{types.BigInt}, [][]any{{int64(5)}, {int64(-8)}})
		o32, o64 := make([]int32, 2), make([]int32, 2)
		r32(b32.Cols, 2, o32)
		r64(b64.Cols, 2, o64)
		require.Equal(t, o64, o32)
		require.Equal(t, int32(where["5"]), o64[0])
	})
	t.Run("route and fanout", func(t *testing.T) {
		// Buckets by key mod 4; bucket 3 is read by two partitions.
		route := func(keys []arrow.Array, n int, bucket []int32) {
			for i := range n {
				v := int64(0)
				if !keys[0].IsNull(i) {
					v = valueAt(keys[0], types.BigInt, i).(int64)
				}
				bucket[i] = int32(v % 4)
			}
		}
		spec := ExchangeSinkSpec{Keys: []Expr{col(0, types.BigInt)}, Partitions: 3, Route: route,
			Fanout: [][]int{{0}, {1}, {2}, {1, 2}}}
		out := run(t, "f", spec, 3)
		for p, rs := range out {
			for _, r := range rs {
				v := int64(0)
				if r[0] != nil {
					v = r[0].(int64)
				}
				require.Contains(t, spec.Fanout[v%4], p)
			}
		}
		require.Len(t, out[0], countIf(rows, func(r []any) bool { return r[0] == nil || r[0].(int64)%4 == 0 }))
		require.Len(t, out[2], countIf(rows, func(r []any) bool { return r[0] != nil && r[0].(int64)%4 >= 2 }))
	})
	t.Run("a sink that fails cancels its streams", func(t *testing.T) {
		h := NewExchangeHub(ExchangeHubOptions{})
		src, err := NewValues(schema, rows)
		require.NoError(t, err)
		boom := errors.New("boom")
		spec := ExchangeSinkSpec{Keys: []Expr{col(0, types.BigInt)}, Partitions: 2,
			Open: func(_ context.Context, p int) (ExchangeWriter, error) {
				w := &HubWriter{Hub: h, Key: ExchangeKey{Query: "x", Exchange: 1, Partition: p}, Sender: 0}
				if p == 1 {
					return &failingWriter{HubWriter: w, err: boom}, nil
				}
				return w, nil
			}}
		sink, err := NewExchangeSink(src, spec)
		require.NoError(t, err)
		err = Drain(ctx, sink, func(*Batch) error { return nil })
		require.ErrorIs(t, err, boom)
		src0 := NewExchangeSource(h, ExchangeKey{Query: "x", Exchange: 1}, []string{"backend 1"}, schema, time.Second)
		require.NoError(t, src0.Open(ctx))
		var b Batch
		for err == nil || !errors.Is(err, ErrExchangeSender) {
			err = Next(ctx, src0, &b)
			require.NotErrorIs(t, err, io.EOF)
		}
		require.ErrorContains(t, err, "boom")
		require.NoError(t, src0.Close())
		h.ReleaseQuery("x")
		require.Zero(t, h.Entries())
	})
}

type failingWriter struct {
	*HubWriter
	err error
}

func (w *failingWriter) Write(context.Context, []arrow.Array) error { return w.err }

func countIf(rows [][]any, f func([]any) bool) int {
	return len(slices.DeleteFunc(slices.Clone(rows), func(r []any) bool { return !f(r) }))
}
