package mysqlproto

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/strata-db/strata/types"
)

// serverCaps are the capabilities advertised in the handshake.
var serverCaps = gomysql.CLIENT_LONG_PASSWORD | gomysql.CLIENT_LONG_FLAG | gomysql.CLIENT_CONNECT_WITH_DB |
	gomysql.CLIENT_LOCAL_FILES | gomysql.CLIENT_PROTOCOL_41 | gomysql.CLIENT_TRANSACTIONS |
	gomysql.CLIENT_SECURE_CONNECTION | gomysql.CLIENT_MULTI_STATEMENTS | gomysql.CLIENT_MULTI_RESULTS |
	gomysql.CLIENT_PLUGIN_AUTH | gomysql.CLIENT_CONNECT_ATTRS | gomysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |
	gomysql.CLIENT_DEPRECATE_EOF

const (
	nativePassword = "mysql_native_password"
	// flushSize is the amount of buffered output that is sent to the socket
	// while a result streams.
	flushSize = 64 << 10
	// keepBuf is the largest read or write buffer kept between commands.
	keepBuf = 1 << 20
	// ER_MALFORMED_PACKET is MySQL's error for a command it cannot parse.
	ER_MALFORMED_PACKET uint16 = 1835
)

// conn is one client connection. All its fields are owned by the connection
// goroutine, except nc and cancel, which Server.Close may call.
type conn struct {
	srv    *Server
	nc     net.Conn
	id     uint32
	ctx    context.Context // cancelled when the server closes the connection
	cancel context.CancelFunc
	log    *slog.Logger

	br     *bufio.Reader
	seq    uint8
	in     []byte // the last packet read
	out    []byte // complete packets not yet written
	caps   uint32 // negotiated capabilities
	status uint16
	user   string
	host   string

	sess     Session
	stmts    map[uint32]*stmt
	nextStmt uint32
	cols     []colBuf
	infos    []colInfo
}

// fatalError marks an error after which the connection cannot go on.
type fatalError struct{ err error }

func (e fatalError) Error() string { return e.err.Error() }
func (e fatalError) Unwrap() error { return e.err }

func (c *conn) serve() {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in mysql connection; closing it", "panic", r, "stack", string(debug.Stack()))
		}
		c.close()
	}()
	c.br = bufio.NewReaderSize(c.nc, 16<<10)
	if err := c.handshake(); err != nil {
		c.log.Debug("mysql handshake failed", "err", err)
		return
	}
	if err := c.loop(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.log.Debug("mysql connection ended", "err", err)
	}
}

func (c *conn) close() {
	c.cancel()
	if c.sess != nil {
		c.safely("closing session", func() {
			for id, st := range c.stmts {
				delete(c.stmts, id)
				c.sess.ClosePrepared(st.p)
			}
			c.sess.Close()
		})
	}
	_ = c.nc.Close()
	c.srv.removeConn(c)
}

// safely runs f, logging instead of propagating a panic.
func (c *conn) safely(what string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic "+what, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	f()
}

// ---- packets ----

// readPacket reads one logical packet (joining split payloads) and checks
// the sequence number. The result aliases c.in and is valid until the next
// read.
func (c *conn) readPacket() ([]byte, error) {
	if cap(c.in) > keepBuf {
		c.in = nil
	}
	c.in = c.in[:0]
	for {
		var h [4]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return nil, err
		}
		n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
		if h[3] != c.seq {
			return nil, fmt.Errorf("packet sequence %d, want %d: %w", h[3], c.seq, errMalformed)
		}
		c.seq++
		if len(c.in)+n > c.srv.opts.MaxPacketSize {
			return nil, errPacketTooLarge
		}
		start := len(c.in)
		c.in = slices.Grow(c.in, n)[:start+n]
		if _, err := io.ReadFull(c.br, c.in[start:]); err != nil {
			return nil, err
		}
		if n < maxPayload {
			return c.in, nil
		}
	}
}

var errPacketTooLarge = errors.New("packet bigger than max_allowed_packet")

// startPacket reserves a packet header in the output and returns its offset.
func (c *conn) startPacket() int {
	p := len(c.out)
	c.out = append(c.out, 0, 0, 0, 0)
	return p
}

// finishPacket fills in the header of the packet started at p, splitting a
// payload of 16 MiB or more, and writes out the buffer when it is large.
func (c *conn) finishPacket(p int) error {
	n := len(c.out) - p - 4
	if n < maxPayload {
		c.out[p], c.out[p+1], c.out[p+2], c.out[p+3] = byte(n), byte(n>>8), byte(n>>16), c.seq
		c.seq++
	} else {
		payload := bytes.Clone(c.out[p+4:])
		c.out = c.out[:p]
		for {
			k := min(len(payload), maxPayload)
			c.out = append(c.out, byte(k), byte(k>>8), byte(k>>16), c.seq)
			c.out = append(c.out, payload[:k]...)
			c.seq++
			payload = payload[k:]
			if k < maxPayload {
				break
			}
		}
	}
	if len(c.out) >= flushSize {
		return c.flush()
	}
	return nil
}

func (c *conn) writePacket(payload []byte) error {
	p := c.startPacket()
	c.out = append(c.out, payload...)
	return c.finishPacket(p)
}

// flush writes the buffered packets to the socket.
func (c *conn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.nc.Write(c.out)
	c.out = c.out[:0]
	if cap(c.out) > keepBuf {
		c.out = nil
	}
	if err != nil {
		return fatalError{fmt.Errorf("writing to client: %w", err)}
	}
	return nil
}

func (c *conn) writeOK(affected, lastID uint64, status, warnings uint16, info string) error {
	p := c.startPacket()
	c.out = appendOKPayload(c.out, 0x00, affected, lastID, status, warnings, info)
	return c.finishPacket(p)
}

func (c *conn) writeErr(err error) error {
	e := toError(err)
	p := c.startPacket()
	c.out = appendErrPayload(c.out, e, true)
	return c.finishPacket(p)
}

func (c *conn) deprecateEOF() bool { return c.caps&gomysql.CLIENT_DEPRECATE_EOF != 0 }

// writeEOF writes the EOF packet that separates column definitions from
// rows, unless CLIENT_DEPRECATE_EOF removed it.
func (c *conn) writeEOF(status uint16) error {
	if c.deprecateEOF() {
		return nil
	}
	return c.writePacket([]byte{0xfe, 0, 0, byte(status), byte(status >> 8)})
}

// writeEnd ends a result set: an EOF packet, or under CLIENT_DEPRECATE_EOF
// an OK packet with the 0xFE header.
func (c *conn) writeEnd(status, warnings uint16) error {
	if c.deprecateEOF() {
		p := c.startPacket()
		c.out = appendOKPayload(c.out, 0xfe, 0, 0, status, warnings, "")
		return c.finishPacket(p)
	}
	return c.writePacket([]byte{0xfe, byte(warnings), byte(warnings >> 8), byte(status), byte(status >> 8)})
}

// ---- handshake ----

// newScramble returns 20 random printable bytes (no NUL, as clients expect).
func newScramble() []byte {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = 33 + b[i]%94
	}
	return b
}

func (c *conn) handshake() error {
	_ = c.nc.SetDeadline(time.Now().Add(c.srv.opts.HandshakeTimeout))
	scramble := newScramble()
	b := make([]byte, 0, 128)
	b = append(b, 10)
	b = append(b, c.srv.opts.Version...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint32(b, c.id)
	b = append(b, scramble[:8]...)
	b = append(b, 0)
	caps := serverCaps
	b = append(b, byte(caps), byte(caps>>8))
	b = append(b, charsetUTF8)
	b = append(b, 0, 0) // status: 0 in the handshake
	b = append(b, byte(caps>>16), byte(caps>>24))
	b = append(b, byte(len(scramble)+1))
	b = append(b, make([]byte, 10)...)
	b = append(b, scramble[8:]...)
	b = append(b, 0)
	b = append(b, nativePassword...)
	b = append(b, 0)
	if err := c.writePacket(b); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}

	pkt, err := c.readPacket()
	if err != nil {
		return fmt.Errorf("reading handshake response: %w", err)
	}
	resp, err := parseHandshakeResponse(pkt)
	if err == nil && resp.sslOnly {
		err = errors.New("client asked for TLS, which this server does not offer")
	}
	if err != nil {
		_ = c.writeErr(NewError(ER_HANDSHAKE_ERROR, "Bad handshake"))
		_ = c.flush()
		return err
	}
	c.caps = resp.caps & serverCaps
	c.user = resp.user
	c.host = hostOf(c.nc.RemoteAddr())

	auth := resp.auth
	if resp.caps&gomysql.CLIENT_PLUGIN_AUTH != 0 && resp.plugin != "" && resp.plugin != nativePassword {
		// Ask the client to use mysql_native_password with the same scramble.
		sw := append([]byte{0xfe}, nativePassword...)
		sw = append(sw, 0)
		sw = append(sw, scramble...)
		sw = append(sw, 0)
		if err := c.writePacket(sw); err != nil {
			return err
		}
		if err := c.flush(); err != nil {
			return err
		}
		pkt, err := c.readPacket()
		if err != nil {
			return fmt.Errorf("reading auth switch response: %w", err)
		}
		auth = bytes.Clone(pkt)
		if len(auth) == 1 && auth[0] == 0 {
			auth = nil
		}
	}
	if err := c.authenticate(nativeCredentials{scramble: scramble, auth: auth}); err != nil {
		var e *Error
		if !errors.As(err, &e) {
			using := "YES"
			if len(auth) == 0 {
				using = "NO"
			}
			err = NewError(ER_ACCESS_DENIED_ERROR, "Access denied for user '%s'@'%s' (using password: %s)", c.user, c.host, using)
		}
		_ = c.writeErr(err)
		_ = c.flush()
		return fmt.Errorf("authenticating %q: %w", c.user, err)
	}
	sess, err := c.newSession(resp.db)
	if err != nil {
		_ = c.writeErr(err)
		_ = c.flush()
		return fmt.Errorf("starting session: %w", err)
	}
	c.sess = sess
	c.status = gomysql.SERVER_STATUS_AUTOCOMMIT
	if err := c.writeOK(0, 0, c.status, 0, ""); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}
	return c.nc.SetDeadline(time.Time{})
}

// nativeCredentials is a mysql_native_password scramble response:
// SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))).
type nativeCredentials struct{ scramble, auth []byte }

func (n nativeCredentials) Empty() bool { return len(n.auth) == 0 }

func (n nativeCredentials) Match(hash []byte) bool {
	if len(hash) == 0 || len(n.auth) == 0 {
		return len(hash) == 0 && len(n.auth) == 0
	}
	if len(n.auth) != sha1.Size || len(hash) != sha1.Size {
		return false
	}
	h := sha1.New()
	h.Write(n.scramble)
	h.Write(hash)
	stage1 := h.Sum(nil) // SHA1(scramble + SHA1(SHA1(pw)))
	for i := range stage1 {
		stage1[i] ^= n.auth[i] // now SHA1(pw), if the client knew it
	}
	got := sha1.Sum(stage1)
	return subtle.ConstantTimeCompare(got[:], hash) == 1
}

// authenticate and newSession turn handler panics into errors.
func (c *conn) authenticate(cred Credentials) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in Authenticate", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return c.srv.h.Authenticate(c.user, c.host, cred)
}

func (c *conn) newSession(db string) (s Session, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in NewSession", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	s, err = c.srv.h.NewSession(c.id, c.user, c.host, db)
	if err == nil && s == nil {
		err = errors.New("BUG: NewSession returned no session")
	}
	return s, err
}

func hostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

// ---- command loop ----

func (c *conn) loop() error {
	for {
		c.seq = 0
		pkt, err := c.readPacket()
		if err != nil {
			if errors.Is(err, errPacketTooLarge) {
				_ = c.writeErr(NewError(ER_NET_PACKET_TOO_LARGE, "Got a packet bigger than 'max_allowed_packet' bytes"))
				_ = c.flush()
			}
			return err
		}
		quit, err := c.dispatch(pkt)
		if err == nil {
			err = c.flush()
		}
		if err != nil || quit {
			return err
		}
	}
}

// dispatch runs one command and buffers its response. Statement errors and
// panics become error packets; only I/O errors are returned.
func (c *conn) dispatch(pkt []byte) (quit bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic while serving a command", "panic", r, "stack", string(debug.Stack()))
			err = c.writeErr(NewError(ER_UNKNOWN_ERROR, "internal error: %v", r))
		}
	}()
	if len(pkt) == 0 {
		return false, c.writeErr(NewError(ER_MALFORMED_PACKET, "Malformed communication packet"))
	}
	cmd, data := pkt[0], pkt[1:]
	switch cmd {
	case gomysql.COM_QUIT:
		return true, nil
	case gomysql.COM_PING:
		return false, c.writeOK(0, 0, c.status, 0, "")
	case gomysql.COM_INIT_DB:
		if err := c.sess.UseDB(c.ctx, string(data)); err != nil {
			return false, c.writeErr(err)
		}
		return false, c.writeOK(0, 0, c.status, 0, "")
	case gomysql.COM_QUERY:
		return false, c.comQuery(string(data))
	case gomysql.COM_FIELD_LIST:
		return false, c.comFieldList(data)
	case gomysql.COM_STMT_PREPARE:
		return false, c.comPrepare(string(data))
	case gomysql.COM_STMT_EXECUTE:
		return false, c.comExecute(data)
	case gomysql.COM_STMT_SEND_LONG_DATA:
		c.comLongData(data)
		return false, nil
	case gomysql.COM_STMT_CLOSE:
		if len(data) >= 4 {
			id := binary.LittleEndian.Uint32(data)
			if st, ok := c.stmts[id]; ok {
				delete(c.stmts, id)
				c.sess.ClosePrepared(st.p)
			}
		}
		return false, nil
	case gomysql.COM_STMT_RESET:
		if len(data) < 4 {
			return false, c.writeErr(NewError(ER_MALFORMED_PACKET, "Malformed communication packet"))
		}
		id := binary.LittleEndian.Uint32(data)
		st, ok := c.stmts[id]
		if !ok {
			return false, c.writeErr(NewError(ER_UNKNOWN_STMT_HANDLER, "Unknown prepared statement handler (%d) given to mysqld_stmt_reset", id))
		}
		st.longData = nil
		return false, c.writeOK(0, 0, c.status, 0, "")
	}
	return false, c.writeErr(NewError(ER_UNKNOWN_COM_ERROR, "Unsupported command"))
}

func (c *conn) comQuery(sql string) error {
	results, qerr := c.sess.Query(c.ctx, sql)
	failed := false
	var ferr error
	next := 0
	defer func() {
		// Results not reached (after an I/O error or a panic) are closed too.
		for _, r := range results[next:] {
			closeRows(r)
		}
	}()
	for next < len(results) {
		i, r := next, results[next]
		next++
		if failed || ferr != nil {
			closeRows(r)
			continue
		}
		more := i < len(results)-1 || qerr != nil
		var ok bool
		ok, ferr = c.writeResult(r, false, more)
		failed = !ok
	}
	if ferr != nil {
		return ferr
	}
	if qerr != nil && !failed {
		return c.writeErr(qerr)
	}
	if len(results) == 0 && qerr == nil {
		return c.writeOK(0, 0, c.status, 0, "")
	}
	return nil
}

func closeRows(r *Result) {
	if r != nil && r.Rows != nil {
		r.Rows.Close()
	}
}

// writeResult sends one result, as an OK packet or a result set in the text
// or binary protocol. more sets SERVER_MORE_RESULTS_EXISTS. ok is false when
// an error packet was sent in place of the end of the result; err is an I/O
// error. The row iterator is always closed.
func (c *conn) writeResult(r *Result, bin, more bool) (ok bool, err error) {
	status := c.status
	if more {
		status |= gomysql.SERVER_MORE_RESULTS_EXISTS
	}
	if r == nil || len(r.Fields) == 0 {
		closeRows(r)
		if r == nil {
			return true, c.writeOK(0, 0, status, 0, "")
		}
		return true, c.writeOK(r.AffectedRows, r.LastInsertID, status, r.Warnings, r.Info)
	}
	if r.Rows != nil {
		defer r.Rows.Close()
	}
	if err := c.writeColumns(r.Fields, status); err != nil {
		return false, err
	}
	if r.Rows != nil {
		for {
			cols, sel, err := r.Rows.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err == nil {
				err = c.writeBatch(cols, sel, bin)
			}
			if err != nil {
				var fe fatalError
				if errors.As(err, &fe) {
					return false, err
				}
				return false, c.writeErr(err)
			}
		}
	}
	return true, c.writeEnd(status, r.Warnings)
}

// writeColumns sends the column count, the definitions and (without
// CLIENT_DEPRECATE_EOF) the EOF after them, and prepares c.infos.
func (c *conn) writeColumns(fields []Field, status uint16) error {
	p := c.startPacket()
	c.out = gomysql.AppendLengthEncodedInteger(c.out, uint64(len(fields)))
	if err := c.finishPacket(p); err != nil {
		return err
	}
	c.infos = c.infos[:0]
	for i := range fields {
		ci := colInfoOf(&fields[i])
		c.infos = append(c.infos, ci)
		p := c.startPacket()
		c.out = appendColumnDef(c.out, &fields[i], &ci, false)
		if err := c.finishPacket(p); err != nil {
			return err
		}
	}
	return c.writeEOF(status)
}

// writeBatch encodes one batch column by column and sends its rows.
func (c *conn) writeBatch(cols []arrow.Array, sel []int32, bin bool) error {
	if len(cols) != len(c.infos) {
		return fmt.Errorf("BUG: batch has %d columns, result has %d", len(cols), len(c.infos))
	}
	n := 0
	if sel != nil {
		n = len(sel)
	} else if len(cols) > 0 {
		n = cols[0].Len()
	}
	if n == 0 {
		return nil
	}
	if cap(c.cols) < len(cols) {
		c.cols = make([]colBuf, len(cols))
	}
	c.cols = c.cols[:len(cols)]
	for i, a := range cols {
		if err := encodeColumn(&c.cols[i], a, &c.infos[i], sel, n, bin); err != nil {
			return fmt.Errorf("encoding column %d: %w", i+1, err)
		}
	}
	return c.appendRows(n, bin)
}

// appendRows assembles row packets from the encoded columns.
func (c *conn) appendRows(n int, bin bool) error {
	cols := c.cols
	bmLen := (len(cols) + 7 + 2) / 8
	for r := range n {
		p := c.startPacket()
		if bin {
			c.out = append(c.out, 0)
			bm := len(c.out)
			for range bmLen {
				c.out = append(c.out, 0)
			}
			for i := range cols {
				cb := &cols[i]
				s := 0
				if r > 0 {
					s = cb.ends[r-1]
				}
				e := cb.ends[r]
				if s == e {
					c.out[bm+(i+2)/8] |= 1 << ((i + 2) % 8)
					continue
				}
				c.out = append(c.out, cb.buf[s:e]...)
			}
		} else {
			for i := range cols {
				cb := &cols[i]
				s := 0
				if r > 0 {
					s = cb.ends[r-1]
				}
				c.out = append(c.out, cb.buf[s:cb.ends[r]]...)
			}
		}
		if err := c.finishPacket(p); err != nil {
			return err
		}
	}
	// Let go of batches that were unusually large.
	for i := range cols {
		if cap(cols[i].buf) > keepBuf {
			cols[i] = colBuf{}
		}
	}
	return nil
}

func (c *conn) comFieldList(data []byte) error {
	table, n, err := readNulString(data, true)
	if err != nil {
		return c.writeErr(NewError(ER_MALFORMED_PACKET, "Malformed communication packet"))
	}
	wildcard := string(data[n:])
	fields, err := c.sess.FieldList(c.ctx, string(table), wildcard)
	if err != nil {
		return c.writeErr(err)
	}
	for i := range fields {
		ci := colInfoOf(&fields[i])
		p := c.startPacket()
		c.out = appendColumnDef(c.out, &fields[i], &ci, true)
		if err := c.finishPacket(p); err != nil {
			return err
		}
	}
	return c.writeEnd(c.status, 0)
}

func (c *conn) comPrepare(sql string) error {
	p, err := c.sess.Prepare(c.ctx, sql)
	if err != nil {
		return c.writeErr(err)
	}
	if p == nil {
		return c.writeErr(errors.New("BUG: Prepare returned no statement"))
	}
	if p.NumParams > 0xffff || len(p.Columns) > 0xffff || p.NumParams < 0 {
		c.sess.ClosePrepared(p)
		return c.writeErr(NewError(ER_UNKNOWN_ERROR, "prepared statement has too many parameters or columns"))
	}
	c.nextStmt++
	if c.nextStmt == 0 {
		c.nextStmt++
	}
	p.ID = c.nextStmt
	c.stmts[p.ID] = &stmt{p: p}

	ok := make([]byte, 0, 12)
	ok = append(ok, 0)
	ok = binary.LittleEndian.AppendUint32(ok, p.ID)
	ok = binary.LittleEndian.AppendUint16(ok, uint16(len(p.Columns)))
	ok = binary.LittleEndian.AppendUint16(ok, uint16(p.NumParams))
	ok = append(ok, 0, 0, 0)
	if err := c.writePacket(ok); err != nil {
		return err
	}
	if p.NumParams > 0 {
		for i := range p.NumParams {
			f := Field{Name: "?", Type: types.Varchar(types.DefaultVarcharLength), Nullable: true}
			if i < len(p.Params) {
				f = p.Params[i]
			}
			ci := colInfoOf(&f)
			start := c.startPacket()
			c.out = appendColumnDef(c.out, &f, &ci, false)
			if err := c.finishPacket(start); err != nil {
				return err
			}
		}
		if err := c.writeEOF(c.status); err != nil {
			return err
		}
	}
	if len(p.Columns) > 0 {
		for i := range p.Columns {
			ci := colInfoOf(&p.Columns[i])
			start := c.startPacket()
			c.out = appendColumnDef(c.out, &p.Columns[i], &ci, false)
			if err := c.finishPacket(start); err != nil {
				return err
			}
		}
		if err := c.writeEOF(c.status); err != nil {
			return err
		}
	}
	return nil
}

func (c *conn) comExecute(data []byte) error {
	if len(data) < 9 {
		return c.writeErr(NewError(ER_MALFORMED_PACKET, "Malformed communication packet"))
	}
	id := binary.LittleEndian.Uint32(data)
	st, ok := c.stmts[id]
	if !ok {
		return c.writeErr(NewError(ER_UNKNOWN_STMT_HANDLER, "Unknown prepared statement handler (%d) given to mysqld_stmt_execute", id))
	}
	// data[4] holds the cursor flags: cursors are not offered, so the whole
	// result is sent at once, which every client accepts.
	args, typesInForce, err := parseExecuteParams(data[9:], st.p.NumParams, st.paramTypes, st.longData)
	st.longData = nil
	if err != nil {
		return c.writeErr(NewError(ER_MALFORMED_PACKET, "Malformed communication packet: %v", err))
	}
	st.paramTypes = typesInForce
	r, err := c.sess.Execute(c.ctx, st.p, args)
	if err != nil {
		closeRows(r)
		return c.writeErr(err)
	}
	_, err = c.writeResult(r, true, false)
	return err
}

func (c *conn) comLongData(data []byte) {
	if len(data) < 6 {
		return
	}
	id := binary.LittleEndian.Uint32(data)
	param := int(binary.LittleEndian.Uint16(data[4:]))
	st, ok := c.stmts[id]
	if !ok || param >= st.p.NumParams {
		return
	}
	if st.longData == nil {
		st.longData = map[int][]byte{}
	}
	st.longData[param] = append(st.longData[param], data[6:]...)
}
