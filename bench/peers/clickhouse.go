package peers

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// clickhouseSystem is a clickhouse-server (18.16, Debian's package) started
// on free loopback ports with a generated config and its data under dir.
// It is driven through its HTTP interface.
type clickhouseSystem struct {
	bin, dir string

	httpPort int
	proc     *process
	client   *http.Client
}

func newClickHouse(bin, dir string) *clickhouseSystem {
	return &clickhouseSystem{bin: bin, dir: dir, client: &http.Client{Transport: &http.Transport{Proxy: nil}}}
}

// clickhouseConfig is the server config: loopback only, paths under dir,
// no password for default, logging to files.
const clickhouseConfig = `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{{dir}}/server.log</log><errorlog>{{dir}}/error.log</errorlog><console>0</console></logger>
  <http_port>{{http}}</http_port>
  <tcp_port>{{tcp}}</tcp_port>
  <interserver_http_port>{{inter}}</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{{dir}}/data/</path>
  <tmp_path>{{dir}}/tmp/</tmp_path>
  <user_files_path>{{dir}}/user_files/</user_files_path>
  <format_schema_path>{{dir}}/format_schemas/</format_schema_path>
  <mark_cache_size>5368709120</mark_cache_size>
  <max_concurrent_queries>16</max_concurrent_queries>
  <users_config>{{dir}}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
</yandex>
`

const clickhouseUsers = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>16000000000</max_memory_usage><use_uncompressed_cache>0</use_uncompressed_cache></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

func (c *clickhouseSystem) start(ctx context.Context) error {
	cfg := filepath.Join(c.dir, "config.xml")
	if c.httpPort == 0 {
		ports, err := freePorts(3)
		if err != nil {
			return err
		}
		c.httpPort = ports[0]
		r := strings.NewReplacer("{{dir}}", c.dir, "{{http}}", fmt.Sprint(ports[0]),
			"{{tcp}}", fmt.Sprint(ports[1]), "{{inter}}", fmt.Sprint(ports[2]))
		if err := os.MkdirAll(c.dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(cfg, []byte(r.Replace(clickhouseConfig)), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(c.dir, "users.xml"), []byte(clickhouseUsers), 0o644); err != nil {
			return err
		}
	}
	proc, err := startProcess(filepath.Join(c.dir, "stdout.log"), c.bin, "--config-file="+cfg)
	if err != nil {
		return err
	}
	c.proc = proc
	return waitFor(ctx, proc, 60*time.Second, "clickhouse-server", func() error {
		_, err := c.exec(ctx, "SELECT 1", nil, nil)
		return err
	})
}

func (c *clickhouseSystem) stop() error {
	c.proc.stop(30 * time.Second)
	return nil
}

func (c *clickhouseSystem) restart(ctx context.Context) error {
	if err := c.stop(); err != nil {
		return err
	}
	return c.start(ctx)
}

func (c *clickhouseSystem) diskBytes() (int64, error) {
	return dirBytes(filepath.Join(c.dir, "data", "data", "default"))
}

// exec sends query (in the URL when body is set, else as the body) with
// the given settings and returns the response text.
func (c *clickhouseSystem) exec(ctx context.Context, query string, settings url.Values, body io.Reader) (string, error) {
	v := url.Values{}
	for k, s := range settings {
		v[k] = s
	}
	if body != nil {
		v.Set("query", query)
	} else {
		body = strings.NewReader(query)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		fmt.Sprintf("http://127.0.0.1:%d/?%s", c.httpPort, v.Encode()), body)
	if err != nil {
		return "", err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("clickhouse: %s", strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// clickhouseType maps a generic column type: Int32 and Int8 (signed, so
// differences such as revenue - supplycost stay signed), strings of up to
// 15 bytes LowCardinality (18.16 needs the experimental flag), longer ones
// and phone numbers plain String.
func clickhouseType(c column) string {
	switch {
	case c.typ == "INT":
		return "Int32"
	case c.typ == "TINYINT":
		return "Int8"
	}
	var n int
	fmt.Sscanf(c.typ, "VARCHAR(%d)", &n)
	if n <= 15 && !strings.HasSuffix(strings.ToUpper(c.name), "_PHONE") {
		return "LowCardinality(String)"
	}
	return "String"
}

// clickhouseCreateTable returns MergeTree DDL: ORDER BY the sort key and,
// for fact tables, yearly partitions.
func clickhouseCreateTable(t table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (\n", t.name)
	for i, c := range t.cols {
		fmt.Fprintf(&b, "  %s %s", c.name, clickhouseType(c))
		if i < len(t.cols)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(") ENGINE = MergeTree()")
	if t.fact {
		fmt.Fprintf(&b, " PARTITION BY intDiv(%s, 10000)", t.partitionColumn())
	}
	fmt.Fprintf(&b, " ORDER BY (%s)", strings.Join(t.key, ", "))
	return b.String()
}

func (c *clickhouseSystem) load(ctx context.Context, d *dataset, t table) error {
	if _, err := c.exec(ctx, "DROP TABLE IF EXISTS "+t.name, nil, nil); err != nil {
		return err
	}
	lc := url.Values{"allow_experimental_low_cardinality_type": {"1"}}
	if _, err := c.exec(ctx, clickhouseCreateTable(t), lc, nil); err != nil {
		return fmt.Errorf("creating %s: %w", t.name, err)
	}
	settings := url.Values{"format_csv_delimiter": {"|"}}
	for _, path := range d.files[t.name] {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		_, err = c.exec(ctx, "INSERT INTO "+t.name+" FORMAT CSV", settings, bufio.NewReaderSize(f, 1<<20))
		f.Close()
		if err != nil {
			return fmt.Errorf("loading %s: %w", path, err)
		}
	}
	return nil
}

func (c *clickhouseSystem) query(ctx context.Context, text string) (*Result, error) {
	out, err := c.exec(ctx, text+" FORMAT TabSeparated", nil, nil)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		res.Rows = append(res.Rows, strings.Split(line, "\t"))
	}
	return res, nil
}
