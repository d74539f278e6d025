// Package metatest starts an embedded etcd for tests: random free loopback
// ports, a temporary data directory, no fsync.
package metatest

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/strata-db/strata/fe/meta"
)

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("metatest: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Config returns an embedded etcd config for dir on fresh free ports.
func Config(dir string) (meta.EmbeddedConfig, error) {
	cp, err := FreePort()
	if err != nil {
		return meta.EmbeddedConfig{}, err
	}
	pp, err := FreePort()
	if err != nil {
		return meta.EmbeddedConfig{}, err
	}
	return meta.EmbeddedConfig{DataDir: dir, ClientPort: cp, PeerPort: pp, UnsafeNoFsync: true, LogLevel: "fatal"}, nil
}

// Start starts an embedded etcd with its data in dir. The caller closes it.
func Start(dir string) (*meta.Embedded, error) {
	var lastErr error
	for range 3 { // a port may be taken between FreePort and bind
		cfg, err := Config(dir)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		e, err := meta.StartEmbedded(ctx, cfg)
		cancel()
		if err == nil {
			return e, nil
		}
		lastErr = err
	}
	return nil, lastErr
}
