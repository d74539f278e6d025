// Package testbin is what the end-to-end and cluster tests share to run
// real strata processes: the binary, built once per test run (with the
// race detector when the tests have it), and a buffer that collects a
// process's output while the test reads it.
package testbin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once    sync.Once
	binPath string
	errB    error
)

// Strata builds cmd/strata once per test binary and returns its path.
// root is the repository root relative to the test's package directory.
func Strata(t *testing.T, root string, race bool) string {
	t.Helper()
	once.Do(func() {
		dir, err := os.MkdirTemp("", "strata-test-bin")
		if err != nil {
			errB = err
			return
		}
		binPath = filepath.Join(dir, "strata")
		args := []string{"build", "-o", binPath}
		if race {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, filepath.Join(root, "cmd", "strata"))...).CombinedOutput()
		if err != nil {
			errB = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if errB != nil {
		t.Fatal(errB)
	}
	return binPath
}

// LockedBuffer collects a process's output, which a goroutine of os/exec
// writes while the test reads it.
type LockedBuffer struct {
	mu sync.Mutex // protects b
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
