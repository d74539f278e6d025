package loader

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/gzip"

	"github.com/strata-db/strata/fe/catalog"
)

// Config configures the stream load handlers. Zero fields take the
// defaults noted.
type Config struct {
	// BEHost and BEHTTPPort are where the FE redirects loads and what
	// ErrorURL names.
	BEHost     string
	BEHTTPPort int
	// PickBackend, when set, chooses the backend (host:port of its HTTP
	// port) the FE redirects a load to, instead of BEHost:BEHTTPPort; an
	// error fails the load.
	PickBackend func() (string, error)
	// ErrorLogDir holds the error logs of filtered rows (required).
	ErrorLogDir string
	// ErrorLogRetention is how long error logs are kept (default 3 days).
	ErrorLogRetention time.Duration
	// DefaultTimeout applies to loads without a timeout header (default
	// 259200 s, Doris's stream_load_default_timeout_second).
	DefaultTimeout time.Duration
	// MaxBodyBytes bounds a load body as received (default 10240 MiB).
	MaxBodyBytes int64
	// BatchRows and BatchBytes bound the rows handed to one Load.Write
	// (defaults 65536 rows, 64 MiB).
	BatchRows  int
	BatchBytes int
	Logger     *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// TwoPhaseCommit, when set, serves PUT /api/{db}/_stream_load_2pc and
	// PUT /api/{db}/{table}/_stream_load_2pc on both ports.
	TwoPhaseCommit http.Handler
	// Extra, when set, registers further routes (the FE REST API) on the
	// mux of each port.
	Extra func(mux *http.ServeMux)
	// CompileWhere compiles a load's where header against the columns of
	// Load.Columns(); its error text is returned to the client. When nil,
	// a load with a where header fails before it begins.
	CompileWhere func(cols []catalog.Column, where string) (RowFilter, error)
	// Metrics, when set, counts the stream loads the BE handler runs.
	Metrics *Metrics
}

// RowFilter is a compiled where header. Rows for which it is not TRUE are
// left out of the load and counted in NumberUnselectedRows; they do not
// count against max_filter_ratio.
type RowFilter interface {
	// Select appends to keep the indexes, ascending, of the rows to load
	// and returns the extended slice. cols is one array per column of
	// Load.Columns(), in that order, typed as Column.Type.Arrow() and n rows
	// long; Select neither retains nor releases them. An error fails the
	// load. A RowFilter is called for every batch of one load, from one
	// goroutine.
	Select(cols []arrow.Array, n int, keep []int32) ([]int32, error)
}

func (c *Config) setDefaults() {
	if c.ErrorLogRetention <= 0 {
		c.ErrorLogRetention = 72 * time.Hour
	}
	if c.DefaultTimeout <= 0 {
		c.DefaultTimeout = 259200 * time.Second
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 10240 << 20
	}
	if c.BatchRows <= 0 {
		c.BatchRows = 65536
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 64 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Result is the JSON reply of a stream load; the field order is the wire
// order.
type Result struct {
	TxnID                  int64  `json:"TxnId"`
	Label                  string `json:"Label"`
	Comment                string `json:"Comment"`
	TwoPhaseCommit         string `json:"TwoPhaseCommit"`
	Status                 string `json:"Status"`
	ExistingJobStatus      string `json:"ExistingJobStatus,omitempty"`
	Message                string `json:"Message"`
	NumberTotalRows        int64  `json:"NumberTotalRows"`
	NumberLoadedRows       int64  `json:"NumberLoadedRows"`
	NumberFilteredRows     int64  `json:"NumberFilteredRows"`
	NumberUnselectedRows   int64  `json:"NumberUnselectedRows"`
	LoadBytes              int64  `json:"LoadBytes"`
	LoadTimeMs             int64  `json:"LoadTimeMs"`
	BeginTxnTimeMs         int64  `json:"BeginTxnTimeMs"`
	StreamLoadPutTimeMs    int64  `json:"StreamLoadPutTimeMs"`
	ReadDataTimeMs         int64  `json:"ReadDataTimeMs"`
	WriteDataTimeMs        int64  `json:"WriteDataTimeMs"`
	CommitAndPublishTimeMs int64  `json:"CommitAndPublishTimeMs"`
	ErrorURL               string `json:"ErrorURL,omitempty"`
}

// Load statuses.
const (
	StatusSuccess        = "Success"
	StatusPublishTimeout = "Publish Timeout"
	StatusLabelExists    = "Label Already Exists"
	StatusFail           = "Fail"
)

// Messages fixed by the protocol.
const (
	msgNoAuth             = "no valid Basic authorization"
	msgNoExpect           = "There is no 100-continue header"
	msgFramingNone        = "content_length is empty and transfer-encoding!=chunked, please set content_length or transfer-encoding=chunked"
	msgFramingBoth        = "please do not set both content_length and transfer-encoding"
	msgTooManyFiltered    = "[DATA_QUALITY_ERROR]too many filtered rows"
	msgPublishTimeout     = "transaction commit successfully, BUT data will be visible later"
	errorLogPath          = "/api/_load_error_log"
	feRedirectContentType = "text/html;charset=utf-8"
)

type handlers struct {
	cfg     Config
	backend Backend
	logs    *ErrorLogs
}

// NewHandlers returns the handler for the FE HTTP port, which answers
// stream loads with a 307 to the BE port, and the handler for the BE HTTP
// port, which runs them. Both answer GET / for liveness. The BE server
// must not set ReadTimeout: a load body may pause for minutes; the load
// timeout bounds it instead.
func NewHandlers(backend Backend, cfg Config) (fe, be http.Handler, err error) {
	cfg.setDefaults()
	if cfg.ErrorLogDir == "" {
		return nil, nil, errors.New("loader: ErrorLogDir is required")
	}
	logs, err := NewErrorLogs(cfg.ErrorLogDir, cfg.ErrorLogRetention, cfg.Now, cfg.Logger)
	if err != nil {
		return nil, nil, fmt.Errorf("loader: %w", err)
	}
	logs.Sweep()
	h := &handlers{cfg: cfg, backend: backend, logs: logs}

	feMux := http.NewServeMux()
	feMux.HandleFunc("GET /{$}", alive)
	feMux.HandleFunc("PUT /api/{db}/{table}/_stream_load", h.feStreamLoad)

	beMux := http.NewServeMux()
	beMux.HandleFunc("GET /{$}", alive)
	beMux.HandleFunc("PUT /api/{db}/{table}/_stream_load", h.beStreamLoad)
	beMux.Handle("GET "+errorLogPath, logs)
	if cfg.TwoPhaseCommit != nil {
		for _, mux := range []*http.ServeMux{feMux, beMux} {
			mux.Handle("PUT /api/{db}/_stream_load_2pc", cfg.TwoPhaseCommit)
			mux.Handle("PUT /api/{db}/{table}/_stream_load_2pc", cfg.TwoPhaseCommit)
		}
	}
	if cfg.Extra != nil {
		cfg.Extra(feMux)
		cfg.Extra(beMux)
	}
	return feMux, beMux, nil
}

func alive(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "OK\n")
}

// feFail writes an FE-level rejection.
func feFail(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	b, _ := json.Marshal(struct {
		Status string `json:"status"`
		Msg    string `json:"msg"`
	}{"FAILED", msg})
	_, _ = w.Write(append(b, '\n'))
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// feStreamLoad authenticates and redirects to the BE without reading the
// body.
func (h *handlers) feStreamLoad(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		feFail(w, msgNoAuth)
		return
	}
	if err := h.backend.Authenticate(user, pass, remoteHost(r)); err != nil {
		feFail(w, err.Error())
		return
	}
	if r.Header.Get("Expect") == "" {
		feFail(w, msgNoExpect)
		return
	}
	if r.PathValue("db") == "" {
		feFail(w, "No database selected.")
		return
	}
	if r.PathValue("table") == "" {
		feFail(w, "No table selected.")
		return
	}
	if gc := r.Header.Get("group_commit"); gc != "" {
		switch strings.ToLower(gc) {
		case "sync_mode", "async_mode", "off_mode":
		default:
			feFail(w, "group_commit can only be [async_mode, sync_mode, off_mode]")
			return
		}
	}
	be := net.JoinHostPort(h.cfg.BEHost, strconv.Itoa(h.cfg.BEHTTPPort))
	if h.cfg.PickBackend != nil {
		var err error
		if be, err = h.cfg.PickBackend(); err != nil {
			feFail(w, err.Error())
			return
		}
	}
	loc := url.URL{
		Scheme:  "http",
		User:    url.UserPassword(user, pass),
		Host:    be,
		Path:    r.URL.Path,
		RawPath: r.URL.RawPath,
	}
	target := loc.String()
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", target)
	w.Header().Set("Content-Type", feRedirectContentType)
	w.WriteHeader(http.StatusTemporaryRedirect)
}

func writeResult(w http.ResponseWriter, res *Result) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	_ = enc.Encode(res) // a client that went away gets nothing
}

// beStreamLoad runs one stream load.
func (h *handlers) beStreamLoad(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.Now()
	res := &Result{TxnID: -1, Label: r.Header.Get("label"), Comment: r.Header.Get("comment"), TwoPhaseCommit: "false", Status: StatusFail}
	if r.Header.Get("two_phase_commit") == "true" {
		res.TwoPhaseCommit = "true"
	}
	defer h.cfg.Metrics.track(res)() // runs last, once res is final
	defer func() {
		res.LoadTimeMs = h.cfg.Now().Sub(start).Milliseconds()
		writeResult(w, res)
	}()
	h.runLoad(w, r, res, start)
}

// runLoad fills res; the caller writes it.
func (h *handlers) runLoad(w http.ResponseWriter, r *http.Request, res *Result, start time.Time) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		res.Message = msgNoAuth
		return
	}
	if err := h.backend.Authenticate(user, pass, remoteHost(r)); err != nil {
		res.Message = err.Error()
		return
	}
	opts, err := ParseLoadOptions(r.Header)
	if err != nil {
		res.Message = err.Error()
		return
	}
	res.Label = opts.Label
	chunked := len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked"
	hasLength := r.Header.Get("Content-Length") != ""
	switch {
	case chunked && hasLength:
		res.Message = msgFramingBoth
		return
	case !chunked && !hasLength:
		res.Message = msgFramingNone
		return
	case hasLength && r.ContentLength > h.cfg.MaxBodyBytes:
		res.Message = fmt.Sprintf("The size of this load(%d) exceeds the max size(%d). Split the data or raise streaming_load_max_mb", r.ContentLength, h.cfg.MaxBodyBytes)
		return
	}
	if opts.Where != "" && h.cfg.CompileWhere == nil {
		res.Message = "where is " + errNotSupported.Error()
		return
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = h.cfg.DefaultTimeout
	}
	deadline := start.Add(timeout)
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()

	beginStart := h.cfg.Now()
	load, err := h.backend.Begin(ctx, BeginRequest{
		DB: r.PathValue("db"), Table: r.PathValue("table"), Label: opts.Label,
		TwoPhaseCommit: opts.TwoPhaseCommit, Timeout: timeout, User: user, Host: remoteHost(r), CheckPrivilege: true,
	})
	res.BeginTxnTimeMs = h.cfg.Now().Sub(beginStart).Milliseconds()
	if err != nil {
		var le *LabelExistsError
		if errors.As(err, &le) {
			res.Status = StatusLabelExists
			res.ExistingJobStatus = le.ExistingStatus
			res.Message = fmt.Sprintf("errCode = 2, detailMessage = Label [%s] has already been used, relate to txn [%d]", opts.Label, le.TxnID)
			return
		}
		res.Message = err.Error()
		return
	}
	res.TxnID = load.TxnID()
	abort := func(reason string) {
		actx, acancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer acancel()
		if err := load.Abort(actx, reason); err != nil {
			h.cfg.Logger.Warn("aborting stream load", "label", opts.Label, "txn", res.TxnID, "err", err)
		}
	}

	var filter RowFilter
	if opts.Where != "" {
		// Like a plan error, a bad where fails the load before its body is
		// read.
		if filter, err = h.cfg.CompileWhere(load.Columns(), opts.Where); err != nil {
			res.Message = fmt.Sprintf("invalid where %q: %v", opts.Where, err)
			abort(res.Message)
			return
		}
	}

	uh, err := newUniqueHeaders(r.PathValue("table"), load.Columns(), opts, h.cfg.CompileWhere)
	if err != nil {
		res.Message = err.Error()
		abort(res.Message)
		return
	}

	if opts.UniqueKeyUpdateMode == "UPDATE_FIXED_COLUMNS" {
		if err := planPartial(load, opts, uh); err != nil {
			res.Message = err.Error()
			abort(res.Message)
			return
		}
	}

	// The load timeout, not a server timeout, bounds the body.
	_ = http.NewResponseController(w).SetReadDeadline(deadline)

	elog := h.logs.newLog(res.TxnID)
	stats, err := h.readBody(ctx, r, opts, load, filter, uh, elog, res)
	wroteLog := elog.close()
	if wroteLog {
		res.ErrorURL = fmt.Sprintf("http://%s%s?file=%s", net.JoinHostPort(h.cfg.BEHost, strconv.Itoa(h.cfg.BEHTTPPort)), errorLogPath, elog.name)
	}
	res.NumberTotalRows = stats.total
	res.NumberFilteredRows = stats.filtered
	res.NumberUnselectedRows = stats.unselected
	res.NumberLoadedRows = stats.total - stats.filtered - stats.unselected
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("[TIMEOUT]stream load timed out after %s: %w", timeout, err)
		}
		res.Message = err.Error()
		res.NumberLoadedRows = 0
		abort(res.Message)
		return
	}
	// Doris's ratio: unselected rows are neither errors nor candidates.
	selected := stats.total - stats.unselected
	if stats.filtered > 0 && selected > 0 && float64(stats.filtered)/float64(selected) > opts.MaxFilterRatio {
		res.Message = msgTooManyFiltered
		abort(msgTooManyFiltered)
		return
	}
	commitStart := h.cfg.Now()
	publishTimeout, err := load.Commit(ctx)
	if !opts.TwoPhaseCommit {
		res.CommitAndPublishTimeMs = h.cfg.Now().Sub(commitStart).Milliseconds()
	}
	if err != nil {
		res.Message = err.Error()
		abort(res.Message)
		return
	}
	if publishTimeout {
		res.Status = StatusPublishTimeout
		res.Message = msgPublishTimeout
		return
	}
	res.Status = StatusSuccess
	res.Message = "OK"
}

// planPartial makes a load of fixed columns a partial update (see
// PlanPartialUpdate), unless it gives every column.
func planPartial(load Load, opts *LoadOptions, uh *uniqueHeaders) error {
	t := load.Table()
	var listed []int
	for i, c := range t.Schema.Columns {
		if opts.Columns == nil && !isHiddenName(c.Name) {
			listed = append(listed, i) // no columns header: every column
		}
	}
	for _, name := range opts.Columns {
		if i, c := t.Schema.ColumnByName(name); c != nil {
			listed = append(listed, i)
		}
	}
	p, err := PlanPartialUpdate(t, listed, uh != nil && uh.seqSrc >= 0, opts.MergeType != "APPEND", opts.NewKeyError)
	if err != nil || p == nil {
		return err
	}
	opts.partial = p
	return load.SetPartialUpdate(p)
}

// bodyStats counts the rows of a body: total were read, filtered failed
// conversion, unselected were left out by the where filter.
type bodyStats struct{ total, filtered, unselected int64 }

// countingReader counts bytes read and enforces the body limit.
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return n, fmt.Errorf("the load body exceeds the max size %d bytes", c.limit)
	}
	return n, err
}

// readBody streams the body through the parser, and the filter when not
// nil, into the load.
func (h *handlers) readBody(ctx context.Context, r *http.Request, opts *LoadOptions, load Load, filter RowFilter, uh *uniqueHeaders, elog *errorLog, res *Result) (bodyStats, error) {
	cols := load.Columns()
	cr := &countingReader{r: r.Body, limit: h.cfg.MaxBodyBytes}
	defer func() { res.LoadBytes = cr.n }()
	src, err := newSource(cr, opts, cols, elog.add)
	if err != nil {
		return bodyStats{}, err
	}
	bb, err := NewBatchBuilder(cols, h.cfg.Now())
	if err != nil {
		return bodyStats{}, err
	}
	if p := opts.partial; p != nil {
		// The columns a partial update leaves out are filled from the rows
		// it updates.
		for i := range cols {
			if !slices.Contains(p.Columns, i) {
				bb.Placeholder(i)
			}
		}
	}
	sel := rowSelector{filter: filter}
	stats := func() bodyStats {
		t, f := src.Stats()
		return bodyStats{t, f, sel.unselected}
	}
	var readDur, writeDur time.Duration
	defer func() {
		res.ReadDataTimeMs = readDur.Milliseconds()
		res.WriteDataTimeMs = writeDur.Milliseconds()
	}()
	for {
		t0 := h.cfg.Now()
		ferr := src.Fill(bb, h.cfg.BatchRows, h.cfg.BatchBytes)
		t1 := h.cfg.Now()
		readDur += t1.Sub(t0)
		if ferr != nil && !errors.Is(ferr, io.EOF) {
			return stats(), ferr
		}
		if bb.Len() > 0 {
			arrs, err := sel.apply(ctx, bb.Build())
			if err != nil {
				return stats(), err
			}
			if arrs != nil && uh != nil {
				if err := uh.apply(ctx, arrs); err != nil {
					releaseAll(arrs)
					return stats(), err
				}
			}
			if arrs != nil {
				err = load.Write(ctx, arrs)
				releaseAll(arrs)
			}
			writeDur += h.cfg.Now().Sub(t1)
			if err != nil {
				return stats(), fmt.Errorf("writing rows: %w", err)
			}
		}
		if ferr != nil {
			return stats(), nil
		}
		if err := ctx.Err(); err != nil {
			return stats(), err
		}
	}
}

// rowSelector applies a where filter to built batches and counts the rows
// it leaves out.
type rowSelector struct {
	filter     RowFilter // nil: every row is selected
	keep       []int32   // reused between batches
	unselected int64
}

// apply takes ownership of arrs, a built batch, and returns the selected
// rows, which the caller must release: arrs itself when all are selected,
// nil when none is.
func (s *rowSelector) apply(ctx context.Context, arrs []arrow.Array) ([]arrow.Array, error) {
	if s.filter == nil {
		return arrs, nil
	}
	n := arrs[0].Len()
	keep, err := s.filter.Select(arrs, n, s.keep[:0])
	if err != nil {
		releaseAll(arrs)
		return nil, fmt.Errorf("filtering rows by where: %w", err)
	}
	s.keep = keep
	s.unselected += int64(n - len(keep))
	switch len(keep) {
	case n:
		return arrs, nil
	case 0:
		releaseAll(arrs)
		return nil, nil
	}
	out, err := takeRows(ctx, arrs, keep)
	releaseAll(arrs)
	return out, err
}

// takeRows gathers the given rows of every column into new arrays.
func takeRows(ctx context.Context, cols []arrow.Array, rows []int32) ([]arrow.Array, error) {
	b := array.NewInt32Builder(memory.DefaultAllocator)
	b.AppendValues(rows, nil)
	idx := b.NewArray()
	b.Release()
	defer idx.Release()
	out := make([]arrow.Array, len(cols))
	for i, c := range cols {
		a, err := compute.TakeArray(ctx, c, idx)
		if err != nil {
			releaseAll(out[:i])
			return nil, fmt.Errorf("selecting rows: %w", err)
		}
		out[i] = a
	}
	return out, nil
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

// emptySource is the source of an empty body.
type emptySource struct{}

func (emptySource) Fill(*BatchBuilder, int, int) error { return io.EOF }
func (emptySource) Stats() (int64, int64)              { return 0, 0 }

// newSource opens the body: decompression, then the parser of the format
// with the column mapping of the options.
func newSource(body io.Reader, opts *LoadOptions, cols []catalog.Column, onError RowErrorFunc) (RowSource, error) {
	csvMap, jsonIdx, err := PlanColumns(cols, opts)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(body, 64<<10)
	if _, err := br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return emptySource{}, nil
		}
		return nil, fmt.Errorf("reading body: %w", err)
	}
	var in io.Reader = br
	if opts.Compress == CompressGzip {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("opening gzip body: %w", err)
		}
		in = zr
	}
	if opts.Format == FormatJSON {
		return NewJSONSource(in, opts, jsonIdx, onError), nil
	}
	return NewCSVSource(in, opts, csvMap, cols, onError), nil
}

// isHiddenName reports whether a column name is one of Doris's hidden
// columns (__DORIS_DELETE_SIGN__, __DORIS_SEQUENCE_COL__, ...).
func isHiddenName(name string) bool {
	return len(name) > 8 && strings.EqualFold(name[:8], "__DORIS_")
}

// PlanColumns maps the body to the table columns: for CSV the column of
// each field (-1: skip), for JSON lower-case key -> column.
//
// With a columns header its names are the targets (hidden columns the
// table lacks are skipped; other unknown names are an error). Without it,
// CSV fields are the visible columns in order followed by those of
// hidden_columns the table has, and JSON keys are all columns. A CSV load
// that leaves out a NOT NULL column without a default is an error.
func PlanColumns(cols []catalog.Column, opts *LoadOptions) ([]int, map[string]int, error) {
	find := func(name string) int {
		for i := range cols {
			if strings.EqualFold(cols[i].Name, name) {
				return i
			}
		}
		return -1
	}
	var csvMap []int
	jsonIdx := make(map[string]int, len(cols))
	if opts.Columns != nil {
		for _, name := range opts.Columns {
			i := find(name)
			if i < 0 && !isHiddenName(name) {
				return nil, nil, fmt.Errorf("Unknown column '%s' in table", name)
			}
			csvMap = append(csvMap, i)
			if i >= 0 {
				jsonIdx[strings.ToLower(cols[i].Name)] = i
			}
		}
	} else {
		for i := range cols {
			if !isHiddenName(cols[i].Name) {
				csvMap = append(csvMap, i)
			}
			jsonIdx[strings.ToLower(cols[i].Name)] = i
		}
		for _, name := range opts.HiddenColumns {
			if i := find(name); i >= 0 {
				csvMap = append(csvMap, i)
			}
		}
	}
	if opts.Format != FormatJSON && opts.partial == nil {
		used := make([]bool, len(cols))
		for _, i := range csvMap {
			if i >= 0 {
				used[i] = true
			}
		}
		for i, c := range cols {
			if !used[i] && !c.Nullable && c.Default == nil {
				return nil, nil, fmt.Errorf("Column has no default value. column: %s", c.Name)
			}
		}
	}
	return csvMap, jsonIdx, nil
}
