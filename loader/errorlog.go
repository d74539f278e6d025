package loader

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Limits of one load's error log.
const (
	maxErrorLogLines   = 10000
	maxErrorLogRawText = 1024
)

// ErrorLogs manages the files that record filtered rows, one file per
// load, under one directory. Files older than the retention are removed.
type ErrorLogs struct {
	dir       string
	retention time.Duration
	now       func() time.Time
	log       *slog.Logger

	mu        sync.Mutex // protects following fields
	lastSweep time.Time
}

// NewErrorLogs returns the error logs kept in dir, creating it.
func NewErrorLogs(dir string, retention time.Duration, now func() time.Time, log *slog.Logger) (*ErrorLogs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating error log directory: %w", err)
	}
	return &ErrorLogs{dir: dir, retention: retention, now: now, log: log}, nil
}

// errorLog is one load's error log, created at its first row.
type errorLog struct {
	logs  *ErrorLogs
	name  string
	f     *os.File
	w     *bufio.Writer
	lines int
	err   error
}

func (l *ErrorLogs) newLog(txnID int64) *errorLog {
	name := fmt.Sprintf("error_log_%d_%s", txnID, strings.ReplaceAll(uuid.NewString(), "-", ""))
	return &errorLog{logs: l, name: name}
}

// add records one filtered row.
func (e *errorLog) add(raw []byte, reason error) {
	if e.err != nil || e.lines >= maxErrorLogLines {
		return
	}
	if e.f == nil {
		e.logs.sweep()
		f, err := os.OpenFile(filepath.Join(e.logs.dir, e.name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			e.err = err
			e.logs.log.Warn("creating load error log", "err", err)
			return
		}
		e.f, e.w = f, bufio.NewWriter(f)
	}
	e.lines++
	fmt.Fprintf(e.w, "Reason: %s. src line [%s]; \n", reason, truncateBytes(raw, maxErrorLogRawText))
}

// close flushes the log; it reports whether a file was written.
func (e *errorLog) close() bool {
	if e.f == nil {
		return false
	}
	err := e.w.Flush()
	if cerr := e.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		e.logs.log.Warn("writing load error log", "file", e.name, "err", err)
	}
	e.f = nil
	return e.err == nil
}

// sweep removes logs older than the retention, at most once a minute.
func (l *ErrorLogs) sweep() {
	now := l.now()
	l.mu.Lock()
	if now.Sub(l.lastSweep) < time.Minute {
		l.mu.Unlock()
		return
	}
	l.lastSweep = now
	l.mu.Unlock()
	l.Sweep()
}

// Sweep removes the logs older than the retention now.
func (l *ErrorLogs) Sweep() {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		l.log.Warn("listing load error logs", "err", err)
		return
	}
	cutoff := l.now().Add(-l.retention)
	for _, de := range ents {
		if !strings.HasPrefix(de.Name(), "error_log_") {
			continue
		}
		info, err := de.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(l.dir, de.Name())); err != nil {
			l.log.Warn("removing load error log", "file", de.Name(), "err", err)
		}
	}
}

func validLogName(name string) bool {
	if !strings.HasPrefix(name, "error_log_") || len(name) > 200 {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ServeHTTP serves GET /api/_load_error_log?file=<name>.
func (l *ErrorLogs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("file")
	if !validLogName(name) {
		http.Error(w, "invalid file name", http.StatusBadRequest)
		return
	}
	f, err := os.Open(filepath.Join(l.dir, name))
	if err != nil {
		http.Error(w, "file not found", http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if _, err := io.Copy(w, f); err != nil {
		l.log.Debug("sending load error log", "file", name, "err", err)
	}
}
