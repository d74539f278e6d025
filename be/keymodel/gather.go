package keymodel

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// gather returns the rows idx of a, in order, as a new array of a's type
// allocated from mem. With holes, idx may hold -1, which gives NULL. idx
// is not kept.
//
// BOOLEAN, STRING and the primitive fixed-width types, among them every
// type the tablet store uses, are copied by typed loops straight into new
// buffers (fixed-width values as bits of their width); any other type
// goes through arrow's take kernel.
func gather(a arrow.Array, idx []int32, holes bool, mem memory.Allocator) (arrow.Array, error) {
	dt := a.DataType()
	switch dt.ID() {
	case arrow.BOOL:
		return gatherBool(a.(*array.Boolean), idx, holes, mem), nil
	case arrow.STRING:
		return gatherString(a.(*array.String), idx, holes, mem), nil
	}
	var width int
	switch dt.ID() {
	case arrow.INT8, arrow.UINT8:
		width = 1
	case arrow.INT16, arrow.UINT16, arrow.FLOAT16:
		width = 2
	case arrow.INT32, arrow.UINT32, arrow.FLOAT32, arrow.DATE32, arrow.TIME32, arrow.INTERVAL_MONTHS:
		width = 4
	case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.DATE64, arrow.TIMESTAMP, arrow.TIME64,
		arrow.DURATION, arrow.INTERVAL_DAY_TIME:
		width = 8
	case arrow.DECIMAL128, arrow.INTERVAL_MONTH_DAY_NANO:
		width = 16
	}
	n, off := len(idx), a.Data().Offset()
	bufs := a.Data().Buffers()
	if width == 0 || len(bufs) != 2 || bufs[1] == nil || bufs[1].Len() < (off+a.Len())*width {
		return takeKernel(a, idx, mem)
	}
	var data *memory.Buffer
	switch width {
	case 1:
		data = gatherFixed[uint8](bufs[1], off, a.Len(), width, idx, holes, mem)
	case 2:
		data = gatherFixed[uint16](bufs[1], off, a.Len(), width, idx, holes, mem)
	case 4:
		data = gatherFixed[uint32](bufs[1], off, a.Len(), width, idx, holes, mem)
	case 8:
		data = gatherFixed[uint64](bufs[1], off, a.Len(), width, idx, holes, mem)
	default:
		data = gatherFixed[decimal128.Num](bufs[1], off, a.Len(), width, idx, holes, mem)
	}
	valid, nulls := gatherValidity(a, idx, holes, mem)
	return newArray(dt, n, nulls, valid, data), nil
}

// gatherFixed copies the rows idx, each a T of width bytes, of a buffer
// holding n rows from row off into a new buffer; -1 gives zero.
func gatherFixed[T uint8 | uint16 | uint32 | uint64 | decimal128.Num](src *memory.Buffer, off, n, width int, idx []int32, holes bool, mem memory.Allocator) *memory.Buffer {
	out := newBuffer(mem, len(idx)*width)
	s := arrow.GetData[T](src.Bytes())[off : off+n]
	d := arrow.GetData[T](out.Bytes())[:len(idx)]
	if !holes {
		for k, i := range idx {
			d[k] = s[i]
		}
		return out
	}
	var zero T
	for k, i := range idx {
		if i < 0 {
			d[k] = zero
			continue
		}
		d[k] = s[i]
	}
	return out
}

// gatherValidity returns the validity bitmap of the rows idx of a and
// the number of NULLs among them; nil when there are none.
func gatherValidity(a arrow.Array, idx []int32, holes bool, mem memory.Allocator) (*memory.Buffer, int) {
	src, off := validity(a)
	if src == nil && !holes {
		return nil, 0
	}
	buf := newBuffer(mem, int(bitutil.BytesForBits(int64(len(idx)))))
	bm := buf.Bytes()
	clear(bm)
	nulls := 0
	for k, i := range idx {
		if i >= 0 && (src == nil || bitutil.BitIsSet(src, off+int(i))) {
			bitutil.SetBit(bm, k)
		} else {
			nulls++
		}
	}
	if nulls == 0 {
		buf.Release()
		return nil, 0
	}
	return buf, nulls
}

func gatherBool(x *array.Boolean, idx []int32, holes bool, mem memory.Allocator) arrow.Array {
	data := newBuffer(mem, int(bitutil.BytesForBits(int64(len(idx)))))
	bm := data.Bytes()
	clear(bm)
	for k, i := range idx {
		if i >= 0 && x.Value(int(i)) {
			bitutil.SetBit(bm, k)
		}
	}
	valid, nulls := gatherValidity(x, idx, holes, mem)
	return newArray(x.DataType(), len(idx), nulls, valid, data)
}

// gatherString copies runs of consecutive rows (most of idx, as groups
// are mostly single rows) with one copy each.
func gatherString(x *array.String, idx []int32, holes bool, mem memory.Allocator) arrow.Array {
	offs, data := stringData(x)
	total := 0
	for _, i := range idx {
		if i >= 0 {
			total += int(offs[i+1] - offs[i])
		}
	}
	offBuf := newBuffer(mem, (len(idx)+1)*4)
	dataBuf := newBuffer(mem, total)
	oo := arrow.GetData[int32](offBuf.Bytes())[:len(idx)+1]
	od := dataBuf.Bytes()[:total]
	pos := int32(0)
	for k := 0; k < len(idx); {
		i := idx[k]
		if i < 0 {
			oo[k] = pos
			k++
			continue
		}
		j := k + 1
		for j < len(idx) && idx[j] == idx[j-1]+1 {
			j++
		}
		start, end := offs[i], offs[idx[j-1]+1]
		for t := k; t < j; t++ {
			oo[t] = pos + offs[idx[t]] - start
		}
		copy(od[pos:], data[start:end])
		pos += end - start
		k = j
	}
	oo[len(idx)] = pos
	valid, nulls := gatherValidity(x, idx, holes, mem)
	return newArray(x.DataType(), len(idx), nulls, valid, offBuf, dataBuf)
}

// takeKernel is gather through arrow's take kernel, for types without a
// typed loop here.
func takeKernel(a arrow.Array, idx []int32, mem memory.Allocator) (arrow.Array, error) {
	b := array.NewInt32Builder(mem)
	defer b.Release()
	b.Reserve(len(idx))
	for _, i := range idx {
		if i < 0 {
			b.UnsafeAppendBoolToBitmap(false)
		} else {
			b.UnsafeAppend(i)
		}
	}
	ix := b.NewInt32Array()
	defer ix.Release()
	ctx := compute.WithAllocator(context.Background(), mem)
	out, err := compute.TakeArray(ctx, a, ix)
	if err != nil {
		return nil, fmt.Errorf("taking rows of %s: %w", a.DataType(), err)
	}
	return out, nil
}

// newBuffer returns a buffer of size bytes from mem, contents undefined.
func newBuffer(mem memory.Allocator, size int) *memory.Buffer {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(size)
	return buf
}

// newArray makes an array of n rows, nulls of them NULL, from buffers
// (validity first, nil for none) and lets go of the caller's references
// to the buffers.
func newArray(dt arrow.DataType, n, nulls int, bufs ...*memory.Buffer) arrow.Array {
	d := array.NewData(dt, n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	a := array.MakeFromData(d)
	d.Release()
	return a
}
