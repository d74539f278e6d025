package peers

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

// duckdbSystem is DuckDB in this process, on a database file under dir.
type duckdbSystem struct {
	dir string
	db  *sql.DB
}

func newDuckDB(dir string) *duckdbSystem { return &duckdbSystem{dir: dir} }

func (s *duckdbSystem) path() string { return filepath.Join(s.dir, "ssb.duckdb") }

func (s *duckdbSystem) start(ctx context.Context) error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	db, err := sql.Open("duckdb", s.path())
	if err != nil {
		return fmt.Errorf("opening duckdb: %w", err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("opening duckdb: %w", err)
	}
	s.db = db
	return nil
}

func (s *duckdbSystem) stop() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

func (s *duckdbSystem) restart(ctx context.Context) error {
	if err := s.stop(); err != nil {
		return err
	}
	return s.start(ctx)
}

func (s *duckdbSystem) diskBytes() (int64, error) {
	if _, err := s.db.Exec("CHECKPOINT"); err != nil {
		return 0, err
	}
	var n int64
	for _, p := range []string{s.path(), s.path() + ".wal"} {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n, nil
}

// duckdbType maps a generic column type. LO_EXTENDEDPRICE is BIGINT
// because DuckDB keeps INTEGER × TINYINT in INTEGER and Q1.x's
// extendedprice × discount overflows it; the other systems widen.
func duckdbType(c column) string {
	if strings.EqualFold(c.name, "lo_extendedprice") {
		return "BIGINT"
	}
	switch c.typ {
	case "INT":
		return "INTEGER"
	case "TINYINT":
		return "TINYINT"
	}
	return "VARCHAR"
}

func duckdbCreateTable(t table) string {
	var parts []string
	for _, c := range t.cols {
		parts = append(parts, c.name+" "+duckdbType(c)+" NOT NULL")
	}
	return fmt.Sprintf("CREATE TABLE %s (%s)", t.name, strings.Join(parts, ", "))
}

func (s *duckdbSystem) load(ctx context.Context, d *dataset, t table) error {
	if _, err := s.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+t.name); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, duckdbCreateTable(t)); err != nil {
		return fmt.Errorf("creating %s: %w", t.name, err)
	}
	for _, path := range d.files[t.name] {
		q := fmt.Sprintf("COPY %s FROM '%s' (DELIMITER '|', HEADER false)", t.name, strings.ReplaceAll(path, "'", "''"))
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("loading %s: %w", path, err)
		}
	}
	_, err := s.db.ExecContext(ctx, "CHECKPOINT")
	return err
}

func (s *duckdbSystem) query(ctx context.Context, text string) (*Result, error) {
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
	vals := make([]any, len(cols))
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
			row[i] = formatValue(v)
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}
