package compaction

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/strata-db/strata/be/tabletstore"
)

// Kind is the kind of a compaction, named as Doris names them.
type Kind uint8

const (
	// Cumulative merges rowsets at or above the tablet's cumulative point:
	// the small rowsets of recent loads.
	Cumulative Kind = iota
	// Base merges a run that starts below the cumulative point: rowsets
	// promoted out of the cumulative run, usually into the tablet's first.
	Base

	numKinds = 2
)

func (k Kind) String() string {
	switch k {
	case Cumulative:
		return "cumulative"
	case Base:
		return "base"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// CumulativePoint is Doris's cumulative point of a tablet with these
// visible rowsets (in version order): the first version of the cumulative
// run (rule 1 of Pick). Rowsets below it are large ones, left to base
// compaction. It is one past the last version when the newest rowset is
// large, and -1 (Doris's invalid point) when there are no rowsets.
func (p Policy) CumulativePoint(rowsets []tabletstore.RowsetInfo) int64 {
	if len(rowsets) == 0 {
		return -1
	}
	i := p.withDefaults().cumulativePoint(rowsets)
	if i == len(rowsets) {
		return rowsets[i-1].EndVersion + 1
	}
	return rowsets[i].StartVersion
}

// kindOf is the kind of a run Pick chose among rowsets: base when it
// starts below the cumulative point (rules 5 and 6 of Pick), else
// cumulative.
func (p Policy) kindOf(rowsets []tabletstore.RowsetInfo, r Run) Kind {
	if r.Start < p.CumulativePoint(rowsets) {
		return Base
	}
	return Cumulative
}

// scoreKind is Score and the kind of the run it counts (Cumulative when
// the score is 0).
func (p Policy) scoreKind(rowsets []tabletstore.RowsetInfo, maxVersions int) (int, Kind) {
	r, ok := p.Pick(rowsets, maxVersions)
	if !ok {
		return 0, Cumulative
	}
	return r.score(len(rowsets)), p.kindOf(rowsets, r)
}

// TabletScore is a tablet's compaction score (Policy.Score): how many
// rowsets the run the policy would merge next holds, 0 if none is due.
type TabletScore struct {
	TabletID int64
	Score    int
	Kind     Kind // of that run
}

// Scores returns the compaction score of every tablet with visible
// rowsets, by tablet id. It computes them now, one tablet at a time.
func (s *Scheduler) Scores() []TabletScore {
	ids := s.st.TabletIDs()
	maxVersions := s.st.MaxVersions()
	out := make([]TabletScore, 0, len(ids))
	for _, id := range ids {
		score, kind := s.cfg.Policy.scoreKind(s.st.Rowsets(id), maxVersions)
		out = append(out, TabletScore{TabletID: id, Score: score, Kind: kind})
	}
	return out
}

// TopScores returns the n highest compaction scores (all of them if n is
// negative or more than there are), highest first, ties by tablet id.
func (s *Scheduler) TopScores(n int) []TabletScore {
	scores := s.Scores()
	slices.SortStableFunc(scores, func(a, b TabletScore) int { return cmp.Compare(b.Score, a.Score) })
	if n >= 0 && n < len(scores) {
		scores = scores[:n]
	}
	return scores
}

// TabletStatus is a tablet's compaction status: what Doris's backend shows
// at /api/compaction/show. It marshals to JSON in Doris's shape.
type TabletStatus struct {
	TabletID        int64
	CumulativePoint int64
	Score           int
	ScoreKind       Kind // of the run Score counts
	// The last compaction of each kind (indexed by Kind) scheduled, that
	// succeeded, that failed, and how the last that ended did: "[OK]" or
	// the error. Zero times: never since the scheduler started.
	LastScheduled, LastSuccess, LastFailure [numKinds]time.Time
	LastStatus                              [numKinds]string
	Rowsets                                 []tabletstore.RowsetInfo // visible, in version order
	// StaleRowsets is how many rowsets compactions replaced that are kept
	// for readers.
	StaleRowsets int
}

// TabletStatus returns a tablet's compaction status; ok is false when the
// store holds no visible rowset of it.
func (s *Scheduler) TabletStatus(tabletID int64) (_ TabletStatus, ok bool) {
	rowsets := s.st.Rowsets(tabletID)
	st := TabletStatus{
		TabletID: tabletID, CumulativePoint: s.cfg.Policy.CumulativePoint(rowsets), Rowsets: rowsets,
		StaleRowsets: s.st.StaleRowsets(tabletID),
	}
	st.Score, st.ScoreKind = s.cfg.Policy.scoreKind(rowsets, s.st.MaxVersions())
	s.mu.Lock()
	if l := s.logs[tabletID]; l != nil {
		st.LastScheduled, st.LastSuccess, st.LastFailure, st.LastStatus = l.scheduled, l.succeeded, l.failed, l.status
	}
	s.mu.Unlock()
	return st, len(rowsets) > 0
}

// The last status of a compaction: Doris's Status::to_string.
const statusOK = "[OK]"

func statusError(err error) string { return "[INTERNAL_ERROR]" + err.Error() }

// dorisTabletStatus is the JSON of Doris's Tablet::get_compaction_status
// (be/src/olap/tablet.cpp): its keys, in its order.
type dorisTabletStatus struct {
	PolicyType             string   `json:"cumulative policy type"`
	CumulativePoint        int64    `json:"cumulative point"`
	LastCumulativeFailure  string   `json:"last cumulative failure time"`
	LastBaseFailure        string   `json:"last base failure time"`
	LastFullFailure        string   `json:"last full failure time"`
	LastCumulativeSuccess  string   `json:"last cumulative success time"`
	LastBaseSuccess        string   `json:"last base success time"`
	LastFullSuccess        string   `json:"last full success time"`
	LastCumulativeSchedule string   `json:"last cumulative schedule time"`
	LastBaseSchedule       string   `json:"last base schedule time"`
	LastFullSchedule       string   `json:"last full schedule time"`
	LastCumulativeStatus   string   `json:"last cumulative status"`
	LastBaseStatus         string   `json:"last base status"`
	LastFullStatus         string   `json:"last full status"`
	Rowsets                []string `json:"rowsets"`
	MissingRowsets         []string `json:"missing_rowsets"`
	StaleRowsets           []string `json:"stale_rowsets"`
	StaleVersionPath       []any    `json:"stale version path"`
}

// MarshalJSON writes the status as Doris does. Strata has no full
// compaction, so its fields keep their initial values. Differences that
// follow from the store:
//   - "missing_rowsets" is always empty: a load adds a rowset only to the
//     tablets it writes, so versions a tablet has no rowset for are normal,
//     not missing;
//   - "stale_rowsets" and "stale version path" are empty: the store reports
//     only how many stale rowsets a tablet keeps (StaleRowsets), not their
//     ranges.
func (t TabletStatus) MarshalJSON() ([]byte, error) {
	d := dorisTabletStatus{
		PolicyType:             "SIZE_BASED",
		CumulativePoint:        t.CumulativePoint,
		LastCumulativeFailure:  dorisTime(t.LastFailure[Cumulative]),
		LastBaseFailure:        dorisTime(t.LastFailure[Base]),
		LastFullFailure:        dorisTime(time.Time{}),
		LastCumulativeSuccess:  dorisTime(t.LastSuccess[Cumulative]),
		LastBaseSuccess:        dorisTime(t.LastSuccess[Base]),
		LastFullSuccess:        dorisTime(time.Time{}),
		LastCumulativeSchedule: dorisTime(t.LastScheduled[Cumulative]),
		LastBaseSchedule:       dorisTime(t.LastScheduled[Base]),
		LastFullSchedule:       dorisTime(time.Time{}),
		LastCumulativeStatus:   t.LastStatus[Cumulative],
		LastBaseStatus:         t.LastStatus[Base],
		Rowsets:                make([]string, len(t.Rowsets)),
		MissingRowsets:         []string{},
		StaleRowsets:           []string{},
		StaleVersionPath:       []any{},
	}
	for i, rs := range t.Rowsets {
		d.Rowsets[i] = dorisRowset(rs)
	}
	return json.Marshal(d)
}

// dorisRowset describes a visible rowset as Doris's
// Tablet::_get_rowset_info_str does: "[start-end] segments DATA|DELETE
// OVERLAPPING|NONOVERLAPPING rowset-id size". Strata writes deletes as
// rows, so every rowset is DATA. A load's segments are each sorted on
// their own, so they overlap when there are several; a compaction's output
// (the only rowsets covering more than one version) is one sorted run.
func dorisRowset(rs tabletstore.RowsetInfo) string {
	overlap := "NONOVERLAPPING"
	if rs.NumSegments > 1 && rs.StartVersion == rs.EndVersion {
		overlap = "OVERLAPPING"
	}
	return fmt.Sprintf("[%d-%d] %d DATA %s %d %s", rs.StartVersion, rs.EndVersion, rs.NumSegments, overlap, rs.ID,
		dorisBytes(rs.DataSize))
}

// dorisBytes prints a size as Doris's PrettyPrinter does for TUnit::BYTES:
// "0", or two decimals and the largest binary unit it reaches ("3.11 KB").
func dorisBytes(n int64) string {
	const kb, mb, gb = 1 << 10, 1 << 20, 1 << 30
	switch {
	case n == 0:
		return "0"
	case n >= gb:
		return fmt.Sprintf("%.2f GB", float64(n)/gb)
	case n >= mb:
		return fmt.Sprintf("%.2f MB", float64(n)/mb)
	case n >= kb:
		return fmt.Sprintf("%.2f KB", float64(n)/kb)
	}
	return fmt.Sprintf("%.2f B", float64(n))
}

// dorisTime prints a time as Doris's ToStringFromUnixMillis does, in the
// process's time zone; the zero time is the unix epoch, as Doris prints a
// time never set.
func dorisTime(t time.Time) string {
	if t.IsZero() {
		t = time.UnixMilli(0)
	}
	return t.Local().Format("2006-01-02 15:04:05.000")
}
