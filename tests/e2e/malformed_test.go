package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rawExchange writes raw bytes to 127.0.0.1:port, closes the write side
// and returns what the server answered within a few seconds (the server
// may also just close the connection).
func rawExchange(t *testing.T, port int, req []byte, hold time.Duration) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.Write(req)
	if hold > 0 {
		time.Sleep(hold)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	b, _ := io.ReadAll(bufio.NewReader(c))
	return string(b)
}

// TestMalformedHTTPAndMySQL throws malformed stream loads at the frontend
// and backend HTTP ports and malformed packets at the MySQL port. Each is
// refused or dropped; none loads a row or stops the server, which then
// still loads and answers.
func TestMalformedHTTPAndMySQL(t *testing.T) {
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE bad; CREATE TABLE bad.t (k INT NOT NULL, v VARCHAR(8))
		DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')`)
	auth := "Authorization: Basic cm9vdDo=\r\n" // root, no password
	path := "/api/bad/t/_stream_load"
	head := func(extra string) string {
		return "PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + "column_separator: ,\r\n" + extra
	}
	huge := strings.Repeat("x", 2<<20)
	cases := []struct {
		name string
		req  string
		hold time.Duration
	}{
		{"truncated chunked body", head("Transfer-Encoding: chunked\r\n\r\n") + "5\r\n1,a\n2\r\n10\r\n3,c", 0},
		{"bad chunk size", head("Transfer-Encoding: chunked\r\n\r\n") + "zz\r\n1,a\n\r\n0\r\n\r\n", 0},
		{"chunk larger than it says", head("Transfer-Encoding: chunked\r\n\r\n") + "2\r\n1,a,b,c,d\n\r\n0\r\n\r\n", 0},
		{"body shorter than Content-Length", head("Content-Length: 100\r\n\r\n") + "1,a\n", 0},
		{"absurd Content-Length", head("Content-Length: 99999999999999999999\r\n\r\n") + "1,a\n", 0},
		{"negative Content-Length", head("Content-Length: -4\r\n\r\n") + "1,a\n", 0},
		{"two Content-Lengths", head("Content-Length: 4\r\nContent-Length: 8\r\n\r\n") + "1,a\n", 0},
		{"header line of 2 MiB", head("X-Big: " + huge + "\r\n\r\n"), 0},
		{"header without colon", head("this is not a header\r\n\r\n"), 0},
		{"bad Basic auth", "PUT " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Basic !!!\r\nContent-Length: 4\r\n\r\n1,a\n", 0},
		{"garbage request line", "\x00\x01\x02 not http at all\r\n\r\n", 0},
		{"HTTP/0.9 style", "GET /\r\n", 0},
		{"bad gzip body", head("compress_type: gz\r\nContent-Length: 10\r\n\r\n") + "notgzip!!!", 0},
		{"label too long", head("label: "+strings.Repeat("l", 300)+"\r\nContent-Length: 4\r\n\r\n") + "1,a\n", 0},
		{"stops mid-headers", "PUT " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le", 200 * time.Millisecond},
	}
	for _, port := range []int{s.HTTP, s.BEHTTP} {
		for _, c := range cases {
			out := rawExchange(t, port, []byte(c.req), c.hold)
			require.NotContains(t, out, `"Status": "Success"`, "%s on port %d loaded: %s", c.name, port, out)
		}
	}

	// Malformed MySQL packets: each connection is refused or closed.
	mysqlCases := map[string][]byte{
		"length past the data":      {0xff, 0xff, 0xff, 0x01, 0x03, 'S'},
		"zero-length packets":       {0, 0, 0, 0, 0, 0, 0, 1},
		"garbage handshake":         []byte(strings.Repeat("\xde\xad\xbe\xef", 64)),
		"handshake claiming 16 MiB": append([]byte{0xff, 0xff, 0xff, 0x01}, make([]byte, 1<<16)...),
	}
	for name, pkt := range mysqlCases {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Query), 5*time.Second)
		require.NoError(t, err, name)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		greeting := make([]byte, 4)
		_, err = io.ReadFull(c, greeting) // the server's handshake packet
		require.NoError(t, err, name)
		n := int(greeting[0]) | int(greeting[1])<<8 | int(greeting[2])<<16
		_, err = io.ReadFull(c, make([]byte, n))
		require.NoError(t, err, name)
		_, _ = c.Write(pkt)
		_, _ = io.ReadAll(c) // an error packet, then the close
		c.Close()
	}
	// Nothing was loaded, and the server still works.
	require.Equal(t, "0\n", s.MustMySQL("SELECT COUNT(*) FROM bad.t"))
	data := filepath.Join(t.TempDir(), "ok.csv")
	require.NoError(t, os.WriteFile(data, []byte("1,a\n2,b\n"), 0o644))
	res := s.StreamLoad("bad", "t", data, "column_separator:,")
	require.Equal(t, "Success", res["Status"], "%v", res)
	require.Equal(t, "2\n", s.MustMySQL("SELECT COUNT(*) FROM bad.t"))
	// No handler panicked (net/http and mysqlproto would have recovered
	// and logged it).
	require.NotContains(t, strings.ToLower(s.logs.String()), "panic")
}
