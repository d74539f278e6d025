package loader

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/fe/catalog"
)

// uniqueHeaders applies the headers of the UNIQUE KEY model to every
// batch of a load: merge_type (APPEND, DELETE, MERGE with the delete
// condition) sets the hidden delete sign, and function_column.sequence_col
// fills the hidden sequence column from the column it names.
type uniqueHeaders struct {
	mode      string    // APPEND, DELETE or MERGE
	signCol   int       // the delete sign; -1: none
	deleteOn  RowFilter // MERGE: rows that delete their key
	seqSrc    int       // column copied into seqDst; -1: none
	seqDst    int
	matching  []int32 // reused between batches
	allocator memory.Allocator
}

// newUniqueHeaders checks the headers against the table's columns, as
// Doris does, and returns what applies them (nil: nothing to do).
// compile compiles the delete condition.
func newUniqueHeaders(table string, cols []catalog.Column, opts *LoadOptions,
	compile func(cols []catalog.Column, expr string) (RowFilter, error)) (*uniqueHeaders, error) {
	find := func(name string) int {
		for i := range cols {
			if strings.EqualFold(cols[i].Name, name) {
				return i
			}
		}
		return -1
	}
	u := &uniqueHeaders{mode: opts.MergeType, signCol: find(catalog.DeleteSignColumn), seqSrc: -1, seqDst: -1,
		allocator: memory.DefaultAllocator}
	if u.mode != "APPEND" && u.signCol < 0 {
		return nil, errors.New("load by MERGE or DELETE is only supported in unique tables.")
	}
	if u.mode == "MERGE" {
		if compile == nil {
			return nil, fmt.Errorf("delete is %w", errNotSupported)
		}
		f, err := compile(cols, opts.Delete)
		if err != nil {
			return nil, fmt.Errorf("invalid delete %q: %v", opts.Delete, err)
		}
		u.deleteOn = f
	}
	hidden := find(catalog.SequenceColumn)
	switch {
	case hidden >= 0 && opts.SequenceCol == "":
		return nil, fmt.Errorf("Table %s has sequence column, need to specify the sequence column", table)
	case hidden < 0 && opts.SequenceCol != "":
		return nil, fmt.Errorf("There is no sequence column in the table %s", table)
	case hidden >= 0:
		src := find(strings.Trim(opts.SequenceCol, "`"))
		if src < 0 {
			return nil, fmt.Errorf("Unknown column '%s' in table %s for the sequence column", opts.SequenceCol, table)
		}
		u.seqSrc, u.seqDst = src, hidden
	}
	if u.mode == "APPEND" && u.seqSrc < 0 {
		return nil, nil
	}
	return u, nil
}

// apply rewrites the hidden columns of a batch in place (arrs is owned by
// the caller, which releases what it holds).
func (u *uniqueHeaders) apply(ctx context.Context, arrs []arrow.Array) error {
	n := arrs[0].Len()
	if u.seqSrc >= 0 {
		src := arrs[u.seqSrc]
		var out arrow.Array
		if arrow.TypeEqual(src.DataType(), arrs[u.seqDst].DataType()) {
			src.Retain()
			out = src
		} else {
			var err error
			if out, err = compute.CastArray(ctx, src, compute.SafeCastOptions(arrs[u.seqDst].DataType())); err != nil {
				return fmt.Errorf("filling the sequence column: %w", err)
			}
		}
		arrs[u.seqDst].Release()
		arrs[u.seqDst] = out
	}
	switch u.mode {
	case "DELETE":
		b := array.NewInt8Builder(u.allocator)
		defer b.Release()
		b.Reserve(n)
		for range n {
			b.UnsafeAppend(1)
		}
		arrs[u.signCol].Release()
		arrs[u.signCol] = b.NewArray()
	case "MERGE":
		matching, err := u.deleteOn.Select(arrs, n, u.matching[:0])
		if err != nil {
			return fmt.Errorf("evaluating the delete condition: %w", err)
		}
		u.matching = matching
		signs := make([]int8, n)
		for _, r := range matching {
			signs[r] = 1
		}
		b := array.NewInt8Builder(u.allocator)
		defer b.Release()
		b.AppendValues(signs, nil)
		arrs[u.signCol].Release()
		arrs[u.signCol] = b.NewArray()
	}
	return nil
}
