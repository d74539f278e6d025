package peers

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/go-sql-driver/mysql" // Strata speaks the MySQL protocol

	"github.com/strata-db/strata/bench/strataload"
)

// strataSystem is a strata server started from bin on free loopback ports
// with a data directory under dir.
type strataSystem struct {
	bin, dir string
	sf       float64

	ports []int // query, http, be-http, be-rpc, etcd client, etcd peer
	proc  *process
	db    *sql.DB
}

func newStrata(bin, dir string, sf float64) *strataSystem {
	return &strataSystem{bin: bin, dir: dir, sf: sf}
}

func (s *strataSystem) dataDir() string { return filepath.Join(s.dir, "data") }

func (s *strataSystem) start(ctx context.Context) error {
	if s.ports == nil {
		ports, err := freePorts(6)
		if err != nil {
			return err
		}
		s.ports = ports
		if err := os.MkdirAll(s.dataDir(), 0o755); err != nil {
			return err
		}
	}
	p := s.ports
	proc, err := startProcess(filepath.Join(s.dir, "server.log"), s.bin, "server", "--data-dir", s.dataDir(),
		"--query-port", strconv.Itoa(p[0]), "--http-port", strconv.Itoa(p[1]),
		"--be-http-port", strconv.Itoa(p[2]), "--be-rpc-port", strconv.Itoa(p[3]),
		"--etcd-client-port", strconv.Itoa(p[4]), "--etcd-peer-port", strconv.Itoa(p[5]), "--arrow-flight-sql-port", "0")
	if err != nil {
		return err
	}
	s.proc = proc
	root, err := sql.Open("mysql", fmt.Sprintf("root:@tcp(127.0.0.1:%d)/?timeout=5s", p[0]))
	if err != nil {
		return err
	}
	defer root.Close()
	err = waitFor(ctx, proc, 120*time.Second, "strata", func() error {
		_, err := root.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS ssb")
		return err
	})
	if err != nil {
		return fmt.Errorf("%w (log: %s)", err, filepath.Join(s.dir, "server.log"))
	}
	db, err := sql.Open("mysql", fmt.Sprintf("root:@tcp(127.0.0.1:%d)/ssb?timeout=10s", p[0]))
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(2)
	s.db = db
	return nil
}

func (s *strataSystem) stop() error {
	if s.db != nil {
		s.db.Close()
		s.db = nil
	}
	s.proc.stop(20 * time.Second)
	return nil
}

func (s *strataSystem) restart(ctx context.Context) error {
	if err := s.stop(); err != nil {
		return err
	}
	return s.start(ctx)
}

// diskBytes is the size of the BE's storage; the FE's etcd metadata (about
// 120 MB of mostly preallocated WAL whatever the data) is left out.
func (s *strataSystem) diskBytes() (int64, error) {
	be := filepath.Join(s.dataDir(), "be")
	if _, err := os.Stat(be); err == nil {
		return dirBytes(be)
	}
	return dirBytes(s.dataDir())
}

// strataCreateTable returns Strata's DDL for t: DUPLICATE KEY on the sort key,
// yearly RANGE partitions and 8 hash buckets for the fact tables, one
// bucket for the dimensions.
func strataCreateTable(t table) string {
	if t.name == "lineorder_flat" {
		var names []string
		for _, c := range t.cols {
			names = append(names, c.name)
		}
		return strataload.CreateFlatTable(names, 8, false)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (\n", t.name)
	for i, c := range t.cols {
		fmt.Fprintf(&b, "  %s %s NOT NULL", c.name, c.typ)
		if i < len(t.cols)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, ")\nDUPLICATE KEY(%s)\n", strings.Join(t.key, ", "))
	buckets := 1
	if t.fact {
		buckets = 8
		fmt.Fprintf(&b, "PARTITION BY RANGE(%s) (\n", t.partitionColumn())
		for y := 1992; y <= 1998; y++ {
			fmt.Fprintf(&b, "  PARTITION p%d VALUES LESS THAN (%d0101)", y, y+1)
			if y < 1998 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(")\n")
	}
	fmt.Fprintf(&b, "DISTRIBUTED BY HASH(%s) BUCKETS %d\nPROPERTIES (\"replication_num\" = \"1\")", t.key[0], buckets)
	return b.String()
}

// loadParallel is the number of stream loads in flight.
const loadParallel = 2

func (s *strataSystem) load(ctx context.Context, d *dataset, t table) error {
	if _, err := s.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+t.name); err != nil {
		return fmt.Errorf("dropping %s: %w", t.name, err)
	}
	if _, err := s.db.ExecContext(ctx, strataCreateTable(t)); err != nil {
		return fmt.Errorf("creating %s: %w", t.name, err)
	}
	hdr := http.Header{}
	hdr.Set("column_separator", "|")
	hdr.Set("format", "csv")
	hdr.Set("timeout", "3600")
	loader := strataload.New(fmt.Sprintf("127.0.0.1:%d", s.ports[1]), "ssb", t.name, "root", "", hdr)
	var rb [4]byte
	_, _ = rand.Read(rb[:])
	runID := t.name + "_" + time.Now().UTC().Format("150405") + "_" + hex.EncodeToString(rb[:])

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex // protects following fields
		loaded int64
		first  error
	)
	sem := make(chan struct{}, loadParallel)
	for i, path := range d.files[t.name] {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r, err := loader.Load(ctx, strataload.Label(s.sf, runID, i), func(w io.Writer) error {
				f, err := os.Open(path)
				if err != nil {
					return err
				}
				defer f.Close()
				_, err = io.Copy(w, f)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			if r != nil {
				loaded += r.NumberLoadedRows
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t.name).Scan(&n); err != nil {
		return fmt.Errorf("counting %s: %w", t.name, err)
	}
	if n != loaded {
		return fmt.Errorf("%s holds %d rows, loaded %d", t.name, n, loaded)
	}
	return nil
}

func (s *strataSystem) query(ctx context.Context, text string) (*Result, error) {
	rows, err := s.db.QueryContext(ctx, text)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	res := &Result{}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = string(v)
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}
