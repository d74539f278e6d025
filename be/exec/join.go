package exec

import (
	"context"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strata-db/strata/types"
)

// JoinKind is the kind of a hash join.
type JoinKind uint8

const (
	JoinInner JoinKind = iota + 1
	JoinLeft           // probe rows without a match get NULL build columns
)

// Inner and Left are short names for the join kinds.
const (
	Inner = JoinInner
	Left  = JoinLeft
)

// HashJoin joins a probe input with a build input hashed on equal keys. The
// output is the probe columns followed by the build columns. NULL keys never
// match. OtherCond, if set, is evaluated over the joined columns; for a LEFT
// join a probe row none of whose matches pass it is emitted once with NULL
// build columns.
type HashJoin struct {
	baseStats
	build, probe         Operator
	kind                 JoinKind
	buildKeys, probeKeys []Expr
	other                Expr
	schema               []types.Type
	ectx                 *EvalContext

	jt     *JoinTable
	mt     *MemTracker // the query's, from Open; charged for the build side
	shared bool        // jt was built elsewhere and outlives the join
	built  bool
	in     Batch
	// The probe batch in is joined a chunk of pairs at a time, so that an
	// output batch holds at most BatchSize pairs however many build rows
	// each probe row matches: rows are in's rows, pos the first not yet
	// joined, kv the probe keys evaluated over in. chain, when not 0, is
	// the build row + 1 at which the chain of matches of rows[pos] resumes:
	// a chunk stopped in the middle of it.
	rows  []int32
	pos   int
	kv    []*view
	chain int32
	held  []arrow.Array
	buf   []byte
	pIdx  []int32
	bIdx  []int32
}

// NewHashJoin returns the join of probe with build on buildKeys[i] =
// probeKeys[i] (converted to their common types) and otherCond (may be nil).
func NewHashJoin(build, probe Operator, kind JoinKind, buildKeys, probeKeys []Expr, otherCond Expr) (*HashJoin, error) {
	if kind != JoinInner && kind != JoinLeft {
		return nil, fmt.Errorf("unsupported join kind %d", kind)
	}
	j := &HashJoin{build: build, probe: probe, kind: kind}
	var err error
	if j.buildKeys, j.probeKeys, err = joinKeys(buildKeys, probeKeys); err != nil {
		return nil, err
	}
	if otherCond != nil {
		j.other = toBool(otherCond)
	}
	j.schema = append(append([]types.Type(nil), probe.Schema()...), build.Schema()...)
	return j, nil
}

// joinKeys converts each pair of join keys to their common type.
func joinKeys(buildKeys, probeKeys []Expr) (bks, pks []Expr, err error) {
	if len(buildKeys) != len(probeKeys) {
		return nil, nil, fmt.Errorf("hash join has %d build keys and %d probe keys", len(buildKeys), len(probeKeys))
	}
	for i := range buildKeys {
		bk, pk := buildKeys[i], probeKeys[i]
		if !sameClassNoCast(bk.Type(), pk.Type()) || physOf(bk.Type()) != physOf(pk.Type()) {
			ct, err := CommonType(bk.Type(), pk.Type())
			if err != nil {
				return nil, nil, fmt.Errorf("join key %d: %w", i+1, err)
			}
			bk, pk = coerceCmp(bk, ct), coerceCmp(pk, ct)
		}
		bks = append(bks, bk)
		pks = append(pks, pk)
	}
	return bks, pks, nil
}

// NewHashJoinOn returns a join of probe with the prebuilt build side jt
// (see [BuildJoinTable]), on jt's keys = probeKeys. Several joins may share
// one table, each in its own goroutine: the table is read-only. The caller
// releases jt after the joins are closed.
func NewHashJoinOn(jt *JoinTable, probe Operator, kind JoinKind, probeKeys []Expr, otherCond Expr) (*HashJoin, error) {
	if kind != JoinInner && kind != JoinLeft {
		return nil, fmt.Errorf("unsupported join kind %d", kind)
	}
	if len(probeKeys) != len(jt.keyTypes) {
		return nil, fmt.Errorf("hash join has %d build keys and %d probe keys", len(jt.keyTypes), len(probeKeys))
	}
	j := &HashJoin{probe: probe, kind: kind, jt: jt, shared: true}
	for i, pk := range probeKeys {
		if pk.Type() != jt.keyTypes[i] {
			if !sameClassNoCast(pk.Type(), jt.keyTypes[i]) || physOf(pk.Type()) != physOf(jt.keyTypes[i]) {
				pk = Coerce(pk, jt.keyTypes[i])
			}
		}
		j.probeKeys = append(j.probeKeys, pk)
	}
	if otherCond != nil {
		j.other = toBool(otherCond)
	}
	j.schema = append(append([]types.Type(nil), probe.Schema()...), jt.schema...)
	return j, nil
}

func (j *HashJoin) Schema() []types.Type { return j.schema }

func (j *HashJoin) Open(ctx context.Context) error {
	j.ectx = evalCtxFrom(ctx)
	j.mt = MemTrackerFrom(ctx)
	// Nothing of an earlier run's probe batch carries over.
	j.in.Reset()
	j.rows, j.pos, j.kv, j.chain = nil, 0, j.kv[:0], 0
	if !j.shared {
		j.built = false
		if err := j.build.Open(ctx); err != nil {
			return err
		}
	}
	return j.probe.Open(ctx)
}

func (j *HashJoin) Close() error {
	j.held = releaseAll(j.held)
	var err error
	if !j.shared {
		if j.jt != nil {
			j.jt.Release()
			j.jt = nil
		}
		err = j.build.Close()
	}
	if perr := j.probe.Close(); err == nil {
		err = perr
	}
	return err
}

// JoinTable is the hashed build side of a hash join: the build rows and an
// index from key to rows. Once built it is read-only.
type JoinTable struct {
	schema   []types.Type
	keyTypes []types.Type
	tbl      *table
	bviews   []*view
	kviews   []*view
	intTbl   *intTable
	bytTbl   *bytesTable
	head     []int32 // per distinct key: first build row + 1
	next     []int32 // per build row: next build row with the same key + 1
	// dense, for one integer key over a narrow span: first build row + 1
	// of key lo+i at i (0: none), probed without hashing.
	dense []int32
	lo    int64
	// unique: no two build rows share a key, so a probe row matches at
	// most once.
	unique bool
	mem    memAccount // the build rows and the index
}

// maxDenseSpan bounds a join's direct index (64 MiB of int32).
const maxDenseSpan = 1 << 24

// Rows is the number of build rows.
func (jt *JoinTable) Rows() int { return jt.tbl.n }

// Release frees the build rows.
func (jt *JoinTable) Release() { jt.tbl.release(); jt.mem.release() }

// BuildJoinTable reads build to its end and hashes its rows on keys
// (expressions over build's schema, of the types the probe keys will be
// converted to; see [JoinKeys]).
func BuildJoinTable(ctx context.Context, build Operator, keys []Expr) (jt *JoinTable, err error) {
	if err := build.Open(ctx); err != nil {
		build.Close()
		return nil, err
	}
	defer func() {
		if cerr := build.Close(); err == nil && cerr != nil {
			jt.Release()
			jt, err = nil, cerr
		}
	}()
	return buildJoinTable(ctx, evalCtxFrom(ctx), build, keys)
}

// JoinKeys converts each pair of join keys to their common type, for
// [BuildJoinTable] and [NewHashJoinOn].
func JoinKeys(buildKeys, probeKeys []Expr) (bks, pks []Expr, err error) {
	return joinKeys(buildKeys, probeKeys)
}

func buildJoinTable(ctx context.Context, ectx *EvalContext, build Operator, keys []Expr) (*JoinTable, error) {
	bs := build.Schema()
	jt := &JoinTable{schema: bs}
	all := append([]types.Type(nil), bs...)
	for _, k := range keys {
		all = append(all, k.Type())
		jt.keyTypes = append(jt.keyTypes, k.Type())
	}
	tb := newTableBuilder(all)
	jt.mem.open(ctx, "HashJoin build")
	if err := jt.readBuild(ctx, ectx, build, keys, tb); err != nil {
		// Whatever went wrong, the rows read so far and their charge go.
		tb.finish().release()
		jt.mem.release()
		return nil, err
	}
	jt.tbl = tb.finish()
	views := jt.tbl.views()
	for _, v := range views {
		v.ints() // widen now: shared views must not change under readers
	}
	jt.bviews = views[:len(bs)]
	kv := views[len(bs):]
	jt.kviews = kv
	n := jt.tbl.n
	jt.next = make([]int32, n)
	useInt := len(kv) == 1 && kv[0].p == pInt
	if useInt {
		jt.intTbl = newIntTable(n)
	} else {
		jt.bytTbl = newBytesTable(n)
	}
	// Insert in reverse so chains list build rows in input order.
	var buf []byte
	for i := n - 1; i >= 0; i-- {
		if anyNull(kv, i) {
			continue
		}
		var g int32
		if useInt {
			g, _ = jt.intTbl.findOrInsert(kv[0].int(i))
		} else {
			buf, _ = encodeKey(buf[:0], kv, i)
			g, _ = jt.bytTbl.findOrInsert(buf)
		}
		jt.head = growTo(jt.head, int(g)+1)
		jt.next[i] = jt.head[g]
		jt.head[g] = int32(i) + 1
	}
	if useInt && jt.intTbl.n > 0 {
		jt.buildDense(kv[0])
	}
	distinct := len(jt.head)
	nonNull := 0
	for i := range n {
		if !anyNull(kv, i) {
			nonNull++
		}
	}
	jt.unique = distinct == nonNull
	return jt, nil
}

// readBuild reads build to its end into tb: its rows, then the keys
// evaluated over them, charging jt.mem as it goes.
func (jt *JoinTable) readBuild(ctx context.Context, ectx *EvalContext, build Operator, keys []Expr, tb *tableBuilder) error {
	bs := build.Schema()
	var b Batch
	for {
		b.Reset()
		err := Next(ctx, build, &b)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := jt.mem.grow(jt.mem.batchBytes(&b) + int64(b.NumRows())*hashEntryBytes); err != nil {
			return err
		}
		vs := batchViews(&b, bs)
		for _, k := range keys {
			v, err := evalView(ectx, k, &b)
			if err != nil {
				return err
			}
			vs = append(vs, v)
		}
		tb.appendViews(vs, rowsOf(&b))
	}
}

// buildDense indexes the keys directly when their span is at most eight
// times the build rows (or 64K) and under maxDenseSpan.
func (jt *JoinTable) buildDense(kv *view) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range jt.tbl.n {
		if !kv.isNull(i) {
			k := kv.int(i)
			lo, hi = min(lo, k), max(hi, k)
		}
	}
	span := uint64(hi - lo)
	if hi < lo || span >= maxDenseSpan || span >= max(8*uint64(jt.tbl.n), 1<<16) {
		return
	}
	jt.lo = lo
	jt.dense = make([]int32, span+1)
	for _, s := range jt.intTbl.slots {
		if s.gid != 0 {
			jt.dense[s.key-lo] = jt.head[s.gid-1]
		}
	}
}

// firstRow returns the first build row + 1 for key k (0: none).
func (jt *JoinTable) firstRow(k int64) int32 {
	if jt.dense != nil {
		if d := uint64(k - jt.lo); d < uint64(len(jt.dense)) {
			return jt.dense[d]
		}
		return 0
	}
	g := jt.intTbl.find(k)
	if g < 0 || int(g) >= len(jt.head) {
		return 0
	}
	return jt.head[g]
}

func (j *HashJoin) Next(ctx context.Context, b *Batch) error {
	if !j.built {
		j.built = true
		if !j.shared {
			bctx := ctx
			if j.mt != nil && MemTrackerFrom(ctx) != j.mt {
				bctx = WithMemTracker(ctx, j.mt)
			}
			jt, err := buildJoinTable(bctx, j.ectx, j.build, j.buildKeys)
			if err != nil {
				return err
			}
			j.jt = jt
		}
	}
	j.held = releaseAll(j.held)
	for {
		if j.pos >= len(j.rows) {
			j.in.Reset()
			if err := Next(ctx, j.probe, &j.in); err != nil {
				b.Reset()
				return err
			}
			if err := j.startProbe(); err != nil {
				b.Reset()
				return err
			}
		}
		if err := j.probeChunk(b); err != nil {
			return err
		}
		if b.NumRows() > 0 {
			return nil
		}
	}
}

// startProbe readies the probe batch j.in to be joined.
func (j *HashJoin) startProbe() error {
	j.rows, j.pos, j.chain = rowsOf(&j.in), 0, 0
	j.kv = j.kv[:0]
	for _, k := range j.probeKeys {
		v, err := evalView(j.ectx, k, &j.in)
		if err != nil {
			return err
		}
		j.kv = append(j.kv, v)
	}
	return nil
}

// probeChunk joins the next probe rows of j.in into at most BatchSize
// pairs. An inner join, or a LEFT join without a residual condition, may
// stop in the middle of a probe row's chain of matches and resume there
// (j.chain), so one probe row matching millions of build rows still comes
// out BatchSize pairs at a time. A LEFT join with a residual condition
// stops only between probe rows, after the row that brings the pairs to
// BatchSize: whether a row gets its NULL-extended row depends on all of
// its pairs, which [HashJoin.residual] must see in one chunk.
func (j *HashJoin) probeChunk(b *Batch) error {
	in, kv := &j.in, j.kv
	rows := j.rows[j.pos:]
	j.pIdx, j.bIdx = j.pIdx[:0], j.bIdx[:0]
	left := j.kind == JoinLeft
	jt := j.jt
	n := len(rows)
	if jt.intTbl != nil && !kv[0].hasNulls() && !left {
		// One integer key without NULLs, inner: the hot loop of star joins.
		k := kv[0]
		for i, r := range rows {
			br := j.chain
			if br == 0 {
				br = jt.firstRow(k.int(int(r)))
			}
			if br = j.pairChain(r, br); br != 0 {
				j.chain, n = br, i // resume row i at br
				break
			}
			j.chain = 0
			if len(j.pIdx) >= BatchSize {
				n = i + 1
				break
			}
		}
	} else {
		n = j.probeRows(kv, rows, left)
	}
	j.pos += n
	j.materialize(b, in)
	return j.residual(b, in, rows[:n], left)
}

// pairChain pairs probe row r with the build rows of the chain starting at
// build row br-1 until the pairs reach BatchSize; it returns the build row
// + 1 where the chain stopped, 0 at its end.
func (j *HashJoin) pairChain(r, br int32) int32 {
	next := j.jt.next
	for ; br != 0; br = next[br-1] {
		if len(j.pIdx) >= BatchSize {
			return br
		}
		j.pIdx = append(j.pIdx, r)
		j.bIdx = append(j.bIdx, br-1)
	}
	return 0
}

// probeRows pairs each probe row with its matching build rows (a LEFT
// join's unmatched rows with -1 when there is no residual condition),
// stopping at BatchSize pairs (see [HashJoin.probeChunk] for where); it
// returns how many rows it finished.
func (j *HashJoin) probeRows(kv []*view, rows []int32, left bool) int {
	jt := j.jt
	split := !left || j.other == nil // may stop in the middle of a chain
	for n, r := range rows {
		if len(j.pIdx) >= BatchSize {
			return n
		}
		if split && j.chain != 0 {
			// rows[0]: the rest of the chain an earlier chunk stopped in.
			br := j.chain
			if j.chain = j.pairChain(r, br); j.chain != 0 {
				return n
			}
			continue
		}
		i := int(r)
		g := int32(-1)
		if !anyNull(kv, i) {
			if jt.intTbl != nil {
				g = jt.intTbl.find(kv[0].int(i))
			} else {
				j.buf, _ = encodeKey(j.buf[:0], kv, i)
				g = jt.bytTbl.find(j.buf)
			}
		}
		if g < 0 || int(g) >= len(jt.head) || jt.head[g] == 0 {
			if left && j.other == nil {
				j.pIdx = append(j.pIdx, r)
				j.bIdx = append(j.bIdx, -1)
			}
			continue
		}
		if split {
			if j.chain = j.pairChain(r, jt.head[g]); j.chain != 0 {
				return n
			}
			continue
		}
		for br := jt.head[g]; br != 0; br = jt.next[br-1] {
			j.pIdx = append(j.pIdx, r)
			j.bIdx = append(j.bIdx, br-1)
		}
	}
	return len(rows)
}

// residual applies the join's residual condition to the joined batch b.
func (j *HashJoin) residual(b, in *Batch, rows []int32, left bool) error {
	if j.other == nil {
		return nil
	}
	live := rowsOf(b)
	pass, err := selectTrue(j.ectx, j.other, b, live, make([]int32, 0, len(live)))
	if err != nil {
		return err
	}
	if !left {
		if len(pass) < b.Len {
			b.Sel = pass
		}
		return nil
	}
	// LEFT with a residual condition: keep passing pairs, then add one
	// NULL-extended row per probe row with no passing pair.
	matched := make([]bool, in.Len)
	pIdx := make([]int32, 0, len(pass))
	bIdx := make([]int32, 0, len(pass))
	for _, k := range pass {
		matched[j.pIdx[k]] = true
		pIdx = append(pIdx, j.pIdx[k])
		bIdx = append(bIdx, j.bIdx[k])
	}
	for _, r := range rows {
		if !matched[r] {
			pIdx = append(pIdx, r)
			bIdx = append(bIdx, -1)
		}
	}
	j.held = releaseAll(j.held)
	j.pIdx, j.bIdx = pIdx, bIdx
	j.materialize(b, in)
	return nil
}

// materialize builds the output batch from the (probe row, build row) pairs.
// A join of a parallel pipeline (shared table) passes strings on as
// dictionary arrays instead of copying them: a build column becomes the
// dictionary of codes bIdx, a dictionary probe column keeps its dictionary
// under gathered codes. Its consumers all read through views.
func (j *HashJoin) materialize(b *Batch, in *Batch) {
	if j.shared && j.jt.unique && j.kind == JoinInner {
		j.passThrough(b, in)
		return
	}
	b.Reset()
	ps := j.probe.Schema()
	for i, c := range in.Cols {
		var a arrow.Array
		if d, ok := c.(*array.Dictionary); ok && j.shared {
			a = gatherDict(d, j.pIdx)
		} else {
			a = take(newView(c, ps[i]), j.pIdx)
		}
		j.held = append(j.held, a)
		b.Cols = append(b.Cols, a)
	}
	for k, v := range j.jt.bviews {
		var a arrow.Array
		if j.shared && v.p == pStr {
			a = dictOver(j.jt.tbl.cols[k], j.bIdx)
		} else {
			a = take(v, j.bIdx)
		}
		j.held = append(j.held, a)
		b.Cols = append(b.Cols, a)
	}
	b.Len = len(j.pIdx)
}

// passThrough is materialize for an inner join of a pipeline on unique
// build keys: each probe row matches at most once, so the probe columns go
// on unchanged under the selection pIdx, and each build column is laid out
// at the positions of the probe rows it joins (other positions NULL).
func (j *HashJoin) passThrough(b *Batch, in *Batch) {
	b.Reset()
	for _, c := range in.Cols {
		c.Retain()
		j.held = append(j.held, c)
		b.Cols = append(b.Cols, c)
	}
	n := in.Len
	for k, v := range j.jt.bviews {
		var a arrow.Array
		if v.p == pStr {
			a = dictAt(j.jt.tbl.cols[k], n, j.pIdx, j.bIdx)
		} else if a = scatterInts(v, n, j.pIdx, j.bIdx); a == nil {
			o := newOut(v.t, n)
			for i, r := range j.pIdx {
				o.setFrom(int(r), v, int(j.bIdx[i]))
			}
			a = o.finish()
		}
		j.held = append(j.held, a)
		b.Cols = append(b.Cols, a)
	}
	b.Len = n
	if j.pIdx == nil {
		j.pIdx = make([]int32, 0, BatchSize) // nil would select every row
	}
	b.Sel = j.pIdx
}

// dictAt returns an n-row dictionary array over the string array values
// holding values[src[i]] at row at[i] and NULL elsewhere.
func dictAt(values arrow.Array, n int, at, src []int32) arrow.Array {
	if values.Len() == 0 {
		// As in dictOver: no build rows, every row NULL.
		return array.MakeArrayOfNull(memory.DefaultAllocator, values.DataType(), n)
	}
	codes := make([]int32, n)
	valid := make([]byte, bitutil.BytesForBits(int64(n)))
	nulls := n
	for i, r := range at {
		if values.IsValid(int(src[i])) {
			codes[r] = src[i]
			bitutil.SetBit(valid, int(r))
			nulls--
		}
	}
	d := array.NewData(arrow.PrimitiveTypes.Int32, n, []*memory.Buffer{memory.NewBufferBytes(valid),
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(codes))}, nil, nulls, 0)
	defer d.Release()
	ca := array.MakeFromData(d)
	defer ca.Release()
	return array.NewDictionaryArray(dictOfStrings, ca, values)
}

var dictOfStrings = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// dictOver returns the rows idx of the string array values (-1: NULL) as a
// dictionary array over values.
func dictOver(values arrow.Array, idx []int32) arrow.Array {
	if values.Len() == 0 {
		// No build rows: every row is NULL, and a dictionary's NULL codes
		// (0) would point past its empty values when read.
		return array.MakeArrayOfNull(memory.DefaultAllocator, values.DataType(), len(idx))
	}
	codes := array.NewInt32Builder(memory.DefaultAllocator)
	defer codes.Release()
	codes.Reserve(len(idx))
	for _, r := range idx {
		if r < 0 || values.IsNull(int(r)) {
			codes.UnsafeAppendBoolToBitmap(false)
		} else {
			codes.UnsafeAppend(r)
		}
	}
	ca := codes.NewArray()
	defer ca.Release()
	return array.NewDictionaryArray(dictOfStrings, ca, values)
}

// gatherDict returns rows idx of d (-1: NULL) under d's dictionary.
func gatherDict(d *array.Dictionary, idx []int32) arrow.Array {
	src := d.Indices().(*array.Int32).Int32Values()
	codes := array.NewInt32Builder(memory.DefaultAllocator)
	defer codes.Release()
	codes.Reserve(len(idx))
	for _, r := range idx {
		if r < 0 || d.IsNull(int(r)) {
			codes.UnsafeAppendBoolToBitmap(false)
		} else {
			codes.UnsafeAppend(src[r])
		}
	}
	ca := codes.NewArray()
	defer ca.Release()
	return array.NewDictionaryArray(d.DataType(), ca, d.Dictionary())
}
