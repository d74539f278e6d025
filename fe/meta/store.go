package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Prefix is the root of every key Strata writes.
const Prefix = "/strata/"

const (
	// MaxValueBytes bounds one JSON value. etcd refuses requests over
	// 1.5 MiB; a value stays well below so that a transaction of a few
	// values still fits.
	MaxValueBytes = 1 << 20
	// MaxTxnOps bounds each of the compare, success and failure lists of a
	// transaction (etcd's default limit is 128).
	MaxTxnOps = 120
)

// ErrTooLarge is returned when a value or transaction exceeds the limits
// above.
var ErrTooLarge = errors.New("meta: request too large")

// Store reads and writes JSON values under [Prefix]. It is safe for
// concurrent use.
type Store struct {
	cli *clientv3.Client
	// fence, when fenced is set, conditions every write on the writer
	// holding the leadership it names (see fence.go).
	fenced bool
	fence  atomic.Pointer[Fence]
}

// NewStore wraps a client. Its writes are not fenced: for tools, tests and
// processes that never write (a backend reads the catalog through it).
func NewStore(cli *clientv3.Client) *Store { return &Store{cli: cli} }

// Client is the underlying etcd client (for watches).
func (s *Store) Client() *clientv3.Client { return s.cli }

// Key joins Prefix and the parts with "/". Parts are path-escaped, so user
// names (databases, labels) may contain "/" without creating levels.
func Key(parts ...string) string {
	var b strings.Builder
	b.WriteString(Prefix)
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}

// KeyPrefix is Key(parts...) + "/": the prefix of every key below it.
func KeyPrefix(parts ...string) string { return Key(parts...) + "/" }

// UnescapeKeyPart reverses the escaping of one part made by [Key].
func UnescapeKeyPart(p string) (string, error) { return url.PathUnescape(p) }

// Get reads key and decodes its JSON value into v. It returns the key's mod
// revision (0 when the key does not exist; v is then untouched) and the
// store revision the read was served at.
func (s *Store) Get(ctx context.Context, key string, v any) (modRev, rev int64, err error) {
	return s.get(ctx, key, v)
}

// GetSerializable is Get served from the local member's applied state,
// without the linearizable read's round through consensus (which waits
// behind the log's fsync). It can lag writes not yet applied there, so use
// it only for a read a conditioned write (IfModRev) then checks, or where
// a slightly old answer is fine. On a single member it sees every write
// that has returned.
func (s *Store) GetSerializable(ctx context.Context, key string, v any) (modRev, rev int64, err error) {
	return s.get(ctx, key, v, clientv3.WithSerializable())
}

func (s *Store) get(ctx context.Context, key string, v any, opts ...clientv3.OpOption) (modRev, rev int64, err error) {
	resp, err := s.cli.Get(ctx, key, opts...)
	if err != nil {
		return 0, 0, fmt.Errorf("meta: reading %s: %w", key, err)
	}
	rev = resp.Header.Revision
	if len(resp.Kvs) == 0 {
		return 0, rev, nil
	}
	kv := resp.Kvs[0]
	if err := json.Unmarshal(kv.Value, v); err != nil {
		return 0, rev, fmt.Errorf("meta: decoding %s: %w", key, err)
	}
	return kv.ModRevision, rev, nil
}

// KV is one raw key-value pair read by [Store.List].
type KV struct {
	Key    string
	Value  []byte
	ModRev int64
}

// List reads every key under prefix, paging so that no response gets large.
// It returns the pairs in key order and the revision they were all read at.
func (s *Store) List(ctx context.Context, prefix string) ([]KV, int64, error) {
	const page = 500
	var out []KV
	var rev int64
	key := prefix
	end := clientv3.GetPrefixRangeEnd(prefix)
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(page)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.cli.Get(ctx, key, opts...)
		if err != nil {
			return nil, 0, fmt.Errorf("meta: listing %s: %w", prefix, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			out = append(out, KV{Key: string(kv.Key), Value: kv.Value, ModRev: kv.ModRevision})
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return out, rev, nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Count is the number of keys under prefix.
func (s *Store) Count(ctx context.Context, prefix string) (int64, error) {
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("meta: counting %s: %w", prefix, err)
	}
	return resp.Count, nil
}

// ListRange reads the keys in [from, to) in key order, at most limit of
// them (0: no limit).
func (s *Store) ListRange(ctx context.Context, from, to string, limit int64) ([]KV, error) {
	opts := []clientv3.OpOption{clientv3.WithRange(to)}
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(limit))
	}
	resp, err := s.cli.Get(ctx, from, opts...)
	if err != nil {
		return nil, fmt.Errorf("meta: listing %s..%s: %w", from, to, err)
	}
	out := make([]KV, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out = append(out, KV{Key: string(kv.Key), Value: kv.Value, ModRev: kv.ModRevision})
	}
	return out, nil
}

// Txn is a compare-and-swap transaction under construction. Build it with
// IfModRev/Put/Delete, then Commit. A Txn is used by one goroutine.
type Txn struct {
	s    *Store
	cmps []clientv3.Cmp
	ops  []clientv3.Op
	size int
	err  error
}

// Txn starts a transaction.
func (s *Store) Txn() *Txn { return &Txn{s: s} }

// IfModRev makes the transaction conditional on key's mod revision being
// rev; rev 0 means "key does not exist".
func (t *Txn) IfModRev(key string, rev int64) *Txn {
	t.cmps = append(t.cmps, clientv3.Compare(clientv3.ModRevision(key), "=", rev))
	t.size += len(key) + 16
	return t
}

// IfExists makes the transaction conditional on key existing (with any
// value), for keys read from a snapshot rather than from etcd.
func (t *Txn) IfExists(key string) *Txn {
	t.cmps = append(t.cmps, clientv3.Compare(clientv3.CreateRevision(key), ">", 0))
	t.size += len(key) + 16
	return t
}

// Put encodes v as JSON and writes it to key.
func (t *Txn) Put(key string, v any) *Txn {
	b, err := json.Marshal(v)
	if err != nil {
		t.err = errors.Join(t.err, fmt.Errorf("meta: encoding %s: %w", key, err))
		return t
	}
	return t.PutRaw(key, b)
}

// PutRaw writes an already encoded value.
func (t *Txn) PutRaw(key string, b []byte) *Txn {
	if len(b) > MaxValueBytes {
		t.err = errors.Join(t.err, fmt.Errorf("%w: value of %s is %d bytes (limit %d)", ErrTooLarge, key, len(b), MaxValueBytes))
		return t
	}
	t.ops = append(t.ops, clientv3.OpPut(key, string(b)))
	t.size += len(key) + len(b)
	return t
}

// Delete removes key.
func (t *Txn) Delete(key string) *Txn {
	t.ops = append(t.ops, clientv3.OpDelete(key))
	t.size += len(key)
	return t
}

// DeletePrefix removes every key under prefix.
func (t *Txn) DeletePrefix(prefix string) *Txn {
	t.ops = append(t.ops, clientv3.OpDelete(prefix, clientv3.WithPrefix()))
	t.size += 2 * len(prefix)
	return t
}

// Commit runs the transaction. ok is false when a compare failed (nothing
// was written; the caller re-reads and retries). rev is the revision of the
// write when ok.
func (t *Txn) Commit(ctx context.Context) (rev int64, ok bool, err error) {
	if t.err != nil {
		return 0, false, t.err
	}
	if len(t.cmps) > MaxTxnOps || len(t.ops) > MaxTxnOps {
		return 0, false, fmt.Errorf("%w: %d compares and %d operations (limit %d each)", ErrTooLarge, len(t.cmps), len(t.ops), MaxTxnOps)
	}
	if t.size > MaxValueBytes+MaxValueBytes/4 {
		return 0, false, fmt.Errorf("%w: transaction of %d bytes", ErrTooLarge, t.size)
	}
	if !t.s.fenced {
		resp, err := t.s.cli.Txn(ctx).If(t.cmps...).Then(t.ops...).Commit()
		if err != nil {
			return 0, false, fmt.Errorf("meta: etcd transaction: %w", err)
		}
		return resp.Header.Revision, resp.Succeeded, nil
	}
	return t.commitFenced(ctx)
}
