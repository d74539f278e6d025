package mysqlproto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost.
type testCert struct {
	server *tls.Config // serves the certificate
	pool   *x509.CertPool
	caFile string // the certificate in PEM
}

var (
	testCertOnce sync.Once
	testCertVal  testCert
	testCertErr  error
)

func newTestCert(t *testing.T) testCert {
	t.Helper()
	testCertOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			testCertErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "strata test"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
			DNSNames:              []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			testCertErr = err
			return
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			testCertErr = err
			return
		}
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		dir, err := os.MkdirTemp("", "mysqlproto-tls")
		if err != nil {
			testCertErr = err
			return
		}
		caFile := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			testCertErr = err
			return
		}
		testCertVal = testCert{
			server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}},
			pool:   pool,
			caFile: caFile,
		}
		require.NoError(t, mysql.RegisterTLSConfig("strata-test", &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
	})
	require.NoError(t, testCertErr)
	return testCertVal
}

// testRSAKey is shared by the tests so that each server need not generate
// one.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func openUserDB(t *testing.T, addr, user, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", user+"@tcp("+addr+")/?"+params)
	require.NoError(t, err)
	db.SetMaxIdleConns(0)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func queryString(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	var s string
	require.NoError(t, db.QueryRow(q).Scan(&s))
	return s
}

func requireMySQLError(t *testing.T, err error, code uint16) {
	t.Helper()
	require.Error(t, err)
	var me *mysql.MySQLError
	require.True(t, errors.As(err, &me), "%v", err)
	require.Equal(t, code, me.Number, "%v", err)
}

// TestDriverCachingSha2 logs in with go-sql-driver/mysql and
// caching_sha2_password, with mysql_native_password forbidden on the
// client: over TLS the password travels in clear text, without TLS
// encrypted with the server's RSA key (fetched from the server, or known
// beforehand).
func TestDriverCachingSha2(t *testing.T) {
	tc := newTestCert(t)
	const noNative = "allowNativePasswords=false"
	addrTLS, _, _ := startServer(t, Options{TLSConfig: tc.server, AuthPlugin: cachingSha2Password, RSAKey: testRSAKey()})
	addrPlain, srv, _ := startServer(t, Options{AuthPlugin: cachingSha2Password})
	pub, err := srv.RSAPublicKeyPEM()
	require.NoError(t, err)
	block, _ := pem.Decode(pub)
	require.NotNil(t, block)
	pk, err := x509.ParsePKIXPublicKey(block.Bytes)
	require.NoError(t, err)
	require.Equal(t, 2048, pk.(*rsa.PublicKey).N.BitLen())
	mysql.RegisterServerPubKey("strata-test", pk.(*rsa.PublicKey))

	for _, tc := range []struct {
		name, addr, params, info string
	}{
		{"tls", addrTLS, noNative + "&tls=strata-test", `^TLS 1\.3 TLS_\S+ caching_sha2_password$`},
		{"rsa", addrPlain, noNative, `^plain caching_sha2_password$`},
		{"rsa known key", addrPlain, noNative + "&serverPubKey=strata-test", `^plain caching_sha2_password$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openUserDB(t, tc.addr, "alice:secret", tc.params)
			require.Regexp(t, tc.info, queryString(t, db, "select conninfo"))

			db = openUserDB(t, tc.addr, "root", tc.params)
			require.Regexp(t, tc.info, queryString(t, db, "select conninfo"))

			for _, user := range []string{"alice:wrong", "alice:secret2", "alice", "root:secret", "nobody:secret"} {
				err := openUserDB(t, tc.addr, user, tc.params).Ping()
				requireMySQLError(t, err, ER_ACCESS_DENIED_ERROR)
			}
		})
	}

	// A long password (longer than the scramble it is XORed with) and a
	// server whose handshake names mysql_native_password: go-sql-driver then
	// uses native authentication, over TLS too.
	t.Run("native over tls", func(t *testing.T) {
		addr, _, _ := startServer(t, Options{TLSConfig: tc.server})
		db := openUserDB(t, addr, "alice:secret", "tls=strata-test")
		require.Regexp(t, `^TLS 1\.3 TLS_\S+ mysql_native_password$`, queryString(t, db, "select conninfo"))
		err := openUserDB(t, addr, "alice:secret", noNative+"&tls=strata-test").Ping()
		require.ErrorIs(t, err, mysql.ErrNativePassword)
	})
}

func TestDriverRequireSecureTransport(t *testing.T) {
	tc := newTestCert(t)
	addr, _, _ := startServer(t, Options{TLSConfig: tc.server, RequireSecureTransport: true})
	err := openUserDB(t, addr, "alice:secret", "").Ping()
	requireMySQLError(t, err, ER_SECURE_TRANSPORT_REQUIRED)
	require.Contains(t, err.Error(), "Connections using insecure transport are prohibited while --require_secure_transport=ON.")
	db := openUserDB(t, addr, "alice:secret", "tls=strata-test")
	require.Regexp(t, `^TLS 1\.3 TLS_\S+ mysql_native_password$`, queryString(t, db, "select conninfo"))

	// Without a TLS configuration nobody gets in.
	addr, _, _ = startServer(t, Options{RequireSecureTransport: true})
	requireMySQLError(t, openUserDB(t, addr, "root", "").Ping(), ER_SECURE_TRANSPORT_REQUIRED)
}

// TestCLITLS runs the mysql command-line client over TLS, checking the
// server's certificate, with native and caching_sha2_password
// authentication.
func TestCLITLS(t *testing.T) {
	tc := newTestCert(t)
	addr, _, _ := startServer(t, Options{TLSConfig: tc.server})
	ssl := []string{"--ssl", "--ssl-ca=" + tc.caFile, "--ssl-verify-server-cert"}

	out, err := runCLI(t, addr, append(ssl, "-e", "status")...)
	require.NoError(t, err, out)
	require.Regexp(t, `SSL:\s+Cipher in use is \S+`, out)

	out, err = runCLI(t, addr, append(ssl, "-ualice", "-psecret", "-N", "-e", "select conninfo")...)
	require.NoError(t, err, out)
	require.Regexp(t, `^TLS 1\.[23] \S+ mysql_native_password\n$`, out)

	out, err = runCLI(t, addr, append(ssl, "-ualice", "-psecret", "--default-auth=caching_sha2_password", "-N", "-e", "select conninfo")...)
	require.NoError(t, err, out)
	require.Regexp(t, `^TLS 1\.[23] \S+ caching_sha2_password\n$`, out)

	out, err = runCLI(t, addr, append(ssl, "-ualice", "-pwrong", "--default-auth=caching_sha2_password", "-e", "select 1")...)
	require.Error(t, err)
	require.Contains(t, out, "ERROR 1045 (28000): Access denied for user 'alice'@'127.0.0.1' (using password: YES)")

	out, err = runCLI(t, addr, append(ssl, "--default-auth=caching_sha2_password", "-N", "-e", "select conninfo")...)
	require.NoError(t, err, out)
	require.Regexp(t, `^TLS 1\.[23] \S+ caching_sha2_password\n$`, out)

	// A certificate the client does not trust is refused by the client.
	other := filepath.Join(t.TempDir(), "other.pem")
	require.NoError(t, os.WriteFile(other, selfSignedPEM(t), 0o600))
	out, err = runCLI(t, addr, "--ssl", "--ssl-ca="+other, "--ssl-verify-server-cert", "-e", "select 1")
	require.Error(t, err, out)

	// Without --ssl-ca the client still prefers TLS when it is offered.
	out, err = runCLI(t, addr, "-N", "-e", "select conninfo")
	require.NoError(t, err, out)
	require.True(t, strings.HasPrefix(out, "TLS 1."), out)
	out, err = runCLI(t, addr, "--skip-ssl", "-N", "-e", "select conninfo")
	require.NoError(t, err, out)
	require.Equal(t, "plain mysql_native_password\n", out)
}

// TestCLICachingSha2RSA runs the mysql client with caching_sha2_password
// without TLS: it fetches the server's RSA key and sends the password
// encrypted.
func TestCLICachingSha2RSA(t *testing.T) {
	addr, _, _ := startServer(t, Options{AuthPlugin: cachingSha2Password, RSAKey: testRSAKey()})
	out, err := runCLI(t, addr, "--skip-ssl", "-ualice", "-psecret", "--default-auth=caching_sha2_password", "-N", "-e", "select conninfo")
	require.NoError(t, err, out)
	require.Equal(t, "plain caching_sha2_password\n", out)
	out, err = runCLI(t, addr, "--skip-ssl", "-ualice", "-pwrong", "--default-auth=caching_sha2_password", "-e", "select 1")
	require.Error(t, err)
	require.Contains(t, out, "ERROR 1045 (28000)")

	// With the server naming native, a client proposing caching_sha2 is
	// switched to native without TLS.
	addr, _, _ = startServer(t, Options{})
	out, err = runCLI(t, addr, "--skip-ssl", "-ualice", "-psecret", "--default-auth=caching_sha2_password", "-N", "-e", "select conninfo")
	require.NoError(t, err, out)
	require.Equal(t, "plain mysql_native_password\n", out)
}

func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "other"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// ---- raw packets ----

// handshakeInfo is what a raw client takes from the server's handshake.
type handshakeInfo struct {
	caps     uint32
	scramble []byte
	plugin   string
}

func parseHandshake(t *testing.T, hs []byte) handshakeInfo {
	t.Helper()
	require.Equal(t, byte(10), hs[0])
	pos := bytes.IndexByte(hs[1:], 0) + 2 + 4
	scramble := bytes.Clone(hs[pos : pos+8])
	pos += 9
	caps := uint32(binary.LittleEndian.Uint16(hs[pos:]))
	caps |= uint32(binary.LittleEndian.Uint16(hs[pos+5:])) << 16
	n := int(hs[pos+7])
	pos += 8 + 10
	scramble = append(scramble, hs[pos:pos+n-9]...)
	pos += n - 8
	plugin := string(hs[pos : pos+bytes.IndexByte(hs[pos:], 0)])
	return handshakeInfo{caps: caps, scramble: scramble, plugin: plugin}
}

// sslRequest is the 32-byte packet that asks for TLS.
func sslRequest(caps uint32) []byte {
	p := binary.LittleEndian.AppendUint32(nil, caps|gomysql.CLIENT_SSL)
	p = binary.LittleEndian.AppendUint32(p, 1<<24)
	p = append(p, 45)
	return append(p, make([]byte, 23)...)
}

// buildResponse builds a HandshakeResponse41 with a lenenc auth
// response.
func buildResponse(caps uint32, user string, auth []byte, plugin string, attrs ...string) []byte {
	caps |= gomysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
	if len(attrs) > 0 {
		caps |= gomysql.CLIENT_CONNECT_ATTRS
	}
	p := binary.LittleEndian.AppendUint32(nil, caps)
	p = binary.LittleEndian.AppendUint32(p, 1<<24)
	p = append(p, 45)
	p = append(p, make([]byte, 23)...)
	p = append(p, user...)
	p = append(p, 0)
	p = gomysql.AppendLengthEncodedInteger(p, uint64(len(auth)))
	p = append(p, auth...)
	p = append(p, plugin...)
	p = append(p, 0)
	if len(attrs) > 0 {
		var a []byte
		for _, s := range attrs {
			a = appendLenencString(a, s)
		}
		p = gomysql.AppendLengthEncodedInteger(p, uint64(len(a)))
		p = append(p, a...)
	}
	return p
}

// sha2Scramble is the client's first caching_sha2_password response.
func sha2Scramble(scramble []byte, password string) []byte {
	m1 := sha256.Sum256([]byte(password))
	m2 := sha256.Sum256(m1[:])
	h := sha256.New()
	h.Write(m2[:])
	h.Write(scramble)
	m3 := h.Sum(nil)
	for i := range m3 {
		m3[i] ^= m1[i]
	}
	return m3
}

func xorPassword(password string, scramble []byte) []byte {
	plain := append([]byte(password), 0)
	for i := range plain {
		plain[i] ^= scramble[i%len(scramble)]
	}
	return plain
}

func requireErrPacket(t *testing.T, p []byte, code uint16) {
	t.Helper()
	require.Equal(t, byte(0xff), p[0], "%q", p)
	require.Equal(t, code, binary.LittleEndian.Uint16(p[1:]), "%q", p)
}

// TestRawCachingSha2RSA sends RSA-encrypted passwords with both paddings,
// with and without asking for the public key, and broken ones.
func TestRawCachingSha2RSA(t *testing.T) {
	addr, _, _ := startServer(t, Options{RSAKey: testRSAKey(), HandshakeTimeout: 2 * time.Second})
	pub := &testRSAKey().PublicKey
	oaep := func(plain []byte) []byte {
		ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, plain, nil)
		require.NoError(t, err)
		return ct
	}
	pkcs1 := func(plain []byte) []byte {
		ct, err := rsa.EncryptPKCS1v15(rand.Reader, pub, plain) //nolint:staticcheck // what Connector/J sends
		require.NoError(t, err)
		return ct
	}
	long := strings.Repeat("long password ", 5)
	for _, tc := range []struct {
		name     string
		user     string
		password string // sent
		askKey   bool
		encrypt  func([]byte) []byte
		ok       bool
	}{
		{"oaep", "alice", "secret", true, oaep, true},
		{"pkcs1", "alice", "secret", true, pkcs1, true},
		{"oaep known key", "alice", "secret", false, oaep, true},
		{"pkcs1 known key", "alice", "secret", false, pkcs1, true},
		{"oaep wrong", "alice", "secret!", true, oaep, false},
		{"pkcs1 wrong", "alice", "secre", true, pkcs1, false},
		{"long wrong", "alice", long, true, oaep, false},
		{"empty for root", "root", "", true, oaep, true},
		{"empty for alice", "alice", "", true, pkcs1, false},
		{"garbage", "alice", "secret", true, func([]byte) []byte { return bytes.Repeat([]byte{0x5a}, 256) }, false},
		{"short", "alice", "secret", true, func(p []byte) []byte { return oaep(p)[:255] }, false},
		{"long", "alice", "secret", true, func(p []byte) []byte { return append(oaep(p), 0) }, false},
		{"empty", "alice", "secret", false, func([]byte) []byte { return nil }, false},
		{"bit flip", "alice", "secret", false, func(p []byte) []byte { ct := pkcs1(p); ct[100] ^= 1; return ct }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, addr)
			hs := parseHandshake(t, c.read())
			require.Len(t, hs.scramble, 20)
			// A MySQL 9 client library gets caching_sha2_password even
			// though the handshake names native.
			c.write(buildResponse(rawCaps, tc.user, sha2Scramble(hs.scramble, "anything"), cachingSha2Password,
				"_client_name", "libmysql", "_client_version", "9.1.0"))
			require.Equal(t, []byte{0x01, 0x04}, c.read())
			if tc.askKey {
				c.write([]byte{0x02})
				p := c.read()
				require.Equal(t, byte(0x01), p[0])
				block, _ := pem.Decode(p[1:])
				require.NotNil(t, block)
				k, err := x509.ParsePKIXPublicKey(block.Bytes)
				require.NoError(t, err)
				require.True(t, pub.Equal(k))
			}
			c.write(tc.encrypt(xorPassword(tc.password, hs.scramble)))
			p := c.read()
			if tc.ok {
				require.Equal(t, byte(0), p[0], "%q", p)
				c.command(append([]byte{gomysql.COM_QUERY}, "select conninfo"...))
				c.read()
				c.read()
				c.read()
				require.Contains(t, string(c.read()), "plain caching_sha2_password")
				return
			}
			requireErrPacket(t, p, ER_ACCESS_DENIED_ERROR)
			// Whatever the decryption gave (garbage, an empty password),
			// the refusal is the same: it tells nothing of the decryption.
			require.Contains(t, string(p), "(using password: YES)")
		})
	}
}

// TestRawCachingSha2 covers the rest of the exchange: the empty password,
// scrambles of the wrong size, which clients get caching_sha2_password
// without TLS, and the clear-text password over TLS.
func TestRawCachingSha2(t *testing.T) {
	addr, _, _ := startServer(t, Options{RSAKey: testRSAKey()})

	// The empty password: no scramble (or a single NUL), then OK at once.
	// When the handshake named another plugin, an empty first response
	// withholds the scramble, and the client is asked for it.
	sha2Addr, _, _ := startServer(t, Options{AuthPlugin: cachingSha2Password, RSAKey: testRSAKey()})
	for _, auth := range [][]byte{nil, {0}} {
		for _, user := range []string{"root", "alice"} {
			c := dialRaw(t, addr)
			hs := parseHandshake(t, c.read())
			c.write(buildResponse(rawCaps, user, nil, cachingSha2Password, "_client_name", "libmysql", "_client_version", "9.0.1"))
			sw := c.read()
			require.Equal(t, "\xfecaching_sha2_password\x00"+string(hs.scramble)+"\x00", string(sw))
			c.write(auth)
			p := c.read()
			if user == "root" {
				require.Equal(t, byte(0), p[0])
			} else {
				requireErrPacket(t, p, ER_ACCESS_DENIED_ERROR)
				require.Contains(t, string(p), "(using password: NO)")
			}

			c = dialRaw(t, sha2Addr)
			require.Equal(t, cachingSha2Password, parseHandshake(t, c.read()).plugin)
			c.write(buildResponse(rawCaps, user, auth, cachingSha2Password))
			p = c.read()
			if user == "root" {
				require.Equal(t, byte(0), p[0])
			} else {
				requireErrPacket(t, p, ER_ACCESS_DENIED_ERROR)
			}
		}
	}
	// Against a handshake naming caching_sha2_password, a client proposing
	// native with nothing is asked for its native response.
	c := dialRaw(t, sha2Addr)
	hs := parseHandshake(t, c.read())
	c.write(buildResponse(rawCaps, "alice", nil, nativePassword))
	require.Equal(t, "\xfemysql_native_password\x00"+string(hs.scramble)+"\x00", string(c.read()))
	c.write(gomysql.CalcPassword(hs.scramble, []byte("secret")))
	require.Equal(t, byte(0), c.read()[0])
	// ... and one that sends its native response right away is checked.
	c = dialRaw(t, sha2Addr)
	hs = parseHandshake(t, c.read())
	c.write(buildResponse(rawCaps, "alice", gomysql.CalcPassword(hs.scramble, []byte("secret")), nativePassword))
	require.Equal(t, byte(0), c.read()[0])
	// A scramble that is not 32 bytes is refused.
	for _, n := range []int{1, 20, 31, 33, 250, 4000} {
		c := dialRaw(t, addr)
		c.read()
		c.write(buildResponse(rawCaps, "root", bytes.Repeat([]byte{1}, n), cachingSha2Password, "_client_name", "libmysql", "_client_version", "9.0.1"))
		requireErrPacket(t, c.read(), ER_ACCESS_DENIED_ERROR)
	}
	// Without TLS, a MySQL 8 client library (which has native
	// authentication and does not fetch the key unasked) is switched to
	// native; so is any client that does not say what it is.
	for _, attrs := range [][]string{{"_client_name", "libmysql", "_client_version", "8.0.40"}, {"_client_name", "libmysql", "_client_version", "x"}, nil} {
		c := dialRaw(t, addr)
		hs := parseHandshake(t, c.read())
		c.write(buildResponse(rawCaps, "alice", sha2Scramble(hs.scramble, "secret"), cachingSha2Password, attrs...))
		sw := c.read()
		require.Equal(t, byte(0xfe), sw[0], "%q", sw)
		require.Equal(t, "mysql_native_password\x00", string(sw[1:23]))
		c.write(gomysql.CalcPassword(hs.scramble, []byte("secret")))
		require.Equal(t, byte(0), c.read()[0])
	}
	// mysql_clear_password without TLS is switched to native too.
	c = dialRaw(t, addr)
	c.read()
	c.write(buildResponse(rawCaps, "alice", []byte("secret\x00"), clearPassword))
	require.Equal(t, byte(0xfe), c.read()[0])

	// A packet bigger than any login needs ends the connection.
	c = dialRaw(t, addr)
	c.read()
	c.write(buildResponse(rawCaps, "root", make([]byte, 70000), cachingSha2Password))
	_, err := c.tryRead()
	require.Error(t, err)
}

// tlsClient upgrades a raw client after its SSLRequest.
func (c *rawClient) startTLS(t *testing.T, pool *x509.CertPool) {
	t.Helper()
	tc := tls.Client(c.nc, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	require.NoError(t, tc.Handshake())
	c.nc = tc
}

func TestRawTLS(t *testing.T) {
	tc := newTestCert(t)
	addr, _, _ := startServer(t, Options{TLSConfig: tc.server, HandshakeTimeout: 2 * time.Second})

	// The handshake advertises CLIENT_SSL only when TLS is configured.
	c := dialRaw(t, addr)
	hs := parseHandshake(t, c.read())
	require.NotZero(t, hs.caps&gomysql.CLIENT_SSL)
	require.Equal(t, nativePassword, hs.plugin)
	plainAddr, _, _ := startServer(t, Options{})
	require.Zero(t, parseHandshake(t, dialRaw(t, plainAddr).read()).caps&gomysql.CLIENT_SSL)

	// SSLRequest (seq 1), TLS, the response (seq 2), then
	// caching_sha2_password with the clear-text password.
	for _, tt := range []struct {
		user, password string
		ok             bool
	}{{"alice", "secret", true}, {"alice", "Secret", false}, {"root", "", true}, {"root", "x", false}} {
		c := dialRaw(t, addr)
		hs := parseHandshake(t, c.read())
		c.write(sslRequest(rawCaps))
		c.startTLS(t, tc.pool)
		auth := sha2Scramble(hs.scramble, tt.password)
		if tt.password == "" {
			auth = nil
		}
		c.write(buildResponse(rawCaps|gomysql.CLIENT_SSL, tt.user, auth, cachingSha2Password))
		if tt.password == "" {
			require.Equal(t, byte(0xfe), c.read()[0])
			c.write(nil)
		} else {
			require.Equal(t, []byte{0x01, 0x04}, c.read())
			c.write(append([]byte(tt.password), 0))
		}
		p := c.read()
		if !tt.ok {
			requireErrPacket(t, p, ER_ACCESS_DENIED_ERROR)
			continue
		}
		require.Equal(t, byte(0), p[0], "%q", p)
		c.command([]byte{gomysql.COM_PING})
		require.Equal(t, byte(0), c.read()[0])
	}

	// mysql_clear_password is accepted over TLS.
	for _, pw := range []string{"secret", "secret\x00"} {
		c = dialRaw(t, addr)
		c.read()
		c.write(sslRequest(rawCaps))
		c.startTLS(t, tc.pool)
		c.write(buildResponse(rawCaps|gomysql.CLIENT_SSL, "alice", []byte(pw), clearPassword))
		require.Equal(t, byte(0), c.read()[0])
	}

	// The SSLRequest and the ClientHello in one write.
	c = dialRaw(t, addr)
	c.read()
	tls1 := tls.Client(&writeThrough{Conn: c.nc, pre: func() []byte {
		req := sslRequest(rawCaps)
		return append([]byte{byte(len(req)), 0, 0, 1}, req...)
	}}, &tls.Config{RootCAs: tc.pool, ServerName: "127.0.0.1"})
	require.NoError(t, tls1.Handshake())
	c.nc, c.seq = tls1, 2
	c.write(buildResponse(rawCaps|gomysql.CLIENT_SSL, "root", nil, nativePassword))
	require.Equal(t, byte(0), c.read()[0])
}

// writeThrough prepends pre() to its first write.
type writeThrough struct {
	net.Conn
	pre  func() []byte
	done bool
}

func (w *writeThrough) Write(p []byte) (int, error) {
	if !w.done {
		w.done = true
		if _, err := w.Conn.Write(append(w.pre(), p...)); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return w.Conn.Write(p)
}

// TestRawTLSGarbage sends broken SSLRequests and TLS handshakes: the
// connection ends, nothing panics, and the server goes on serving.
func TestRawTLSGarbage(t *testing.T) {
	tc := newTestCert(t)
	addr, srv, _ := startServer(t, Options{TLSConfig: tc.server, HandshakeTimeout: time.Second})
	cases := map[string]func(c *rawClient){
		"truncated ssl request": func(c *rawClient) {
			c.read()
			c.write(sslRequest(rawCaps)[:31])
			requireErrPacket(c.t, c.read(), ER_HANDSHAKE_ERROR)
		},
		"ssl request without CLIENT_SSL": func(c *rawClient) {
			c.read()
			p := sslRequest(rawCaps)
			p[1] &^= byte(gomysql.CLIENT_SSL >> 8)
			c.write(p)
			requireErrPacket(c.t, c.read(), ER_HANDSHAKE_ERROR)
		},
		"garbage instead of ClientHello": func(c *rawClient) {
			c.read()
			c.write(sslRequest(rawCaps))
			_, _ = c.nc.Write(bytes.Repeat([]byte("GET / HTTP/1.1\r\n"), 50))
		},
		"plain packet instead of ClientHello": func(c *rawClient) {
			c.read()
			c.write(sslRequest(rawCaps))
			c.write(buildResponse(rawCaps, "root", nil, nativePassword))
		},
		"nothing after ssl request": func(c *rawClient) {
			c.read()
			c.write(sslRequest(rawCaps))
		},
		"second ssl request": func(c *rawClient) {
			c.read()
			c.write(sslRequest(rawCaps))
			c.startTLS(c.t, tc.pool)
			c.write(sslRequest(rawCaps))
			requireErrPacket(c.t, c.read(), ER_HANDSHAKE_ERROR)
		},
		"bad sequence over tls": func(c *rawClient) {
			c.read()
			c.write(sslRequest(rawCaps))
			c.startTLS(c.t, tc.pool)
			c.seq = 1
			c.write(buildResponse(rawCaps|gomysql.CLIENT_SSL, "root", nil, nativePassword))
		},
		"huge packet over tls": func(c *rawClient) {
			c.read()
			c.write(sslRequest(rawCaps))
			c.startTLS(c.t, tc.pool)
			_, _ = c.nc.Write([]byte{0xff, 0xff, 0xff, 2})
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, addr)
			f(c)
			if tcp, ok := c.nc.(*net.TCPConn); ok {
				_ = tcp.CloseWrite()
			}
			for {
				if _, err := c.tryRead(); err != nil {
					break
				}
			}
			ok := dialRaw(t, addr)
			ok.login(rawCaps, nativePassword)
		})
	}
	require.Eventually(t, func() bool { return srv.NumConnections() == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestRawRequireSecureTransport(t *testing.T) {
	tc := newTestCert(t)
	addr, _, _ := startServer(t, Options{TLSConfig: tc.server, RequireSecureTransport: true})
	c := dialRaw(t, addr)
	c.read()
	c.write(buildResponse(rawCaps, "root", nil, nativePassword))
	p := c.read()
	requireErrPacket(t, p, ER_SECURE_TRANSPORT_REQUIRED)
	require.Equal(t, "#HY000Connections using insecure transport are prohibited while --require_secure_transport=ON.", string(p[3:]))

	c = dialRaw(t, addr)
	c.read()
	c.write(sslRequest(rawCaps))
	c.startTLS(t, tc.pool)
	c.write(buildResponse(rawCaps|gomysql.CLIENT_SSL, "root", nil, nativePassword))
	require.Equal(t, byte(0), c.read()[0])
}

func TestDecryptPassword(t *testing.T) {
	key := testRSAKey()
	scramble := []byte("abcdefghijklmnopqrst")
	for _, pw := range []string{"", "x", "secret", strings.Repeat("p", 19), strings.Repeat("p", 20), strings.Repeat("päss", 30)} {
		ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &key.PublicKey, xorPassword(pw, scramble), nil)
		require.NoError(t, err)
		got, ok := decryptPassword(key, ct, scramble)
		require.True(t, ok)
		require.Equal(t, pw, got)
		ct, err = rsa.EncryptPKCS1v15(rand.Reader, &key.PublicKey, xorPassword(pw, scramble)) //nolint:staticcheck // tested padding
		require.NoError(t, err)
		got, ok = decryptPassword(key, ct, scramble)
		require.True(t, ok)
		require.Equal(t, pw, got)
	}
	_, ok := decryptPassword(key, make([]byte, 256), scramble)
	require.False(t, ok)
	_, ok = decryptPassword(key, nil, scramble)
	require.False(t, ok)

	// Credentials from a clear-text password match its native hash only.
	require.True(t, clearCredentials("secret").Match(NativeHash("secret")))
	require.False(t, clearCredentials("secret").Match(NativeHash("secret ")))
	require.False(t, clearCredentials("secret").Match(nil))
	require.True(t, clearCredentials("").Match(nil))
	require.False(t, clearCredentials("").Match(NativeHash("x")))
	require.True(t, clearCredentials("").Empty())
	require.False(t, refusedCredentials{}.Match(nil))
}
