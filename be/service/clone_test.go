package service_test

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/strata-db/strata/be/service"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/compaction"
	"github.com/strata-db/strata/rpc"
	"github.com/strata-db/strata/storage"
)

// bigRows makes n rows from k = from on whose strings do not compress:
// their segment is larger than a clone chunk (1 MiB) for n of 20000.
func bigRows(seed uint64, from, n int) [][]any {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, 64)
	rows := make([][]any, n)
	for i := range rows {
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		rows[i] = []any{int64(from + i), hex.EncodeToString(b)}
	}
	return rows
}

// manifestResponse is be.clone_manifest's result.
type manifestResponse struct {
	Token    string               `json:"token"`
	Manifest tabletstore.Manifest `json:"manifest"`
}

func manifestOf(t *testing.T, ctx context.Context, cli *rpc.Client, addr string, tablet, have, want int64) manifestResponse {
	t.Helper()
	var mr manifestResponse
	require.NoError(t, cli.Call(ctx, addr, "be.clone_manifest", map[string]int64{"tablet": tablet, "have": have, "want": want}, &mr))
	require.NotEmpty(t, mr.Token)
	return mr
}

// fetchFile streams a file of a clone and returns its bytes.
func fetchFile(ctx context.Context, cli *rpc.Client, addr, token, name string) ([]byte, error) {
	rr, err := cli.Stream(ctx, addr, "be.clone_file", map[string]string{"token": token, "name": name})
	if err != nil {
		return nil, err
	}
	defer rr.Close()
	var out []byte
	for {
		rec, err := rr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec.Column(0).(interface{ Value(int) []byte }).Value(0)...)
	}
}

// cloneSource loads tablet 5 on b: versions 2-4 of small loads (2-3
// compacted into one rowset), 5 a load of incompressible rows, 6 a DELETE.
// It returns the rows at version 6.
func cloneSource(t *testing.T, ctx context.Context, b *backend) [][]any {
	t.Helper()
	const tablet = 5
	var want [][]any
	for v := int64(2); v <= 4; v++ {
		rows := makeRows(int(v)*100, 50)
		loadOn(t, v, tablet, rows, b)
		publishOn(t, v, v, map[int64]bool{tablet: true}, b)
		want = append(want, rows...)
	}
	_, err := compaction.CompactRange(ctx, b.store, tablet, 2, 3)
	require.NoError(t, err)
	big := bigRows(1, 1000, 20000)
	loadOn(t, 5, tablet, big, b)
	publishOn(t, 5, 5, map[int64]bool{tablet: true}, b)
	want = append(want, big...)
	pred := storage.DeletePredicate{Conditions: []storage.DeleteCondition{{Column: 1, Op: "<", Ints: []int64{250}}}}
	require.NoError(t, b.svc.AddDelete(tablet, 6, testSchema(), pred))
	publishOn(t, 6, 6, map[int64]bool{tablet: true}, b)
	want = want[50:] // k 200..249
	require.Equal(t, want, readRows(t, b.store, tablet, 6))
	return want
}

// A backend clones a tablet from another over RPC: whole, then the
// versions it lacks; both replicas then sum alike.
func TestClone(t *testing.T) {
	ctx := testCtx(t)
	cli := newClient(t)
	a, b := newBackend(t, 1, cli), newBackend(t, 2, cli)
	const tablet = 5
	want := cloneSource(t, ctx, a)

	// The manifest names a file larger than one chunk.
	mr := manifestOf(t, ctx, cli, a.addr, tablet, 0, 6)
	require.True(t, mr.Manifest.Full)
	var total, largest int64
	for _, f := range mr.Manifest.Files {
		total += f.Size
		largest = max(largest, f.Size)
	}
	require.Greater(t, largest, int64(1<<20), "the test needs a file of several chunks")
	require.NoError(t, cli.Call(ctx, a.addr, "be.clone_release", map[string]string{"token": mr.Token}, nil))

	res, err := b.remote().Clone(ctx, service.CloneRequest{Tablet: tablet, Source: a.addr, Have: 0, Want: 6})
	require.NoError(t, err)
	require.Equal(t, service.CloneResult{Full: true, Bytes: total, Files: len(mr.Manifest.Files)}, res)
	require.Equal(t, int64(6), b.version(tablet))
	require.Equal(t, want, readRows(t, b.store, tablet, 6))
	for v := int64(4); v <= 6; v++ {
		sa, err := a.remote().Checksum(ctx, tablet, v)
		require.NoError(t, err)
		sb, err := b.remote().Checksum(ctx, tablet, v)
		require.NoError(t, err)
		require.Equal(t, sa, sb, "version %d", v)
		require.NotZero(t, sa.Rows)
	}
	sa, err := a.local().Checksum(ctx, tablet, 6)
	require.NoError(t, err)
	require.Equal(t, int64(len(want)), sa.Rows)

	// An incremental clone of the next load.
	loadOn(t, 7, tablet, makeRows(50000, 10), a)
	publishOn(t, 7, 7, map[int64]bool{tablet: true}, a)
	res, err = b.remote().Clone(ctx, service.CloneRequest{Tablet: tablet, Source: a.addr, Have: 6, Want: 7})
	require.NoError(t, err)
	require.False(t, res.Full)
	require.Equal(t, 1, res.Files)
	require.Equal(t, int64(7), b.version(tablet))
	sa, err = a.remote().Checksum(ctx, tablet, 7)
	require.NoError(t, err)
	sb, err := b.remote().Checksum(ctx, tablet, 7)
	require.NoError(t, err)
	require.Equal(t, sa, sb)

	// A local backend clones through its RPC client as well.
	c := newBackend(t, 3, cli)
	res, err = c.local().Clone(ctx, service.CloneRequest{Tablet: tablet, Source: b.addr, Want: 7})
	require.NoError(t, err)
	require.True(t, res.Full)
	require.Equal(t, readRows(t, a.store, tablet, 7), readRows(t, c.store, tablet, 7))
	_, err = service.Local{S: c.svc}.Clone(ctx, service.CloneRequest{Tablet: tablet, Source: b.addr, Want: 7})
	require.ErrorContains(t, err, "cannot reach other backends")

	// A version the source does not hold: the source's error, from the
	// destination.
	_, err = b.remote().Clone(ctx, service.CloneRequest{Tablet: tablet, Source: a.addr, Have: 7, Want: 9})
	var be *service.BackendError
	require.True(t, errors.As(err, &be), "%v (%T)", err, err)
	require.Contains(t, be.Error(), "tablet 5")
	require.ErrorContains(t, err, "version")
	_, err = b.remote().Checksum(ctx, tablet, 9)
	require.Error(t, err)

	// b cloned three times, the last one failing; it counted them.
	st := b.svc.Stats.Snapshot()
	require.Equal(t, int64(3), st.Clones)
	require.Equal(t, int64(1), st.CloneErrors)
	require.Positive(t, st.CloneBytes)
}

// The clone source serves only the files of a manifest it handed out, to
// the holder of its token, until it is released.
func TestCloneFiles(t *testing.T) {
	ctx := testCtx(t)
	cli := newClient(t)
	a := newBackend(t, 1, cli)
	const tablet = 5
	cloneSource(t, ctx, a)
	full := manifestOf(t, ctx, cli, a.addr, tablet, 0, 6)
	inc := manifestOf(t, ctx, cli, a.addr, tablet, 5, 6) // the DELETE's rowset: no files
	require.False(t, inc.Manifest.Full)
	require.Empty(t, inc.Manifest.Files)

	// Every file of the manifest comes whole, in chunks.
	for _, f := range full.Manifest.Files {
		data, err := fetchFile(ctx, cli, a.addr, full.Token, f.Name)
		require.NoError(t, err)
		require.Len(t, data, int(f.Size), f.Name)
	}

	for _, tc := range []struct {
		name, token, file, msg string
	}{
		{"unknown token", "0123456789abcdef", full.Manifest.Files[0].Name, "is unknown or expired"},
		{"empty token", "", full.Manifest.Files[0].Name, "is unknown or expired"},
		{"file of another manifest", inc.Token, full.Manifest.Files[0].Name, "is not part of the clone of tablet 5"},
		{"path outside the tablet", full.Token, "../../../tabletstore.db", "is not part of the clone of tablet 5"},
		{"no name", full.Token, "", "is not part of the clone of tablet 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fetchFile(ctx, cli, a.addr, tc.token, tc.file)
			require.Contains(t, requireCode(t, err, rpc.CodeInvalidArgument), tc.msg)
		})
	}
	err := cli.Call(ctx, a.addr, "be.clone_manifest", "tablet 5", nil)
	require.Contains(t, requireCode(t, err, rpc.CodeInvalidArgument), "decoding the request")
	_, err = cli.Stream(ctx, a.addr, "be.clone_file", []int{1})
	require.Contains(t, requireCode(t, err, rpc.CodeInvalidArgument), "decoding the request")

	// Released, the token is gone.
	require.NoError(t, cli.Call(ctx, a.addr, "be.clone_release", map[string]string{"token": full.Token}, nil))
	_, err = fetchFile(ctx, cli, a.addr, full.Token, full.Manifest.Files[0].Name)
	require.Contains(t, requireCode(t, err, rpc.CodeInvalidArgument), "is unknown or expired")
	// Releasing twice, or a token never handed out, is no error.
	require.NoError(t, cli.Call(ctx, a.addr, "be.clone_release", map[string]string{"token": full.Token}, nil))
	require.NoError(t, cli.Call(ctx, a.addr, "be.clone_release", map[string]string{"token": "nope"}, nil))
}

// The clone source's limit bounds the bytes per second it sends, also when
// its burst is smaller than a chunk.
func TestCloneLimit(t *testing.T) {
	ctx := testCtx(t)
	cli := newClient(t)
	const bytesPerSec, burst = 8 << 20, 64 << 10
	a := newBackend(t, 1, cli, backendOpts{prepare: func(src *service.CloneSource) {
		src.Limit = rate.NewLimiter(bytesPerSec, burst)
	}})
	b := newBackend(t, 2, cli)
	const tablet = 5
	big := bigRows(2, 0, 20000)
	loadOn(t, 2, tablet, big, a)
	publishOn(t, 2, 2, map[int64]bool{tablet: true}, a)

	began := time.Now()
	res, err := b.remote().Clone(ctx, service.CloneRequest{Tablet: tablet, Source: a.addr, Want: 2})
	took := time.Since(began)
	require.NoError(t, err)
	require.Greater(t, res.Bytes, int64(1<<20))
	least := time.Duration(float64(res.Bytes-burst) / bytesPerSec * float64(time.Second))
	require.GreaterOrEqual(t, took, least*9/10, "%d bytes at %d bytes/s", res.Bytes, bytesPerSec)
	require.Equal(t, big, readRows(t, b.store, tablet, 2))
}
