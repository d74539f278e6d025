package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/strata-db/strata/mysqlproto"
)

// Row limits of a result set (Doris's StmtExecutionAction): the default
// when the body names none, and a cap, so that one request cannot buffer an
// unbounded result.
const (
	defaultRowLimit = 1000
	maxRowLimit     = 10000
)

// stmtRequest is the body of POST /api/query.
type stmtRequest struct {
	Stmt   string
	IsSync bool
	Limit  int64
}

// parseStmtRequest decodes {"stmt":"...","is_sync":true,"limit":1000} the
// way Doris's Gson does: keys are case-sensitive, is_sync defaults to true
// and limit to 1000; a missing or empty stmt is left empty for the caller
// to refuse.
func parseStmtRequest(body []byte) (stmtRequest, error) {
	req := stmtRequest{IsSync: true, Limit: defaultRowLimit}
	fields, err := decodeObject(body)
	if err != nil {
		return req, err
	}
	if req.Stmt, err = jsonString(fields["stmt"]); err != nil {
		return req, fmt.Errorf("stmt: %w", err)
	}
	if raw := fields["is_sync"]; len(raw) > 0 && string(raw) != "null" {
		if req.IsSync, err = jsonBool(raw); err != nil {
			return req, fmt.Errorf("is_sync: %w", err)
		}
	}
	if raw := fields["limit"]; len(raw) > 0 && string(raw) != "null" {
		if req.Limit, err = jsonInt(raw); err != nil {
			return req, fmt.Errorf("limit: %w", err)
		}
	}
	return req, nil
}

// jsonInt reads an integer member, given as a number or a string.
func jsonInt(raw json.RawMessage) (int64, error) {
	s, err := jsonString(raw)
	if err != nil {
		return 0, err
	}
	var n json.Number = json.Number(strings.TrimSpace(s))
	v, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("expected an integer, got %s", raw)
	}
	return v, nil
}

// execStatus is the data of a statement without a result set.
type execStatus struct {
	Type   string   `json:"type"` // "exec_status"
	Status struct{} `json:"status"`
	Time   int64    `json:"time"` // ms
}

// resultSet is the data of a statement with a result set.
type resultSet struct {
	Type   string       `json:"type"` // "result_set"
	Meta   []columnMeta `json:"meta"`
	Data   [][]any      `json:"data"`
	Status struct{}     `json:"status"`
	Time   int64        `json:"time"` // ms
}

// columnMeta names a result column and its type as Doris's MariaDB JDBC
// driver reports it.
type columnMeta struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// query serves POST /api/query/{ns}/{db}: it runs the statement as the
// authenticated user with db as the current database, in a session of its
// own. Several statements may be sent; all run, and the reply describes the
// first.
func (a *API) query(w http.ResponseWriter, r *http.Request, user string) {
	start := time.Now()
	ns, db := r.PathValue("ns"), fullDBName(r.PathValue("db"))
	body, err := readBody(r)
	if err != nil {
		replyBadRequest(w, err.Error())
		return
	}
	req, err := parseStmtRequest(body)
	switch {
	case errors.Is(err, errEmptyBody):
		replyBadRequest(w, msgNoStmt)
		return
	case err != nil:
		replyBadRequest(w, "Invalid request body: "+err.Error())
		return
	case strings.TrimSpace(req.Stmt) == "":
		replyBadRequest(w, msgNoStmt)
		return
	case !req.IsSync:
		replyError(w, msgAsyncStmt)
		return
	}
	if !strings.EqualFold(ns, "default_cluster") && !isInternalCatalog(ns) {
		replyError(w, analysisError("Unknown catalog '%s'", ns))
		return
	}

	sess, err := a.cfg.Sessions.NewSession(a.connID(), user, remoteHost(r), db)
	if err != nil {
		replyError(w, errorText(err))
		return
	}
	defer sess.Close()
	results, err := sess.Query(r.Context(), req.Stmt)
	defer func() {
		for _, res := range results {
			if res != nil && res.Rows != nil {
				res.Rows.Close()
			}
		}
	}()
	if err != nil {
		replyError(w, errorText(err))
		return
	}
	if len(results) == 0 || results[0] == nil || results[0].Fields == nil {
		replyOK(w, execStatus{Type: "exec_status", Time: time.Since(start).Milliseconds()})
		return
	}
	res := results[0]
	limit := min(max(req.Limit, 0), maxRowLimit)
	rows, err := collectRows(res, int(limit))
	if err != nil {
		replyError(w, errorText(err))
		return
	}
	meta := make([]columnMeta, len(res.Fields))
	for i, f := range res.Fields {
		meta[i] = columnMeta{Name: f.Name, Type: metaTypeName(f.Type)}
	}
	replyOK(w, resultSet{Type: "result_set", Meta: meta, Data: rows, Time: time.Since(start).Milliseconds()})
}

// errorText is the message of a statement's error as a MySQL client would
// show it.
func errorText(err error) string {
	var me *mysqlproto.Error
	if errors.As(err, &me) {
		return me.Message
	}
	return err.Error()
}

// collectRows reads up to limit rows of a result set as JSON values; the
// caller closes the iterator.
func collectRows(res *mysqlproto.Result, limit int) ([][]any, error) {
	rows := [][]any{}
	if res.Rows == nil {
		return rows, nil
	}
	conv := make([]valueFunc, len(res.Fields))
	for len(rows) < limit {
		cols, sel, err := res.Rows.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(cols) != len(res.Fields) {
			return nil, fmt.Errorf("result batch has %d columns, want %d", len(cols), len(res.Fields))
		}
		n := 0
		if len(cols) > 0 {
			n = cols[0].Len()
		}
		if sel != nil {
			n = len(sel)
		}
		for c, arr := range cols {
			conv[c] = jsonValueFunc(res.Fields[c].Type, arr)
		}
		for i := 0; i < n && len(rows) < limit; i++ {
			j := i
			if sel != nil {
				j = int(sel[i])
			}
			row := make([]any, len(cols))
			for c := range cols {
				row[c] = conv[c](j)
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}
