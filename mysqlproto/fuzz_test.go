package mysqlproto

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/binary"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// FuzzPacket feeds arbitrary bytes to the parsers of client packets: the
// handshake response and length-encoded values. No input may panic.
func FuzzPacket(f *testing.F) {
	resp := binary.LittleEndian.AppendUint32(nil, rawCaps|gomysql.CLIENT_CONNECT_ATTRS|gomysql.CLIENT_CONNECT_WITH_DB|gomysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA)
	resp = append(resp, 0, 0, 0, 1, 45)
	resp = append(resp, make([]byte, 23)...)
	resp = append(resp, "root\x00\x14"...)
	resp = append(resp, make([]byte, 20)...)
	resp = append(resp, "db1\x00mysql_native_password\x00\x0a\x03_os\x05linux"...)
	f.Add(resp)
	f.Add(resp[:40])
	f.Add(resp[:32])
	f.Add(sslRequest(rawCaps))
	f.Add(sslRequest(rawCaps)[:31])
	f.Add(buildResponse(rawCaps, "alice", sha2Scramble([]byte("abcdefghijklmnopqrst"), "secret"), cachingSha2Password,
		"_client_name", "libmysql", "_client_version", "9.1.0"))
	f.Add([]byte{0xfc, 1})
	f.Add([]byte{0xfe, 1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseHandshakeResponse(data)
		_, _, _, _ = readLenenc(data)
		_, _, _ = readLenencString(data)
	})
}

// FuzzStmtExecute feeds arbitrary parameter blocks of COM_STMT_EXECUTE to the
// decoder, for statements with 0 to 8 parameters.
func FuzzStmtExecute(f *testing.F) {
	f.Add(uint8(2), []byte{0, 1, 8, 0, 0xfe, 0, 42, 0, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c'})
	f.Add(uint8(1), []byte{0, 1, 12, 0, 11, 0xe8, 7, 2, 29, 13, 14, 15, 1, 2, 3, 0})
	f.Add(uint8(1), []byte{0, 1, 11, 0, 12, 1, 1, 0, 0, 0, 2, 3, 4, 5, 0, 0, 0})
	f.Add(uint8(3), []byte{2, 1, 1, 0x80, 6, 0, 5, 0, 0xff, 4, 0, 0, 0x80, 0x3f})
	f.Add(uint8(1), []byte{0, 0})
	f.Fuzz(func(t *testing.T, n uint8, data []byte) {
		params := int(n % 9)
		args, typesInForce, err := parseExecuteParams(data, params, nil, map[int][]byte{1: []byte("long")})
		if err == nil && params > 0 {
			if len(args) != params || len(typesInForce) != 2*params {
				t.Fatalf("got %d args and %d type bytes for %d parameters", len(args), len(typesInForce), params)
			}
		}
	})
}

// FuzzDecryptPassword feeds arbitrary ciphertexts to the decryption of
// caching_sha2_password's RSA-encrypted password. No input may panic, and
// only ciphertexts of the key's size may decrypt.
func FuzzDecryptPassword(f *testing.F) {
	key := testRSAKey()
	scramble := []byte("abcdefghijklmnopqrst")
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &key.PublicKey, xorPassword("secret", scramble), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ct)
	f.Add(ct[:100])
	f.Add(append(ct, 1))
	f.Add(make([]byte, 256))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, ok := decryptPassword(key, data, scramble); ok && len(data) != key.Size() {
			t.Fatalf("decrypted %d bytes with a %d-byte key", len(data), key.Size())
		}
	})
}
