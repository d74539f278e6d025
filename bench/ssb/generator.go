package ssb

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// Generator produces the SSB tables of one scale factor. Its methods may be
// called from several goroutines at once; the dimension tables are built
// on first use and shared.
type Generator struct {
	sizes Sizes

	dimOnce sync.Once
	cust    *dimTable // immutable once dimOnce has run
	supp    *dimTable
	part    *dimTable

	mu      sync.Mutex           // protects following fields
	withSep map[string]*flatDims // rendered dimensions by separator
}

// flatDims are the dimension tables rendered with one output separator.
type flatDims struct{ cust, supp, part *dimTable }

// New returns a generator for scale factor sf.
func New(sf float64) (*Generator, error) {
	s, err := SizesFor(sf)
	if err != nil {
		return nil, err
	}
	return &Generator{sizes: s, withSep: map[string]*flatDims{}}, nil
}

// Sizes returns the row counts of the generator's scale factor.
func (g *Generator) Sizes() Sizes { return g.sizes }

// LineorderChunks returns the number of lineorder chunks (OrdersPerChunk
// orders each, the last possibly fewer).
func (g *Generator) LineorderChunks() int64 {
	return (g.sizes.Orders + OrdersPerChunk - 1) / OrdersPerChunk
}

func (g *Generator) dims() {
	g.dimOnce.Do(func() {
		s := g.sizes
		g.cust = buildDim(seedCustomer, s.SF, s.Customers, customerRow)
		g.supp = buildDim(seedSupplier, s.SF, s.Suppliers, supplierRow)
		g.part = buildDim(seedPart, s.SF, s.Parts, partRow)
	})
}

// dimsWithSep returns the dimension tables rendered with sep, building and
// caching them on first use.
func (g *Generator) dimsWithSep(sep string) *flatDims {
	g.dims()
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.withSep[sep]; ok {
		return f
	}
	b := []byte(sep)
	f := &flatDims{cust: g.cust.withSep(b), supp: g.supp.withSep(b), part: g.part.withSep(b)}
	g.withSep[sep] = f
	return f
}

// Progress reports how much of a lineorder or lineorder_flat stream has been
// written so far.
type Progress struct {
	Chunks int64 // chunks written
	Rows   int64 // rows written
	Bytes  int64 // bytes written
}

// Options control a lineorder or lineorder_flat stream.
type Options struct {
	// Workers is the number of generating goroutines; 0 means GOMAXPROCS.
	// It does not change the output.
	Workers int
	// FirstChunk and Chunks select lineorder chunks [FirstChunk,
	// FirstChunk+Chunks); Chunks 0 means through the last chunk.
	FirstChunk int64
	Chunks     int64
	// Progress, if set, is called after each chunk is written, from one
	// goroutine at a time, with running totals.
	Progress func(Progress)
}

// FlatOptions control a lineorder_flat stream.
type FlatOptions struct {
	Options
	// Separator goes between fields (never after the last); "" means "|".
	// It must not contain a newline, a space, letters, digits, '#', '-' or
	// '.', which occur inside values.
	Separator string
	// KeyFirst moves LO_ORDERDATE and LO_ORDERKEY to the front (the sort key
	// order of Strata's lineorder_flat table); otherwise columns follow
	// FlatColumns.
	KeyFirst bool
}

// FlatColumns are the 38 lineorder_flat columns in BENCHMARKS.md §1.5 order.
var FlatColumns = []string{
	"LO_ORDERKEY", "LO_LINENUMBER", "LO_CUSTKEY", "LO_PARTKEY", "LO_SUPPKEY", "LO_ORDERDATE",
	"LO_ORDERPRIORITY", "LO_SHIPPRIORITY", "LO_QUANTITY", "LO_EXTENDEDPRICE", "LO_ORDTOTALPRICE",
	"LO_DISCOUNT", "LO_REVENUE", "LO_SUPPLYCOST", "LO_TAX", "LO_COMMITDATE", "LO_SHIPMODE",
	"C_NAME", "C_ADDRESS", "C_CITY", "C_NATION", "C_REGION", "C_PHONE", "C_MKTSEGMENT",
	"S_NAME", "S_ADDRESS", "S_CITY", "S_NATION", "S_REGION", "S_PHONE",
	"P_NAME", "P_MFGR", "P_CATEGORY", "P_BRAND", "P_COLOR", "P_TYPE", "P_SIZE", "P_CONTAINER",
}

// FlatColumnsKeyFirst returns FlatColumns with LO_ORDERDATE and LO_ORDERKEY
// moved to the front, the order FlatOptions.KeyFirst writes.
func FlatColumnsKeyFirst() []string {
	out := []string{"LO_ORDERDATE", "LO_ORDERKEY"}
	for _, c := range FlatColumns {
		if c != "LO_ORDERDATE" && c != "LO_ORDERKEY" {
			out = append(out, c)
		}
	}
	return out
}

// checkSeparator rejects separators that could occur inside values.
func checkSeparator(sep string) error {
	if sep == "" {
		return fmt.Errorf("ssb: empty separator")
	}
	if strings.ContainsAny(sep, "\n\r #-.\x00") || strings.ContainsFunc(sep, func(r rune) bool {
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}) {
		return fmt.Errorf("ssb: separator %q may occur inside values", sep)
	}
	return nil
}

// chunkRange resolves the chunk selection of o.
func (g *Generator) chunkRange(o Options) (first, n int64, err error) {
	total := g.LineorderChunks()
	if o.FirstChunk < 0 || o.FirstChunk > total || o.Chunks < 0 {
		return 0, 0, fmt.Errorf("ssb: chunks [%d, +%d) outside [0, %d)", o.FirstChunk, o.Chunks, total)
	}
	n = o.Chunks
	if n == 0 {
		n = total - o.FirstChunk
	}
	if o.FirstChunk+n > total {
		return 0, 0, fmt.Errorf("ssb: chunks [%d, %d) outside [0, %d)", o.FirstChunk, o.FirstChunk+n, total)
	}
	return o.FirstChunk, n, nil
}

// WriteFlat writes lineorder_flat rows for the selected chunks to w, one row
// per line ending in '\n', in chunk order. It stops early with ctx's error
// when ctx is cancelled, or with w's first write error.
func (g *Generator) WriteFlat(ctx context.Context, w io.Writer, o FlatOptions) error {
	sep := o.Separator
	if sep == "" {
		sep = "|"
	}
	if err := checkSeparator(sep); err != nil {
		return err
	}
	first, n, err := g.chunkRange(o.Options)
	if err != nil {
		return err
	}
	d := g.dimsWithSep(sep)
	bsep := []byte(sep)
	keyFirst := o.KeyFirst
	return g.run(ctx, w, first, n, o.Options, func(b *lineBatch, dst []byte) []byte {
		return appendFlatRows(dst, b, d, bsep, keyFirst)
	})
}

// flatBlock is the number of rows whose dimension rows are located, and
// pulled into cache, before any of them is copied.
const flatBlock = 128

// appendFlatRows appends the lineorder_flat rows of b. The dimension rows
// are scattered over tables of up to hundreds of megabytes, so copying them
// one row at a time waits on one cache miss after another. Instead each
// block of rows first looks up its dimension rows' bounds, then touches
// their bytes, in tight loops whose loads are independent and overlap, and
// only then copies.
func appendFlatRows(dst []byte, b *lineBatch, d *flatDims, sep []byte, keyFirst bool) []byte {
	var (
		bounds [flatBlock][6]int // cust, supp, part: start, end
		sink   byte
	)
	cust, supp, part := d.cust, d.supp, d.part
	for base := 0; base < b.len(); base += flatBlock {
		m := min(flatBlock, b.len()-base)
		for j := range m {
			i := base + j
			ck, sk, pk := b.custKey[i], b.suppKey[i], b.partKey[i]
			bounds[j] = [6]int{cust.off[ck-1], cust.off[ck], supp.off[sk-1], supp.off[sk], part.off[pk-1], part.off[pk]}
		}
		for j := range m {
			bo := &bounds[j]
			sink += cust.data[bo[0]] + cust.data[bo[1]-1] + supp.data[bo[2]] + supp.data[bo[3]-1] +
				part.data[bo[4]] + part.data[bo[5]-1]
		}
		for j := range m {
			bo := &bounds[j]
			dst = b.appendLineFields(dst, base+j, sep, keyFirst)
			dst = append(dst, sep...)
			dst = append(dst, cust.data[bo[0]:bo[1]]...)
			dst = append(dst, sep...)
			dst = append(dst, supp.data[bo[2]:bo[3]]...)
			dst = append(dst, sep...)
			dst = append(dst, part.data[bo[4]:bo[5]]...)
			dst = append(dst, '\n')
		}
	}
	touchSink.Store(uint32(sink))
	return dst
}

// touchSink keeps the cache-warming loads of appendFlatRows from being
// optimised away.
var touchSink atomic.Uint32

// WriteLineorder writes lineorder rows in dbgen form for the selected chunks
// to w, in chunk order. Errors as for WriteFlat.
func (g *Generator) WriteLineorder(ctx context.Context, w io.Writer, o Options) error {
	first, n, err := g.chunkRange(o)
	if err != nil {
		return err
	}
	sep := []byte{'|'}
	return g.run(ctx, w, first, n, o, func(b *lineBatch, dst []byte) []byte {
		for i := range b.len() {
			dst = b.appendLineFields(dst, i, sep, false)
			dst = append(dst, '|', '\n')
		}
		return dst
	})
}

// chunkBufs recycles the buffers chunks are formatted into (*[]byte).
var chunkBufs sync.Pool

// chunkOut is one formatted chunk.
type chunkOut struct {
	buf  []byte
	rows int64
}

// run generates chunks [first, first+n) on o.Workers goroutines, formats
// each with format, and writes them to w in order. At most about two chunks
// per worker are buffered.
func (g *Generator) run(ctx context.Context, w io.Writer, first, n int64, o Options,
	format func(b *lineBatch, dst []byte) []byte) error {
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = int(min(int64(workers), max(n, 1)))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type job struct {
		c   int64
		out chan chunkOut
	}
	jobs := make(chan job)
	pending := make(chan chan chunkOut, 2*workers)

	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(jobs)
		defer close(pending)
		for c := first; c < first+n; c++ {
			out := make(chan chunkOut, 1)
			select {
			case pending <- out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{c: c, out: out}:
			case <-ctx.Done():
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			var b lineBatch
			for j := range jobs {
				var buf []byte
				if p, ok := chunkBufs.Get().(*[]byte); ok {
					buf = *p
				}
				b.fill(&g.sizes, j.c)
				buf = format(&b, buf[:0])
				j.out <- chunkOut{buf: buf, rows: int64(b.len())}
			}
		})
	}
	defer wg.Wait()

	var p Progress
	for out := range pending {
		var co chunkOut
		select {
		case co = <-out:
		case <-ctx.Done():
			return fmt.Errorf("ssb: generating lineorder: %w", ctx.Err())
		}
		if _, err := w.Write(co.buf); err != nil {
			cancel()
			return fmt.Errorf("ssb: writing lineorder chunk %d: %w", first+p.Chunks, err)
		}
		p.Chunks++
		p.Rows += co.rows
		p.Bytes += int64(len(co.buf))
		buf := co.buf[:0]
		chunkBufs.Put(&buf)
		if o.Progress != nil {
			o.Progress(p)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ssb: generating lineorder: %w", err)
	}
	return nil
}

// WriteCustomer writes the customer table in dbgen form.
func (g *Generator) WriteCustomer(w io.Writer) error {
	return writeDim(w, g.dimsWithSep("|").cust, "customer")
}

// WriteSupplier writes the supplier table in dbgen form.
func (g *Generator) WriteSupplier(w io.Writer) error {
	return writeDim(w, g.dimsWithSep("|").supp, "supplier")
}

// WritePart writes the part table in dbgen form.
func (g *Generator) WritePart(w io.Writer) error {
	return writeDim(w, g.dimsWithSep("|").part, "part")
}

// WriteDates writes the 2,556-row dates table in dbgen form.
func (g *Generator) WriteDates(w io.Writer) error {
	buf := make([]byte, 0, 256*DateRows)
	for d := range DateRows {
		buf = appendDate(buf, DateRow(d))
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("ssb: writing dates: %w", err)
	}
	return nil
}

func writeDim(w io.Writer, t *dimTable, name string) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var line []byte
	for k := int64(1); k <= t.rows(); k++ {
		line = appendUint(line[:0], uint64(k))
		line = append(line, '|')
		line = append(line, t.row(k)...)
		line = append(line, '|', '\n')
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("ssb: writing %s: %w", name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("ssb: writing %s: %w", name, err)
	}
	return nil
}

// Tables lists the table names WriteTable accepts, in the order gen-only
// mode writes them.
var Tables = []string{"customer", "supplier", "part", "date", "lineorder", "lineorder_flat"}

// WriteTable writes the named table (one of Tables). o applies to
// lineorder and lineorder_flat only.
func (g *Generator) WriteTable(ctx context.Context, name string, w io.Writer, o FlatOptions) error {
	switch name {
	case "customer":
		return g.WriteCustomer(w)
	case "supplier":
		return g.WriteSupplier(w)
	case "part":
		return g.WritePart(w)
	case "date", "dates":
		return g.WriteDates(w)
	case "lineorder":
		return g.WriteLineorder(ctx, w, o.Options)
	case "lineorder_flat":
		return g.WriteFlat(ctx, w, o)
	}
	return fmt.Errorf("ssb: unknown table %q", name)
}
