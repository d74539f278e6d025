// Package storage implements the segment file format: an immutable file
// holding a sorted run of rows of one tablet, column by column.
//
// A segment is written once by a [Writer] and read by [Open]. Rows are cut
// into pages of WriterOptions.PageRows rows; every column uses the same page
// boundaries, so page p of every column covers the same rows. Each page is
// encoded on its own (plain, constant, bit-packed, frame of reference, RLE or
// dictionary, chosen by a cost rule from the page's values), compressed with
// s2 or zstd only when that pays, and framed with a version byte and a
// CRC32-C. Per column a page index records where each page lives and its
// zone map (min, max, null count); a sparse short-key index samples the sort
// key every ShortKeyInterval rows. The footer holds the schema, the row
// count, the page boundaries and the locations of the index blocks.
//
// The byte layout, with diagrams, is specified in docs/format.md.
//
//	+--------+-----------------------+--------------+-----------+--------+------+
//	| header | pages (page-major:    | page index   | short-key | footer | tail |
//	| STSG v | p0c0 p0c1 .. p1c0 ..) | per column   | index     |        |      |
//	+--------+-----------------------+--------------+-----------+--------+------+
//
// Readers verify framing and checksums before decoding and return errors
// wrapping [ErrCorrupt] or [ErrUnsupportedVersion] for damaged or unknown
// input; no input makes them panic.
//
// Concurrency: a Writer is used by one goroutine. A Segment and its
// ColumnReaders are immutable after Open and may be used from many
// goroutines if the io.ReaderAt allows concurrent ReadAt calls (os.File does).
package storage
