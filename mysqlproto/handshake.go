package mysqlproto

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// The connection phase, as this server runs it:
//
//	S: HandshakeV10 (scramble, capabilities [+ CLIENT_SSL when TLS is configured], plugin)
//	C: [SSLRequest (32 bytes) ─ TLS handshake ─] HandshakeResponse41 (sequence ids go on across the upgrade)
//	S: [ERR 3159 when TLS is required but not used]
//	   then, by the plugin the client named:
//	   mysql_native_password  the response is checked against the stored hash
//	   caching_sha2_password  see cachingSha2 below; run over TLS, when the
//	                          handshake named it, or for clients without
//	                          mysql_native_password; else switched as below
//	   mysql_clear_password   accepted over TLS only; else switched as below
//	   anything else          AuthSwitchRequest to mysql_native_password, same scramble
//	S: OK or ERR 1045
//
// The server keeps only SHA1(SHA1(password)), so caching_sha2_password never
// takes its fast path: the client always has to reveal the password, in
// clear text over TLS or RSA-encrypted without it.

// Authentication plugin names.
const (
	nativePassword      = "mysql_native_password"
	cachingSha2Password = "caching_sha2_password"
	clearPassword       = "mysql_clear_password"
)

// caching_sha2_password exchange bytes, sent after the AuthMoreData header
// 0x01, and the client's public key request.
const (
	authMoreData         = 0x01
	sha2RequestPublicKey = 0x02
	sha2FastAuthSuccess  = 0x03
	sha2FullAuth         = 0x04
)

// maxAuthPacket bounds the packets read before the login has succeeded:
// the largest legitimate one is a handshake response with many connection
// attributes, far below this.
const maxAuthPacket = 1 << 16

// ER_SECURE_TRANSPORT_REQUIRED refuses a login without TLS when TLS is
// required.
const ER_SECURE_TRANSPORT_REQUIRED uint16 = 3159

// ConnInfo describes how a connection logged in.
type ConnInfo struct {
	// TLS is set when the connection is encrypted; TLSVersion and
	// CipherSuite then hold what was negotiated (see tls.VersionName and
	// tls.CipherSuiteName).
	TLS         bool
	TLSVersion  uint16
	CipherSuite uint16
	// AuthPlugin is the plugin that carried the password:
	// "mysql_native_password", "caching_sha2_password" or
	// "mysql_clear_password".
	AuthPlugin string
}

// ConnInfoSetter is an optional interface of [Session]. When a session
// implements it, SetConnInfo is called once, right after NewSession and
// before any other method.
type ConnInfoSetter interface {
	SetConnInfo(ConnInfo)
}

// newScramble returns 20 random printable bytes (no NUL, as clients expect).
func newScramble() []byte {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = 33 + b[i]%94
	}
	return b
}

// caps returns the capabilities advertised in the handshake.
func (s *Server) caps() uint32 {
	if s.opts.TLSConfig != nil {
		return serverCaps | gomysql.CLIENT_SSL
	}
	return serverCaps
}

func (c *conn) handshake() error {
	_ = c.nc.SetDeadline(time.Now().Add(c.srv.opts.HandshakeTimeout))
	c.authLimit = maxAuthPacket
	scramble := newScramble()
	caps := c.srv.caps()
	b := make([]byte, 0, 128)
	b = append(b, 10)
	b = append(b, c.srv.opts.Version...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint32(b, c.id)
	b = append(b, scramble[:8]...)
	b = append(b, 0)
	b = append(b, byte(caps), byte(caps>>8))
	b = append(b, charsetUTF8)
	b = append(b, 0, 0) // status: 0 in the handshake
	b = append(b, byte(caps>>16), byte(caps>>24))
	b = append(b, byte(len(scramble)+1))
	b = append(b, make([]byte, 10)...)
	b = append(b, scramble[8:]...)
	b = append(b, 0)
	b = append(b, c.srv.opts.AuthPlugin...)
	b = append(b, 0)
	if err := c.writePacket(b); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}

	resp, err := c.readHandshakeResponse()
	if err != nil {
		return err
	}
	if resp.sslOnly {
		if err := c.startTLS(resp); err != nil {
			return err
		}
		if resp, err = c.readHandshakeResponse(); err != nil {
			return err
		}
		if resp.sslOnly {
			return c.badHandshake(errors.New("second SSLRequest over TLS"))
		}
	}
	c.caps = resp.caps & caps
	c.user = resp.user
	c.host = hostOf(c.nc.RemoteAddr())
	if c.srv.opts.RequireSecureTransport && c.tls == nil {
		_ = c.writeErr(NewError(ER_SECURE_TRANSPORT_REQUIRED, "Connections using insecure transport are prohibited while --require_secure_transport=ON."))
		_ = c.flush()
		return fmt.Errorf("login of %q without TLS refused", c.user)
	}

	cred, err := c.exchange(resp, scramble)
	if err == nil {
		err = c.authenticate(cred)
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			using := "YES"
			if cred != nil && cred.Empty() {
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
	if s, ok := sess.(ConnInfoSetter); ok {
		info := c.connInfo()
		c.safely("setting connection info", func() { s.SetConnInfo(info) })
	}
	c.status = gomysql.SERVER_STATUS_AUTOCOMMIT
	if err := c.writeOK(0, 0, c.status, 0, ""); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}
	c.authLimit = 0
	return c.nc.SetDeadline(time.Time{})
}

// readHandshakeResponse reads and parses a handshake response or
// SSLRequest. A read error is returned as is; a malformed response is
// answered with "Bad handshake".
func (c *conn) readHandshakeResponse() (*handshakeResponse, error) {
	pkt, err := c.readPacket()
	if err != nil {
		return nil, fmt.Errorf("reading handshake response: %w", err)
	}
	resp, err := parseHandshakeResponse(pkt)
	if err != nil {
		return nil, c.badHandshake(err)
	}
	return resp, nil
}

// badHandshake answers a malformed handshake and returns err.
func (c *conn) badHandshake(err error) error {
	_ = c.writeErr(NewError(ER_HANDSHAKE_ERROR, "Bad handshake"))
	_ = c.flush()
	return err
}

// startTLS answers an SSLRequest: it runs the TLS handshake and from then on
// reads and writes through TLS.
func (c *conn) startTLS(req *handshakeResponse) error {
	cfg := c.srv.opts.TLSConfig
	if cfg == nil {
		return c.badHandshake(errors.New("client asked for TLS, which this server does not offer"))
	}
	if req.caps&gomysql.CLIENT_SSL == 0 {
		return c.badHandshake(errors.New("short handshake response without CLIENT_SSL"))
	}
	if len(c.out) != 0 {
		return errors.New("BUG: unsent output before the TLS handshake")
	}
	// From here on the client speaks TLS: errors close the connection
	// without a MySQL error packet. The ClientHello may already sit in the
	// read buffer.
	tc := tls.Server(&bufferedConn{Conn: c.nc, r: c.br}, cfg)
	if err := tc.HandshakeContext(c.ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	st := tc.ConnectionState()
	c.tls = &st
	c.rw = tc
	c.br = bufio.NewReaderSize(tc, 16<<10)
	return nil
}

// bufferedConn reads first what r has buffered, then from the connection.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) {
	if b.r != nil {
		if b.r.Buffered() > 0 {
			return b.r.Read(p)
		}
		b.r = nil
	}
	return b.Conn.Read(p)
}

func (c *conn) connInfo() ConnInfo {
	info := ConnInfo{AuthPlugin: c.plugin}
	if c.tls != nil {
		info.TLS = true
		info.TLSVersion = c.tls.Version
		info.CipherSuite = c.tls.CipherSuite
	}
	return info
}

// exchange runs the authentication plugin's message exchange and returns
// what the client proved. A non-nil error is a refusal (sent as 1045 unless
// it is an [*Error]) or an I/O error.
func (c *conn) exchange(resp *handshakeResponse, scramble []byte) (Credentials, error) {
	pluginAuth := resp.caps&gomysql.CLIENT_PLUGIN_AUTH != 0
	proposed := nativePassword
	if pluginAuth && resp.plugin != "" {
		proposed = resp.plugin
	}
	plugin := nativePassword
	switch {
	case proposed == cachingSha2Password && c.runCachingSha2(resp):
		plugin = cachingSha2Password
	case proposed == clearPassword && c.tls != nil:
		plugin = clearPassword
	}
	auth := resp.auth
	// A client switches when asked to use another plugin than the one it
	// proposed. It is also asked when it proposed another plugin than the
	// handshake named and sent nothing: the MySQL and MariaDB client
	// libraries then hold back their response, because the scramble came
	// with another plugin, and wait for a switch (an empty response alone
	// would stand for the empty password).
	if plugin != proposed || (len(auth) == 0 && pluginAuth && proposed != c.srv.opts.AuthPlugin) {
		sw := append([]byte{0xfe}, plugin...)
		sw = append(sw, 0)
		sw = append(sw, scramble...)
		sw = append(sw, 0)
		if err := c.writePacket(sw); err != nil {
			return nil, err
		}
		if err := c.flush(); err != nil {
			return nil, err
		}
		pkt, err := c.readPacket()
		if err != nil {
			return nil, fmt.Errorf("reading auth switch response: %w", err)
		}
		auth = bytes.Clone(pkt)
	}
	c.plugin = plugin
	switch plugin {
	case cachingSha2Password:
		return c.cachingSha2(scramble, auth)
	case clearPassword:
		return clearCredentials(trimNul(auth)), nil
	}
	if len(auth) == 1 && auth[0] == 0 {
		auth = nil
	}
	return nativeCredentials{scramble: scramble, auth: auth}, nil
}

// runCachingSha2 reports whether a client that proposed
// caching_sha2_password goes through its exchange rather than being
// switched to mysql_native_password. Without TLS the exchange needs the
// client to fetch the server's RSA key, which the MySQL 8 client library
// does only when told to (--get-server-public-key), so those clients keep
// being switched unless the handshake itself named caching_sha2_password
// (as MySQL 8 servers do) or the client cannot do native authentication
// (the MySQL 9 client library).
func (c *conn) runCachingSha2(resp *handshakeResponse) bool {
	if c.tls != nil || c.srv.opts.AuthPlugin == cachingSha2Password {
		return true
	}
	return resp.attrs["_client_name"] == "libmysql" && majorVersion(resp.attrs["_client_version"]) >= 9
}

// majorVersion returns the leading number of a version such as "9.1.0",
// or 0.
func majorVersion(v string) int {
	if i := strings.IndexByte(v, '.'); i >= 0 {
		v = v[:i]
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return n
}

// cachingSha2 runs the server side of caching_sha2_password after the
// client's first response, auth:
//
//	empty (or one NUL)          the empty password; the OK or ERR follows
//	32-byte SHA-256 scramble    S: 01 04 (perform full authentication), then
//	  over TLS                  C: password NUL
//	  without TLS               C: [02 (public key request)  S: 01 PEM]
//	                            C: RSA(password NUL XOR scramble), OAEP or PKCS#1 v1.5
//
// The fast path (01 03, accepted from the scramble alone) needs
// SHA256(SHA256(password)), which the server does not keep.
func (c *conn) cachingSha2(scramble, auth []byte) (Credentials, error) {
	if len(auth) == 0 || (len(auth) == 1 && auth[0] == 0) {
		return clearCredentials(""), nil
	}
	if len(auth) != 32 {
		return nil, fmt.Errorf("caching_sha2_password scramble of %d bytes", len(auth))
	}
	if err := c.writePacket([]byte{authMoreData, sha2FullAuth}); err != nil {
		return nil, err
	}
	if err := c.flush(); err != nil {
		return nil, err
	}
	pkt, err := c.readPacket()
	if err != nil {
		return nil, fmt.Errorf("reading caching_sha2_password response: %w", err)
	}
	if c.tls != nil {
		return clearCredentials(trimNul(pkt)), nil
	}
	key, err := c.srv.rsaKey()
	if err != nil {
		return nil, err
	}
	if len(pkt) == 1 && pkt[0] == sha2RequestPublicKey {
		if err := c.writePacket(append([]byte{authMoreData}, key.pem...)); err != nil {
			return nil, err
		}
		if err := c.flush(); err != nil {
			return nil, err
		}
		if pkt, err = c.readPacket(); err != nil {
			return nil, fmt.Errorf("reading the encrypted password: %w", err)
		}
	}
	pw, ok := decryptPassword(key.priv, pkt, scramble)
	if !ok {
		// Refused like a wrong password, through the handler, so that a
		// failed decryption looks and takes the same as a wrong password.
		return refusedCredentials{}, nil
	}
	return rsaCredentials{clearCredentials(pw)}, nil
}

// decryptPassword decrypts what a caching_sha2_password (or
// sha256_password) client sends without TLS: the NUL-terminated password
// XOR the scramble (repeated), RSA-encrypted with OAEP (SHA-1) padding, or
// with PKCS#1 v1.5 padding by clients that take this server's version for
// one older than MySQL 8.0.5 (Connector/J). The result stops at the first
// NUL.
func decryptPassword(key *rsa.PrivateKey, ct, scramble []byte) (string, bool) {
	if len(ct) != key.Size() || len(scramble) == 0 {
		return "", false
	}
	plain, err := rsa.DecryptOAEP(sha1.New(), nil, key, ct, nil)
	if err != nil {
		// PKCS#1 v1.5 decryption reveals by its failure whether a
		// ciphertext was well-formed. Here every failure is answered like a
		// wrong password, on a connection that must be opened anew for each
		// try.
		plain, err = rsa.DecryptPKCS1v15(nil, key, ct) //nolint:staticcheck // clients choose this padding
		if err != nil {
			return "", false
		}
	}
	for i := range plain {
		plain[i] ^= scramble[i%len(scramble)]
	}
	if i := bytes.IndexByte(plain, 0); i >= 0 {
		plain = plain[:i]
	}
	return string(plain), true
}

func trimNul(b []byte) string {
	if n := len(b); n > 0 && b[n-1] == 0 {
		b = b[:n-1]
	}
	return string(b)
}

// rsaKey is the key pair of caching_sha2_password's exchange without TLS.
type rsaKey struct {
	priv *rsa.PrivateKey
	pem  []byte // the public key, PKIX in PEM, as clients expect it
}

func newRSAKey(priv *rsa.PrivateKey) (*rsaKey, error) {
	if priv == nil {
		var err error
		if priv, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("generating the RSA key for caching_sha2_password: %w", err)
		}
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encoding the RSA public key: %w", err)
	}
	return &rsaKey{priv: priv, pem: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})}, nil
}

// RSAPublicKeyPEM returns the public half of the RSA key that
// caching_sha2_password clients use without TLS, in the PEM form clients
// accept as a server public key file (--server-public-key-path).
func (s *Server) RSAPublicKeyPEM() ([]byte, error) {
	k, err := s.rsaKey()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(k.pem), nil
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

// clearCredentials is a password the client sent in clear text (over TLS)
// or RSA-encrypted.
type clearCredentials string

func (p clearCredentials) Empty() bool { return p == "" }

func (p clearCredentials) Match(hash []byte) bool {
	if p == "" || len(hash) == 0 {
		return p == "" && len(hash) == 0
	}
	return subtle.ConstantTimeCompare(NativeHash(string(p)), hash) == 1
}

// rsaCredentials are a password decrypted from an RSA-encrypted packet.
// Empty is false even for an empty password, as for one that could not be
// decrypted: a refusal's "using password" must not tell the two apart.
type rsaCredentials struct{ clearCredentials }

func (rsaCredentials) Empty() bool { return false }

// refusedCredentials match no password; they stand for a password that
// could not be decrypted.
type refusedCredentials struct{}

func (refusedCredentials) Empty() bool       { return false }
func (refusedCredentials) Match([]byte) bool { return false }

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
