package ssb

import (
	"bytes"
	"runtime"
	"sync"
)

// dimChunkRows is the number of dimension rows drawn from one random stream.
// It is part of the output definition: changing it changes the data.
const dimChunkRows = 1 << 14

// fieldSep separates the fields of a rendered dimension row. No generated
// value contains it, so it can be replaced by any output separator.
const fieldSep = 0

// dimTable holds the rendered non-key fields of every row of a dimension
// table: row k (1-based key) is data[off[k-1]:off[k]], fields separated by
// fieldSep. It is immutable once built.
type dimTable struct {
	data []byte
	off  []int
}

func (t *dimTable) rows() int64 { return int64(len(t.off) - 1) }

// row returns the rendered fields of the row with key k (1-based).
func (t *dimTable) row(k int64) []byte { return t.data[t.off[k-1]:t.off[k]] }

// withSep returns a copy of t whose field separator is sep.
func (t *dimTable) withSep(sep []byte) *dimTable {
	if len(sep) == 1 {
		d := bytes.ReplaceAll(t.data, []byte{fieldSep}, sep)
		return &dimTable{data: d, off: t.off}
	}
	out := &dimTable{
		data: make([]byte, 0, len(t.data)+len(t.data)/8*len(sep)),
		off:  make([]int, 1, len(t.off)),
	}
	for k := int64(1); k <= t.rows(); k++ {
		r := t.row(k)
		for {
			i := bytes.IndexByte(r, fieldSep)
			if i < 0 {
				out.data = append(out.data, r...)
				break
			}
			out.data = append(out.data, r[:i]...)
			out.data = append(out.data, sep...)
			r = r[i+1:]
		}
		out.off = append(out.off, len(out.data))
	}
	return out
}

// rowFunc appends the rendered fields of row key to dst, drawing from r.
type rowFunc func(dst []byte, key int64, r *rng) []byte

// buildDim renders rows 1..n of a dimension table, dimChunkRows rows per
// random stream, chunks in parallel.
func buildDim(table int, sf float64, n int64, f rowFunc) *dimTable {
	nchunks := (n + dimChunkRows - 1) / dimChunkRows
	parts := make([]dimTable, nchunks)
	var wg sync.WaitGroup
	next := make(chan int64)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for c := range next {
				r := newRNG(table, sf, c)
				lo := c*dimChunkRows + 1
				hi := min(lo+dimChunkRows-1, n)
				p := &parts[c]
				p.off = make([]int, 0, hi-lo+1)
				for k := lo; k <= hi; k++ {
					p.data = f(p.data, k, &r)
					p.off = append(p.off, len(p.data))
				}
			}
		})
	}
	for c := range nchunks {
		next <- c
	}
	close(next)
	wg.Wait()

	size := 0
	for i := range parts {
		size += len(parts[i].data)
	}
	t := &dimTable{data: make([]byte, 0, size), off: make([]int, 1, n+1)}
	for i := range parts {
		base := len(t.data)
		t.data = append(t.data, parts[i].data...)
		for _, o := range parts[i].off {
			t.off = append(t.off, base+o)
		}
	}
	return t
}

// addressChars are the characters of c_address and s_address: 64 of them, so
// one random draw yields ten characters.
const addressChars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ."

// Address lengths are uniform in [0.4·15, 1.6·15] (BENCHMARKS.md §1.3).
const (
	addressMinLen = 6
	addressMaxLen = 24
)

func appendAddress(dst []byte, r *rng) []byte {
	n := int(r.between(addressMinLen, addressMaxLen))
	var x uint64
	for i := range n {
		if i%10 == 0 {
			x = r.next()
		}
		dst = append(dst, addressChars[x&63])
		x >>= 6
	}
	return dst
}

// appendCity appends the first 9 characters of the nation, space-padded to 9,
// and one digit: 10 cities per nation.
func appendCity(dst []byte, nation int, digit int64) []byte {
	name := nations[nation]
	if len(name) >= 9 {
		dst = append(dst, name[:9]...)
	} else {
		dst = append(dst, name...)
		dst = append(dst, "         "[:9-len(name)]...)
	}
	return append(dst, byte('0'+digit))
}

// appendPhone appends NN-ddd-ddd-dddd with NN = 10 + nation.
func appendPhone(dst []byte, nation int, r *rng) []byte {
	dst = appendUint(dst, uint64(10+nation))
	dst = append(dst, '-')
	dst = appendUint(dst, uint64(r.between(100, 999)))
	dst = append(dst, '-')
	dst = appendUint(dst, uint64(r.between(100, 999)))
	dst = append(dst, '-')
	return appendUint(dst, uint64(r.between(1000, 9999)))
}

// customerRow renders C_NAME, C_ADDRESS, C_CITY, C_NATION, C_REGION,
// C_PHONE, C_MKTSEGMENT.
func customerRow(dst []byte, key int64, r *rng) []byte {
	dst = append(dst, "Customer#"...)
	dst = appendPadded(dst, uint64(key), 9)
	dst = append(dst, fieldSep)
	dst = appendAddress(dst, r)
	dst = append(dst, fieldSep)
	nation := int(r.intn(uint64(len(nations))))
	dst = appendCity(dst, nation, r.between(0, 9))
	dst = append(dst, fieldSep)
	dst = append(dst, nations[nation]...)
	dst = append(dst, fieldSep)
	dst = append(dst, regions[nationRegion[nation]]...)
	dst = append(dst, fieldSep)
	dst = appendPhone(dst, nation, r)
	dst = append(dst, fieldSep)
	return append(dst, marketSegments[r.intn(uint64(len(marketSegments)))]...)
}

// supplierRow renders S_NAME, S_ADDRESS, S_CITY, S_NATION, S_REGION, S_PHONE.
func supplierRow(dst []byte, key int64, r *rng) []byte {
	dst = append(dst, "Supplier#"...)
	dst = appendPadded(dst, uint64(key), 9)
	dst = append(dst, fieldSep)
	dst = appendAddress(dst, r)
	dst = append(dst, fieldSep)
	nation := int(r.intn(uint64(len(nations))))
	dst = appendCity(dst, nation, r.between(0, 9))
	dst = append(dst, fieldSep)
	dst = append(dst, nations[nation]...)
	dst = append(dst, fieldSep)
	dst = append(dst, regions[nationRegion[nation]]...)
	dst = append(dst, fieldSep)
	return appendPhone(dst, nation, r)
}

// partRow renders P_NAME, P_MFGR, P_CATEGORY, P_BRAND, P_COLOR, P_TYPE,
// P_SIZE, P_CONTAINER. The colour and the two colours of the name are three
// distinct colours, as dbgen's agg_str draws without replacement.
func partRow(dst []byte, _ int64, r *rng) []byte {
	c0 := r.intn(uint64(len(colors)))
	c1 := r.intn(uint64(len(colors) - 1))
	if c1 >= c0 {
		c1++
	}
	c2 := r.intn(uint64(len(colors) - 2))
	for _, c := range [...]uint64{min(c0, c1), max(c0, c1)} {
		if c2 >= c {
			c2++
		}
	}
	dst = append(dst, colors[c1]...)
	dst = append(dst, ' ')
	dst = append(dst, colors[c2]...)
	dst = append(dst, fieldSep)
	m := r.between(1, 5)
	c := r.between(1, 5)
	b := r.between(1, 40)
	dst = append(dst, "MFGR#"...)
	dst = append(dst, byte('0'+m))
	dst = append(dst, fieldSep)
	dst = append(dst, "MFGR#"...)
	dst = append(dst, byte('0'+m), byte('0'+c))
	dst = append(dst, fieldSep)
	dst = append(dst, "MFGR#"...)
	dst = append(dst, byte('0'+m), byte('0'+c))
	dst = appendUint(dst, uint64(b))
	dst = append(dst, fieldSep)
	dst = append(dst, colors[c0]...)
	dst = append(dst, fieldSep)
	dst = append(dst, partTypes[r.intn(uint64(len(partTypes)))]...)
	dst = append(dst, fieldSep)
	dst = appendUint(dst, uint64(r.between(1, 50)))
	dst = append(dst, fieldSep)
	return append(dst, containers[r.intn(uint64(len(containers)))]...)
}
