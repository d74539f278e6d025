// Command strata is the single Strata binary.
//
//	strata server    FE + BE + an embedded single-member etcd in one process
//	strata fe        a frontend of a cluster, sharing an external etcd
//	strata be        a backend of a cluster, joining through a frontend
//	strata version   print the version and exit
//
// Every listener binds to 127.0.0.1 unless --bind says otherwise. SIGINT and
// SIGTERM shut the server down cleanly: listeners close first, running loads
// and queries are cancelled, then storage and etcd are closed in reverse order
// of start-up.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof" // served only with --pprof
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/strata-db/strata/server"
	"github.com/strata-db/strata/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "strata %s (mysql protocol %s)\n", version.Version, version.MySQLVersion)
		return 0
	case "server":
		return runServer(args[1:], stderr)
	case "fe":
		return runFrontend(args[1:], stderr)
	case "be":
		return runBackend(args[1:], stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "strata: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: strata <command> [flags]

commands:
  server    run FE, BE and an embedded etcd in one process
  fe        run a frontend of a cluster (--etcd URLS)
  be        run a backend of a cluster (--fe HOST:PORT)
  version   print the version

run "strata <command> -h" for a command's flags.
`)
}

func runServer(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := server.DefaultConfig()
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for all data: etcd, tablets, logs")
	fs.StringVar(&cfg.Bind, "bind", cfg.Bind, "address every listener binds to")
	fs.IntVar(&cfg.QueryPort, "query-port", cfg.QueryPort, "MySQL protocol port")
	fs.IntVar(&cfg.HTTPPort, "http-port", cfg.HTTPPort, "FE HTTP port (stream load redirect, REST API)")
	fs.IntVar(&cfg.BEHTTPPort, "be-http-port", cfg.BEHTTPPort, "BE HTTP port (stream load)")
	fs.IntVar(&cfg.BERPCPort, "be-rpc-port", cfg.BERPCPort, "BE RPC port")
	fs.IntVar(&cfg.FlightSQLPort, "arrow-flight-sql-port", 8070, "Arrow Flight SQL port (arrow_flight_sql_port); 0 turns it off")
	fs.IntVar(&cfg.EtcdClientPort, "etcd-client-port", cfg.EtcdClientPort, "embedded etcd client port")
	fs.IntVar(&cfg.EtcdPeerPort, "etcd-peer-port", cfg.EtcdPeerPort, "embedded etcd peer port")
	fs.StringVar(&cfg.EtcdLogLevel, "etcd-log-level", cfg.EtcdLogLevel, "log level of the embedded etcd (debug, info, warn, error, fatal)")
	fs.BoolVar(&cfg.AllowRemoteRootWithoutPassword, "allow-remote-root-without-password", false,
		"admit root and admin with an empty password from any address, not only from loopback")
	fs.IntVar(&cfg.MaxConnections, "max-connections", cfg.MaxConnections, "MySQL connections at most")
	txnFlags(fs, &cfg.TxnConfig)
	mysqlTLSFlags(fs, &cfg.MySQLTLS)
	pageCache := storageFlags(fs, &cfg.StorageConfig)
	newLogger := logFlags(fs, stderr)
	pprofAddr := fs.String("pprof", "", "serve Go's net/http/pprof profiles on this address (host:port); off when empty")
	if code, ok := parse(fs, args, "server", stderr); !ok {
		return code
	}
	var err error
	if cfg.PageCacheBytes, err = server.ParseMemLimit(*pageCache); err != nil {
		fmt.Fprintf(stderr, "strata server: bad --storage-page-cache-limit: %v\n", err)
		return 2
	}
	if cfg.Logger, err = newLogger(); err != nil {
		fmt.Fprintf(stderr, "strata server: %v\n", err)
		return 2
	}
	logger := cfg.Logger

	if *pprofAddr != "" {
		ln, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			logger.Error("pprof listener", "err", err)
			return 1
		}
		// http.DefaultServeMux carries the handlers net/http/pprof registers.
		go func() { _ = http.Serve(ln, http.DefaultServeMux) }()
		logger.Info("pprof serving", "addr", ln.Addr().String())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	start := time.Now()
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		logger.Error("start failed", "err", err)
		return 1
	}
	logger.Info("strata server ready",
		"version", version.Version,
		"query_port", cfg.QueryPort, "http_port", cfg.HTTPPort, "be_http_port", cfg.BEHTTPPort, "arrow_flight_sql_port", cfg.FlightSQLPort,
		"data_dir", cfg.DataDir, "startup", time.Since(start).Round(time.Millisecond))

	return waitSignal(ctx, logger, srv.Close)
}
