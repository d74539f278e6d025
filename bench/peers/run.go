package peers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/strata-db/strata/bench/ssb"
)

// Config is one side-by-side run.
type Config struct {
	SF      float64
	Systems []string // of "strata", "duckdb", "clickhouse"; Strata first if present
	Schemas []string // of "flat", "star"
	Queries []string // query ids; empty means all 13
	Runs    int      // timed hot runs after the warm-up; the best counts
	Cold    bool     // also time one run after a restart and dropping the page cache

	WorkDir       string // temporary data; "" means a new directory under os.TempDir
	Keep          bool   // keep WorkDir afterwards
	OutDir        string // results.md and the SVG charts; "" writes none
	RepoRoot      string // the main module, to build strata; "" means search upwards from the working directory
	StrataBin     string // a prebuilt strata binary; "" builds one
	ClickHouseBin string // "" means clickhouse-server on PATH or /usr/sbin

	Log io.Writer // progress; nil means io.Discard
}

// KnownSystems are the systems the runner can drive, Strata first.
var KnownSystems = []string{"strata", "duckdb", "clickhouse"}

// Run performs the run and returns its report; the report is also written
// to c.OutDir when set. Failures of single queries are part of the report,
// not errors.
func Run(ctx context.Context, c Config) (rep *Report, err error) {
	log := c.Log
	if log == nil {
		log = io.Discard
	}
	if c.Runs < 1 {
		c.Runs = 3
	}
	if len(c.Systems) == 0 || len(c.Schemas) == 0 {
		return nil, errors.New("no systems or no schemas")
	}
	for _, s := range c.Schemas {
		if s != "flat" && s != "star" {
			return nil, fmt.Errorf("unknown schema %q (want flat, star)", s)
		}
	}
	queries, err := selectQueries(c.Queries)
	if err != nil {
		return nil, err
	}
	g, err := ssb.New(c.SF)
	if err != nil {
		return nil, err
	}
	work := c.WorkDir
	if work == "" {
		if work, err = os.MkdirTemp("", "strata-peers-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	if !c.Keep {
		defer os.RemoveAll(work)
	} else {
		defer fmt.Fprintf(log, "kept %s\n", work)
	}

	systems := map[string]system{}
	defer func() {
		for _, s := range systems {
			_ = s.stop()
		}
	}()
	for _, name := range c.Systems {
		var s system
		switch name {
		case "strata":
			bin := c.StrataBin
			if bin == "" {
				if bin, err = buildStrata(ctx, c.RepoRoot, filepath.Join(work, "strata-bin"), log); err != nil {
					return nil, err
				}
			}
			s = newStrata(bin, filepath.Join(work, "strata"), c.SF)
		case "duckdb":
			s = newDuckDB(filepath.Join(work, "duckdb"))
		case "clickhouse":
			bin := c.ClickHouseBin
			if bin == "" {
				if bin, err = findClickHouse(); err != nil {
					return nil, err
				}
			}
			s = newClickHouse(bin, filepath.Join(work, "clickhouse"))
		default:
			return nil, fmt.Errorf("unknown system %q (want %s)", name, strings.Join(KnownSystems, ", "))
		}
		if err := s.start(ctx); err != nil {
			return nil, fmt.Errorf("starting %s: %w", name, err)
		}
		systems[name] = s
		fmt.Fprintf(log, "started %s\n", name)
	}

	dataDir := filepath.Join(work, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	start := time.Now()
	d, err := generate(ctx, g, dataDir, c.Schemas, log)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "generated SF %g: %.0f MB in %.1fs\n", c.SF, float64(d.bytes)/1e6, time.Since(start).Seconds())

	rep = &Report{SF: c.SF, Systems: c.Systems, Load: map[string]time.Duration{}, Size: map[string]int64{}}
	loadFailed := map[string]map[string]string{} // system → table → error
	for _, name := range c.Systems {
		s := systems[name]
		var total time.Duration
		for _, t := range d.tables {
			start := time.Now()
			if err := s.load(ctx, d, t); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				fmt.Fprintf(log, "%s: loading %s: %v\n", name, t.name, err)
				if loadFailed[name] == nil {
					loadFailed[name] = map[string]string{}
				}
				loadFailed[name][t.name] = err.Error()
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s could not load %s: %s", name, t.name, oneLine(err.Error())))
				continue
			}
			el := time.Since(start)
			total += el
			fmt.Fprintf(log, "%s: loaded %s in %.1fs\n", name, t.name, el.Seconds())
		}
		rep.Load[name] = total
		if n, err := s.diskBytes(); err == nil {
			rep.Size[name] = n
		} else {
			fmt.Fprintf(log, "%s: measuring size: %v\n", name, err)
		}
	}
	if err := os.RemoveAll(dataDir); err != nil {
		return nil, err
	}

	var answers map[string]ssb.Answer
	if containsString(c.Schemas, "flat") {
		if answers, err = g.FlatAnswers(ctx, 0); err != nil {
			return nil, err
		}
	}
	for _, schema := range c.Schemas {
		for _, q := range queries {
			m := measure(ctx, c, systems, schema, q, answers, log)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rep.Results = append(rep.Results, m)
		}
	}
	if c.Cold {
		if err := coldRuns(ctx, c, systems, rep, queries, log); err != nil {
			return nil, err
		}
	}
	if c.OutDir != "" {
		if err := writeOutputs(rep, c.OutDir); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// measure runs q on every system: once to check the answers, then c.Runs
// times, interleaved across systems, for systems whose answer was right.
func measure(ctx context.Context, c Config, systems map[string]system, schema string, q ssb.Query,
	answers map[string]ssb.Answer, log io.Writer) Measurement {
	m := Measurement{Query: q.ID, Schema: schema, Hot: map[string]time.Duration{}, Failed: map[string]string{}}
	results := map[string]*Result{}
	for _, name := range c.Systems {
		r, err := systems[name].query(ctx, queryText(name, schema, q))
		if err != nil {
			m.Failed[name] = "error: " + err.Error()
			continue
		}
		results[name] = r
	}
	var want *Result
	if a, ok := answers[q.ID]; ok && schema == "flat" {
		want = &Result{Rows: a.Rows}
	}
	v := judge(results, c.Systems, want)
	for s, why := range v.wrong {
		m.Failed[s] = "wrong answer: " + why
		delete(results, s)
	}
	for s, why := range m.Failed {
		fmt.Fprintf(log, "%s %s %s: %s\n", schema, q.ID, s, oneLine(why))
	}
	for _, r := range results {
		m.Rows = len(r.Rows)
	}
	for range c.Runs {
		for _, name := range c.Systems {
			if _, ok := results[name]; !ok {
				continue
			}
			text := queryText(name, schema, q)
			start := time.Now()
			r, err := systems[name].query(ctx, text)
			el := time.Since(start)
			if err == nil && Diff(r, results[name]) != "" {
				err = errors.New("answer changed between runs")
			}
			if err != nil {
				m.Failed[name] = "error: " + err.Error()
				delete(results, name)
				delete(m.Hot, name)
				continue
			}
			if best, ok := m.Hot[name]; !ok || el < best {
				m.Hot[name] = el
			}
		}
	}
	var parts []string
	for _, name := range c.Systems {
		if d, ok := m.Hot[name]; ok {
			parts = append(parts, fmt.Sprintf("%s %s ms", name, fmtMS(d)))
		}
	}
	fmt.Fprintf(log, "%s %s (%d rows): %s\n", schema, q.ID, m.Rows, strings.Join(parts, ", "))
	return m
}

// coldRuns times, for every query a system answered correctly, one run
// after restarting the system and dropping the OS page cache.
func coldRuns(ctx context.Context, c Config, systems map[string]system, rep *Report, queries []ssb.Query, log io.Writer) error {
	for i := range rep.Results {
		m := &rep.Results[i]
		m.Cold = map[string]time.Duration{}
		q, _ := ssb.QueryByID(m.Query)
		for _, name := range c.Systems {
			if _, ok := m.Hot[name]; !ok {
				continue
			}
			s := systems[name]
			if err := s.restart(ctx); err != nil {
				return fmt.Errorf("restarting %s: %w", name, err)
			}
			if err := dropCaches(); err != nil {
				return err
			}
			start := time.Now()
			_, err := s.query(ctx, queryText(name, m.Schema, q))
			if err != nil {
				fmt.Fprintf(log, "cold %s %s %s: %v\n", m.Schema, m.Query, name, err)
				continue
			}
			m.Cold[name] = time.Since(start)
		}
		fmt.Fprintf(log, "cold %s %s done\n", m.Schema, m.Query)
	}
	return nil
}

// selectQueries resolves query ids ("Q1.1" or "1.1"); none means all.
func selectQueries(ids []string) ([]ssb.Query, error) {
	if len(ids) == 0 {
		return ssb.Queries(), nil
	}
	var qs []ssb.Query
	for _, id := range ids {
		id = strings.ToUpper(strings.TrimSpace(id))
		if !strings.HasPrefix(id, "Q") {
			id = "Q" + id
		}
		q, ok := ssb.QueryByID(id)
		if !ok {
			return nil, fmt.Errorf("unknown query %q (want Q1.1 .. Q4.3)", id)
		}
		qs = append(qs, q)
	}
	return qs, nil
}

// findRepoRoot walks up from dir to the directory whose go.mod declares the
// main module.
func findRepoRoot(dir string) (string, error) {
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/strata-db/strata\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("main module github.com/strata-db/strata not found above the working directory; set -repo")
		}
		dir = parent
	}
}

// buildStrata builds ./cmd/strata of the main module into out.
func buildStrata(ctx context.Context, root, out string, log io.Writer) (string, error) {
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		if root, err = findRepoRoot(wd); err != nil {
			return "", err
		}
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/strata")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building strata in %s: %w: %s", root, err, b)
	}
	fmt.Fprintf(log, "built strata in %.1fs\n", time.Since(start).Seconds())
	return out, nil
}

func findClickHouse() (string, error) {
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/clickhouse-server"); err == nil {
		return "/usr/sbin/clickhouse-server", nil
	}
	return "", errors.New("clickhouse-server not found (apt-get install clickhouse-server)")
}

// writeOutputs writes results.md and ssb-<schema>.svg into dir.
func writeOutputs(rep *Report, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	rep.WriteMarkdown(&b)
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	for _, schema := range rep.schemas() {
		var s strings.Builder
		if err := rep.WriteSVG(&s, schema); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "ssb-"+schema+".svg"), []byte(s.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
