package mysqlproto

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"slices"
	"sync"
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
	nc     net.Conn // the accepted connection; never replaced
	id     uint32
	ctx    context.Context // cancelled when the server closes the connection
	cancel context.CancelFunc
	log    *slog.Logger

	rw     net.Conn      // what packets go through: nc, or the TLS connection over it
	br     *bufio.Reader // reads rw
	tls    *tls.ConnectionState
	plugin string // the authentication plugin that admitted the login
	seq    uint8
	in     []byte // the last packet read
	out    []byte // complete packets not yet written
	caps   uint32 // negotiated capabilities
	status uint16
	user   string
	host   string
	// authLimit, when not 0, bounds packets in place of MaxPacketSize
	// until the login has succeeded.
	authLimit int

	sess     Session
	stmts    map[uint32]*stmt
	nextStmt uint32
	cols     []colBuf
	infos    []colInfo
	// writeDeadline: a result's statement was canceled while it was
	// written, and a write deadline bounds the rest of the response; the
	// loop lifts it once the response was flushed.
	writeDeadline bool
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
	c.rw = c.nc
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
		limit := c.srv.opts.MaxPacketSize
		if c.authLimit > 0 {
			limit = c.authLimit
		}
		if len(c.in)+n > limit {
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
	_, err := c.rw.Write(c.out)
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
		if c.writeDeadline {
			c.writeDeadline = false
			if err := c.nc.SetWriteDeadline(time.Time{}); err != nil {
				return err
			}
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
// error. The row iterator is always closed, before the packet that ends
// the result is written: the statement has ended when the client learns so.
//
// Rows that are [StatementRows] are written under a guard: once their
// statement's context is canceled (KILL QUERY, its timeout), the rest of
// the response must reach the client within cancelWriteGrace. A client
// that stopped reading would otherwise block the write, and with it the
// statement, forever; instead the write fails and the connection closes.
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
	rows := r.Rows
	var guard *writeGuard
	if sr, ok := rows.(StatementRows); ok {
		guard = c.guardWrites(sr.StatementContext())
	}
	end := func() {
		if guard != nil {
			c.unguard(guard)
			guard = nil
		}
		if rows != nil {
			rows.Close()
			rows = nil
		}
	}
	defer end()
	if err := c.writeColumns(r.Fields, status); err != nil {
		return false, err
	}
	if rows != nil {
		for {
			cols, sel, err := rows.Next()
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
				end()
				return false, c.writeErr(err)
			}
		}
	}
	end()
	return true, c.writeEnd(status, r.Warnings)
}

// StatementRows is implemented by a [RowIterator] whose statement can be
// canceled while its rows are sent. StatementContext is that statement's
// context; once it is canceled the connection stops waiting on a client
// that does not read (see writeResult).
type StatementRows interface {
	RowIterator
	StatementContext() context.Context
}

// cancelWriteGrace is how long the rest of a result's response may take
// to reach the client once its statement was canceled: long enough for a
// client that reads to get the error packet, short enough that one that
// does not read frees the statement soon.
const cancelWriteGrace = 2 * time.Second

// writeGuard sets a write deadline on a connection when a statement's
// context is canceled while its result is written.
type writeGuard struct {
	stop func() bool // stops the context.AfterFunc

	mu    sync.Mutex // protects following fields
	off   bool       // the result was written: set no deadline any more
	fired bool       // the deadline was set
}

// guardWrites guards the writes of a result of the statement of ctx.
func (c *conn) guardWrites(ctx context.Context) *writeGuard {
	g := &writeGuard{}
	nc := c.nc
	g.stop = context.AfterFunc(ctx, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if !g.off {
			g.fired = true
			_ = nc.SetWriteDeadline(time.Now().Add(cancelWriteGrace))
		}
	})
	return g
}

// unguard ends a guard. A deadline it set stays for the rest of the
// command's response (loop lifts it).
func (c *conn) unguard(g *writeGuard) {
	g.stop()
	g.mu.Lock()
	g.off = true
	fired := g.fired
	g.mu.Unlock()
	if fired {
		c.writeDeadline = true
	}
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
