// Package strataload holds the Strata side of the SSB benchmark drivers:
// HTTP stream loads whose body is produced on demand (following the FE's
// redirect to a BE), load plans and labels, and the lineorder_flat DDL. It
// is shared by bench/cmd/ssbflat and the bench/peers module.
package strataload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strata-db/strata/bench/ssb"
)

// LabelRE is the stream-load label format (STREAMLOAD.md §2.2).
var LabelRE = regexp.MustCompile(`^[-_A-Za-z0-9:]{1,128}$`)

// Label returns the label of load number i of a run: unique per run
// (runID) and per load, and valid under LabelRE.
func Label(sf float64, runID string, i int) string {
	s := strings.NewReplacer(".", "_", "+", "_", "-", "_").Replace(strconv.FormatFloat(sf, 'g', -1, 64))
	return fmt.Sprintf("ssb_flat_sf%s_%s_%05d", s, runID, i)
}

// Result is the part of a stream-load response the runner reads.
type Result struct {
	TxnID            int64  `json:"TxnId"`
	Label            string `json:"Label"`
	Status           string `json:"Status"`
	Message          string `json:"Message"`
	NumberTotalRows  int64  `json:"NumberTotalRows"`
	NumberLoadedRows int64  `json:"NumberLoadedRows"`
	LoadBytes        int64  `json:"LoadBytes"`
	LoadTimeMs       int64  `json:"LoadTimeMs"`
	ErrorURL         string `json:"ErrorURL"`
	// FE-level rejections use lower-case keys.
	FEStatus string `json:"status"`
	FEMsg    string `json:"msg"`
}

// OK reports whether the load committed.
func (r *Result) OK() bool { return r.Status == "Success" || r.Status == "Publish Timeout" }

// Loader sends stream loads to one table.
type Loader struct {
	client   *http.Client
	url      string // http://host:port/api/db/table/_stream_load
	user     string
	password string
	header   http.Header // extra headers on every load
}

func New(hostport, db, table, user, password string, header http.Header) *Loader {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		ExpectContinueTimeout: 60 * time.Second,
		MaxIdleConnsPerHost:   4,
		DisableCompression:    true,
	}
	return &Loader{
		client: &http.Client{
			Transport: tr,
			// Redirects are followed by hand: the body is a one-shot stream,
			// and the credentials must go to the BE.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		url:      fmt.Sprintf("http://%s/api/%s/%s/_stream_load", hostport, url.PathEscape(db), url.PathEscape(table)),
		user:     user,
		password: password,
		header:   header,
	}
}

// lazyBody is a request body that starts its producer on the first Read,
// so a load redirected before the body is sent generates nothing.
type lazyBody struct {
	once    sync.Once
	produce func(w io.Writer) error
	pr      *io.PipeReader
	done    chan struct{}
	err     error // producer's error; read after done is closed
}

func newLazyBody(produce func(w io.Writer) error) *lazyBody {
	return &lazyBody{produce: produce, done: make(chan struct{})}
}

func (b *lazyBody) start() {
	b.once.Do(func() {
		pr, pw := io.Pipe()
		b.pr = pr
		go func() {
			defer close(b.done)
			b.err = b.produce(pw)
			pw.CloseWithError(b.err) // nil closes with io.EOF
		}()
	})
}

func (b *lazyBody) Read(p []byte) (int, error) {
	b.start()
	if b.pr == nil { // closed before the first Read
		return 0, errBodyClosed
	}
	return b.pr.Read(p)
}

// Close stops the producer (if started) and waits for it.
func (b *lazyBody) Close() error {
	started := false
	b.once.Do(func() { close(b.done) })
	if b.pr != nil {
		started = true
		b.pr.CloseWithError(errBodyClosed)
	}
	<-b.done
	if started && b.err != nil && !errors.Is(b.err, errBodyClosed) {
		return b.err
	}
	return nil
}

var errBodyClosed = errors.New("request body closed")

// Load sends one stream load whose body produce writes, following at most
// one FE → BE redirect, and returns the parsed response.
func (l *Loader) Load(ctx context.Context, label string, produce func(w io.Writer) error) (*Result, error) {
	target := l.url
	for hop := 0; hop < 3; hop++ {
		body := newLazyBody(produce)
		u, err := url.Parse(target)
		if err != nil {
			return nil, fmt.Errorf("parsing load url %q: %w", target, err)
		}
		user, password := l.user, l.password
		if u.User != nil {
			user = u.User.Username()
			password, _ = u.User.Password()
			u.User = nil
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), body)
		if err != nil {
			return nil, fmt.Errorf("building load request: %w", err)
		}
		req.ContentLength = -1 // chunked
		req.SetBasicAuth(user, password)
		req.Header.Set("Expect", "100-continue")
		req.Header.Set("label", label)
		for k, v := range l.header {
			req.Header[k] = v
		}
		resp, err := l.client.Do(req)
		cerr := body.Close()
		if err != nil {
			if cerr != nil {
				return nil, fmt.Errorf("stream load %s: generating: %w", label, cerr)
			}
			return nil, fmt.Errorf("stream load %s: %w", label, err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("stream load %s: reading response: %w", label, err)
		}
		switch resp.StatusCode {
		case http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound, http.StatusSeeOther:
			loc := resp.Header.Get("Location")
			if loc == "" {
				return nil, fmt.Errorf("stream load %s: redirect without Location", label)
			}
			next, err := u.Parse(loc)
			if err != nil {
				return nil, fmt.Errorf("stream load %s: bad Location %q: %w", label, loc, err)
			}
			target = next.String()
			continue
		case http.StatusOK:
		default:
			return nil, fmt.Errorf("stream load %s: HTTP %s: %s", label, resp.Status, strings.TrimSpace(string(raw)))
		}
		if cerr != nil {
			return nil, fmt.Errorf("stream load %s: generating: %w", label, cerr)
		}
		var r Result
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("stream load %s: parsing response %q: %w", label, raw, err)
		}
		if !r.OK() {
			msg := r.Message
			if r.FEStatus != "" {
				msg = r.FEStatus + ": " + r.FEMsg
			}
			if r.ErrorURL != "" {
				msg += " (errors: " + r.ErrorURL + ")"
			}
			return &r, fmt.Errorf("stream load %s: status %q: %s", label, r.Status, msg)
		}
		return &r, nil
	}
	return nil, fmt.Errorf("stream load %s: too many redirects", label)
}

// Plan splits the generator's chunks into loads of at most about
// rowsPerLoad rows each, as even as possible: [first, n) chunk ranges.
func Plan(totalChunks int64, rowsPerLoad int64) [][2]int64 {
	// A chunk holds OrdersPerChunk orders of 4 lines on average.
	per := max(1, rowsPerLoad/(4*ssb.OrdersPerChunk))
	loads := (totalChunks + per - 1) / per
	per = (totalChunks + loads - 1) / loads
	var plan [][2]int64
	for c := int64(0); c < totalChunks; c += per {
		plan = append(plan, [2]int64{c, min(per, totalChunks-c)})
	}
	return plan
}

// EscapeSeparator spells a separator the way the column_separator header
// expects: \t and \n escaped, other control bytes as \xNN.
func EscapeSeparator(sep string) string {
	var b strings.Builder
	for i := 0; i < len(sep); i++ {
		switch ch := sep[i]; {
		case ch == '\t':
			b.WriteString(`\t`)
		case ch == '\\':
			b.WriteString(`\\`)
		case ch < 0x20 || ch >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, ch)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}
