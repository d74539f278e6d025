package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/strata-db/strata/rpc"
)

// fuzzCalls are the unary calls FuzzUnaryRequests feeds. be.clone is left
// out: its request names an address the backend dials.
var fuzzCalls = []string{
	"be.publish", "be.delete", "be.checksum", "be.clone_manifest",
	"be.abort", "be.rebuild", "be.clone_release", "be.report",
}

// FuzzUnaryRequests sends arbitrary bytes as the body of the backend's
// unary calls to a real server holding a tablet: valid JSON through an
// rpc.Client, anything else as a raw Flight action. The server must answer
// every call, with a result or an error, never panic in a handler, and
// keep serving.
//
//	go test -run XXX -fuzz FuzzUnaryRequests ./be/service/
func FuzzUnaryRequests(f *testing.F) {
	seeds := []struct {
		call int
		body string
	}{
		{0, `{"txns":[{"TxnID":100,"Tablets":{"7":{"Version":3,"Written":true}}}]}`},
		{0, `{"txns":[{"TxnID":5,"Tablets":{"7":{"Version":-1,"Written":false,"lenient":true}}},{"TxnID":5}]}`},
		{0, `{"txns":null}`},
		{1, `{"tablet":7,"txn":9,"schema":{"table":{"id":10,"keys_type":0,"key_columns":["k"],"schema":{"version":1,"columns":[{"id":1,"name":"k","type":{"Kind":5},"is_key":true}]}}},"predicate":{"conditions":[{"column":1,"op":"<","ints":[3]}]}}`},
		{1, `{"tablet":7,"txn":9,"schema":{"table":{"schema":{"columns":[{"id":1,"type":{"Kind":99}}]}}},"predicate":{}}`},
		{2, `{"tablet":7,"version":2}`},
		{2, `{"tablet":-1,"version":9223372036854775807}`},
		{3, `{"tablet":7,"have":0,"want":2}`},
		{3, `{"tablet":7,"have":2,"want":1}`},
		{4, `{"txn":100}`},
		{5, `{"tablet":7,"txn":100,"version":2}`},
		{6, `{"token":"00"}`},
		{7, `null`},
		{0, `[`},
		{1, "\xff\x00"},
		{2, ``},
	}
	for _, s := range seeds {
		f.Add(uint8(s.call), []byte(s.body))
	}

	cli := newClient(f)
	b := newBackend(f, 1, cli, backendOpts{quiet: true})
	const tablet = 7
	loadOn(f, 1, tablet, makeRows(0, 50), b)
	publishOn(f, 1, 2, map[int64]bool{tablet: true}, b)
	conn, err := grpc.NewClient(b.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { conn.Close() })
	raw := flight.NewClientFromConn(conn, nil)

	f.Fuzz(func(t *testing.T, call uint8, body []byte) {
		name := fuzzCalls[int(call)%len(fuzzCalls)]
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if json.Valid(body) {
			var resp json.RawMessage
			err := cli.Call(ctx, b.addr, name, json.RawMessage(body), &resp)
			if err != nil {
				code := rpc.CodeOf(err)
				if code == "" || code == rpc.CodeUnavailable || code == rpc.CodeDeadlineExceeded ||
					strings.Contains(err.Error(), "panicked") {
					t.Fatalf("%s %q: %v", name, body, err)
				}
			} else if !json.Valid(resp) {
				t.Fatalf("%s %q: result %q", name, body, resp)
			}
		} else {
			stream, err := raw.DoAction(ctx, &flight.Action{Type: name, Body: body})
			if err == nil {
				_, err = stream.Recv()
			}
			blank := len(bytes.TrimSpace(body)) == 0
			switch {
			case err == nil && !blank:
				t.Fatalf("%s %q: not JSON, and accepted", name, body)
			case err == nil:
			case strings.Contains(err.Error(), "panicked"):
				t.Fatalf("%s %q: %v", name, body, err)
			case !blank && status.Code(err) != codes.InvalidArgument:
				// Not JSON: the server refuses it before any handler
				// (a blank body is the JSON null, and reaches one).
				t.Fatalf("%s %q: %v", name, body, err)
			case status.Code(err) == codes.Unavailable:
				t.Fatalf("%s %q: %v", name, body, err)
			}
		}
		// The backend still serves.
		if err := cli.Call(ctx, b.addr, "be.report", nil, nil); err != nil {
			t.Fatalf("after %s %q: %v", name, body, err)
		}
	})
}
