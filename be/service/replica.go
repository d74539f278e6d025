package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/time/rate"

	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/rpc"
)

// More call names: replicas.
const (
	callPublish       = "be.publish"
	callReport        = "be.report"
	callChecksum      = "be.checksum"
	callClone         = "be.clone"
	callCloneManifest = "be.clone_manifest"
	callCloneFile     = "be.clone_file"
	callCloneRelease  = "be.clone_release"
)

// Publish publishes transactions on the local replicas (see
// tabletstore.Store.PublishReplica).
func (s *Service) Publish(txns []tabletstore.TxnPublish) ([]map[int64]tabletstore.TabletPublishResult, error) {
	res, err := s.Store.PublishReplica(txns)
	if err == nil {
		s.Stats.published(len(txns))
	}
	return res, err
}

// Report lists the local tablets.
func (s *Service) Report() []tabletstore.TabletInfo { return s.Store.TabletReport() }

// Checksum sums a local tablet's rows at a version.
func (s *Service) Checksum(tabletID, version int64) (ChecksumResult, error) {
	sum, rows, err := s.Store.Checksum(tabletID, version)
	return ChecksumResult{Sum: sum, Rows: rows}, err
}

// ChecksumResult is a tablet replica's checksum at a version.
type ChecksumResult struct {
	Sum  uint64 `json:"sum"`
	Rows int64  `json:"rows"`
}

type publishRequest struct {
	Txns []tabletstore.TxnPublish `json:"txns"`
}

type publishResponse struct {
	Results []map[int64]tabletstore.TabletPublishResult `json:"results"`
}

type checksumRequest struct {
	Tablet  int64 `json:"tablet"`
	Version int64 `json:"version"`
}

// CloneRequest asks a backend to bring its replica of a tablet from
// Have to Want by copying from the backend at Source.
type CloneRequest struct {
	Tablet int64  `json:"tablet"`
	Source string `json:"source"` // RPC address
	Have   int64  `json:"have"`
	Want   int64  `json:"want"`
}

// CloneResult says what a clone moved.
type CloneResult struct {
	Full  bool  `json:"full"`
	Bytes int64 `json:"bytes"`
	Files int   `json:"files"`
}

type manifestRequest struct {
	Tablet int64 `json:"tablet"`
	Have   int64 `json:"have"`
	Want   int64 `json:"want"`
}

type manifestResponse struct {
	Token    string               `json:"token"`
	Manifest tabletstore.Manifest `json:"manifest"`
}

type fileRequest struct {
	Token string `json:"token"`
	Name  string `json:"name"`
}

type releaseRequest struct {
	Token string `json:"token"`
}

// CloneSource is the source side of clones: the manifests handed out,
// whose files stay pinned until the destination releases them or a lease
// runs out, and a limit on the bytes sent per second, so that repairs do
// not starve loads and queries.
type CloneSource struct {
	S *Service
	// Limit bounds the bytes per second all clones send; nil: no limit.
	Limit *rate.Limiter
	// Lease is how long a manifest's files stay pinned without release.
	Lease time.Duration

	mu   sync.Mutex
	pins map[string]*pin
}

type pin struct {
	tablet  int64
	files   map[string]bool
	release func()
	expires time.Time
}

func (c *CloneSource) manifest(req manifestRequest) (manifestResponse, error) {
	m, release, err := c.S.Store.CloneManifest(req.Tablet, req.Have, req.Want)
	if err != nil {
		return manifestResponse{}, err
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	files := map[string]bool{}
	for _, f := range m.Files {
		files[f.Name] = true
	}
	lease := c.Lease
	if lease <= 0 {
		lease = 30 * time.Minute
	}
	c.mu.Lock()
	if c.pins == nil {
		c.pins = map[string]*pin{}
	}
	c.pins[tok] = &pin{tablet: req.Tablet, files: files, release: release, expires: time.Now().Add(lease)}
	c.expireLocked()
	c.mu.Unlock()
	return manifestResponse{Token: tok, Manifest: m}, nil
}

// expireLocked releases the pins whose lease ran out.
func (c *CloneSource) expireLocked() {
	now := time.Now()
	for tok, p := range c.pins {
		if now.After(p.expires) {
			p.release()
			delete(c.pins, tok)
		}
	}
}

func (c *CloneSource) release(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pins[tok]; ok {
		p.release()
		delete(c.pins, tok)
	}
}

// Close releases every pin.
func (c *CloneSource) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for tok, p := range c.pins {
		p.release()
		delete(c.pins, tok)
	}
}

// chunkSize is the bytes of a file one record batch carries.
const chunkSize = 1 << 20

var chunkSchema = arrow.NewSchema([]arrow.Field{{Name: "chunk", Type: arrow.BinaryTypes.Binary}}, nil)

// sendFile streams one pinned file as batches of one binary chunk.
func (c *CloneSource) sendFile(ctx context.Context, req fileRequest, w rpc.RecordWriter) error {
	c.mu.Lock()
	p, ok := c.pins[req.Token]
	c.mu.Unlock()
	if !ok {
		return invalid(fmt.Errorf("clone token %q is unknown or expired", req.Token))
	}
	if !p.files[req.Name] {
		return invalid(fmt.Errorf("file %q is not part of the clone of tablet %d", req.Name, p.tablet))
	}
	f, err := c.S.Store.OpenCloneFile(p.tablet, req.Name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := w.Begin(chunkSchema); err != nil {
		return err
	}
	buf := make([]byte, chunkSize)
	b := array.NewBinaryBuilder(memory.DefaultAllocator, arrow.BinaryTypes.Binary)
	defer b.Release()
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			if c.Limit != nil && c.Limit.Limit() != rate.Inf {
				// WaitN refuses more than the burst at once: wait for
				// the chunk a burst at a time.
				burst := max(c.Limit.Burst(), 1)
				for left := n; left > 0; {
					step := min(left, burst)
					if werr := c.Limit.WaitN(ctx, step); werr != nil {
						return werr
					}
					left -= step
				}
			}
			b.Append(buf[:n])
			col := b.NewArray()
			rec := array.NewRecordBatch(chunkSchema, []arrow.Array{col}, 1)
			werr := w.Write(rec)
			rec.Release()
			col.Release()
			if werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Clone brings the local replica of a tablet to req.Want from the replica
// at req.Source.
func (s *Service) Clone(ctx context.Context, cli *rpc.Client, req CloneRequest) (res CloneResult, err error) {
	defer func() { s.Stats.cloned(res.Bytes, err) }()
	var mr manifestResponse
	if err := cli.Call(ctx, req.Source, callCloneManifest, manifestRequest{Tablet: req.Tablet, Have: req.Have, Want: req.Want}, &mr); err != nil {
		return CloneResult{}, fmt.Errorf("asking %s for tablet %d: %w", req.Source, req.Tablet, err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = cli.Call(rctx, req.Source, callCloneRelease, releaseRequest{Token: mr.Token}, nil)
	}()
	res = CloneResult{Full: mr.Manifest.Full, Files: len(mr.Manifest.Files)}
	fetch := func(name string) (io.ReadCloser, error) {
		rr, err := cli.Stream(ctx, req.Source, callCloneFile, fileRequest{Token: mr.Token, Name: name})
		if err != nil {
			return nil, err
		}
		return &chunkReader{r: rr, n: &res.Bytes}, nil
	}
	if err := s.Store.InstallClone(req.Tablet, mr.Manifest, fetch); err != nil {
		return res, err
	}
	return res, nil
}

// chunkReader reads a file streamed as binary chunks.
type chunkReader struct {
	r   rpc.RecordReader
	buf []byte
	n   *int64
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		rec, err := c.r.Read()
		if err != nil {
			return 0, err
		}
		if rec.NumCols() != 1 || rec.NumRows() != 1 {
			return 0, fmt.Errorf("a clone chunk of %d columns and %d rows", rec.NumCols(), rec.NumRows())
		}
		col, ok := rec.Column(0).(*array.Binary)
		if !ok {
			return 0, fmt.Errorf("a clone chunk of type %s", rec.Column(0).DataType())
		}
		c.buf = append(c.buf[:0], col.Value(0)...)
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	*c.n += int64(n)
	return n, nil
}

func (c *chunkReader) Close() error { return c.r.Close() }

// RegisterReplicas serves the replica calls: publish, report, checksum and
// both sides of clones.
func RegisterReplicas(srv *rpc.Server, s *Service, src *CloneSource, cli *rpc.Client) {
	srv.Handle(callPublish, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req publishRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		res, err := s.Publish(req.Txns)
		return publishResponse{Results: res}, err
	})
	srv.Handle(callReport, func(ctx context.Context, body json.RawMessage) (any, error) {
		return s.Report(), nil
	})
	srv.Handle(callChecksum, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req checksumRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		return s.Checksum(req.Tablet, req.Version)
	})
	srv.Handle(callClone, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req CloneRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		return s.Clone(ctx, cli, req)
	})
	srv.Handle(callCloneManifest, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req manifestRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		return src.manifest(req)
	})
	srv.HandleStream(callCloneFile, func(ctx context.Context, body json.RawMessage, w rpc.RecordWriter) error {
		var req fileRequest
		if err := decode(body, &req); err != nil {
			return err
		}
		return src.sendFile(ctx, req, w)
	})
	srv.Handle(callCloneRelease, func(ctx context.Context, body json.RawMessage) (any, error) {
		var req releaseRequest
		if err := decode(body, &req); err != nil {
			return nil, err
		}
		src.release(req.Token)
		return struct{}{}, nil
	})
}
