package tabletstore

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/failpoint"
	"github.com/strata-db/strata/storage"
)

// segmentFile is one segment being written into a tablet directory, by a
// delta writer's flush or by a compaction. create, then append sorted rows,
// then finish (which makes the file durable) or abort; both close the file,
// and abort and a failed finish remove it.
type segmentFile struct {
	name string // within the tablet directory
	path string
	f    *os.File
	bw   *bufio.Writer
	cw   countingWriter
	sw   *storage.Writer
	rows int64
}

// countingWriter counts the bytes the segment writer has produced.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// bufPool recycles the write buffers of segment files: a small load
// writes a segment per tablet, and a fresh 1 MiB buffer each time cost
// more than the segment.
var bufPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 1<<20) }}

func createSegment(dir, name string, cols []storage.ColumnMeta, numKeys int, comp storage.Compression) (*segmentFile, error) {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("tabletstore: creating segment: %w", err)
	}
	bw := bufPool.Get().(*bufio.Writer)
	bw.Reset(f)
	sf := &segmentFile{name: name, path: path, f: f, bw: bw}
	sf.cw.w = sf.bw
	sf.sw, err = storage.NewWriter(&sf.cw, cols, storage.WriterOptions{NumSortKeys: numKeys, Compression: comp})
	if err != nil {
		sf.abort()
		return nil, fmt.Errorf("tabletstore: writing segment %s: %w", path, err)
	}
	return sf, nil
}

// append adds rows, sorted by the key and continuing the order of the rows
// appended before.
func (sf *segmentFile) append(cols []arrow.Array) error {
	if err := sf.sw.Append(cols); err != nil {
		return fmt.Errorf("tabletstore: writing segment %s: %w", sf.path, err)
	}
	sf.rows += int64(cols[0].Len())
	return nil
}

// size is the number of bytes written so far (pages still buffered by the
// segment writer are not counted).
func (sf *segmentFile) size() int64 { return sf.cw.n }

// finish writes the indexes and footer, flushes and fsyncs the file and
// closes it. On error the file is removed.
func (sf *segmentFile) finish(fs FS) (SegmentMeta, error) {
	info, err := sf.sw.Finish()
	if err == nil {
		err = sf.bw.Flush()
	}
	if err == nil {
		err = failpoint.Inject("tabletstore/segment-before-fsync")
	}
	if err == nil {
		err = fs.Sync(sf.f)
	}
	if cerr := sf.f.Close(); err == nil {
		err = cerr
	}
	sf.putBuffer()
	if err != nil {
		os.Remove(sf.path)
		return SegmentMeta{}, fmt.Errorf("tabletstore: writing segment %s: %w", sf.path, err)
	}
	return SegmentMeta{File: sf.name, Size: info.Size, NumRows: info.NumRows}, nil
}

// abort closes and removes the file.
func (sf *segmentFile) abort() {
	sf.f.Close()
	sf.putBuffer()
	os.Remove(sf.path)
}

// putBuffer returns the write buffer to the pool, dropping what it holds.
func (sf *segmentFile) putBuffer() {
	if sf.bw == nil {
		return
	}
	sf.bw.Reset(nil)
	bufPool.Put(sf.bw)
	sf.bw = nil
}
