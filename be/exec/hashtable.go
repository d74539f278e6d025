package exec

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// Hash tables for grouping and joins: open addressing with linear probing
// over a power-of-two slot array holding group ids + 1 (0 = empty). Keys live
// in per-group arrays, never in Go maps.

// intTable maps int64 keys to dense group ids 0, 1, 2, ... The key sits in
// the slot next to its id, so a probe touches one cache line.
type intTable struct {
	slots []intSlot
	n     int
	mask  uint64
}

type intSlot struct {
	key int64
	gid int32 // group id + 1; 0 = empty
}

func newIntTable(hint int) *intTable {
	n := 1024
	for n < hint*2 {
		n <<= 1
	}
	return &intTable{slots: make([]intSlot, n), mask: uint64(n - 1)}
}

func hashInt(x int64) uint64 {
	h := uint64(x) * 0x9E3779B97F4A7C15
	return h ^ (h >> 29)
}

// findOrInsert returns the group of key, adding it when absent.
func (t *intTable) findOrInsert(key int64) (int32, bool) {
	i := hashInt(key) & t.mask
	for {
		s := &t.slots[i]
		if s.gid == 0 {
			g := int32(t.n)
			t.n++
			s.key, s.gid = key, g+1
			if uint64(t.n)*2 > t.mask {
				t.grow()
			}
			return g, true
		}
		if s.key == key {
			return s.gid - 1, false
		}
		i = (i + 1) & t.mask
	}
}

// find returns the group of key or -1.
func (t *intTable) find(key int64) int32 {
	i := hashInt(key) & t.mask
	for {
		s := t.slots[i]
		if s.gid == 0 {
			return -1
		}
		if s.key == key {
			return s.gid - 1
		}
		i = (i + 1) & t.mask
	}
}

func (t *intTable) grow() {
	old := t.slots
	n := len(old) * 2
	t.slots = make([]intSlot, n)
	t.mask = uint64(n - 1)
	for _, s := range old {
		if s.gid == 0 {
			continue
		}
		i := hashInt(s.key) & t.mask
		for t.slots[i].gid != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = s
	}
}

// bytesTable maps byte-string keys (encoded group keys) to dense group ids.
// A slot holds the upper 32 hash bits next to the id, so most mismatches are
// rejected without touching the key arena.
type bytesTable struct {
	slots  []uint64 // hash>>32 << 32 | (group id + 1); 0 = empty
	hashes []uint64
	offs   []int32 // key g is arena[offs[g]:offs[g+1]]
	arena  []byte
	mask   uint64
}

func newBytesTable(hint int) *bytesTable {
	n := 1024
	for n < hint*2 {
		n <<= 1
	}
	return &bytesTable{slots: make([]uint64, n), mask: uint64(n - 1), offs: []int32{0}}
}

func (t *bytesTable) len() int { return len(t.hashes) }

func (t *bytesTable) key(g int32) []byte { return t.arena[t.offs[g]:t.offs[g+1]] }

func (t *bytesTable) findOrInsert(key []byte) (int32, bool) {
	h := xxhash.Sum64(key)
	tag := h &^ 0xFFFFFFFF
	i := h & t.mask
	for {
		s := t.slots[i]
		if s == 0 {
			g := int32(len(t.hashes))
			t.hashes = append(t.hashes, h)
			t.arena = append(t.arena, key...)
			t.offs = append(t.offs, int32(len(t.arena)))
			t.slots[i] = tag | uint64(g+1)
			if uint64(len(t.hashes))*2 > t.mask {
				t.grow()
			}
			return g, true
		}
		if s&^0xFFFFFFFF == tag {
			g := int32(uint32(s)) - 1
			if string(t.key(g)) == string(key) {
				return g, false
			}
		}
		i = (i + 1) & t.mask
	}
}

func (t *bytesTable) find(key []byte) int32 {
	h := xxhash.Sum64(key)
	tag := h &^ 0xFFFFFFFF
	i := h & t.mask
	for {
		s := t.slots[i]
		if s == 0 {
			return -1
		}
		if s&^0xFFFFFFFF == tag {
			g := int32(uint32(s)) - 1
			if string(t.key(g)) == string(key) {
				return g
			}
		}
		i = (i + 1) & t.mask
	}
}

func (t *bytesTable) grow() { t.slots, t.mask = rehash(t.hashes, 2*len(t.slots)) }

// rehash lays out n slots (a power of two) for groups with the given
// hashes, in the slot format of bytesTable and wordTable.
func rehash(hashes []uint64, n int) ([]uint64, uint64) {
	slots := make([]uint64, n)
	mask := uint64(n - 1)
	for g, h := range hashes {
		i := h & mask
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i] = h&^0xFFFFFFFF | uint64(g+1)
	}
	return slots, mask
}

// encodeKey appends row i of the views to buf as a comparable byte string;
// it reports whether any column is NULL (encoded with a marker byte).
func encodeKey(buf []byte, vs []*view, i int) ([]byte, bool) {
	hasNull := false
	for _, v := range vs {
		if v.isNull(i) {
			buf = append(buf, 0)
			hasNull = true
			continue
		}
		buf = append(buf, 1)
		switch v.p {
		case pInt:
			buf = binary.LittleEndian.AppendUint64(buf, uint64(v.int(i)))
		case pFloat:
			f := v.flt(i)
			if f == 0 {
				f = 0 // -0 == 0
			}
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
		case pDec:
			d := v.decv(i)
			buf = binary.LittleEndian.AppendUint64(buf, d.LowBits())
			buf = binary.LittleEndian.AppendUint64(buf, uint64(d.HighBits()))
		case pBool:
			if v.boolv(i) {
				buf = append(buf, 1)
			} else {
				buf = append(buf, 0)
			}
		case pStr:
			s := v.strv(i)
			buf = binary.LittleEndian.AppendUint32(buf, uint32(len(s)))
			buf = append(buf, s...)
		}
	}
	return buf, hasNull
}

// wordTable maps fixed-width keys of w uint64 words to dense group ids: the
// table of group-bys whose columns are all integers or strings, the strings
// standing in as ids from a per-column interning table (see HashAgg). Slots
// are laid out as in bytesTable.
type wordTable struct {
	w      int
	slots  []uint64 // hash>>32 << 32 | (group id + 1); 0 = empty
	hashes []uint64
	keys   []uint64 // key g is keys[g*w : (g+1)*w]
	mask   uint64
}

func newWordTable(w, hint int) *wordTable {
	n := 1024
	for n < hint*2 {
		n <<= 1
	}
	return &wordTable{w: w, slots: make([]uint64, n), mask: uint64(n - 1)}
}

func hashWords(k []uint64) uint64 {
	h := uint64(0x2545F4914F6CDD1D)
	for _, x := range k {
		h = (h ^ x) * 0x9E3779B97F4A7C15
		h ^= h >> 32
	}
	return h
}

func (t *wordTable) findOrInsert(key []uint64) (int32, bool) {
	h := hashWords(key)
	tag := h &^ 0xFFFFFFFF
	i := h & t.mask
	w := t.w
	for {
		s := t.slots[i]
		if s == 0 {
			g := int32(len(t.hashes))
			t.hashes = append(t.hashes, h)
			t.keys = append(t.keys, key...)
			t.slots[i] = tag | uint64(g+1)
			if uint64(len(t.hashes))*2 > t.mask {
				t.grow()
			}
			return g, true
		}
		if s&^0xFFFFFFFF == tag {
			g := int(uint32(s)) - 1
			if wordsEqual(t.keys[g*w:g*w+w], key) {
				return int32(g), false
			}
		}
		i = (i + 1) & t.mask
	}
}

func wordsEqual(a, b []uint64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (t *wordTable) grow() { t.slots, t.mask = rehash(t.hashes, 2*len(t.slots)) }

// internString returns the id of s in t (a bytesTable used as a string
// interning table), adding it when absent.
func (t *bytesTable) internString(s string) int32 {
	g, _ := t.findOrInsert(unsafe.Slice(unsafe.StringData(s), len(s)))
	return g
}
