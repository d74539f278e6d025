package sketch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// ErrInvalidHLL marks serialized bytes that are not an HLL.
var ErrInvalidHLL = errors.New("sketch: invalid HLL")

// Doris's HyperLogLog parameters (olap/hll.h).
const (
	// HLLPrecision is the number of hash bits that pick a register.
	HLLPrecision = 14
	// HLLRegisters is the number of registers, 2^HLLPrecision.
	HLLRegisters = 1 << HLLPrecision
	// HLLExplicitMax is the most distinct hashes kept exactly.
	HLLExplicitMax = 160
	// hllSparseMax is the most non-zero registers written in the sparse
	// encoding (3 bytes each); more are written in full.
	hllSparseMax = 4096
	// hllMaxRegister is the largest register value: the position of the
	// first one bit in the 50 hash bits above the index, or 51 when all
	// are zero. It fits the 6 bits HyperLogLog registers need.
	hllMaxRegister = 64 - HLLPrecision + 1
)

// Type bytes of the HLL encodings, as Doris writes them.
const (
	hllEmpty    byte = 0
	hllExplicit byte = 1
	hllSparse   byte = 2
	hllFull     byte = 3
)

// HLL is Doris's HyperLogLog: empty, then up to [HLLExplicitMax] distinct
// hashes kept exactly (so small cardinalities are exact), then 2^14 one-byte
// registers. The zero value is an empty HLL ready to use. An HLL is not safe
// for concurrent use.
type HLL struct {
	explicit []uint64 // sorted, distinct; used while regs is nil
	regs     []uint8  // HLLRegisters registers once past explicit
}

// NewHLL returns an empty HLL.
func NewHLL() *HLL { return &HLL{} }

// IsEmpty reports whether nothing was added.
func (h *HLL) IsEmpty() bool { return h.regs == nil && len(h.explicit) == 0 }

// Add adds a hash (see [HashString]).
func (h *HLL) Add(hash uint64) {
	if h.regs != nil {
		h.updateRegister(hash)
		return
	}
	// Unlike Doris, which turns a full explicit set into registers on the
	// next hash even when it holds it already, a hash already held changes
	// nothing: the result then does not depend on the order of the values,
	// so a parallel aggregation equals a serial one.
	i, found := slices.BinarySearch(h.explicit, hash)
	if found {
		return
	}
	if len(h.explicit) < HLLExplicitMax {
		h.explicit = slices.Insert(h.explicit, i, hash)
		return
	}
	h.toRegisters()
	h.updateRegister(hash)
}

// updateRegister folds a hash into the registers: the low 14 bits pick the
// register, which keeps the largest position of the first one bit above
// them.
func (h *HLL) updateRegister(hash uint64) {
	idx := hash % HLLRegisters
	rest := hash>>HLLPrecision | 1<<(64-HLLPrecision)
	v := uint8(bits.TrailingZeros64(rest) + 1)
	if v > h.regs[idx] {
		h.regs[idx] = v
	}
}

// toRegisters moves the explicit hashes into registers.
func (h *HLL) toRegisters() {
	h.regs = make([]uint8, HLLRegisters)
	for _, x := range h.explicit {
		h.updateRegister(x)
	}
	h.explicit = nil
}

// Union folds o into h.
func (h *HLL) Union(o *HLL) {
	switch {
	case o.IsEmpty():
	case h.regs != nil && o.regs != nil:
		for i, v := range o.regs {
			if v > h.regs[i] {
				h.regs[i] = v
			}
		}
	case h.regs != nil:
		for _, x := range o.explicit {
			h.updateRegister(x)
		}
	case o.regs != nil:
		h.toRegisters()
		h.Union(o)
	default:
		for _, x := range o.explicit {
			if i, found := slices.BinarySearch(h.explicit, x); !found {
				h.explicit = slices.Insert(h.explicit, i, x)
			}
		}
		if len(h.explicit) > HLLExplicitMax {
			h.toRegisters()
		}
	}
}

// Clone returns a copy of h.
func (h *HLL) Clone() *HLL {
	return &HLL{explicit: slices.Clone(h.explicit), regs: slices.Clone(h.regs)}
}

// invPow2[v] is 2^-v, the term a register of value v adds to the
// harmonic sum (registers are at most 51; decoding refuses more).
var invPow2 = func() (t [64]float32) {
	for v := range t {
		t[v] = float32(math.Ldexp(1, -v))
	}
	return t
}()

// Estimate returns the estimated number of distinct hashes added, exactly
// as Doris computes it (HyperLogLog::estimate_cardinality): the exact count
// while explicit; else the raw HyperLogLog estimate in single precision,
// linear counting below 2.5 × 2^14 when a register is zero, and Redis's
// bias correction below 72,000.
func (h *HLL) Estimate() int64 {
	if h.regs == nil {
		return int64(len(h.explicit))
	}
	const m = HLLRegisters
	alpha := float32(0.7213) / (1 + float32(1.079)/m)
	var sum float32
	zeros := 0
	for _, v := range h.regs {
		sum += invPow2[v&63]
		if v == 0 {
			zeros++
		}
	}
	harmonic := 1 / sum
	estimate := float64(alpha * m * m * harmonic)
	if estimate <= m*2.5 && zeros != 0 {
		estimate = m * math.Log(float64(float32(m)/float32(zeros)))
	} else if estimate < 72000 {
		e := estimate
		bias := 5.9119*1.0e-18*(e*e*e*e) - 1.4253*1.0e-12*(e*e*e) +
			1.2940*1.0e-7*(e*e) - 5.2921*1.0e-3*e + 83.3216
		estimate -= estimate * (bias / 100)
	}
	return int64(estimate + 0.5)
}

// AppendBinary appends the HLL in Doris's serialized form to dst:
//
//	empty     0x00
//	explicit  0x01, count (u8), count × hash (u64 LE), ascending
//	sparse    0x02, count (u32 LE), count × (register index u16 LE, value u8)
//	full      0x03, 16384 × register value (u8)
//
// Registers are written sparse when at most 4096 are non-zero.
func (h *HLL) AppendBinary(dst []byte) []byte {
	if h.regs == nil {
		if len(h.explicit) == 0 {
			return append(dst, hllEmpty)
		}
		dst = append(dst, hllExplicit, byte(len(h.explicit)))
		for _, x := range h.explicit {
			dst = binary.LittleEndian.AppendUint64(dst, x)
		}
		return dst
	}
	nonZero := 0
	for _, v := range h.regs {
		if v != 0 {
			nonZero++
		}
	}
	if nonZero > hllSparseMax {
		dst = append(dst, hllFull)
		return append(dst, h.regs...)
	}
	dst = append(dst, hllSparse)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(nonZero))
	for i, v := range h.regs {
		if v != 0 {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(i))
			dst = append(dst, v)
		}
	}
	return dst
}

// Serialize returns the serialized HLL.
func (h *HLL) Serialize() []byte { return h.AppendBinary(nil) }

// DeserializeHLL decodes a serialized HLL (a string or a byte slice). Zero
// bytes decode as the empty HLL. Malformed input (a wrong length, a
// register index past 16383 or a register value no hash can produce) is an
// error wrapping [ErrInvalidHLL]; no input panics.
func DeserializeHLL[T string | []byte](data T) (*HLL, error) {
	h := &HLL{}
	if err := unionHLL(h, data); err != nil {
		return nil, err
	}
	return h, nil
}

// UnionSerialized folds a serialized HLL into h. On error h is unchanged.
func (h *HLL) UnionSerialized(data []byte) error { return unionHLL(h, data) }

// UnionSerializedString is [HLL.UnionSerialized] of a string.
func (h *HLL) UnionSerializedString(data string) error { return unionHLL(h, data) }

func unionHLL[T string | []byte](h *HLL, data T) error {
	if len(data) == 0 {
		return nil
	}
	body := data[1:]
	switch data[0] {
	case hllEmpty:
		if len(body) != 0 {
			return invalidHLL("%d trailing bytes after the empty HLL", len(body))
		}
		return nil
	case hllExplicit:
		if len(body) < 1 || len(body) != 1+8*int(body[0]) {
			return invalidHLL("explicit HLL of %d bytes", len(body))
		}
		if h.regs != nil {
			for i := 0; i < int(body[0]); i++ {
				h.updateRegister(le64(body[1+8*i:]))
			}
			return nil
		}
		// As Union of two explicit sets: merge, then registers past 160.
		for i := 0; i < int(body[0]); i++ {
			x := le64(body[1+8*i:])
			if k, found := slices.BinarySearch(h.explicit, x); !found {
				h.explicit = slices.Insert(h.explicit, k, x)
			}
		}
		if len(h.explicit) > HLLExplicitMax {
			h.toRegisters()
		}
		return nil
	case hllSparse:
		if len(body) < 4 {
			return invalidHLL("sparse HLL of %d bytes", len(body))
		}
		n := le32(body)
		if n > HLLRegisters || len(body) != 4+3*int(n) {
			return invalidHLL("sparse HLL of %d registers in %d bytes", n, len(body))
		}
		for k := 0; k < int(n); k++ {
			e := body[4+3*k:]
			if idx, v := le16(e), e[2]; idx >= HLLRegisters || v > hllMaxRegister {
				return invalidHLL("sparse register %d = %d", idx, v)
			}
		}
		if h.regs == nil {
			h.toRegisters()
		}
		for k := 0; k < int(n); k++ {
			e := body[4+3*k:]
			if idx, v := le16(e), e[2]; v > h.regs[idx] {
				h.regs[idx] = v
			}
		}
		return nil
	case hllFull:
		if len(body) != HLLRegisters {
			return invalidHLL("full HLL of %d bytes", len(body))
		}
		for i := 0; i < len(body); i++ {
			if body[i] > hllMaxRegister {
				return invalidHLL("register %d = %d", i, body[i])
			}
		}
		if h.regs == nil {
			h.toRegisters()
		}
		for i := 0; i < len(body); i++ {
			if v := body[i]; v > h.regs[i] {
				h.regs[i] = v
			}
		}
		return nil
	}
	return invalidHLL("unknown type byte %d", data[0])
}

func invalidHLL(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidHLL, fmt.Sprintf(format, args...))
}

// UnionHLLs returns the union of serialized HLLs, serialized: the HLL_UNION
// aggregation of the aggregate-key model. A single value is returned as it
// is once it decodes.
func UnionHLLs(vals []string) (string, error) {
	if len(vals) == 1 {
		if _, err := DeserializeHLL(vals[0]); err != nil {
			return "", err
		}
		return vals[0], nil
	}
	h := &HLL{}
	for _, v := range vals {
		if err := h.UnionSerializedString(v); err != nil {
			return "", err
		}
	}
	return string(h.AppendBinary(nil)), nil
}
