package peers

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-db/strata/bench/ssb"
	"github.com/strata-db/strata/bench/strataload"
)

// dataset is the generated data: for each table its '|'-separated files
// (no trailing separator, '\n' after each row).
type dataset struct {
	dir    string
	tables []table
	files  map[string][]string
	bytes  int64
}

// rowsPerFile is the approximate number of rows per lineorder or
// lineorder_flat file, and so per Strata stream load.
const rowsPerFile = 1_500_000

// generate writes the tables of the selected schemas into dir.
func generate(ctx context.Context, g *ssb.Generator, dir string, schemas []string, log io.Writer) (*dataset, error) {
	d := &dataset{dir: dir, files: map[string][]string{}}
	plan := strataload.Plan(g.LineorderChunks(), rowsPerFile)
	for _, schema := range schemas {
		ts := starTables
		if schema == "flat" {
			ts = []table{flatTable()}
		}
		for _, t := range ts {
			start := time.Now()
			var n int64
			write := func(path string, fn func(w io.Writer) error) error {
				size, err := writeFile(path, fn)
				n += size
				d.files[t.name] = append(d.files[t.name], path)
				return err
			}
			var err error
			switch t.name {
			case "lineorder", "lineorder_flat":
				for i, p := range plan {
					o := ssb.Options{FirstChunk: p[0], Chunks: p[1]}
					path := filepath.Join(dir, fmt.Sprintf("%s.%03d.tbl", t.name, i))
					if t.name == "lineorder" {
						err = write(path, func(w io.Writer) error { return g.WriteLineorder(ctx, &trimWriter{w: w}, o) })
					} else {
						err = write(path, func(w io.Writer) error {
							return g.WriteFlat(ctx, w, ssb.FlatOptions{Options: o, Separator: "|", KeyFirst: true})
						})
					}
					if err != nil {
						break
					}
				}
			default:
				name := t.name
				if name == "dates" {
					name = "date"
				}
				err = write(filepath.Join(dir, t.name+".tbl"), func(w io.Writer) error {
					return g.WriteTable(ctx, name, &trimWriter{w: w}, ssb.FlatOptions{})
				})
			}
			if err != nil {
				return nil, fmt.Errorf("generating %s: %w", t.name, err)
			}
			d.tables = append(d.tables, t)
			d.bytes += n
			fmt.Fprintf(log, "generated %s: %d files, %.0f MB in %.1fs\n", t.name, len(d.files[t.name]),
				float64(n)/1e6, time.Since(start).Seconds())
		}
	}
	return d, nil
}

func writeFile(path string, fn func(w io.Writer) error) (n int64, err error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fn(bw); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// trimWriter drops the '|' dbgen writes before each '\n', so dbgen-form
// rows load into systems that would read it as an extra empty field. Values
// never contain '|'.
type trimWriter struct {
	w       io.Writer
	pending bool // a '|' at the end of the last write, not yet written
	buf     []byte
}

func (t *trimWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	t.buf = t.buf[:0]
	if t.pending {
		if len(p) > 0 && p[0] != '\n' {
			t.buf = append(t.buf, '|')
		}
		t.pending = false
	}
	for i, c := range p {
		if c == '|' && (i+1 < len(p) && p[i+1] == '\n') {
			continue
		}
		if c == '|' && i+1 == len(p) {
			t.pending = true
			continue
		}
		t.buf = append(t.buf, c)
	}
	if _, err := t.w.Write(t.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}
