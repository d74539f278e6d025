// Package meta is the frontend's metadata store: an etcd cluster, either the
// single-member one embedded in `strata server` or an external one shared by
// several FEs, and a thin layer over its client.
//
// Everything Strata persists in etcd lives under [Prefix] ("/strata/") as a
// JSON value. Writers follow three rules (DESIGN.md §9):
//
//   - every write is a compare-and-swap on the mod revision the writer read
//     ([Txn.IfModRev]); a failed compare means "somebody else won, re-read and
//     retry", never "overwrite anyway";
//   - requests stay small: a value is at most [MaxValueBytes] and a
//     transaction has at most [MaxTxnOps] operations of each kind, well under
//     etcd's 1.5 MiB request and 128 operation limits;
//   - a watch that reports a compacted revision re-lists (the watchers live
//     with their consumers, e.g. the catalog).
//
// Identifiers come from [IDAllocator], a counter key advanced by CAS in
// blocks so that allocating an id is usually a memory operation.
package meta

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// EmbeddedConfig configures the single-member etcd run inside the process.
type EmbeddedConfig struct {
	// DataDir is Strata's data directory; etcd keeps its files in
	// DataDir/etcd.
	DataDir string
	// Host is the address both listeners bind to; "" means 127.0.0.1. The
	// embedded etcd is meant for loopback only.
	Host string
	// ClientPort is the client (gRPC) port, 2379 by default in
	// `strata server`. 0 is not allowed: etcd must advertise a real port.
	ClientPort int
	// PeerPort is the raft peer port. A single member never talks to a peer,
	// but etcd still binds it.
	PeerPort int
	// Name is the member name; "" means "strata".
	Name string
	// LogLevel is the zap level for etcd's own log ("warn" if empty).
	LogLevel string
	// UnsafeNoFsync turns off fsync inside etcd; only for tests.
	UnsafeNoFsync bool
}

// Embedded is a running embedded etcd and a client connected to it.
//
// Close stops both; it is safe to call more than once.
type Embedded struct {
	etcd   *embed.Etcd
	client *clientv3.Client
	eps    []string
}

// StartEmbedded starts the embedded etcd and waits until it serves clients
// (a single member elects itself at once) or ctx ends.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("meta: embedded etcd needs a data directory")
	}
	if cfg.ClientPort <= 0 || cfg.PeerPort <= 0 {
		return nil, fmt.Errorf("meta: embedded etcd needs client and peer ports (got %d, %d)", cfg.ClientPort, cfg.PeerPort)
	}
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	name := cfg.Name
	if name == "" {
		name = "strata"
	}
	dir := filepath.Join(cfg.DataDir, "etcd")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("meta: creating etcd directory: %w", err)
	}
	curl := url.URL{Scheme: "http", Host: net.JoinHostPort(host, strconv.Itoa(cfg.ClientPort))}
	purl := url.URL{Scheme: "http", Host: net.JoinHostPort(host, strconv.Itoa(cfg.PeerPort))}

	ec := embed.NewConfig()
	ec.Name = name
	ec.Dir = dir
	ec.ListenClientUrls = []url.URL{curl}
	ec.AdvertiseClientUrls = []url.URL{curl}
	ec.ListenPeerUrls = []url.URL{purl}
	ec.AdvertisePeerUrls = []url.URL{purl}
	ec.InitialCluster = ec.InitialClusterFromName(name)
	ec.InitialClusterToken = "strata-embedded"
	// A single member: short ticks make the self-election at startup take
	// tens of milliseconds instead of a second.
	ec.TickMs = 10
	ec.ElectionMs = 100
	ec.UnsafeNoFsync = cfg.UnsafeNoFsync
	// Keep history bounded: compact revisions older than an hour. Watchers
	// re-list when they fall behind a compaction.
	ec.AutoCompactionMode = embed.CompactorModePeriodic
	ec.AutoCompactionRetention = "1h"
	lvl := cfg.LogLevel
	if lvl == "" {
		lvl = "warn"
	}
	zl, err := newZapLogger(lvl)
	if err != nil {
		return nil, err
	}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zl)
	ec.LogLevel = lvl

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("meta: starting embedded etcd in %s: %w", dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("meta: embedded etcd failed while starting: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("meta: waiting for embedded etcd: %w", ctx.Err())
	}
	eps := []string{curl.String()}
	cli, err := Connect(eps)
	if err != nil {
		e.Close()
		return nil, err
	}
	return &Embedded{etcd: e, client: cli, eps: eps}, nil
}

// Client is the client connected to the embedded etcd. It is closed by
// [Embedded.Close].
func (e *Embedded) Client() *clientv3.Client { return e.client }

// Endpoints are the client URLs of the embedded etcd.
func (e *Embedded) Endpoints() []string { return e.eps }

// Err reports a fatal server error after startup (e.g. a lost data
// directory); the process should shut down when it fires.
func (e *Embedded) Err() <-chan error { return e.etcd.Err() }

// Close closes the client and stops the server.
func (e *Embedded) Close() {
	if e.client != nil {
		_ = e.client.Close()
		e.client = nil
	}
	if e.etcd != nil {
		e.etcd.Close()
		e.etcd = nil
	}
}

// Connect opens a client to an etcd cluster (the embedded one or an external
// one given by its client URLs). The client is quiet: it logs at error level
// only.
func Connect(endpoints []string) (*clientv3.Client, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("meta: no etcd endpoints")
	}
	zl, err := newZapLogger("error")
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 5 * time.Second,
		Logger:      zl,
		// Keep requests below etcd's server-side limit with room for the
		// gRPC framing.
		MaxCallSendMsgSize: 2 * 1024 * 1024,
	})
	if err != nil {
		return nil, fmt.Errorf("meta: connecting to etcd %v: %w", endpoints, err)
	}
	return cli, nil
}

func newZapLogger(level string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("meta: etcd log level %q: %w", level, err)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.Sampling = nil
	zc.OutputPaths = []string{"stderr"}
	zc.ErrorOutputPaths = []string{"stderr"}
	lg, err := zc.Build()
	if err != nil {
		return nil, fmt.Errorf("meta: building etcd logger: %w", err)
	}
	return lg, nil
}
