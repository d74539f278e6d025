package rpc

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultMaxMessageSize bounds one gRPC message, in both directions, on
// servers and clients: 256 MiB. gRPC's own default (4 MiB receive) is far
// below one 64K-row record batch with wide string columns. A message over
// the limit fails its call with [CodeResourceExhausted].
const DefaultMaxMessageSize = 256 << 20

// DefaultStopTimeout is how long [Server.Stop] waits for calls in flight
// before it cancels them: long enough for a publish or a short fragment to
// finish, short enough that a stuck stream does not hold up a shutdown.
const DefaultStopTimeout = 10 * time.Second

// Option configures a [Server] or a [Client]. Each option says which of the
// two it applies to; the other ignores it.
type Option func(*config)

type config struct {
	mem         memory.Allocator
	maxMsgSize  int
	stopTimeout time.Duration
}

func newConfig(opts []Option) config {
	cfg := config{
		mem:         memory.DefaultAllocator,
		maxMsgSize:  DefaultMaxMessageSize,
		stopTimeout: DefaultStopTimeout,
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// WithAllocator sets the allocator the IPC readers and writers use (server
// and client). Tests pass a memory.CheckedAllocator.
func WithAllocator(mem memory.Allocator) Option {
	return func(c *config) {
		if mem != nil {
			c.mem = mem
		}
	}
}

// WithMaxMessageSize sets the largest gRPC message sent or received, in
// bytes (server and client; default [DefaultMaxMessageSize]).
func WithMaxMessageSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxMsgSize = n
		}
	}
}

// WithStopTimeout sets how long [Server.Stop] waits for calls in flight
// before cancelling them (server only; default [DefaultStopTimeout]).
func WithStopTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.stopTimeout = d
		}
	}
}
