// Package keymodel folds the rows of one key into one, as the UNIQUE and
// AGGREGATE KEY data models want. In a DUPLICATE KEY table every row is
// kept; in a UNIQUE KEY table one row per key survives; in an AGGREGATE
// KEY table the rows of one key become one row, each value column folded
// by its aggregation.
//
// # Where folding runs
//
// Rows reach this package sorted on their key columns (the first
// [Model.NumKeys] columns) in the tablet store's order — NULLs first,
// floats as [cmp.Compare] orders them, strings bytewise, false before
// true, Decimal128 by value — with the rows of one key in arrival order,
// oldest first. Three places produce such rows:
//
//  1. a load's memtable, stable-sorted when it is flushed: one batch,
//     folded with [Model.Fold];
//  2. compaction: a k-way merge of a tablet's rowsets in version order,
//     handed over in chunks in which a key's rows may span two chunks,
//     folded with a [Folder];
//  3. reading a merge-on-read or aggregate-key tablet: as compaction.
//
// Merge-on-write tables need to know which input rows survived (their
// row identities go into delete bitmaps): [Model.Winners] says.
//
// # Semantics
//
// These are Doris's. Keys are equal when the tablet store's comparator
// has them equal: NULL equals NULL, NaN equals NaN, -0 equals +0.
//
// UNIQUE: the whole newest row of a key survives, every column included
// (a delete-sign column too: what a delete sign means is the caller's
// business). With a sequence column the row with the largest sequence
// value survives instead; a NULL sequence value is the smallest, and of
// equal sequence values the newest wins.
//
// AGGREGATE, per value column:
//
//	SUM                  the sum of the non-NULL values, in the column's
//	                     own type: integers (LARGEINT too) wrap as Go's
//	                     arithmetic does, DECIMAL adds exactly, floats add
//	                     oldest first starting from the oldest value (so a
//	                     lone -0 stays -0); NULL when every value is NULL
//	MIN, MAX             the least or greatest non-NULL value in the sort
//	                     order above (the oldest of equal ones); NULL when
//	                     every value is NULL
//	REPLACE              the newest value, NULL included
//	REPLACE_IF_NOT_NULL  the newest non-NULL value; NULL when none
//	BITMAP_UNION,        Model.Union of the non-NULL serialized values,
//	HLL_UNION            oldest first; a single non-NULL value is kept as
//	                     it is, without a call; NULL when every value is
//	                     NULL
//
// Key columns keep the oldest row's value.
//
// Folding is associative: folding a prefix of a key's rows first and
// then the folded row with the rest gives the same row as folding all of
// them at once (for the unions, given an associative Union, as
// be/sketch's are). A [Folder] relies on this when a key's rows span
// chunks, and so does compaction, which folds rows that earlier flushes
// folded already.
//
// # Speed
//
// Fold runs on every flushed memtable (up to a million rows) and over
// every merged chunk, so it works a column at a time with one type switch
// per column and typed loops below it: no value is boxed and nothing is
// allocated per row. Group boundaries come from comparing each key column
// with itself shifted by one row. When no two adjacent rows share a key —
// most loads — Fold returns its input arrays without copying. Otherwise
// each output column is gathered from the input by row index (keys,
// REPLACE*, MIN, MAX, the unique winners) or computed (SUM, the unions)
// straight into new Arrow buffers. A [Folder] runs one chunk behind the
// stream so that it, too, hands chunks without repeated keys back as they
// are; only a key spanning two chunks costs a copy.
package keymodel
