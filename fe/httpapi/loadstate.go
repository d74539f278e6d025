package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/txn"
)

// loadState serves GET /api/{db}/get_load_state?label=L (Doris's
// GetStreamLoadState): data is the state of the label's latest transaction,
// UNKNOWN, PREPARE, PRECOMMITTED, COMMITTED, VISIBLE or ABORTED.
func (a *API) loadState(w http.ResponseWriter, r *http.Request, _ string) {
	label := r.URL.Query().Get("label")
	if label == "" {
		replyBadRequest(w, msgNoLabel)
		return
	}
	dbName := fullDBName(r.PathValue("db"))
	db, err := a.cfg.Catalog.Snapshot().Database(dbName)
	if err != nil {
		replyError(w, metaNotFound("unknown databases, dbName=%s", dbName))
		return
	}
	t, err := a.latestByLabel(r.Context(), db.ID, label)
	switch {
	case errors.Is(err, txn.ErrNotFound):
		replyOK(w, txn.StatusUnknown.String())
	case err != nil:
		replyError(w, err.Error())
	default:
		replyOK(w, t.Status.String())
	}
}

// latestByLabel is the transaction with the highest id among those that
// used label in a database, aborted ones included, as Doris's getLabelState
// picks it; an error wrapping txn.ErrNotFound if there is none.
func (a *API) latestByLabel(ctx context.Context, dbID int64, label string) (*txn.Txn, error) {
	t, err := a.cfg.Txns.GetByLabel(ctx, dbID, label)
	if !errors.Is(err, txn.ErrNotFound) {
		return t, err
	}
	// No live transaction holds the label; an aborted one may still be
	// stored. This lists the database's transactions, which is fine for a
	// probe clients send once per restart.
	all, lerr := a.cfg.Txns.List(ctx, dbID)
	if lerr != nil {
		return nil, lerr
	}
	var latest *txn.Txn
	for _, c := range all {
		if c.Label == label && (latest == nil || c.ID > latest.ID) {
			latest = c
		}
	}
	if latest == nil {
		return nil, err
	}
	return latest, nil
}

// loadInfoReply is Doris's legacy RestBaseResult with a job: status "OK"
// and msg "Success", or status "FAILED" and the error.
type loadInfoReply struct {
	Status  string   `json:"status"`
	Msg     string   `json:"msg"`
	JobInfo *jobInfo `json:"jobInfo,omitempty"`
}

// jobInfo is Doris's Load.JobInfo.
type jobInfo struct {
	DBName      string   `json:"dbName"`
	TblNames    []string `json:"tblNames"`
	Label       string   `json:"label"`
	ClusterName string   `json:"clusterName"`
	State       string   `json:"state"`
	FailMsg     string   `json:"failMsg"`
	TrackingURL string   `json:"trackingUrl"`
}

// loadInfo serves the legacy GET /api/{db}/_load_info?label=L, with the
// label's transaction shown as a load job.
func (a *API) loadInfo(w http.ResponseWriter, r *http.Request, _ string) {
	fail := func(msg string) { writeJSON(w, loadInfoReply{Status: "FAILED", Msg: msg}) }
	label := r.URL.Query().Get("label")
	if label == "" {
		fail(msgNoLabel)
		return
	}
	dbName := fullDBName(r.PathValue("db"))
	snap := a.cfg.Catalog.Snapshot()
	db, err := snap.Database(dbName)
	if err != nil {
		fail(metaNotFound("unknown databases, dbName=%s", dbName))
		return
	}
	t, err := a.latestByLabel(r.Context(), db.ID, label)
	switch {
	case errors.Is(err, txn.ErrNotFound):
		fail(analysisError("Unknown job(%s)", label))
		return
	case err != nil:
		fail(err.Error())
		return
	}
	writeJSON(w, loadInfoReply{Status: "OK", Msg: "Success", JobInfo: &jobInfo{
		DBName:      db.Name,
		TblNames:    tableNames(snap, db.ID, t.TableIDs),
		Label:       t.Label,
		ClusterName: "default_cluster",
		State:       jobState(t.Status),
		FailMsg:     t.Reason,
	}})
}

func tableNames(snap *catalog.Snapshot, dbID int64, ids []int64) []string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if t, ok := snap.TableByID(dbID, id); ok {
			names = append(names, t.Name)
		}
	}
	return names
}

// jobState maps a transaction status to Doris's load JobState.
func jobState(s txn.Status) string {
	switch s {
	case txn.StatusPrepare, txn.StatusPrecommitted:
		return "LOADING"
	case txn.StatusCommitted:
		return "COMMITTED"
	case txn.StatusVisible:
		return "FINISHED"
	case txn.StatusAborted:
		return "CANCELLED"
	}
	return "UNKNOWN"
}
