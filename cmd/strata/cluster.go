package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/strata-db/strata/server"
	"github.com/strata-db/strata/version"
)

// logFlags registers the logging flags and returns a function that builds
// the logger once the flags are parsed.
func logFlags(fs *flag.FlagSet, stderr io.Writer) func() (*slog.Logger, error) {
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logJSON := fs.Bool("log-json", false, "log as JSON lines instead of text")
	return func() (*slog.Logger, error) {
		var level slog.Level
		if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
			return nil, fmt.Errorf("bad --log-level: %w", err)
		}
		opts := &slog.HandlerOptions{Level: level}
		var h slog.Handler = slog.NewTextHandler(stderr, opts)
		if *logJSON {
			h = slog.NewJSONHandler(stderr, opts)
		}
		return slog.New(h), nil
	}
}

// txnFlags registers the load transaction flags of server and fe.
func txnFlags(fs *flag.FlagSet, c *server.TxnConfig) {
	fs.DurationVar(&c.StreamLoadTimeout, "stream-load-default-timeout", 259200*time.Second,
		"how long a stream load without a timeout header may run (stream_load_default_timeout_second)")
	fs.DurationVar(&c.PrecommitTimeout, "stream-load-precommit-timeout", 3600*time.Second,
		"how long a precommitted two-phase load waits for its commit before it is aborted (stream_load_default_precommit_timeout_second)")
	fs.DurationVar(&c.LabelKeep, "label-keep", 43200*time.Second,
		"how long the label of a finished load stays taken (streaming_label_keep_max_second)")
	fs.IntVar(&c.MaxRunningTxnsPerDB, "max-running-txn-num-per-db", 1000,
		"loads of one database that may run at once; more are refused with a retryable error")
}

// storageFlags registers the backend storage flags shared by server and be;
// the page cache limit is parsed after the flags.
func storageFlags(fs *flag.FlagSet, c *server.StorageConfig) *string {
	pageCache := fs.String("storage-page-cache-limit", "20%",
		"memory for decoded segment pages: a share of physical memory (20%) or a size (512M, 4G); 0 turns the cache off")
	fs.IntVar(&c.MaxTabletVersionNum, "max-tablet-version-num", 2000,
		"visible versions a tablet may have; loads into a tablet past it fail with a retryable error (max_tablet_version_num)")
	fs.IntVar(&c.CompactionWorkers, "compaction-workers", 0,
		"compactions that may run at once (0: 1 on machines with up to 2 cores, else a quarter of the cores)")
	fs.IntVar(&c.BaseCompactionWriteMBPerSec, "base-compaction-write-mbytes-per-sec", 64,
		"MiB per second base compactions may write, all together (base_compaction_write_mbytes_per_sec); 0: no limit")
	fs.BoolVar(&c.EnableFailpoints, "enable-failpoints", false, "serve POST /api/debug/failpoints, which arms failpoints (testing only)")
	return pageCache
}

// waitSignal runs until SIGINT or SIGTERM, then closes.
func waitSignal(ctx context.Context, log *slog.Logger, close func() error) int {
	<-ctx.Done()
	log.Info("shutting down")
	start := time.Now()
	if err := close(); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	log.Info("stopped", "took", time.Since(start).Round(time.Millisecond))
	return 0
}

func parse(fs *flag.FlagSet, args []string, name string, stderr io.Writer) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "strata %s: unexpected argument %q\n", name, fs.Arg(0))
		return 2, false
	}
	return 0, true
}

func runFrontend(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("fe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := server.DefaultFrontendConfig()
	etcd := fs.String("etcd", strings.Join(cfg.Etcd, ","), "comma-separated client URLs of the etcd cluster the frontends share")
	fs.StringVar(&cfg.Name, "name", "", "the frontend's name in SHOW FRONTENDS (default host_queryport)")
	fs.StringVar(&cfg.Bind, "bind", cfg.Bind, "address every listener binds to")
	fs.StringVar(&cfg.Host, "host", "", "address other processes reach this frontend at (default: --bind)")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the frontend's files (error logs of the loads it runs)")
	fs.IntVar(&cfg.QueryPort, "query-port", cfg.QueryPort, "MySQL protocol port")
	fs.IntVar(&cfg.HTTPPort, "http-port", cfg.HTTPPort, "HTTP port (stream load redirect, REST API, backend join)")
	fs.IntVar(&cfg.RPCPort, "rpc-port", cfg.RPCPort, "RPC port (transactions and statements forwarded to the leader)")
	fs.IntVar(&cfg.FlightSQLPort, "arrow-flight-sql-port", 8070, "Arrow Flight SQL port (arrow_flight_sql_port); 0 turns it off")
	fs.DurationVar(&cfg.LeaseTTL, "lease-ttl", cfg.LeaseTTL, "how long a frontend that stopped answering keeps its leadership")
	fs.IntVar(&cfg.MaxConnections, "max-connections", cfg.MaxConnections, "MySQL connections at most")
	fs.DurationVar(&cfg.TabletCheckInterval, "tablet-check-interval", server.DefaultCheckInterval,
		"how often the leader compares the replicas with the catalog and schedules repairs")
	fs.DurationVar(&cfg.ReplicaDeadGrace, "replica-dead-grace", server.DefaultDeadGrace,
		"how long a backend may be down before its replicas are made again on other backends")
	fs.BoolVar(&cfg.AllowRemoteRootWithoutPassword, "allow-remote-root-without-password", false,
		"admit root and admin with an empty password from any address, not only from loopback")
	fs.BoolVar(&cfg.EnableFailpoints, "enable-failpoints", false, "serve POST /api/debug/failpoints, which arms failpoints (testing only)")
	txnFlags(fs, &cfg.Txn)
	mysqlTLSFlags(fs, &cfg.MySQLTLS)
	logger := logFlags(fs, stderr)
	if code, ok := parse(fs, args, "fe", stderr); !ok {
		return code
	}
	cfg.Etcd = strings.Split(*etcd, ",")
	log, err := logger()
	if err != nil {
		fmt.Fprintf(stderr, "strata fe: %v\n", err)
		return 2
	}
	cfg.Logger = log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, err := server.StartFrontend(ctx, cfg)
	if err != nil {
		log.Error("start failed", "err", err)
		return 1
	}
	log.Info("strata fe ready", "version", version.Version, "name", cfg.Name, "query_port", cfg.QueryPort,
		"http_port", cfg.HTTPPort, "rpc_port", cfg.RPCPort, "etcd", cfg.Etcd)
	return waitSignal(ctx, log, f.Close)
}

func runBackend(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("be", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := server.DefaultBackendConfig()
	fs.StringVar(&cfg.FE, "fe", cfg.FE, "host:port of a frontend's HTTP port, to join the cluster through")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the backend's tablets")
	fs.StringVar(&cfg.Bind, "bind", cfg.Bind, "address every listener binds to")
	fs.StringVar(&cfg.Host, "host", "", "address other processes reach this backend at (default: --bind); with --rpc-port, what ALTER SYSTEM ADD BACKEND names")
	fs.IntVar(&cfg.HTTPPort, "http-port", cfg.HTTPPort, "HTTP port (stream load)")
	fs.IntVar(&cfg.RPCPort, "rpc-port", cfg.RPCPort, "RPC port (tablet writes, publish, query fragments, clones)")
	fs.DurationVar(&cfg.LeaseTTL, "lease-ttl", cfg.LeaseTTL, "how long a backend that stopped answering counts as alive")
	fs.DurationVar(&cfg.StreamLoadTimeout, "stream-load-default-timeout", 259200*time.Second,
		"how long a stream load without a timeout header may run")
	fs.BoolVar(&cfg.AllowRemoteRootWithoutPassword, "allow-remote-root-without-password", false,
		"admit root and admin with an empty password from any address, not only from loopback")
	pageCache := storageFlags(fs, &cfg.Storage)
	fs.IntVar(&cfg.Storage.CloneMBPerSec, "clone-mbytes-per-sec", 64,
		"MiB per second this backend sends to replicas it repairs, all together; 0: no limit")
	logger := logFlags(fs, stderr)
	if code, ok := parse(fs, args, "be", stderr); !ok {
		return code
	}
	var err error
	if cfg.Storage.PageCacheBytes, err = server.ParseMemLimit(*pageCache); err != nil {
		fmt.Fprintf(stderr, "strata be: bad --storage-page-cache-limit: %v\n", err)
		return 2
	}
	log, err := logger()
	if err != nil {
		fmt.Fprintf(stderr, "strata be: %v\n", err)
		return 2
	}
	cfg.Logger = log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := server.StartBackend(ctx, cfg)
	if err != nil {
		log.Error("start failed", "err", err)
		return 1
	}
	log.Info("strata be ready", "version", version.Version, "backend_id", b.ID(), "http_port", cfg.HTTPPort, "rpc_port", cfg.RPCPort)
	return waitSignal(ctx, log, b.Close)
}
