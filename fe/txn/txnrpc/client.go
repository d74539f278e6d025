package txnrpc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/meta"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/rpc"
)

// Defaults of a Client.
const (
	// DefaultRetryFor covers a leader election: the old leader's lease
	// lapsing (meta.Elector's TTL, 10 s by default) and a new one winning.
	DefaultRetryFor = 30 * time.Second
	// DefaultCatalogWait bounds the wait for the local catalog; a watch
	// that is healthy applies a revision within milliseconds.
	DefaultCatalogWait = 10 * time.Second
)

// Backoff between attempts: doubling from minBackoff to maxBackoff, with
// up to a fifth of jitter so that the callers of a deposed leader do not
// arrive at the new one in step.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// abortTimeout bounds the abort of a transaction whose Begin fails after
// the leader began it.
const abortTimeout = 10 * time.Second

// ErrNoLeader is returned when no frontend leads for as long as a call
// keeps retrying.
var ErrNoLeader = errors.New("txnrpc: no frontend is the leader")

// Caller makes unary calls; *rpc.Client is one.
type Caller interface {
	Call(ctx context.Context, addr, name string, req, resp any) error
}

// Client is the transaction service of the leader frontend, called over
// RPC. It implements sink.TxnService with txn.Manager's results and
// errors; the package doc says when it retries and how Begin waits for
// the local catalog. Set the exported fields before the first call and do
// not copy a Client after it; it is safe for concurrent use.
type Client struct {
	// RPC makes the calls (an *rpc.Client).
	RPC Caller
	// Leader returns the address of the leader's rpc server, or "" when
	// no frontend leads (as meta.Leader does with the address the leader
	// published).
	Leader func(ctx context.Context) (addr string, err error)
	// Catalog is this process's catalog, which loads read after Begin; nil
	// skips the waits for it.
	Catalog *catalog.Catalog
	// RetryFor bounds how long a call keeps retrying; 0: DefaultRetryFor.
	RetryFor time.Duration
	// CatalogWait bounds each wait for Catalog; 0: DefaultCatalogWait.
	CatalogWait time.Duration
	// Logger receives what is not returned (a failed cleanup, a slow
	// catalog); nil: slog.Default().
	Logger *slog.Logger

	mu     sync.Mutex // protects following fields
	leader string     // the leader's address, once found; "" to look it up
}

// FromRPC turns the error of a call to a Register handler back into the
// error the leader's txn.Manager returned, as txn.DecodeRPCError does:
// the same type, sentinel and text. Other errors (transport failures,
// internal errors, invalid_argument) come back unchanged.
func FromRPC(err error) error {
	var re *rpc.Error
	if !errors.As(err, &re) {
		return err
	}
	if e, ok := txn.DecodeRPCError(re.Code, re.Message, re.Data); ok {
		return e
	}
	return err
}

// Begin starts a transaction on the leader and waits until this process's
// catalog shows its tables as the leader saw them once the id was
// assigned. See the package doc for how a retried Begin recognises the
// transaction an earlier attempt made.
func (c *Client) Begin(ctx context.Context, req txn.BeginRequest) (*txn.Txn, error) {
	if req.RequestID == "" {
		req.RequestID = uuid.NewString()
	}
	var resp beginResponse
	if _, err := c.do(ctx, callBegin, req, &resp); err != nil {
		return nil, err
	}
	if resp.Txn == nil {
		return nil, fmt.Errorf("txnrpc: call %q: the leader answered without a transaction", callBegin)
	}
	if err := c.awaitTables(ctx, req, &resp); err != nil {
		// The caller never learns of the transaction; abort it, or it
		// would hold its label until its timeout.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
		if aerr := c.Abort(actx, resp.Txn.ID, err.Error()); aerr != nil {
			c.logger().Warn("txnrpc: aborting a transaction whose begin failed", "txn", resp.Txn.ID, "err", aerr)
		}
		cancel()
		return nil, err
	}
	return resp.Txn, nil
}

// Get reads a transaction on the leader.
func (c *Client) Get(ctx context.Context, id int64) (*txn.Txn, error) {
	var t txn.Txn
	if _, err := c.do(ctx, callGet, idRequest{ID: id}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// GetByLabel reads the transaction holding a label on the leader.
func (c *Client) GetByLabel(ctx context.Context, dbID int64, label string) (*txn.Txn, error) {
	var t txn.Txn
	if _, err := c.do(ctx, callGetByLabel, labelRequest{DBID: dbID, Label: label}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Precommit precommits a transaction on the leader (idempotent there).
func (c *Client) Precommit(ctx context.Context, id int64, parts []txn.PartitionRef) error {
	_, err := c.do(ctx, callPrecommit, partsRequest{ID: id, Partitions: parts}, nil)
	return err
}

// Commit commits a transaction on the leader and returns partition id ->
// version. After an attempt that may have committed, "already committed"
// is taken as this call's own commit when the partitions match.
func (c *Client) Commit(ctx context.Context, id int64, parts []txn.PartitionRef) (map[int64]int64, error) {
	var resp commitResponse
	ambiguous, err := c.do(ctx, callCommit, partsRequest{ID: id, Partitions: parts}, &resp)
	if err != nil {
		if ambiguous {
			if versions, ok := c.committedByUs(ctx, id, parts, err); ok {
				return versions, nil
			}
		}
		return nil, err
	}
	if len(resp.Versions) > 0 {
		c.awaitRevision(ctx, callCommit, resp.Revision)
	}
	if resp.Versions == nil {
		resp.Versions = map[int64]int64{}
	}
	return resp.Versions, nil
}

// committedByUs reports whether err, the answer to a retried commit whose
// earlier attempt may have run, says the transaction is committed with
// the partitions asked for, and if so returns its versions.
func (c *Client) committedByUs(ctx context.Context, id int64, parts []txn.PartitionRef, err error) (map[int64]int64, bool) {
	var se *txn.StateError
	if !errors.As(err, &se) || se.Op != txn.OpCommit || (se.Status != txn.StatusCommitted && se.Status != txn.StatusVisible) {
		return nil, false
	}
	t, gerr := c.Get(ctx, id)
	if gerr != nil || (t.Status != txn.StatusCommitted && t.Status != txn.StatusVisible) {
		return nil, false
	}
	if parts != nil && !samePartitions(parts, t.Partitions) {
		return nil, false
	}
	versions := make(map[int64]int64, len(t.Partitions))
	for _, p := range t.Partitions {
		versions[p.PartitionID] = p.Version
	}
	return versions, true
}

// samePartitions reports whether a commit of parts recorded got.
func samePartitions(parts []txn.PartitionRef, got []txn.PartitionVersion) bool {
	type key struct{ table, partition int64 }
	want := make([]key, 0, len(parts))
	for _, p := range parts {
		want = append(want, key{p.TableID, p.PartitionID})
	}
	have := make([]key, 0, len(got))
	for _, p := range got {
		have = append(have, key{p.TableID, p.PartitionID})
	}
	byKey := func(a, b key) int {
		if c := cmp.Compare(a.table, b.table); c != 0 {
			return c
		}
		return cmp.Compare(a.partition, b.partition)
	}
	slices.SortFunc(want, byKey)
	slices.SortFunc(have, byKey)
	return slices.Equal(slices.Compact(want), slices.Compact(have))
}

// Abort aborts a transaction on the leader. After an attempt that may
// have aborted it, "already aborted" with this call's reason is success.
func (c *Client) Abort(ctx context.Context, id int64, reason string) error {
	ambiguous, err := c.do(ctx, callAbort, abortRequest{ID: id, Reason: reason}, nil)
	if err != nil && ambiguous {
		var se *txn.StateError
		if errors.As(err, &se) && se.Op == txn.OpAbort && se.Status == txn.StatusAborted && se.Reason == reason {
			return nil
		}
	}
	return err
}

// Publish publishes a committed transaction on the leader (idempotent
// there) and waits, best effort, until this process's catalog shows it.
func (c *Client) Publish(ctx context.Context, id int64) error {
	var resp publishResponse
	if _, err := c.do(ctx, callPublish, idRequest{ID: id}, &resp); err != nil {
		return err
	}
	c.awaitRevision(ctx, callPublish, resp.Revision)
	return nil
}

// do makes call name on the leader, retrying as the package doc says
// until it succeeds, fails in a way retrying does not help, or the retry
// budget runs out. ambiguous reports whether an attempt failed in a way
// that leaves open whether it ran (unavailable).
func (c *Client) do(ctx context.Context, name string, req, resp any) (ambiguous bool, err error) {
	start := time.Now()
	budget := c.RetryFor
	if budget <= 0 {
		budget = DefaultRetryFor
	}
	backoff := minBackoff
	for {
		addr, lerr := c.leaderAddr(ctx)
		if lerr != nil {
			err = lerr
		} else {
			err = FromRPC(c.RPC.Call(ctx, addr, name, req, resp))
			switch {
			case err == nil:
				return ambiguous, nil
			case errors.Is(err, meta.ErrNotLeader):
				// Fenced: nothing happened there.
			case rpc.IsUnavailable(err):
				ambiguous = true
			default:
				return ambiguous, err
			}
			c.forget(addr)
		}
		if ctx.Err() != nil {
			return ambiguous, err
		}
		if time.Since(start)+backoff > budget {
			return ambiguous, err
		}
		wait := backoff + rand.N(backoff/5+1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ambiguous, fmt.Errorf("txnrpc: call %q: %w (last attempt: %v)", name, ctx.Err(), err)
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// leaderAddr returns the leader's address, looking it up unless known.
func (c *Client) leaderAddr(ctx context.Context) (string, error) {
	c.mu.Lock()
	addr := c.leader
	c.mu.Unlock()
	if addr != "" {
		return addr, nil
	}
	addr, err := c.Leader(ctx)
	if err != nil {
		return "", fmt.Errorf("txnrpc: finding the leader: %w", err)
	}
	if addr == "" {
		return "", ErrNoLeader
	}
	c.mu.Lock()
	c.leader = addr
	c.mu.Unlock()
	return addr, nil
}

// forget drops addr as the leader's address, to look it up again.
func (c *Client) forget(addr string) {
	c.mu.Lock()
	if c.leader == addr {
		c.leader = ""
	}
	c.mu.Unlock()
}

// awaitTables waits until the local catalog has caught up with the
// leader's as resp describes it: it reached resp.Revision, or every table
// of the transaction has the leader's schema version and indexes (see the
// package doc).
func (c *Client) awaitTables(ctx context.Context, req txn.BeginRequest, resp *beginResponse) error {
	if c.Catalog == nil {
		return nil
	}
	wait := c.catalogWait()
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		changed := c.Catalog.Changed()
		snap := c.Catalog.Snapshot()
		if snap.Revision() >= resp.Revision || tablesCaughtUp(snap, resp.Txn.DBID, resp.Tables) {
			return nil
		}
		select {
		case <-changed:
		case <-wctx.Done():
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("txnrpc: begin %q: waiting for this process's catalog to reach revision %d: %w", req.Label, resp.Revision, err)
			}
			return fmt.Errorf("txnrpc: begin %q: this process's catalog is at revision %d, behind the leader's %d, after %s", req.Label, snap.Revision(), resp.Revision, wait)
		}
	}
}

// tablesCaughtUp reports whether snap shows each table at least as the
// leader's snapshot did: its schema version and every index it had.
func tablesCaughtUp(snap *catalog.Snapshot, dbID int64, tables []tableState) bool {
	for _, want := range tables {
		tb, ok := snap.TableByID(dbID, want.ID)
		if !ok || tb.Schema.Version < want.SchemaVersion {
			return false
		}
		for _, ix := range want.Indexes {
			if !slices.ContainsFunc(tb.Indexes, func(i catalog.Index) bool { return i.ID == ix }) {
				return false
			}
		}
	}
	return true
}

// awaitRevision waits, best effort, until the local catalog reaches rev:
// the call it follows has succeeded whatever happens here.
func (c *Client) awaitRevision(ctx context.Context, name string, rev int64) {
	if c.Catalog == nil || c.Catalog.Snapshot().Revision() >= rev {
		return
	}
	wait := c.catalogWait()
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := c.Catalog.WaitRevision(wctx, rev); err != nil && ctx.Err() == nil {
		c.logger().Warn("txnrpc: this process's catalog is behind the leader's", "call", name,
			"revision", c.Catalog.Snapshot().Revision(), "leader_revision", rev, "waited", wait)
	}
}

func (c *Client) catalogWait() time.Duration {
	if c.CatalogWait > 0 {
		return c.CatalogWait
	}
	return DefaultCatalogWait
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}
