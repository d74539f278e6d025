package partition

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/cespare/xxhash/v2"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// Router assigns rows of a table to partitions and buckets. It is built once
// per load from the table snapshot the load began with, and is not safe for
// concurrent use (random distribution keeps a round-robin counter).
type Router struct {
	table *catalog.Table

	partIdx   []int // schema positions of the partition columns
	partTypes []types.Type
	ranges    []Range // in ascending order of Lower
	rangePos  []int   // rangePos[i] = index into table.Partitions of ranges[i]

	bucketIdx []int // schema positions of the hash columns
	buckets   int
	random    bool
	next      int // next bucket for random distribution

	key    []Value
	hashes []uint64
}

// NewRouter prepares routing for t.
func NewRouter(t *catalog.Table) (*Router, error) {
	r := &Router{table: t, buckets: t.Distribution.Buckets}
	if r.buckets <= 0 {
		return nil, fmt.Errorf("table %s has %d buckets", t.Name, r.buckets)
	}
	if t.PartitionType == catalog.RangePartitioned {
		typs, idx, ranges, err := Ranges(t)
		if err != nil {
			return nil, err
		}
		r.partTypes, r.partIdx = typs, idx
		order := make([]int, len(ranges))
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(a, b int) bool {
			return CompareTuple(ranges[order[a]].Lower, ranges[order[b]].Lower) < 0
		})
		for _, i := range order {
			r.ranges = append(r.ranges, ranges[i])
			r.rangePos = append(r.rangePos, i)
		}
		r.key = make([]Value, len(idx))
	} else if len(t.Partitions) != 1 {
		return nil, fmt.Errorf("BUG: unpartitioned table %s has %d partitions", t.Name, len(t.Partitions))
	}
	switch t.Distribution.Type {
	case catalog.RandomDistributed:
		r.random = true
	case catalog.HashDistributed:
		for _, name := range t.Distribution.Columns {
			i, c := t.Schema.ColumnByName(name)
			if c == nil {
				return nil, fmt.Errorf("distribution column %s not found in table %s", name, t.Name)
			}
			r.bucketIdx = append(r.bucketIdx, i)
		}
	}
	return r, nil
}

// Route writes, for each of the n rows of cols (the table's columns in schema
// order), the index into Table.Partitions of the row's partition, or -1 when
// no partition holds it, and the row's bucket.
func (r *Router) Route(cols []arrow.Array, n int, part, bucket []int32) {
	r.routePartitions(cols, n, part)
	r.routeBuckets(cols, n, bucket)
}

func (r *Router) routePartitions(cols []arrow.Array, n int, part []int32) {
	if r.partIdx == nil {
		for i := 0; i < n; i++ {
			part[i] = 0
		}
		return
	}
	// Fast path: one integer-like partition column (dates, datetimes and int
	// keys, the common case).
	if len(r.partIdx) == 1 && r.ranges != nil {
		if vals, ok := intValues(cols[r.partIdx[0]]); ok {
			arr := cols[r.partIdx[0]]
			for i := 0; i < n; i++ {
				v := Value{Kind: KindMin}
				if !arr.IsNull(i) {
					v = Value{Kind: KindInt, I: vals(i)}
				}
				part[i] = r.find(v)
			}
			return
		}
	}
	for i := 0; i < n; i++ {
		for k, ci := range r.partIdx {
			r.key[k] = valueAt(cols[ci], i)
		}
		part[i] = r.findTuple(r.key)
	}
}

func (r *Router) find(v Value) int32 {
	// The last range whose lower bound is <= v, if v is below its upper bound.
	j := sort.Search(len(r.ranges), func(j int) bool { return Compare(r.ranges[j].Lower[0], v) > 0 }) - 1
	if j >= 0 && Compare(v, r.ranges[j].Upper[0]) < 0 {
		return int32(r.rangePos[j])
	}
	return -1
}

func (r *Router) findTuple(key []Value) int32 {
	j := sort.Search(len(r.ranges), func(j int) bool { return CompareTuple(r.ranges[j].Lower, key) > 0 }) - 1
	if j >= 0 && CompareTuple(key, r.ranges[j].Upper) < 0 {
		return int32(r.rangePos[j])
	}
	return -1
}

func (r *Router) routeBuckets(cols []arrow.Array, n int, bucket []int32) {
	if r.random || len(r.bucketIdx) == 0 {
		// Random distribution: a whole batch goes to one bucket, rotating, so
		// that each load writes few, large rowsets.
		b := int32(r.next % r.buckets)
		r.next++
		for i := 0; i < n; i++ {
			bucket[i] = b
		}
		return
	}
	if cap(r.hashes) < n {
		r.hashes = make([]uint64, n)
	}
	h := r.hashes[:n]
	for i := range h {
		h[i] = 0
	}
	for _, ci := range r.bucketIdx {
		HashColumn(cols[ci], h)
	}
	m := uint64(r.buckets)
	for i := range h {
		bucket[i] = int32(h[i] % m)
	}
}

// nullHash is what a NULL contributes to a row's bucket hash.
const nullHash = 0x9e3779b97f4a7c15

// HashColumn folds the values of col into the running row hashes h, one per
// row. The hash is stable across processes and releases: it decides which
// tablet holds a row, so changing it would misplace data already on disk.
func HashColumn(col arrow.Array, h []uint64) {
	var buf [16]byte
	mix := func(i int, v uint64) { h[i] = (h[i]^v)*0x100000001b3 + (h[i] >> 29) }
	switch a := col.(type) {
	case *array.String:
		for i := range h {
			if a.IsNull(i) {
				mix(i, nullHash)
				continue
			}
			mix(i, xxhash.Sum64String(a.Value(i)))
		}
	case *array.Decimal128:
		for i := range h {
			if a.IsNull(i) {
				mix(i, nullHash)
				continue
			}
			v := a.Value(i)
			binary.LittleEndian.PutUint64(buf[0:8], v.LowBits())
			binary.LittleEndian.PutUint64(buf[8:16], uint64(v.HighBits()))
			mix(i, xxhash.Sum64(buf[:]))
		}
	default:
		vals, ok := intValues(col)
		if !ok {
			panic(fmt.Sprintf("BUG: cannot hash column of type %s", col.DataType()))
		}
		for i := range h {
			if col.IsNull(i) {
				mix(i, nullHash)
				continue
			}
			binary.LittleEndian.PutUint64(buf[0:8], uint64(vals(i)))
			mix(i, xxhash.Sum64(buf[0:8]))
		}
	}
}

// intValues returns an accessor for integer-like arrays.
func intValues(col arrow.Array) (func(int) int64, bool) {
	switch a := col.(type) {
	case *array.Int8:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Int16:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Int32:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Int64:
		return func(i int) int64 { return a.Value(i) }, true
	case *array.Date32:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Timestamp:
		return func(i int) int64 { return int64(a.Value(i)) }, true
	case *array.Boolean:
		return func(i int) int64 {
			if a.Value(i) {
				return 1
			}
			return 0
		}, true
	}
	return nil, false
}

// valueAt reads row i of col as a Value (NULL sorts first, as KindMin).
func valueAt(col arrow.Array, i int) Value {
	if col.IsNull(i) {
		return Value{Kind: KindMin}
	}
	switch a := col.(type) {
	case *array.String:
		return Value{Kind: KindBytes, B: []byte(a.Value(i))}
	case *array.Decimal128:
		return Value{Kind: KindInt128, D: a.Value(i)}
	}
	vals, ok := intValues(col)
	if !ok {
		panic(fmt.Sprintf("BUG: partition column of type %s", col.DataType()))
	}
	return Value{Kind: KindInt, I: vals(i)}
}
