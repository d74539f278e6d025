package mysqlproto

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/types"
)

// fakeHandler admits root without a password and alice with "secret".
type fakeHandler struct {
	mu       sync.Mutex
	lastArgs []any
	sessions int
	closed   int
}

func (h *fakeHandler) Authenticate(user, host string, cred Credentials) error {
	switch {
	case user == "root" && cred.Match(nil):
		return nil
	case user == "alice" && cred.Match(NativeHash("secret")):
		return nil
	case user == "boom":
		panic("authenticate exploded")
	}
	return errors.New("no")
}

func (h *fakeHandler) NewSession(connID uint32, user, host, db string) (Session, error) {
	if db != "" && db != "db1" && db != "test" {
		return nil, NewError(ER_BAD_DB_ERROR, "Unknown database '%s'", db)
	}
	h.mu.Lock()
	h.sessions++
	h.mu.Unlock()
	return &fakeSession{h: h, id: connID, user: user, db: db}, nil
}

type fakeSession struct {
	h    *fakeHandler
	id   uint32
	user string
	db   string
	info ConnInfo
}

func (s *fakeSession) SetConnInfo(info ConnInfo) { s.info = info }

// connInfoText is what "select conninfo" returns: "plain" or the TLS
// version and cipher, then the authentication plugin.
func (s *fakeSession) connInfoText() string {
	t := "plain"
	if s.info.TLS {
		t = tls.VersionName(s.info.TLSVersion) + " " + tls.CipherSuiteName(s.info.CipherSuite)
	}
	return t + " " + s.info.AuthPlugin
}

// typeFields covers every column type.
var typeFields = []Field{
	{Name: "b", Type: types.Boolean, Nullable: true},
	{Name: "ti", Type: types.TinyInt, Nullable: true},
	{Name: "si", Type: types.SmallInt, Nullable: true},
	{Name: "i", Type: types.Int, Nullable: true},
	{Name: "bi", Type: types.BigInt, Nullable: true},
	{Name: "li", Type: types.LargeInt, Nullable: true},
	{Name: "f", Type: types.Float, Nullable: true},
	{Name: "d", Type: types.Double, Nullable: true},
	{Name: "dec", Type: types.Decimal(10, 2), Nullable: true},
	{Name: "dt", Type: types.Date, Nullable: true},
	{Name: "dtm", Type: types.DateTime(0), Nullable: true},
	{Name: "dtm6", Type: types.DateTime(6), Nullable: true},
	{Name: "c", Type: types.Char(5), Nullable: true},
	{Name: "vc", Type: types.Varchar(20), Nullable: true},
	{Name: "s", Type: types.String, Nullable: false, OrgName: "s_col", Table: "t", OrgTable: "t_org", Schema: "db1"},
}

var typeRow = []any{true, int64(127), int64(-32768), int64(2147483647), int64(-9223372036854775808),
	"170141183460469231731687303715884105727", float32(0.1), 1e20, "-12.5",
	time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "2024-02-29 13:14:15",
	time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC), "ab", "héllo", "long text"}

// typeText is typeRow as the text protocol sends it.
var typeText = []string{"1", "127", "-32768", "2147483647", "-9223372036854775808",
	"170141183460469231731687303715884105727", "0.1", "1e+20", "-12.50", "2024-02-29", "2024-02-29 13:14:15",
	"2024-02-29 13:14:15.123456", "ab", "héllo", "long text"}

func typesResult() *Result {
	nulls := make([]any, len(typeFields))
	nulls[len(nulls)-1] = ""
	return NewRowsResult(typeFields, [][]any{typeRow, nulls})
}

func (s *fakeSession) Query(ctx context.Context, sql string) ([]*Result, error) {
	var out []*Result
	for _, st := range strings.Split(sql, ";") {
		st = strings.TrimSpace(st)
		if st == "" {
			continue
		}
		r, err := s.run(st)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *fakeSession) run(st string) (*Result, error) {
	low := strings.ToLower(st)
	switch {
	case low == "select types":
		return typesResult(), nil
	case low == "select @@version_comment limit 1":
		return NewRowsResult([]Field{{Name: "@@version_comment", Type: types.Varchar(64)}}, [][]any{{"Strata test"}}), nil
	case low == "select database()":
		return NewRowsResult([]Field{{Name: "DATABASE()", Type: types.Varchar(64), Nullable: true}}, [][]any{{s.db}}), nil
	case low == "select conninfo":
		return NewRowsResult([]Field{{Name: "conninfo", Type: types.Varchar(128)}}, [][]any{{s.connInfoText()}}), nil
	case low == "select database(), user() limit 1":
		return NewRowsResult([]Field{{Name: "DATABASE()", Type: types.Varchar(64), Nullable: true}, {Name: "USER()", Type: types.Varchar(64)}},
			[][]any{{s.db, s.user + "@127.0.0.1"}}), nil
	case low == "select connection_id()":
		return NewRowsResult([]Field{{Name: "CONNECTION_ID()", Type: types.BigInt}}, [][]any{{int64(s.id)}}), nil
	case strings.HasPrefix(low, "select big "):
		n, err := strconv.Atoi(low[len("select big "):])
		if err != nil {
			return nil, NewError(ER_PARSE_ERROR, "bad count")
		}
		return &Result{Fields: []Field{{Name: "id", Type: types.BigInt}, {Name: "pad", Type: types.Varchar(100)}}, Rows: newBigRows(n)}, nil
	case low == "select sel":
		return &Result{Fields: []Field{{Name: "v", Type: types.Int, Nullable: true}}, Rows: &selRows{}}, nil
	case low == "select iterfail":
		return &Result{Fields: []Field{{Name: "v", Type: types.Int}}, Rows: &failRows{}}, nil
	case strings.HasPrefix(low, "insert"):
		return &Result{AffectedRows: 3, LastInsertID: 7, Info: "{'label':'x'}"}, nil
	case strings.HasPrefix(low, "set"), strings.HasPrefix(low, "use"):
		return &Result{}, nil
	case low == "select panic":
		panic("query exploded")
	case low == "select 1":
		return NewRowsResult([]Field{{Name: "1", Type: types.BigInt}}, [][]any{{int64(1)}}), nil
	}
	return nil, NewError(ER_NO_SUCH_TABLE, "Table 'x.%s' doesn't exist", st)
}

func (s *fakeSession) UseDB(ctx context.Context, db string) error {
	if db != "db1" && db != "test" {
		return NewError(ER_BAD_DB_ERROR, "Unknown database '%s'", db)
	}
	s.db = db
	return nil
}

func (s *fakeSession) FieldList(ctx context.Context, table, wildcard string) ([]Field, error) {
	if table != "t" {
		return nil, NewError(ER_NO_SUCH_TABLE, "Table '%s' doesn't exist", table)
	}
	return typeFields[:3], nil
}

func (s *fakeSession) Prepare(ctx context.Context, sql string) (*Prepared, error) {
	low := strings.ToLower(sql)
	n := strings.Count(sql, "?")
	switch {
	case strings.HasPrefix(low, "select types"):
		return &Prepared{NumParams: n, Columns: typeFields, Impl: "types"}, nil
	case strings.HasPrefix(low, "echo"):
		return &Prepared{NumParams: n, Impl: "echo"}, nil
	case strings.HasPrefix(low, "insert"):
		return &Prepared{NumParams: n, Impl: "insert"}, nil
	case strings.HasPrefix(low, "select big"):
		return &Prepared{NumParams: n, Impl: "big"}, nil
	}
	return nil, NewError(ER_PARSE_ERROR, "You have an error in your SQL syntax near '%s'", sql)
}

func (s *fakeSession) Execute(ctx context.Context, p *Prepared, args []any) (*Result, error) {
	s.h.mu.Lock()
	s.h.lastArgs = args
	s.h.mu.Unlock()
	switch p.Impl {
	case "types":
		return typesResult(), nil
	case "insert":
		return &Result{AffectedRows: uint64(len(args))}, nil
	case "big":
		return &Result{Fields: []Field{{Name: "id", Type: types.BigInt}, {Name: "pad", Type: types.Varchar(100)}}, Rows: newBigRows(int(args[0].(int64)))}, nil
	}
	fields := make([]Field, len(args))
	row := make([]any, len(args))
	for i, a := range args {
		fields[i] = Field{Name: fmt.Sprintf("a%d", i), Type: types.String, Nullable: true}
		if a != nil {
			row[i] = fmt.Sprintf("%T:%v", a, a)
			if t, ok := a.(time.Time); ok {
				row[i] = "time:" + t.Format("2006-01-02 15:04:05.999999")
			}
		}
	}
	return NewRowsResult(fields, [][]any{row}), nil
}

func (s *fakeSession) ClosePrepared(p *Prepared) {}

func (s *fakeSession) Close() {
	s.h.mu.Lock()
	s.h.closed++
	s.h.mu.Unlock()
}

// bigRows streams n rows (id BIGINT, pad VARCHAR) in batches of 4096.
type bigRows struct {
	n, next int
	cols    []arrow.Array
	ib      *array.Int64Builder
	sb      *array.StringBuilder
}

const bigPad = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq"

func newBigRows(n int) *bigRows {
	return &bigRows{n: n, ib: array.NewInt64Builder(memory.DefaultAllocator), sb: array.NewStringBuilder(memory.DefaultAllocator)}
}

func (b *bigRows) Next() ([]arrow.Array, []int32, error) {
	b.release()
	if b.next >= b.n {
		return nil, nil, io.EOF
	}
	k := min(4096, b.n-b.next)
	for i := range k {
		b.ib.Append(int64(b.next + i))
		b.sb.Append(bigPad)
	}
	b.next += k
	b.cols = []arrow.Array{b.ib.NewArray(), b.sb.NewArray()}
	return b.cols, nil, nil
}

func (b *bigRows) release() {
	for _, c := range b.cols {
		c.Release()
	}
	b.cols = nil
}

func (b *bigRows) Close() {
	b.release()
	b.ib.Release()
	b.sb.Release()
}

// selRows yields one batch [10, NULL, 30, 40] with selection [3, 1, 0].
type selRows struct {
	done bool
	arr  arrow.Array
}

func (s *selRows) Next() ([]arrow.Array, []int32, error) {
	if s.done {
		return nil, nil, io.EOF
	}
	s.done = true
	b := array.NewInt32Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues([]int32{10, 0, 30, 40}, []bool{true, false, true, true})
	s.arr = b.NewArray()
	return []arrow.Array{s.arr}, []int32{3, 1, 0}, nil
}

func (s *selRows) Close() {
	if s.arr != nil {
		s.arr.Release()
	}
}

// failRows yields one row, then an error.
type failRows struct {
	n   int
	arr arrow.Array
}

func (f *failRows) Next() ([]arrow.Array, []int32, error) {
	f.n++
	if f.n > 1 {
		return nil, nil, NewError(ER_UNKNOWN_ERROR, "scan failed")
	}
	b := array.NewInt32Builder(memory.DefaultAllocator)
	defer b.Release()
	b.Append(1)
	f.arr = b.NewArray()
	return []arrow.Array{f.arr}, nil, nil
}

func (f *failRows) Close() {
	if f.arr != nil {
		f.arr.Release()
	}
}

// startServer serves a fakeHandler on 127.0.0.1:0.
func startServer(t *testing.T, opts Options) (string, *Server, *fakeHandler) {
	t.Helper()
	h := &fakeHandler{}
	if opts.Logger == nil && !testing.Verbose() {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := NewServer(h, opts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return l.Addr().String(), srv, h
}
