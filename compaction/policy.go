package compaction

import (
	"github.com/strata-db/strata/be/tabletstore"
)

// Policy chooses which run of a tablet's visible rowsets to merge. Its
// zero fields take the defaults of DefaultPolicy. It is a pure function of
// the rowset list, so it is tested on its own.
type Policy struct {
	// MinRowsets is the smallest cumulative run worth merging (Doris's
	// min_cumulative_compaction_num_singleton_deltas): below it, a tablet
	// waits for more loads. Default 5.
	MinRowsets int
	// MaxRowsets bounds the rowsets one compaction merges (Doris's
	// max_cumulative_compaction_num_singleton_deltas), which bounds the
	// pages a merge holds open at once. Default 1000.
	MaxRowsets int
	// A rowset at least the promotion size is "large": it ends the
	// cumulative run and is left to a base compaction. The size is
	// PromotionRatio of the tablet's bytes, clamped to [PromotionMinBytes,
	// PromotionMaxBytes] (Doris's compaction_promotion_ratio,
	// compaction_promotion_min_size_mbytes, compaction_promotion_size_mbytes).
	// Defaults 0.05, 128 MiB, 1 GiB.
	PromotionRatio    float64
	PromotionMinBytes int64
	PromotionMaxBytes int64
	// TinyBytes: a run smaller than this is merged whole, whatever the
	// shape of its sizes; rewriting it costs next to nothing. Default 4 MiB.
	TinyBytes int64
	// UrgentRatio: when a tablet holds more than this share of the version
	// limit, any run of two or more rowsets is merged, large ones included
	// (but not the largest of all, unless the tablet is tiny), so that loads
	// are not refused.
	// Default 0.5.
	UrgentRatio float64
	// Base compaction merges the large rowsets below the cumulative run into
	// the tablet's first (the base) when there are BaseMinRowsets of them
	// besides the base, or they weigh BaseMinRatio of it (Doris's
	// base_compaction_min_rowset_num, base_compaction_min_data_ratio).
	// Defaults 5 and 0.3.
	BaseMinRowsets int
	BaseMinRatio   float64
}

// DefaultPolicy returns the policy with Doris's defaults.
func DefaultPolicy() Policy {
	return Policy{
		MinRowsets:        5,
		MaxRowsets:        1000,
		PromotionRatio:    0.05,
		PromotionMinBytes: 128 << 20,
		PromotionMaxBytes: 1 << 30,
		TinyBytes:         4 << 20,
		UrgentRatio:       0.5,
		BaseMinRowsets:    5,
		BaseMinRatio:      0.3,
	}
}

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.MinRowsets <= 0 {
		p.MinRowsets = d.MinRowsets
	}
	p.MinRowsets = max(p.MinRowsets, 2)
	if p.MaxRowsets <= 0 {
		p.MaxRowsets = d.MaxRowsets
	}
	p.MaxRowsets = max(p.MaxRowsets, p.MinRowsets)
	if p.PromotionRatio <= 0 {
		p.PromotionRatio = d.PromotionRatio
	}
	if p.PromotionMinBytes <= 0 {
		p.PromotionMinBytes = d.PromotionMinBytes
	}
	if p.PromotionMaxBytes <= 0 {
		p.PromotionMaxBytes = d.PromotionMaxBytes
	}
	p.PromotionMaxBytes = max(p.PromotionMaxBytes, p.PromotionMinBytes)
	if p.TinyBytes <= 0 {
		p.TinyBytes = d.TinyBytes
	}
	if p.UrgentRatio <= 0 {
		p.UrgentRatio = d.UrgentRatio
	}
	if p.BaseMinRowsets <= 0 {
		p.BaseMinRowsets = d.BaseMinRowsets
	}
	if p.BaseMinRatio <= 0 {
		p.BaseMinRatio = d.BaseMinRatio
	}
	return p
}

// Run is the rowsets a compaction merges: the visible rowsets covering
// versions [Start, End].
type Run struct {
	Start, End int64
	Rowsets    int
	Bytes      int64
	Urgent     bool // picked because the tablet nears the version limit
}

// Pick returns the run to merge next among a tablet's visible rowsets (in
// version order), and false when none is worth merging yet. maxVersions is
// the store's limit on visible rowsets.
//
// The policy is cumulative compaction with size tiers:
//
//  1. The promotion size P is PromotionRatio of the tablet's bytes, clamped
//     to [PromotionMinBytes, PromotionMaxBytes]. The cumulative run is the
//     rowsets after the newest one of at least P: the small ones above the
//     last big one, and after the newest rowset of a DELETE by condition,
//     which only a base compaction may merge (its condition marked the
//     older rows when it was published; see tabletstore.BeginCompaction).
//  2. If the run is at least TinyBytes and its largest rowset outweighs all
//     its others together, the largest is left alone: the run is cut there
//     and the longer side kept (the newer one on a tie), repeatedly. So a
//     merged rowset is rewritten only once the rowsets next to it add up to
//     its size, and each row is rewritten O(log(P / load size)) times instead
//     of once per MinRowsets loads.
//  3. The run is merged when it has at least MinRowsets rowsets; at most the
//     oldest MaxRowsets of it.
//  4. When the tablet holds more than UrgentRatio of maxVersions, a run of
//     two or more is merged; if the cumulative run is shorter, the whole
//     list after the newest DELETE (large rowsets included) is cut at its
//     largest rowset, the base, unless it is tiny, and the longer side is
//     taken through rule 2.
//  5. Otherwise, base compaction: the large rowsets below the cumulative
//     run are merged with the first rowset when there are BaseMinRowsets of
//     them besides it, or they weigh BaseMinRatio of it. Only a base
//     compaction drops what nothing older needs any more (the delete-sign
//     rows of merge-on-write).
//
// Schema versions do not matter: a run may hold rowsets written before and
// after light schema changes, which the store merges into the newest schema
// (tabletstore.BeginCompaction), so a tablet's version count stays bounded
// across ALTER TABLE.
func (p Policy) Pick(rowsets []tabletstore.RowsetInfo, maxVersions int) (Run, bool) {
	p = p.withDefaults()
	if len(rowsets) < 2 {
		return Run{}, false
	}
	point := p.cumulativePoint(rowsets)
	cum := p.tier(rowsets[point:])
	urgent := maxVersions > 0 && float64(len(rowsets)) > p.UrgentRatio*float64(maxVersions)
	switch {
	case len(cum) >= p.MinRowsets:
	case urgent && len(cum) >= 2:
	case urgent:
		cum = p.tier(p.withoutLargest(rowsets[afterDeletes(rowsets):]))
		if len(cum) < 2 {
			return Run{}, false
		}
	default:
		if cum = p.base(rowsets[:point]); cum == nil {
			return Run{}, false
		}
	}
	if len(cum) > p.MaxRowsets {
		cum = cum[:p.MaxRowsets]
	}
	r := Run{Start: cum[0].StartVersion, End: cum[len(cum)-1].EndVersion, Rowsets: len(cum), Urgent: urgent}
	for _, rs := range cum {
		r.Bytes += rs.DataSize
	}
	return r, true
}

// cumulativePoint is the index of the first rowset of the cumulative run:
// rule 1's, or just after the newest rowset of a DELETE by condition, which
// only a base compaction may take (see tabletstore.BeginCompaction).
func (p Policy) cumulativePoint(rowsets []tabletstore.RowsetInfo) int {
	return max(p.cumulativeStart(rowsets), afterDeletes(rowsets))
}

// afterDeletes is the index just after the newest rowset of a DELETE by
// condition (0: none).
func afterDeletes(rowsets []tabletstore.RowsetInfo) int {
	for i := len(rowsets) - 1; i >= 0; i-- {
		if rowsets[i].Delete {
			return i + 1
		}
	}
	return 0
}

// cumulativeStart applies rule 1 of Pick: the index of the first rowset of
// the cumulative run, just after the newest rowset of at least the
// promotion size (len(rowsets) when that is the last). p has its defaults.
func (p Policy) cumulativeStart(rowsets []tabletstore.RowsetInfo) int {
	var total int64
	for _, rs := range rowsets {
		total += rs.DataSize
	}
	promotion := min(max(int64(p.PromotionRatio*float64(total)), p.PromotionMinBytes), p.PromotionMaxBytes)
	for i := len(rowsets) - 1; i >= 0; i-- {
		if rowsets[i].DataSize >= promotion {
			return i + 1
		}
	}
	return 0
}

// base applies rule 5 of Pick to the rowsets below the cumulative run: the
// run of a base compaction, or nil.
func (p Policy) base(below []tabletstore.RowsetInfo) []tabletstore.RowsetInfo {
	if len(below) < 2 {
		return nil
	}
	var rest int64
	for _, rs := range below[1:] {
		rest += rs.DataSize
	}
	if len(below)-1 >= p.BaseMinRowsets || float64(rest) >= p.BaseMinRatio*float64(below[0].DataSize) {
		return below
	}
	return nil
}

// withoutLargest applies rule 4 of Pick: unless the run is tiny, cut it at
// its largest rowset and keep the longer side.
func (p Policy) withoutLargest(run []tabletstore.RowsetInfo) []tabletstore.RowsetInfo {
	var sum int64
	big := 0
	for i, rs := range run {
		sum += rs.DataSize
		if rs.DataSize > run[big].DataSize {
			big = i
		}
	}
	if sum < p.TinyBytes {
		return run
	}
	return longerSide(run, big)
}

// longerSide returns the rowsets before or after run[i], whichever are
// more (the newer on a tie).
func longerSide(run []tabletstore.RowsetInfo, i int) []tabletstore.RowsetInfo {
	if older, newer := run[:i], run[i+1:]; len(older) > len(newer) {
		return older
	}
	return run[i+1:]
}

// tier applies rule 2 of Pick: while the run is not tiny and its largest
// rowset outweighs the others together, cut the run at it and keep the
// longer side.
func (p Policy) tier(run []tabletstore.RowsetInfo) []tabletstore.RowsetInfo {
	for len(run) >= 2 {
		var sum int64
		big := 0
		for i, rs := range run {
			sum += rs.DataSize
			if rs.DataSize > run[big].DataSize {
				big = i
			}
		}
		if sum < p.TinyBytes || run[big].DataSize <= sum-run[big].DataSize {
			break
		}
		run = longerSide(run, big)
	}
	return run
}

// Score is how urgently a tablet needs compacting: the rowsets of the run
// Pick would merge, or 0. A tablet near the version limit scores its whole
// rowset count, so it goes first.
func (p Policy) Score(rowsets []tabletstore.RowsetInfo, maxVersions int) int {
	r, ok := p.Pick(rowsets, maxVersions)
	if !ok {
		return 0
	}
	return r.score(len(rowsets))
}

// score is Score of a run picked among n rowsets.
func (r Run) score(n int) int {
	if r.Urgent {
		return n
	}
	return r.Rowsets
}
