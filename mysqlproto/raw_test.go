package mysqlproto

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/stretchr/testify/require"
)

// rawClient speaks the protocol by hand.
type rawClient struct {
	t   *testing.T
	nc  net.Conn
	seq byte
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: t, nc: nc}
}

func (c *rawClient) read() []byte {
	c.t.Helper()
	p, err := c.tryRead()
	require.NoError(c.t, err)
	return p
}

func (c *rawClient) tryRead() ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(c.nc, h[:]); err != nil {
		return nil, err
	}
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	require.Equal(c.t, c.seq, h[3], "sequence")
	c.seq++
	p := make([]byte, n)
	_, err := io.ReadFull(c.nc, p)
	return p, err
}

func (c *rawClient) write(p []byte) {
	c.t.Helper()
	h := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), c.seq}
	c.seq++
	_, err := c.nc.Write(append(h, p...))
	require.NoError(c.t, err)
}

// command sends a command packet (sequence 0).
func (c *rawClient) command(p []byte) {
	c.seq = 0
	c.write(p)
}

// login completes the handshake as root with the given capabilities.
func (c *rawClient) login(caps uint32, plugin string) {
	c.t.Helper()
	hs := c.read()
	require.Equal(c.t, byte(10), hs[0])
	resp := binary.LittleEndian.AppendUint32(nil, caps)
	resp = binary.LittleEndian.AppendUint32(resp, 1<<24)
	resp = append(resp, 45)
	resp = append(resp, make([]byte, 23)...)
	resp = append(resp, "root\x00"...)
	resp = append(resp, 0) // empty auth response
	if caps&gomysql.CLIENT_PLUGIN_AUTH != 0 {
		resp = append(resp, plugin...)
		resp = append(resp, 0)
	}
	c.write(resp)
	p := c.read()
	if p[0] == 0xfe { // auth switch
		require.Equal(c.t, "mysql_native_password", string(p[1:bytes.IndexByte(p, 0)]))
		c.write(nil)
		p = c.read()
	}
	require.Equal(c.t, byte(0), p[0], "login OK: %q", p)
}

const rawCaps = gomysql.CLIENT_PROTOCOL_41 | gomysql.CLIENT_SECURE_CONNECTION | gomysql.CLIENT_PLUGIN_AUTH |
	gomysql.CLIENT_LONG_FLAG | gomysql.CLIENT_TRANSACTIONS

func TestRawHandshake(t *testing.T) {
	addr, _, _ := startServer(t, Options{})
	c := dialRaw(t, addr)
	hs := c.read()
	require.Equal(t, byte(10), hs[0])
	end := bytes.IndexByte(hs[1:], 0) + 1
	require.Equal(t, "5.7.99", string(hs[1:end]))
	pos := end + 1
	connID := binary.LittleEndian.Uint32(hs[pos:])
	require.NotZero(t, connID)
	pos += 4 + 8 + 1
	capsLo := uint32(binary.LittleEndian.Uint16(hs[pos:]))
	require.Equal(t, byte(33), hs[pos+2], "charset")
	require.Equal(t, uint16(0), binary.LittleEndian.Uint16(hs[pos+3:]), "handshake status")
	caps := capsLo | uint32(binary.LittleEndian.Uint16(hs[pos+5:]))<<16
	for _, want := range []uint32{gomysql.CLIENT_PROTOCOL_41, gomysql.CLIENT_CONNECT_WITH_DB, gomysql.CLIENT_SECURE_CONNECTION,
		gomysql.CLIENT_PLUGIN_AUTH, gomysql.CLIENT_CONNECT_ATTRS, gomysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
		gomysql.CLIENT_LOCAL_FILES, gomysql.CLIENT_LONG_FLAG, gomysql.CLIENT_DEPRECATE_EOF, gomysql.CLIENT_MULTI_STATEMENTS,
		gomysql.CLIENT_MULTI_RESULTS, gomysql.CLIENT_TRANSACTIONS} {
		require.NotZero(t, caps&want, "capability %#x", want)
	}
	require.Zero(t, caps&gomysql.CLIENT_SSL)
	require.Equal(t, byte(21), hs[pos+7])
	require.True(t, bytes.HasSuffix(hs, []byte("mysql_native_password\x00")))

	// A client proposing caching_sha2_password is switched to native.
	resp := binary.LittleEndian.AppendUint32(nil, rawCaps|gomysql.CLIENT_DEPRECATE_EOF)
	resp = binary.LittleEndian.AppendUint32(resp, 1<<24)
	resp = append(resp, 45)
	resp = append(resp, make([]byte, 23)...)
	resp = append(resp, "root\x00"...)
	resp = append(resp, 32)
	resp = append(resp, make([]byte, 32)...) // a sha2 scramble
	resp = append(resp, "caching_sha2_password\x00"...)
	c.write(resp)
	sw := c.read()
	require.Equal(t, byte(0xfe), sw[0])
	require.Equal(t, "mysql_native_password\x00", string(sw[1:23]))
	require.Len(t, sw, 1+22+20+1)
	c.write(nil)
	ok := c.read()
	// OK: header, affected 0, last id 0, status AUTOCOMMIT, warnings 0, empty info.
	require.Equal(t, []byte{0, 0, 0, 2, 0, 0, 0, 0}, ok)

	// Result set under DEPRECATE_EOF: count, defs, rows, OK with 0xFE.
	c.command(append([]byte{gomysql.COM_QUERY}, "select sel"...))
	require.Equal(t, []byte{1}, c.read())
	def := c.read()
	require.True(t, bytes.HasPrefix(def, []byte("\x03def")))
	require.Equal(t, []byte{1, 2, '4', '0'}, append([]byte{1}, c.read()...)[0:4])
	require.Equal(t, []byte{0xfb}, c.read())
	require.Equal(t, []byte{2, '1', '0'}, c.read())
	require.Equal(t, []byte{0xfe, 0, 0, 2, 0, 0, 0, 0}, c.read())

	// COM_FIELD_LIST: definitions with a NULL default, then the end marker.
	c.command(append([]byte{gomysql.COM_FIELD_LIST}, "t\x00"...))
	for range 3 {
		d := c.read()
		require.Equal(t, byte(0xfb), d[len(d)-1])
	}
	require.Equal(t, byte(0xfe), c.read()[0])

	// Unsupported commands and malformed statements answer with errors.
	for _, tc := range []struct {
		pkt  []byte
		code uint16
	}{
		{[]byte{gomysql.COM_STATISTICS}, ER_UNKNOWN_COM_ERROR},
		{[]byte{gomysql.COM_CHANGE_USER, 'x'}, ER_UNKNOWN_COM_ERROR},
		{[]byte{0xee}, ER_UNKNOWN_COM_ERROR},
		{[]byte{gomysql.COM_STMT_EXECUTE, 1, 0}, ER_MALFORMED_PACKET},
		{[]byte{gomysql.COM_STMT_EXECUTE, 9, 0, 0, 0, 0, 1, 0, 0, 0}, ER_UNKNOWN_STMT_HANDLER},
		{[]byte{gomysql.COM_STMT_RESET, 9, 0, 0, 0}, ER_UNKNOWN_STMT_HANDLER},
		{[]byte{gomysql.COM_STMT_RESET}, ER_MALFORMED_PACKET},
		{[]byte{gomysql.COM_INIT_DB}, ER_BAD_DB_ERROR},
	} {
		c.command(tc.pkt)
		e := c.read()
		require.Equal(t, byte(0xff), e[0], "%v", tc.pkt)
		require.Equal(t, tc.code, binary.LittleEndian.Uint16(e[1:]), "%v: %s", tc.pkt, e[9:])
	}
	// No response to these.
	c.command([]byte{gomysql.COM_STMT_CLOSE, 9, 0, 0, 0})
	c.command([]byte{gomysql.COM_STMT_SEND_LONG_DATA, 9})

	// Prepare with two parameters, then execute with truncated values.
	c.command(append([]byte{gomysql.COM_STMT_PREPARE}, "echo ?, ?"...))
	pok := c.read()
	require.Len(t, pok, 12)
	id := binary.LittleEndian.Uint32(pok[1:])
	require.Equal(t, uint16(0), binary.LittleEndian.Uint16(pok[5:]))
	require.Equal(t, uint16(2), binary.LittleEndian.Uint16(pok[7:]))
	c.read()
	c.read() // two parameter definitions, no EOF
	exec := binary.LittleEndian.AppendUint32([]byte{gomysql.COM_STMT_EXECUTE}, id)
	exec = append(exec, 0, 1, 0, 0, 0)
	for _, params := range [][]byte{
		{},
		{0},
		{0, 0},                      // types never sent
		{0, 1, 8, 0},                // one type only
		{0, 1, 8, 0, 8, 0, 1, 2},    // truncated LONGLONG
		{0, 1, 0xfd, 0, 1, 0, 5},    // unknown type 253 string with bad length
		{0, 1, 12, 0, 1, 0, 9, 1},   // bad datetime length
		{0, 1, 0x44, 0, 1, 0, 1, 1}, // unsupported type
	} {
		c.command(append(bytes.Clone(exec), params...))
		e := c.read()
		require.Equal(t, byte(0xff), e[0], "%v", params)
	}
	// Long data for parameter 0, then a valid execute.
	c.command(append(binary.LittleEndian.AppendUint32([]byte{gomysql.COM_STMT_SEND_LONG_DATA}, id), 0, 0, 'h', 'i'))
	c.command(append(bytes.Clone(exec), 0, 1, 0xfe, 0, 8, 0, 42, 0, 0, 0, 0, 0, 0, 0))
	require.Equal(t, []byte{2}, c.read())
	c.read()
	c.read()
	row := c.read()
	require.Equal(t, byte(0), row[0])
	require.Contains(t, string(row), "string:hi")
	require.Contains(t, string(row), "int64:42")
	require.Equal(t, byte(0xfe), c.read()[0])

	// The connection is still fine.
	c.command([]byte{gomysql.COM_PING})
	require.Equal(t, byte(0), c.read()[0])
	c.command([]byte{gomysql.COM_QUIT})
	_, err := c.tryRead()
	require.Error(t, err)
}

func TestRawClassicEOF(t *testing.T) {
	addr, _, _ := startServer(t, Options{})
	c := dialRaw(t, addr)
	c.login(rawCaps, "mysql_native_password")
	c.command(append([]byte{gomysql.COM_QUERY}, "select sel; insert x"...))
	require.Equal(t, []byte{1}, c.read())
	c.read()
	eof := c.read()
	require.Equal(t, []byte{0xfe, 0, 0, 0x0a, 0}, eof, "EOF after definitions with MORE_RESULTS")
	c.read()
	c.read()
	c.read()
	require.Equal(t, []byte{0xfe, 0, 0, 0x0a, 0}, c.read(), "EOF after rows with MORE_RESULTS")
	ok := c.read()
	require.Equal(t, append([]byte{0, 3, 7, 2, 0, 0, 0, 13}, "{'label':'x'}"...), ok)

	// A failing iterator: ERR in place of the final EOF.
	c.command(append([]byte{gomysql.COM_QUERY}, "select iterfail"...))
	c.read()
	c.read()
	c.read()
	c.read()
	require.Equal(t, byte(0xff), c.read()[0])
	c.command([]byte{gomysql.COM_PING})
	require.Equal(t, byte(0), c.read()[0])
}

// TestRawGarbage sends malformed bytes before and after the handshake; the
// server drops those connections and keeps serving others.
func TestRawGarbage(t *testing.T) {
	addr, srv, _ := startServer(t, Options{MaxPacketSize: 1 << 16, HandshakeTimeout: time.Second})
	cases := map[string]func(c *rawClient){
		"short response": func(c *rawClient) { c.read(); c.write([]byte{1, 2, 3}) },
		"no protocol41":  func(c *rawClient) { c.read(); c.write(make([]byte, 40)) },
		"ssl request": func(c *rawClient) {
			c.read()
			c.write(append(binary.LittleEndian.AppendUint32(nil, rawCaps|gomysql.CLIENT_SSL), make([]byte, 28)...))
		},
		"no user terminator": func(c *rawClient) {
			c.read()
			c.write(append(append(binary.LittleEndian.AppendUint32(nil, rawCaps), make([]byte, 28)...), "root"...))
		},
		"auth too long": func(c *rawClient) {
			c.read()
			c.write(append(append(binary.LittleEndian.AppendUint32(nil, rawCaps), make([]byte, 28)...), "root\x00\xff"...))
		},
		"bad attrs": func(c *rawClient) {
			c.read()
			p := append(binary.LittleEndian.AppendUint32(nil, rawCaps|gomysql.CLIENT_CONNECT_ATTRS), make([]byte, 28)...)
			c.write(append(p, "root\x00\x00mysql_native_password\x00\x05\x03ab"...))
		},
		"bad sequence": func(c *rawClient) { c.read(); c.seq = 7; c.write(make([]byte, 40)) },
		"truncated header": func(c *rawClient) {
			c.read()
			_, _ = c.nc.Write([]byte{5, 0})
		},
		"truncated body": func(c *rawClient) {
			c.read()
			_, _ = c.nc.Write([]byte{50, 0, 0, 1, 1, 2, 3})
		},
		"random bytes": func(c *rawClient) {
			c.read()
			_, _ = c.nc.Write(bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 1000))
		},
		"after login: bad sequence": func(c *rawClient) {
			c.login(rawCaps, "mysql_native_password")
			c.seq = 3
			c.write([]byte{gomysql.COM_PING})
		},
		"after login: too large": func(c *rawClient) {
			c.login(rawCaps, "mysql_native_password")
			c.seq = 1 // the server's answer follows the client's packet
			h := []byte{0xff, 0xff, 0xff, 0}
			_, _ = c.nc.Write(h)
			_, _ = c.nc.Write(make([]byte, 1<<17))
			e, err := c.tryRead()
			if err == nil {
				require.Equal(t, byte(0xff), e[0])
				require.Equal(t, ER_NET_PACKET_TOO_LARGE, binary.LittleEndian.Uint16(e[1:]))
			}
		},
		"after login: empty packet": func(c *rawClient) {
			c.login(rawCaps, "mysql_native_password")
			c.command(nil)
			require.Equal(t, byte(0xff), c.read()[0])
			_, _ = c.nc.Write([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, addr)
			f(c)
			_ = c.nc.(*net.TCPConn).CloseWrite()
			// The server answers with an error or just closes; either way
			// it does not hang.
			for {
				if _, err := c.tryRead(); err != nil {
					break
				}
			}
			// Another client is still served.
			ok := dialRaw(t, addr)
			ok.login(rawCaps, "mysql_native_password")
			ok.command([]byte{gomysql.COM_PING})
			require.Equal(t, byte(0), ok.read()[0])
		})
	}
	require.Eventually(t, func() bool { return srv.NumConnections() <= len(cases) }, 5*time.Second, 10*time.Millisecond)
}

func TestRawAuthSwitchWithPassword(t *testing.T) {
	addr, _, _ := startServer(t, Options{})
	for _, tc := range []struct {
		password string
		ok       bool
	}{{"secret", true}, {"wrong", false}} {
		c := dialRaw(t, addr)
		c.read()
		resp := binary.LittleEndian.AppendUint32(nil, rawCaps|gomysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA)
		resp = binary.LittleEndian.AppendUint32(resp, 1<<24)
		resp = append(resp, 45)
		resp = append(resp, make([]byte, 23)...)
		resp = append(resp, "alice\x00\x03abc"...)
		resp = append(resp, "caching_sha2_password\x00"...)
		c.write(resp)
		sw := c.read()
		require.Equal(t, byte(0xfe), sw[0])
		scramble := sw[23 : 23+20]
		c.write(gomysql.CalcPassword(scramble, []byte(tc.password)))
		p := c.read()
		if tc.ok {
			require.Equal(t, byte(0), p[0])
			continue
		}
		require.Equal(t, byte(0xff), p[0])
		require.Equal(t, ER_ACCESS_DENIED_ERROR, binary.LittleEndian.Uint16(p[1:]))
		require.Contains(t, string(p), "#28000Access denied for user 'alice'@'127.0.0.1' (using password: YES)")
	}
}

// captureConn is a net.Conn that records what is written.
type captureConn struct {
	net.Conn
	buf bytes.Buffer
}

func (c *captureConn) Write(p []byte) (int, error) { return c.buf.Write(p) }

func TestPacketSplitting(t *testing.T) {
	for _, size := range []int{0, 10, maxPayload - 1, maxPayload, maxPayload + 10, 2*maxPayload + 1} {
		payload := bytes.Repeat([]byte{'x'}, size)
		cc := &captureConn{}
		w := &conn{nc: cc, rw: cc}
		require.NoError(t, w.writePacket(payload))
		require.NoError(t, w.flush())
		wantPackets := size/maxPayload + 1
		require.Equal(t, uint8(wantPackets), w.seq, "size %d", size)
		require.Equal(t, size+4*wantPackets, cc.buf.Len())

		// Reading joins the pieces again.
		r := &conn{srv: &Server{opts: Options{MaxPacketSize: 64 << 20}}, br: bufio.NewReader(&cc.buf)}
		got, err := r.readPacket()
		require.NoError(t, err)
		require.Equal(t, size, len(got))
	}
	// Past MaxPacketSize the read fails.
	cc := &captureConn{}
	w := &conn{nc: cc, rw: cc}
	require.NoError(t, w.writePacket(make([]byte, 1000)))
	require.NoError(t, w.flush())
	r := &conn{srv: &Server{opts: Options{MaxPacketSize: 999}}, br: bufio.NewReader(&cc.buf)}
	_, err := r.readPacket()
	require.ErrorIs(t, err, errPacketTooLarge)
}
