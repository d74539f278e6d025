package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// envelope names the call and holds its request where Flight has a single
// opaque byte field for both: the DoGet ticket and the DoPut descriptor's
// command.
type envelope struct {
	Call string          `json:"call"`
	Req  json.RawMessage `json:"req,omitempty"`
}

// jsonNull is the request a call without one carries.
var jsonNull = json.RawMessage("null")

// encodeEnvelope returns the envelope of a call to name with request req.
func encodeEnvelope(name string, req any) ([]byte, error) {
	body, err := encodeRequest(req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(envelope{Call: name, Req: body})
}

// encodeRequest returns req as JSON. A json.RawMessage is sent as is
// (compacted); nil becomes the JSON null.
func encodeRequest(req any) (json.RawMessage, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("rpc: encoding request: %w", err)
	}
	return body, nil
}

// decodeEnvelope parses an envelope received from a peer. The bytes are
// untrusted: anything that is not a JSON object with a non-empty "call"
// string is an error. A missing or null "req" becomes the JSON null.
func decodeEnvelope(b []byte) (envelope, error) {
	var env envelope
	if len(bytes.TrimSpace(b)) == 0 {
		return env, errors.New("empty envelope")
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return envelope{}, fmt.Errorf("envelope is not a JSON object {\"call\", \"req\"}: %w", err)
	}
	if env.Call == "" {
		return envelope{}, errors.New(`envelope has no "call"`)
	}
	if len(env.Req) == 0 {
		env.Req = jsonNull
	}
	return env, nil
}

// decodeBody checks a unary call's request body. The body is untrusted;
// an empty body means the JSON null.
func decodeBody(b []byte) (json.RawMessage, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return jsonNull, nil
	}
	if !json.Valid(b) {
		return nil, errors.New("request body is not valid JSON")
	}
	return json.RawMessage(b), nil
}
