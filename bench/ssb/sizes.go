package ssb

import (
	"fmt"
	"math"
)

// Base row counts at SF 1 (dbgen's tdefs).
const (
	customersPerSF = 30_000
	suppliersPerSF = 2_000
	partsBase      = 200_000
	ordersPerSF    = 1_500_000

	// DateRows is the fixed size of the dates table: 1992-01-01 through
	// 1998-12-30.
	DateRows = 2556
)

// Sizes holds the row counts of one scale factor.
type Sizes struct {
	SF         float64
	Customers  int64
	Suppliers  int64
	Parts      int64
	Orders     int64 // lineorder holds 1..7 lines per order, about 4·Orders rows
	PartKeyMax int64 // lo_partkey is uniform in 1..PartKeyMax
	Dates      int64
}

// MaxSF is the largest scale factor the generator accepts. Order keys pass
// 2³¹ above SF ≈ 357 and need a BIGINT column there; part keys, prices and
// totals fit 32 bits at every accepted scale.
const MaxSF = 10_000

// SizesFor returns the row counts for scale factor sf (BENCHMARKS.md §1.2):
// customer 30,000·SF, supplier 2,000·SF, orders 1.5 M·SF, part
// 200,000·⌊1 + log2 SF⌋ and lo_partkey up to 200,000·(⌊ln SF⌋ + 1). Below
// SF 1 every table scales linearly (dbgen's formulas give nonsense there).
func SizesFor(sf float64) (Sizes, error) {
	if math.IsNaN(sf) || sf <= 0 || sf > MaxSF {
		return Sizes{}, fmt.Errorf("ssb: scale factor %v out of range (0, %d]", sf, MaxSF)
	}
	s := Sizes{
		SF:        sf,
		Customers: int64(math.Floor(customersPerSF * sf)),
		Suppliers: int64(math.Floor(suppliersPerSF * sf)),
		Orders:    int64(math.Floor(ordersPerSF * sf)),
		Dates:     DateRows,
	}
	if sf >= 1 {
		s.Parts = partsBase * int64(math.Floor(1+math.Log2(sf)))
		s.PartKeyMax = partsBase * (int64(math.Floor(math.Log(sf))) + 1)
	} else {
		s.Parts = int64(math.Floor(partsBase * sf))
		s.PartKeyMax = s.Parts
	}
	if s.Customers < 3 || s.Suppliers < 1 || s.Parts < 1 || s.Orders < 1 {
		return Sizes{}, fmt.Errorf("ssb: scale factor %v too small (needs at least 3 customers)", sf)
	}
	return s, nil
}

// OrderKey returns the sparse order key of order index o (1-based): only 8
// of every 32 key values are used, as in dbgen's mk_sparse.
func OrderKey(o int64) int64 { return ((o >> 3) << 5) | (o & 7) }

// BumpCustKey applies dbgen's rule that customers whose key is a multiple
// of 3 place no orders: such a key moves to key+1, or to key-1 when key is
// the largest customer key. Keys ≡ 1 (mod 3) thus get double weight.
func BumpCustKey(k, maxKey int64) int64 {
	if k%3 != 0 {
		return k
	}
	if k+1 <= maxKey {
		return k + 1
	}
	return k - 1
}

// RetailPrice is dbgen's part retail price in cents (rpb_routine).
func RetailPrice(partKey int64) int64 {
	return 90_000 + (partKey/10)%20_001 + 100*(partKey%1_000)
}
