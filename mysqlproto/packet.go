package mysqlproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// maxPayload is the largest payload of one wire packet; longer payloads are
// split, and a payload of exactly this size is followed by another packet.
const maxPayload = 0xffffff

var errMalformed = errors.New("malformed packet")

// readLenenc reads a length-encoded integer. ok is false when b is too short;
// null reports the NULL marker 0xFB.
func readLenenc(b []byte) (v uint64, n int, null, ok bool) {
	if len(b) == 0 {
		return 0, 0, false, false
	}
	switch b[0] {
	case 0xfb:
		return 0, 1, true, true
	case 0xfc:
		if len(b) < 3 {
			return 0, 0, false, false
		}
		return uint64(binary.LittleEndian.Uint16(b[1:])), 3, false, true
	case 0xfd:
		if len(b) < 4 {
			return 0, 0, false, false
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, 4, false, true
	case 0xfe:
		if len(b) < 9 {
			return 0, 0, false, false
		}
		return binary.LittleEndian.Uint64(b[1:]), 9, false, true
	case 0xff:
		return 0, 0, false, false
	}
	return uint64(b[0]), 1, false, true
}

// readLenencString reads a length-encoded string; the result aliases b.
func readLenencString(b []byte) (s []byte, n int, err error) {
	l, k, null, ok := readLenenc(b)
	if !ok || null || l > uint64(len(b)-k) {
		return nil, 0, errMalformed
	}
	return b[k : k+int(l)], k + int(l), nil
}

// readNulString reads a NUL-terminated string; without a NUL it takes the
// rest of b when rest is true and fails otherwise.
func readNulString(b []byte, rest bool) (s []byte, n int, err error) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		if rest {
			return b, len(b), nil
		}
		return nil, 0, errMalformed
	}
	return b[:i], i + 1, nil
}

// handshakeResponse is a parsed Protocol::HandshakeResponse41.
type handshakeResponse struct {
	caps     uint32
	charset  byte
	sslOnly  bool // an SSLRequest: the client wants TLS before the rest
	user     string
	auth     []byte
	db       string
	plugin   string
	attrs    map[string]string
	maxBytes uint32
}

// parseHandshakeResponse parses the client's answer to the handshake.
func parseHandshakeResponse(data []byte) (*handshakeResponse, error) {
	if len(data) < 32 {
		return nil, fmt.Errorf("handshake response of %d bytes: %w", len(data), errMalformed)
	}
	r := &handshakeResponse{
		caps:     binary.LittleEndian.Uint32(data),
		maxBytes: binary.LittleEndian.Uint32(data[4:]),
		charset:  data[8],
	}
	if r.caps&gomysql.CLIENT_PROTOCOL_41 == 0 {
		return nil, errors.New("client does not support CLIENT_PROTOCOL_41")
	}
	pos := 32
	if len(data) == pos {
		r.sslOnly = true
		return r, nil
	}
	user, n, err := readNulString(data[pos:], false)
	if err != nil {
		return nil, fmt.Errorf("reading user name: %w", err)
	}
	r.user = string(user)
	pos += n
	switch {
	case r.caps&gomysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0:
		a, n, err := readLenencString(data[pos:])
		if err != nil {
			return nil, fmt.Errorf("reading auth response: %w", err)
		}
		r.auth, pos = a, pos+n
	case r.caps&gomysql.CLIENT_SECURE_CONNECTION != 0:
		if pos >= len(data) {
			return nil, fmt.Errorf("reading auth response: %w", errMalformed)
		}
		l := int(data[pos])
		if l > len(data)-pos-1 {
			return nil, fmt.Errorf("reading auth response: %w", errMalformed)
		}
		r.auth, pos = data[pos+1:pos+1+l], pos+1+l
	default:
		a, n, err := readNulString(data[pos:], true)
		if err != nil {
			return nil, err
		}
		r.auth, pos = a, pos+n
	}
	r.auth = bytes.Clone(r.auth)
	if r.caps&gomysql.CLIENT_CONNECT_WITH_DB != 0 && pos < len(data) {
		db, n, _ := readNulString(data[pos:], true)
		r.db, pos = string(db), pos+n
	}
	if r.caps&gomysql.CLIENT_PLUGIN_AUTH != 0 && pos < len(data) {
		p, n, _ := readNulString(data[pos:], true)
		r.plugin, pos = string(p), pos+n
	}
	if r.caps&gomysql.CLIENT_CONNECT_ATTRS != 0 && pos < len(data) {
		total, n, null, ok := readLenenc(data[pos:])
		if !ok || null || total > uint64(len(data)-pos-n) {
			return nil, fmt.Errorf("reading connection attributes: %w", errMalformed)
		}
		attrs := data[pos+n : pos+n+int(total)]
		r.attrs = map[string]string{}
		for len(attrs) > 0 {
			k, n, err := readLenencString(attrs)
			if err != nil {
				return nil, fmt.Errorf("reading connection attributes: %w", err)
			}
			attrs = attrs[n:]
			v, n, err := readLenencString(attrs)
			if err != nil {
				return nil, fmt.Errorf("reading connection attributes: %w", err)
			}
			attrs = attrs[n:]
			r.attrs[string(k)] = string(v)
		}
	}
	return r, nil
}

// appendErrPayload appends an ERR packet payload.
func appendErrPayload(b []byte, e *Error, protocol41 bool) []byte {
	b = append(b, 0xff, byte(e.Code), byte(e.Code>>8))
	if protocol41 {
		state := e.State
		if len(state) != 5 {
			state = StateOf(e.Code)
		}
		b = append(b, '#')
		b = append(b, state...)
	}
	return append(b, e.Message...)
}

// appendOKPayload appends an OK packet payload; header is 0x00, or 0xFE for
// the OK that ends a result set under CLIENT_DEPRECATE_EOF. The info string
// is always written, length-encoded, even when empty.
func appendOKPayload(b []byte, header byte, affected, lastID uint64, status, warnings uint16, info string) []byte {
	b = append(b, header)
	b = gomysql.AppendLengthEncodedInteger(b, affected)
	b = gomysql.AppendLengthEncodedInteger(b, lastID)
	b = append(b, byte(status), byte(status>>8), byte(warnings), byte(warnings>>8))
	return appendLenencString(b, info)
}
