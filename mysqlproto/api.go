package mysqlproto

import (
	"context"
	"crypto/sha1"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/types"
)

// Handler is the server's view of the database. Its methods may be called from
// many connection goroutines at once.
type Handler interface {
	// Authenticate checks a user's credentials. host is the client's IP
	// address; cred is what the client sent to prove its password. Return
	// nil to admit the login; an [*Error] is sent to the client as is, any
	// other error as ER_ACCESS_DENIED_ERROR.
	Authenticate(user, host string, cred Credentials) error
	// NewSession is called after authentication. db is the database the
	// client named in the handshake (CLIENT_CONNECT_WITH_DB) or "". An error
	// is sent to the client and the connection is closed.
	NewSession(connID uint32, user, host, db string) (Session, error)
}

// Credentials is what a client sent to prove it knows its password,
// whichever authentication plugin carried it. Servers keep passwords as
// their mysql_native_password hash, SHA1(SHA1(password)) (MySQL's
// authentication_string without the leading '*'), and check against it.
type Credentials interface {
	// Match reports whether the client knows the password whose
	// SHA1(SHA1(password)) is hash; a nil or empty hash stands for the
	// empty password.
	Match(hash []byte) bool
	// Empty reports whether the client sent an empty password.
	Empty() bool
}

// NativeHash returns SHA1(SHA1(password)), the hash Credentials.Match
// checks against; nil for the empty password.
func NativeHash(password string) []byte {
	if password == "" {
		return nil
	}
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	return h2[:]
}

// Session is one connection's state. Calls on one Session are serialized
// (never concurrent). ctx is cancelled when the server closes the connection.
type Session interface {
	// Query runs the text of one COM_QUERY packet, which may hold several
	// statements; it returns one result per statement. On error it returns
	// the results of the statements before the failing one together with the
	// error: those results are sent, then the error.
	Query(ctx context.Context, sql string) ([]*Result, error)
	// UseDB implements COM_INIT_DB.
	UseDB(ctx context.Context, db string) error
	// FieldList implements COM_FIELD_LIST: the columns of table whose names
	// match wildcard (a LIKE pattern, "" for all).
	FieldList(ctx context.Context, table, wildcard string) ([]Field, error)
	// Prepare implements COM_STMT_PREPARE. The returned statement's ID is
	// assigned by the protocol layer.
	Prepare(ctx context.Context, sql string) (*Prepared, error)
	// Execute implements COM_STMT_EXECUTE. args has NumParams values, each
	// nil, int64, uint64 (unsigned integers), float64, string (strings,
	// decimals and blobs alike) or time.Time (DATE, DATETIME, TIMESTAMP;
	// TIME arrives as a string "[-]HH:MM:SS[.ffffff]").
	Execute(ctx context.Context, p *Prepared, args []any) (*Result, error)
	// ClosePrepared implements COM_STMT_CLOSE; it is also called for every
	// statement still open when the connection ends.
	ClosePrepared(p *Prepared)
	// Close is called once when the connection ends.
	Close()
}

// Prepared is a prepared statement.
type Prepared struct {
	ID        uint32  // assigned by mysqlproto
	NumParams int     // number of placeholders
	Params    []Field // may be nil; then generic VAR_STRING parameter definitions are sent
	Columns   []Field // result columns known at prepare time (nil if none or unknown)
	Impl      any     // the session's own state
}

// Field is one result column.
type Field struct {
	Name, OrgName, Table, OrgTable, Schema string
	Type                                   types.Type
	Nullable                               bool
}

// Result is either a result set (Fields != nil) or an OK packet.
type Result struct {
	Fields       []Field
	Rows         RowIterator // nil for OK results; may be nil for an empty result set
	AffectedRows uint64
	LastInsertID uint64
	Warnings     uint16
	Info         string
}

// RowIterator yields column batches: arrays typed as Fields[i].Type.Arrow(),
// all of equal length, plus an optional selection vector (nil = all rows, else
// the row indexes to send, in order). Next returns io.EOF at the end. The
// arrays stay valid until the next call of Next or Close; the protocol layer
// does not retain or release them. Close is called exactly once, whether or
// not the iterator was drained.
type RowIterator interface {
	Next() (cols []arrow.Array, sel []int32, err error)
	Close()
}

// NewRowsResult returns a result set built from Go values, for small results
// such as SHOW output. Each row has one value per field: nil, bool, any Go
// integer, float32/float64, string, []byte, time.Time or, for DECIMAL and
// LARGEINT, a decimal string. Values are converted to the field's type; a
// value that cannot be converted makes the result yield an error when sent.
func NewRowsResult(fields []Field, rows [][]any) *Result {
	return &Result{Fields: fields, Rows: &valueRows{fields: fields, rows: rows}}
}

// valueRows serves Go values as one Arrow batch.
type valueRows struct {
	fields []Field
	rows   [][]any
	cols   []arrow.Array
	done   bool
}

func (v *valueRows) Next() ([]arrow.Array, []int32, error) {
	if v.done {
		return nil, nil, io.EOF
	}
	v.done = true
	v.release()
	cols, err := buildArrays(v.fields, v.rows)
	if err != nil {
		return nil, nil, err
	}
	v.cols = cols
	return cols, nil, nil
}

func (v *valueRows) release() {
	for _, c := range v.cols {
		c.Release()
	}
	v.cols = nil
}

func (v *valueRows) Close() { v.release() }
