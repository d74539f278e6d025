package compaction

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// The backend's compaction endpoints, as Doris's backend serves them
// (be/src/http/action/compaction_action.cpp, compaction_score_action.cpp).

// ShowHandler serves GET /api/compaction/show?tablet_id=N: the tablet's
// compaction status (TabletStatus) as JSON. Like Doris, it answers errors
// with HTTP 200 and {"status": CODE, "msg": text}: INTERNAL_ERROR for a
// missing or malformed tablet_id, NOT_FOUND for an unknown tablet.
//
// known reports whether a tablet the store holds no rowset of exists all
// the same (one no load has written to yet); it then shows with no
// rowsets. nil: only tablets with rowsets exist.
func ShowHandler(s *Scheduler, known func(tabletID int64) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := tabletIDParam(r)
		if err != nil {
			writeStatus(w, "INTERNAL_ERROR", err.Error())
			return
		}
		st, ok := s.TabletStatus(id)
		if !ok && (known == nil || !known(id)) {
			writeStatus(w, "NOT_FOUND", fmt.Sprintf("Tablet not found. tablet_id=%d", id))
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
}

// tabletIDParam reads the tablet_id parameter, with Doris's error texts.
func tabletIDParam(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("tablet_id")
	if v == "" {
		return 0, errors.New("check param failed: missing tablet_id")
	}
	id, err := strconv.ParseUint(v, 10, 63)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			err = ne.Err // "invalid syntax", "value out of range"
		}
		return 0, fmt.Errorf("convert tablet_id failed, %w", err)
	}
	if id == 0 {
		return 0, errors.New("check param failed: missing tablet_id")
	}
	return int64(id), nil
}

// ScoreHandler serves GET /api/compaction_score[?top_n=N]: the tablets by
// compaction score, highest first (the first N), as Doris's
// [{"compaction_score": "5", "tablet_id": "10015"}, ...] with the numbers
// as strings. A malformed top_n is HTTP 400 with a text reply, as in Doris.
func ScoreHandler(s *Scheduler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := -1
		if v := r.URL.Query().Get("top_n"); v != "" {
			top, err := strconv.Atoi(v)
			if err != nil || top < 0 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = fmt.Fprintf(w, "invalid argument: top_n=%s", v)
				return
			}
			n = top
		}
		type entry struct {
			Score    string `json:"compaction_score"`
			TabletID string `json:"tablet_id"`
		}
		scores := s.TopScores(n)
		out := make([]entry, len(scores))
		for i, ts := range scores {
			out[i] = entry{Score: strconv.Itoa(ts.Score), TabletID: strconv.FormatInt(ts.TabletID, 10)}
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// writeStatus writes Doris's Status::to_json: an error code and message.
func writeStatus(w http.ResponseWriter, code, msg string) {
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
		Msg    string `json:"msg"`
	}{code, msg})
}

// writeJSON writes v indented as Doris's rapidjson PrettyWriter does.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		// Only a bug makes these values unmarshalable.
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
