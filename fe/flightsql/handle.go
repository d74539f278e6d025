package flightsql

import (
	"crypto/rand"
	"errors"
	"fmt"
)

// A handle names a result waiting for its DoGet or a prepared statement.
// Clients get it inside tickets and prepared statement handles and send it
// back; it is opaque to them and checked on the way in:
//
//	+---------+------+----------------------+
//	| version | kind | id: 16 random bytes  |
//	| 1 byte  | 1 B  |                      |
//	+---------+------+----------------------+
//
// A handle also belongs to one session: one session cannot use another's,
// even if it learns the bytes.
type handle [16]byte

const (
	handleVersion = 1
	handleLen     = 2 + len(handle{})
)

// handleKind tells results from prepared statements.
type handleKind byte

const (
	kindResult   handleKind = 'r'
	kindPrepared handleKind = 'p'
)

func (k handleKind) String() string {
	switch k {
	case kindResult:
		return "result"
	case kindPrepared:
		return "prepared statement"
	}
	return fmt.Sprintf("handleKind(%d)", byte(k))
}

// errBadHandle is returned for bytes that are no handle of this server.
var errBadHandle = errors.New("flightsql: malformed handle")

func newHandle() (handle, error) {
	var h handle
	_, err := rand.Read(h[:])
	return h, err
}

// encode returns the handle's bytes for a client.
func (h handle) encode(k handleKind) []byte {
	b := make([]byte, 0, handleLen)
	b = append(b, handleVersion, byte(k))
	return append(b, h[:]...)
}

// decodeHandle parses bytes a client sent back as a handle of kind k.
func decodeHandle(b []byte, k handleKind) (handle, error) {
	var h handle
	if len(b) != handleLen {
		return h, fmt.Errorf("%w: %d bytes, want %d", errBadHandle, len(b), handleLen)
	}
	if b[0] != handleVersion {
		return h, fmt.Errorf("%w: version %d", errBadHandle, b[0])
	}
	if handleKind(b[1]) != k {
		return h, fmt.Errorf("%w: a %v handle where a %v handle belongs", errBadHandle, handleKind(b[1]), k)
	}
	copy(h[:], b[2:])
	return h, nil
}
