package flightsql

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	afs "github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/types"
)

// internalCatalog is the one catalog, named as Doris names it.
const internalCatalog = "internal"

// wireType is the Arrow type a column of type t is sent as: the type it is
// processed as (types.Type.Arrow), except that BITMAP and HLL, serialized
// sketches held in string arrays, go out as binary.
func wireType(t types.Type) arrow.DataType {
	if t.Kind.IsObject() {
		return arrow.BinaryTypes.Binary
	}
	return t.Arrow()
}

// schemaOf is the Arrow schema of a result's fields, with the Flight SQL
// column metadata JDBC drivers read (catalog, schema, table, type name,
// precision and scale).
func schemaOf(fields []mysqlproto.Field) *arrow.Schema {
	out := make([]arrow.Field, len(fields))
	for i, f := range fields {
		md := afs.NewColumnMetadataBuilder()
		md.TypeName(f.Type.SQLName())
		if f.Schema != "" {
			md.CatalogName(internalCatalog).SchemaName(f.Schema)
		}
		if t := f.OrgTable; t != "" {
			md.TableName(t)
		} else if f.Table != "" {
			md.TableName(f.Table)
		}
		switch f.Type.Kind {
		case types.KindDecimal:
			md.Precision(int32(f.Type.Precision)).Scale(int32(f.Type.Scale))
		case types.KindLargeInt:
			md.Precision(39).Scale(0)
		case types.KindChar, types.KindVarchar:
			md.Precision(int32(f.Type.Length))
		}
		out[i] = arrow.Field{Name: f.Name, Type: wireType(f.Type), Nullable: f.Nullable, Metadata: md.Metadata()}
	}
	return arrow.NewSchema(out, nil)
}

// batcher turns the batches of a RowIterator into record batches.
type batcher struct {
	schema *arrow.Schema
	fields []mysqlproto.Field
	mem    memory.Allocator
}

// record returns the rows of one batch (those sel names, in its order; all
// when sel is nil) as a record batch of b.schema. Columns without a
// selection vector, or whose selection is one run of rows, are shared, not
// copied: the record holds references to cols, so it must be released
// before the iterator's next Next, which may reuse them.
func (b *batcher) record(ctx context.Context, cols []arrow.Array, sel []int32) (arrow.RecordBatch, error) {
	if len(cols) != len(b.fields) {
		return nil, fmt.Errorf("BUG: a batch of %d columns for a result of %d", len(cols), len(b.fields))
	}
	rows := 0
	if len(cols) > 0 {
		rows = cols[0].Len()
	}
	if sel != nil {
		rows = len(sel)
	}
	lo, run := selRun(sel)
	var idx arrow.Array
	if sel != nil && !run {
		ib := array.NewInt32Builder(b.mem)
		ib.AppendValues(sel, nil)
		idx = ib.NewArray()
		ib.Release()
		defer idx.Release()
	}
	out := make([]arrow.Array, 0, len(cols))
	defer func() {
		for _, a := range out {
			a.Release()
		}
	}()
	for i, c := range cols {
		f := b.fields[i]
		if want := f.Type.Arrow(); !arrow.TypeEqual(c.DataType(), want) {
			return nil, fmt.Errorf("BUG: column %q holds %v, want %v", f.Name, c.DataType(), want)
		}
		var a arrow.Array
		switch {
		case sel == nil:
			c.Retain()
			a = c
		case run:
			a = array.NewSlice(c, int64(lo), int64(lo+len(sel)))
		default:
			var err error
			a, err = compute.TakeArray(ctx, c, idx)
			if err != nil {
				return nil, fmt.Errorf("selecting the rows of column %q: %w", f.Name, err)
			}
		}
		if f.Type.Kind.IsObject() {
			a = asBinary(a)
		}
		out = append(out, a)
	}
	return array.NewRecordBatch(b.schema, out, int64(rows)), nil
}

// selRun reports whether sel is one ascending run of consecutive rows, and
// where it starts.
func selRun(sel []int32) (lo int, ok bool) {
	if len(sel) == 0 {
		return 0, true
	}
	first := sel[0]
	for i, r := range sel {
		if r != first+int32(i) {
			return 0, false
		}
	}
	return int(first), true
}

// asBinary reinterprets a string array as binary (the same buffers) and
// releases a.
func asBinary(a arrow.Array) arrow.Array {
	defer a.Release()
	d := a.Data()
	nd := array.NewData(arrow.BinaryTypes.Binary, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
	defer nd.Release()
	return array.MakeFromData(nd)
}
