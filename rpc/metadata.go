package rpc

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// MetadataWriter is implemented by the [RecordWriter] of a stream handler
// that can send a trailing message: a batch of no rows whose Flight
// app_metadata carries meta. Only a client that asked for it (in its
// request) should get one, since a client that does not know it reads an
// empty batch and ignores the metadata.
type MetadataWriter interface {
	WriteMetadata(meta []byte) error
}

// MetadataReader is implemented by the [RecordReader] of [Client.Stream]:
// the app_metadata of the batch Read returned last (nil: none).
type MetadataReader interface {
	Metadata() []byte
}

var (
	_ MetadataWriter = (*streamWriter)(nil)
	_ MetadataReader = (*recordReader)(nil)
)

// WriteMetadata sends a batch of no rows of the stream's schema (fixed by
// Begin or an earlier Write) with meta as its app_metadata.
func (sw *streamWriter) WriteMetadata(meta []byte) error {
	if sw.w == nil {
		return fmt.Errorf("rpc: stream %q: metadata before the schema was fixed", sw.name)
	}
	cols := make([]arrow.Array, sw.schema.NumFields())
	for i, f := range sw.schema.Fields() {
		cols[i] = array.MakeArrayOfNull(sw.mem, f.Type, 0)
	}
	rec := array.NewRecordBatch(sw.schema, cols, 0)
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()
	sw.written = true
	if err := sw.w.WriteWithAppMetadata(rec, meta); err != nil {
		return fmt.Errorf("rpc: stream %q: sending metadata: %w", sw.name, fromGRPC(err))
	}
	return nil
}

// Metadata returns the app_metadata of the last batch read.
func (r *recordReader) Metadata() []byte {
	if r.closed {
		return nil
	}
	return r.r.LatestAppMetadata()
}
