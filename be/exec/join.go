package exec

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

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

	tbl    *table
	bviews []*view
	intTbl *intTable
	bytTbl *bytesTable
	head   []int32 // per distinct key: first build row + 1
	next   []int32 // per build row: next build row with the same key + 1
	built  bool
	in     Batch
	held   []arrow.Array
	buf    []byte
	pIdx   []int32
	bIdx   []int32
}

// NewHashJoin returns the join of probe with build on buildKeys[i] =
// probeKeys[i] (converted to their common types) and otherCond (may be nil).
func NewHashJoin(build, probe Operator, kind JoinKind, buildKeys, probeKeys []Expr, otherCond Expr) (*HashJoin, error) {
	if len(buildKeys) != len(probeKeys) {
		return nil, fmt.Errorf("hash join has %d build keys and %d probe keys", len(buildKeys), len(probeKeys))
	}
	if kind != JoinInner && kind != JoinLeft {
		return nil, fmt.Errorf("unsupported join kind %d", kind)
	}
	j := &HashJoin{build: build, probe: probe, kind: kind}
	for i := range buildKeys {
		bk, pk := buildKeys[i], probeKeys[i]
		if !sameClassNoCast(bk.Type(), pk.Type()) || physOf(bk.Type()) != physOf(pk.Type()) {
			ct, err := CommonType(bk.Type(), pk.Type())
			if err != nil {
				return nil, fmt.Errorf("join key %d: %w", i+1, err)
			}
			bk, pk = coerceCmp(bk, ct), coerceCmp(pk, ct)
		}
		j.buildKeys = append(j.buildKeys, bk)
		j.probeKeys = append(j.probeKeys, pk)
	}
	if otherCond != nil {
		j.other = toBool(otherCond)
	}
	j.schema = append(append([]types.Type(nil), probe.Schema()...), build.Schema()...)
	return j, nil
}

func (j *HashJoin) Schema() []types.Type { return j.schema }

func (j *HashJoin) Open(ctx context.Context) error {
	j.ectx = evalCtxFrom(ctx)
	j.built = false
	if err := j.build.Open(ctx); err != nil {
		return err
	}
	return j.probe.Open(ctx)
}

func (j *HashJoin) Close() error {
	j.held = releaseAll(j.held)
	if j.tbl != nil {
		j.tbl.release()
		j.tbl = nil
	}
	err := j.build.Close()
	if perr := j.probe.Close(); err == nil {
		err = perr
	}
	return err
}

func (j *HashJoin) buildSide(ctx context.Context) error {
	bs := j.build.Schema()
	all := append([]types.Type(nil), bs...)
	for _, k := range j.buildKeys {
		all = append(all, k.Type())
	}
	tb := newTableBuilder(all)
	var b Batch
	for {
		b.Reset()
		err := Next(ctx, j.build, &b)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		vs := batchViews(&b, bs)
		for _, k := range j.buildKeys {
			v, err := evalView(j.ectx, k, &b)
			if err != nil {
				return err
			}
			vs = append(vs, v)
		}
		tb.appendViews(vs, rowsOf(&b))
	}
	j.tbl = tb.finish()
	views := j.tbl.views()
	j.bviews = views[:len(bs)]
	kv := views[len(bs):]
	n := j.tbl.n
	j.next = make([]int32, n)
	useInt := len(kv) == 1 && kv[0].p == pInt
	if useInt {
		j.intTbl = newIntTable(n)
	} else {
		j.bytTbl = newBytesTable(n)
	}
	// Insert in reverse so chains list build rows in input order.
	for i := n - 1; i >= 0; i-- {
		if anyNull(kv, i) {
			continue
		}
		var g int32
		if useInt {
			g, _ = j.intTbl.findOrInsert(kv[0].int(i))
		} else {
			j.buf, _ = encodeKey(j.buf[:0], kv, i)
			g, _ = j.bytTbl.findOrInsert(j.buf)
		}
		j.head = growTo(j.head, int(g)+1)
		j.next[i] = j.head[g]
		j.head[g] = int32(i) + 1
	}
	return nil
}

func (j *HashJoin) Next(ctx context.Context, b *Batch) error {
	if !j.built {
		j.built = true
		if err := j.buildSide(ctx); err != nil {
			return err
		}
	}
	j.held = releaseAll(j.held)
	for {
		j.in.Reset()
		if err := Next(ctx, j.probe, &j.in); err != nil {
			b.Reset()
			return err
		}
		if err := j.probeBatch(b); err != nil {
			return err
		}
		if b.NumRows() > 0 {
			return nil
		}
	}
}

func (j *HashJoin) probeBatch(b *Batch) error {
	in := &j.in
	rows := rowsOf(in)
	kv := make([]*view, len(j.probeKeys))
	for i, k := range j.probeKeys {
		v, err := evalView(j.ectx, k, in)
		if err != nil {
			return err
		}
		kv[i] = v
	}
	j.pIdx, j.bIdx = j.pIdx[:0], j.bIdx[:0]
	left := j.kind == JoinLeft
	for _, r := range rows {
		i := int(r)
		g := int32(-1)
		if !anyNull(kv, i) {
			if j.intTbl != nil {
				g = j.intTbl.find(kv[0].int(i))
			} else {
				j.buf, _ = encodeKey(j.buf[:0], kv, i)
				g = j.bytTbl.find(j.buf)
			}
		}
		if g < 0 || int(g) >= len(j.head) || j.head[g] == 0 {
			if left && j.other == nil {
				j.pIdx = append(j.pIdx, r)
				j.bIdx = append(j.bIdx, -1)
			}
			continue
		}
		for br := j.head[g]; br != 0; br = j.next[br-1] {
			j.pIdx = append(j.pIdx, r)
			j.bIdx = append(j.bIdx, br-1)
		}
	}
	j.materialize(b, in)
	if j.other == nil {
		return nil
	}
	pass, err := selectTrue(j.ectx, j.other, b, rowsOf(b), nil)
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
func (j *HashJoin) materialize(b *Batch, in *Batch) {
	b.Reset()
	ps := j.probe.Schema()
	for i, c := range in.Cols {
		a := take(newView(c, ps[i]), j.pIdx)
		j.held = append(j.held, a)
		b.Cols = append(b.Cols, a)
	}
	for _, v := range j.bviews {
		a := take(v, j.bIdx)
		j.held = append(j.held, a)
		b.Cols = append(b.Cols, a)
	}
	b.Len = len(j.pIdx)
}
