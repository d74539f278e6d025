package sketch

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func hllOf(lo, hi int) *HLL {
	h := NewHLL()
	for i := lo; i < hi; i++ {
		h.Add(HashString(strconv.Itoa(i)))
	}
	return h
}

func TestHLLExactWhileSmall(t *testing.T) {
	h := NewHLL()
	require.True(t, h.IsEmpty())
	require.Equal(t, int64(0), h.Estimate())
	for i := 1; i <= HLLExplicitMax; i++ {
		h.Add(HashString(strconv.Itoa(i)))
		if i < HLLExplicitMax {
			h.Add(HashString(strconv.Itoa(i))) // duplicates count once
		}
		require.Equal(t, int64(i), h.Estimate())
	}
	data := h.Serialize()
	require.Equal(t, hllExplicit, data[0])
	require.Len(t, data, 2+8*HLLExplicitMax)
	// A hash it holds changes nothing; one more turns it into registers,
	// and small counts stay close through linear counting.
	dup := h.Clone()
	dup.Add(HashString("1"))
	require.Nil(t, dup.regs)
	require.Equal(t, int64(160), dup.Estimate())
	h.Add(HashString("x"))
	require.NotNil(t, h.regs)
	require.InDelta(t, 161, h.Estimate(), 3)
}

func TestHLLAccuracy(t *testing.T) {
	// Doris documents an error of about 1%, up to 2%.
	for _, n := range []int{200, 1000, 5000, 20000, 70000, 100000, 1000000} {
		h := hllOf(0, n)
		got := h.Estimate()
		rel := math.Abs(float64(got)-float64(n)) / float64(n)
		t.Logf("n=%d estimate=%d error=%.3f%%", n, got, 100*rel)
		require.Less(t, rel, 0.02, "n=%d estimate=%d", n, got)
	}
}

func TestHLLEncodings(t *testing.T) {
	for _, tc := range []struct {
		n   int
		typ byte
	}{{0, hllEmpty}, {1, hllExplicit}, {160, hllExplicit}, {161, hllSparse}, {3000, hllSparse}, {100000, hllFull}} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			h := hllOf(0, tc.n)
			data := h.Serialize()
			require.Equal(t, tc.typ, data[0])
			back, err := DeserializeHLL(data)
			require.NoError(t, err)
			require.Equal(t, h.Estimate(), back.Estimate())
			require.Equal(t, data, back.Serialize())
		})
	}
	// Explicit hashes are written ascending, little-endian.
	h := NewHLL()
	h.Add(2)
	h.Add(1)
	require.Equal(t, []byte{1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}, h.Serialize())
	// Registers: hash 0x...4001 -> register 1, first one bit of 1 at 1.
	h = hllOf(0, 161)
	var sparse []byte
	sparse = append(sparse, hllSparse)
	regs := h.regs
	nz := 0
	for _, v := range regs {
		if v != 0 {
			nz++
		}
	}
	sparse = binary.LittleEndian.AppendUint32(sparse, uint32(nz))
	for i, v := range regs {
		if v != 0 {
			sparse = binary.LittleEndian.AppendUint16(sparse, uint16(i))
			sparse = append(sparse, v)
		}
	}
	require.Equal(t, sparse, h.Serialize())
	// Zero bytes are the empty HLL.
	e, err := DeserializeHLL([]byte(nil))
	require.NoError(t, err)
	require.True(t, e.IsEmpty())
}

func TestHLLRegisterUpdate(t *testing.T) {
	h := &HLL{regs: make([]uint8, HLLRegisters)}
	h.updateRegister(5 | 1<<HLLPrecision) // register 5, first one bit at 1
	require.Equal(t, uint8(1), h.regs[5])
	h.updateRegister(5 | 1<<(HLLPrecision+3)) // first one bit at 4
	require.Equal(t, uint8(4), h.regs[5])
	h.updateRegister(5) // no bit above the index: the maximum, 51
	require.Equal(t, uint8(hllMaxRegister), h.regs[5])
	h.updateRegister(5 | 1<<HLLPrecision)
	require.Equal(t, uint8(hllMaxRegister), h.regs[5], "registers only grow")
}

func TestHLLUnion(t *testing.T) {
	parts := [][2]int{{0, 50}, {25, 100}, {100, 5000}, {4000, 4100}, {0, 0}, {6000, 60000}}
	// Every order of merging gives the HLL of the whole.
	whole := NewHLL()
	for _, p := range parts {
		for i := p[0]; i < p[1]; i++ {
			whole.Add(HashString(strconv.Itoa(i)))
		}
	}
	for _, order := range [][]int{{0, 1, 2, 3, 4, 5}, {5, 4, 3, 2, 1, 0}, {2, 0, 4, 1, 5, 3}} {
		u := NewHLL()
		for _, k := range order {
			u.Union(hllOf(parts[k][0], parts[k][1]))
		}
		require.Equal(t, whole.Serialize(), u.Serialize(), "order %v", order)
	}
	// Explicit sets union exactly until they overflow.
	a, b := hllOf(0, 100), hllOf(50, 150)
	a.Union(b)
	require.Nil(t, a.regs)
	require.Equal(t, int64(150), a.Estimate())
	a.Union(hllOf(150, 170))
	require.NotNil(t, a.regs)
	// Union does not alias its argument.
	src := hllOf(0, 1000)
	dst := NewHLL()
	dst.Union(src)
	dst.Add(HashString("new"))
	require.Equal(t, hllOf(0, 1000).Serialize(), src.Serialize())
	c := src.Clone()
	c.Add(HashString("other"))
	require.Equal(t, hllOf(0, 1000).Serialize(), src.Serialize())
}

func TestHLLDeserializeRejects(t *testing.T) {
	full := hllOf(0, 100000).Serialize()
	sparse := hllOf(0, 1000).Serialize()
	badFull := slices.Clone(full)
	badFull[10] = 52
	badIdx := slices.Clone(sparse)
	binary.LittleEndian.PutUint16(badIdx[5:], HLLRegisters)
	badVal := slices.Clone(sparse)
	badVal[7] = 200
	for name, data := range map[string][]byte{
		"unknown type":         {9},
		"empty trailing":       {0, 0},
		"explicit no count":    {1},
		"explicit short":       {1, 2, 1, 2, 3, 4, 5, 6, 7, 8},
		"explicit long":        {1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		"sparse short header":  {2, 1, 0},
		"sparse count too big": {2, 0xff, 0xff, 0xff, 0xff},
		"sparse truncated":     sparse[:len(sparse)-1],
		"sparse index":         badIdx,
		"sparse value":         badVal,
		"full short":           full[:len(full)-1],
		"full value":           badFull,
	} {
		_, err := DeserializeHLL(data)
		require.ErrorIs(t, err, ErrInvalidHLL, name)
	}
	h := hllOf(0, 10)
	require.Error(t, h.UnionSerialized(badFull))
	require.Equal(t, hllOf(0, 10).Serialize(), h.Serialize())
}

func TestUnionHLLs(t *testing.T) {
	var vals []string
	for k := 0; k < 10; k++ {
		vals = append(vals, string(hllOf(k*300, k*300+500).Serialize()))
	}
	got, err := UnionHLLs(vals)
	require.NoError(t, err)
	require.Equal(t, string(hllOf(0, 3200).Serialize()), got)
	one, err := UnionHLLs(vals[:1])
	require.NoError(t, err)
	require.Equal(t, vals[0], one)
	_, err = UnionHLLs([]string{vals[0], "\x07"})
	require.ErrorIs(t, err, ErrInvalidHLL)
	_, err = UnionHLLs([]string{"\x07"})
	require.ErrorIs(t, err, ErrInvalidHLL)
}
