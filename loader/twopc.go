package loader

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
)

// TxnRequest names the transaction of a two-phase-commit decision: by id,
// or (TxnID 0) by label.
type TxnRequest struct {
	DB    string
	TxnID int64
	Label string
	// User and Host are the client's, whose privileges on the
	// transaction's tables the backend checks once it found it.
	User string
	Host string
}

// TwoPhaseBackend carries out the client's decision on a precommitted load
// (PUT /api/{db}/_stream_load_2pc). Its errors' texts are the protocol's
// (STREAMLOAD.md §3): "transaction [T] not found", "... is already
// visible, not pre-committed.", "running transaction not found, label=L".
type TwoPhaseBackend interface {
	Authenticate(user, password, host string) error
	// CommitTxn commits a PRECOMMITTED transaction; by label it considers
	// only PRECOMMITTED ones. It (and AbortTxn) refuses a client not
	// allowed to load into the transaction's tables. It returns once the transaction is committed
	// (the data is visible, or will be after a delayed publish).
	CommitTxn(ctx context.Context, req TxnRequest) error
	// AbortTxn aborts a PREPARE or PRECOMMITTED transaction; a load still
	// running under it then fails.
	AbortTxn(ctx context.Context, req TxnRequest) error
}

// twoPhaseReply is the reply of the 2PC endpoint: lower-case keys, string
// values only (the Flink connector reads it as Map<String,String>).
type twoPhaseReply struct {
	Status string `json:"status"`
	Msg    string `json:"msg"`
}

// Two-phase-commit reply statuses.
const (
	twoPhaseFailed        = "FAILED"
	twoPhaseInternalError = "INTERNAL_ERROR"
	twoPhaseAnalysisError = "ANALYSIS_ERROR"
)

// NewTwoPhaseHandler serves PUT /api/{db}/_stream_load_2pc (and the
// /api/{db}/{table}/ form, whose table is ignored): headers txn_id or label,
// and txn_operation commit|abort. Every reply is HTTP 200 with a JSON body.
func NewTwoPhaseHandler(b TwoPhaseBackend, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return &twoPhaseHandler{b: b, log: log}
}

type twoPhaseHandler struct {
	b   TwoPhaseBackend
	log *slog.Logger
}

func (h *twoPhaseHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep := h.decide(r)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(rep)
}

func (h *twoPhaseHandler) decide(r *http.Request) twoPhaseReply {
	fail := func(status, msg string) twoPhaseReply { return twoPhaseReply{status, msg} }
	user, pass, ok := r.BasicAuth()
	if !ok {
		return fail(twoPhaseFailed, msgNoAuth)
	}
	host := remoteHost(r)
	if err := h.b.Authenticate(user, pass, host); err != nil {
		return fail(twoPhaseFailed, err.Error())
	}
	db := r.PathValue("db")
	if db == "" {
		return fail(twoPhaseFailed, "No database selected.")
	}
	idText, label := r.Header.Get("txn_id"), r.Header.Get("label")
	if idText == "" && label == "" {
		return fail(twoPhaseFailed, "No transaction id or label selected.")
	}
	op := r.Header.Get("txn_operation")
	if op == "" {
		return fail(twoPhaseFailed, "No transaction operation('commit' or 'abort') selected.")
	}
	req := TxnRequest{DB: db, Label: label, User: user, Host: host}
	if idText != "" {
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			return fail(twoPhaseInternalError, fmt.Sprintf("convert txn_id [%s] failed", idText))
		}
		req.TxnID = id
		if id == 0 {
			// Id 0 would mean "by label" below; no transaction has it.
			return fail(twoPhaseAnalysisError, "errCode = 2, detailMessage = transaction [0] not found")
		}
	}
	var err error
	switch op {
	case "commit":
		err = h.b.CommitTxn(r.Context(), req)
	case "abort":
		err = h.b.AbortTxn(r.Context(), req)
	default:
		return fail(twoPhaseInternalError, "transaction operation should be 'commit' or 'abort'")
	}
	if err != nil {
		h.log.Info("two-phase decision refused", "db", db, "txn_id", idText, "label", label, "op", op, "err", err)
		return fail(twoPhaseAnalysisError, "errCode = 2, detailMessage = "+err.Error())
	}
	msg := ""
	if label != "" {
		msg += "label [" + label + "] "
	}
	if req.TxnID != 0 {
		msg += "transaction [" + strconv.FormatInt(req.TxnID, 10) + "] "
	}
	return twoPhaseReply{StatusSuccess, msg + op + " successfully."}
}
