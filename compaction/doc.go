// Package compaction keeps the number of rowsets per tablet bounded: it
// merges runs of adjacent visible rowsets of a tablet into one.
//
// Every load adds one rowset to each tablet it touches, and a reader opens
// every rowset of a tablet, so without compaction a client loading every
// second slows every query down and holds ever more files open. The package
// has three parts:
//
//   - the policy ([Policy]): which run of a tablet's rowsets to merge next
//     (cumulative compaction with size tiers; see [Policy.Pick]);
//   - the executor ([Compact], [CompactRange]): a k-way merge of the run's
//     segments on the sort key into a new rowset, which
//     tabletstore.Compaction writes durably and swaps in for the run in one
//     metadata transaction;
//   - the scheduler ([Scheduler]): a bounded pool of background workers fed
//     by the tablet store after each publish and by a periodic scan.
//
// The scheduler is observable as a Doris backend is: each tablet's
// compaction status ([Scheduler.TabletStatus], served by [ShowHandler] as
// Doris's /api/compaction/show), compaction scores ([Scheduler.Scores],
// [ScoreHandler]), and Prometheus metrics with Doris's names
// ([NewCollector]).
//
// The store owns files, metadata, readers' pins and the rowsets a
// compaction replaced (kept for readers at older versions until swept);
// this package owns what a merged rowset holds. Today every table is read
// as duplicate-key, so a merge keeps every row; rows with equal keys come
// out oldest version first, which is the order the unique- and
// aggregate-key models need to fold them, and where delete bitmaps will be
// applied.
//
// Concurrency: a Scheduler is safe for concurrent use; Compact and
// CompactRange may run concurrently on different tablets (the store refuses
// a second compaction of one tablet).
package compaction
