// Package failpoint holds named points in the code where tests make the
// process fail: crash at once, as kill -9 would, or return an error from
// the call site, a plain one or one that models a full disk. A point is a string name at a call site,
//
//	if err := failpoint.Inject("tabletstore/before-meta-commit"); err != nil {
//		return err
//	}
//
// and costs one atomic load while no point is armed.
//
// Points are armed by the environment variable STRATA_FAILPOINTS, read when
// the process starts, as a list of name=action terms separated by ';':
//
//	STRATA_FAILPOINTS="tabletstore/before-meta-commit=crash;compaction/mid-merge=error"
//
// or at run time by [Handler] (POST /api/debug/failpoints), which a server
// serves only when started with --enable-failpoints. An action is
//
//	crash      the process kills itself with SIGKILL: no deferred function
//	           runs, no buffer is flushed
//	error      Inject returns an error wrapping ErrInjected
//	enospc     Inject returns an error wrapping both syscall.ENOSPC and
//	           ErrInjected, as a write to a full disk would fail ("no
//	           space left on device")
//	off        the point is disarmed
//
// optionally followed by ",count:N": the point passes its first N-1 hits
// and fires on the Nth (an error then fires once; the point is spent).
// Names of points nobody injects are accepted: a point is known only by
// the code that reaches it.
package failpoint

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// EnvVar is the environment variable read at process start.
const EnvVar = "STRATA_FAILPOINTS"

// ErrInjected is wrapped by the errors points armed with "error" or
// "enospc" return.
var ErrInjected = errors.New("failpoint: injected error")

// Action is what an armed point does when it fires.
type Action uint8

const (
	Off Action = iota
	Error
	Crash
	// NoSpace is "enospc": an error wrapping syscall.ENOSPC and ErrInjected.
	NoSpace
)

func (a Action) String() string {
	switch a {
	case Off:
		return "off"
	case Error:
		return "error"
	case Crash:
		return "crash"
	case NoSpace:
		return "enospc"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Spec is how a point is armed.
type Spec struct {
	Action Action
	// Count, when above zero, makes the point fire on its Count-th hit
	// only; zero fires on every hit.
	Count int
}

func (s Spec) String() string {
	if s.Count > 0 {
		return fmt.Sprintf("%s,count:%d", s.Action, s.Count)
	}
	return s.Action.String()
}

// point is an armed point.
type point struct {
	spec Spec
	hits int
}

// anyArmed is true while at least one point is armed: the fast path of
// Inject reads nothing else.
var anyArmed atomic.Bool

var mu sync.Mutex // protects following fields
var points = map[string]*point{}

// crash ends the process; tests of this package replace it.
var crash = func(name string) {
	fmt.Fprintf(os.Stderr, "failpoint %s: crash\n", name)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}

func init() {
	if err := ArmFromString(os.Getenv(EnvVar)); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", EnvVar, err)
		os.Exit(2)
	}
}

// Inject is a failpoint named name. It returns nil unless the point is
// armed and fires: with "error" it then returns an error wrapping
// ErrInjected, with "enospc" one wrapping syscall.ENOSPC as well, with
// "crash" it does not return.
func Inject(name string) error {
	if !anyArmed.Load() {
		return nil
	}
	return inject(name)
}

func inject(name string) error {
	mu.Lock()
	p := points[name]
	if p == nil {
		mu.Unlock()
		return nil
	}
	p.hits++
	fire := p.spec.Count == 0 || p.hits == p.spec.Count
	action := p.spec.Action
	if fire && p.spec.Count > 0 {
		delete(points, name) // spent
		anyArmed.Store(len(points) > 0)
	}
	mu.Unlock()
	if !fire {
		return nil
	}
	switch action {
	case Crash:
		crash(name)
	case NoSpace:
		return fmt.Errorf("failpoint %s: %w (%w)", name, syscall.ENOSPC, ErrInjected)
	}
	return fmt.Errorf("failpoint %s: %w", name, ErrInjected)
}

// Arm arms (or, with action Off, disarms) the point name.
func Arm(name string, s Spec) error {
	if name == "" {
		return errors.New("failpoint: empty name")
	}
	if s.Count < 0 {
		return fmt.Errorf("failpoint %s: negative count %d", name, s.Count)
	}
	mu.Lock()
	defer mu.Unlock()
	if s.Action == Off {
		delete(points, name)
	} else {
		points[name] = &point{spec: s}
	}
	anyArmed.Store(len(points) > 0)
	return nil
}

// DisarmAll disarms every point.
func DisarmAll() {
	mu.Lock()
	defer mu.Unlock()
	clear(points)
	anyArmed.Store(false)
}

// Armed returns the armed points and how.
func Armed() map[string]Spec {
	mu.Lock()
	defer mu.Unlock()
	out := make(map[string]Spec, len(points))
	for name, p := range points {
		out[name] = p.spec
	}
	return out
}

// ParseSpec parses an action: crash, error, enospc or off, optionally
// followed by ",count:N".
func ParseSpec(s string) (Spec, error) {
	act, rest, hasCount := strings.Cut(strings.TrimSpace(s), ",")
	var spec Spec
	switch strings.TrimSpace(act) {
	case "crash":
		spec.Action = Crash
	case "error":
		spec.Action = Error
	case "enospc":
		spec.Action = NoSpace
	case "off":
		spec.Action = Off
	default:
		return Spec{}, fmt.Errorf("failpoint: unknown action %q (want crash, error, enospc or off)", act)
	}
	if hasCount {
		n, ok := strings.CutPrefix(strings.TrimSpace(rest), "count:")
		if !ok {
			return Spec{}, fmt.Errorf("failpoint: bad modifier %q (want count:N)", rest)
		}
		c, err := strconv.Atoi(n)
		if err != nil || c < 1 {
			return Spec{}, fmt.Errorf("failpoint: bad count %q", n)
		}
		spec.Count = c
	}
	return spec, nil
}

// ArmFromString arms the points of a list of name=action terms separated
// by ';', as in STRATA_FAILPOINTS. Nothing is armed when a term is bad.
func ArmFromString(list string) error {
	type term struct {
		name string
		spec Spec
	}
	var terms []term
	for _, t := range strings.Split(list, ";") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		name, act, ok := strings.Cut(t, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return fmt.Errorf("failpoint: bad term %q (want name=action)", t)
		}
		spec, err := ParseSpec(act)
		if err != nil {
			return fmt.Errorf("%w in %q", err, t)
		}
		terms = append(terms, term{name, spec})
	}
	for _, t := range terms {
		if err := Arm(t.name, t.spec); err != nil {
			return err
		}
	}
	return nil
}

// String lists the armed points as STRATA_FAILPOINTS would, by name.
func String() string {
	armed := Armed()
	names := make([]string, 0, len(armed))
	for name := range armed {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, name := range names {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, "%s=%s", name, armed[name])
	}
	return b.String()
}
