// Package partition places rows in partitions and buckets, and prunes
// partitions for a query. It is shared by the write path (every loaded row is
// routed to exactly one tablet) and the planner (a range predicate on the
// partition column skips whole partitions).
//
// Partition bounds are stored in the catalog as text literals; here they are
// parsed once into [Value]s ordered the way the column type orders them.
package partition

import (
	"bytes"
	"cmp"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// ValueKind says which field of a Value holds it.
type ValueKind uint8

const (
	// KindMin sorts before every other value: it is the absent trailing part
	// of a bound and the lower bound of the first partition.
	KindMin    ValueKind = iota
	KindInt              // I: integers, BOOLEAN, DATE (days), DATETIME (µs)
	KindInt128           // D: LARGEINT and DECIMAL (unscaled)
	KindBytes            // B: CHAR and VARCHAR
	// KindMax sorts after every other value (MAXVALUE).
	KindMax
)

// Value is one typed, comparable partition-column value. Only values of
// columns of the same type are compared.
type Value struct {
	Kind ValueKind
	I    int64
	D    decimal128.Num
	B    []byte
}

// Compare orders a and b.
func Compare(a, b Value) int {
	if a.Kind != b.Kind {
		if a.Kind == KindMin || b.Kind == KindMax {
			return -1
		}
		if a.Kind == KindMax || b.Kind == KindMin {
			return 1
		}
		panic(fmt.Sprintf("BUG: comparing partition values of kinds %d and %d", a.Kind, b.Kind))
	}
	switch a.Kind {
	case KindInt:
		return cmp.Compare(a.I, b.I)
	case KindInt128:
		return a.D.Cmp(b.D)
	case KindBytes:
		return bytes.Compare(a.B, b.B)
	}
	return 0
}

// CompareTuple compares two keys column by column.
func CompareTuple(a, b []Value) int {
	for i := range a {
		if c := Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// ParseValue parses a literal of a partition column's type.
func ParseValue(t types.Type, lit string) (Value, error) {
	switch t.Kind {
	case types.KindBoolean:
		switch strings.ToLower(lit) {
		case "true", "1":
			return Value{Kind: KindInt, I: 1}, nil
		case "false", "0":
			return Value{Kind: KindInt, I: 0}, nil
		}
	case types.KindTinyInt, types.KindSmallInt, types.KindInt, types.KindBigInt:
		bits := map[types.Kind]int{types.KindTinyInt: 8, types.KindSmallInt: 16, types.KindInt: 32, types.KindBigInt: 64}[t.Kind]
		v, err := strconv.ParseInt(strings.TrimSpace(lit), 10, bits)
		if err == nil {
			return Value{Kind: KindInt, I: v}, nil
		}
	case types.KindLargeInt, types.KindDecimal:
		n, ok := parseDecimal(strings.TrimSpace(lit), t.Scale)
		if ok {
			return Value{Kind: KindInt128, D: n}, nil
		}
	case types.KindDate:
		d, err := types.ParseDate(lit)
		if err == nil {
			return Value{Kind: KindInt, I: int64(d)}, nil
		}
	case types.KindDateTime:
		us, err := types.ParseDateTime(lit)
		if err == nil {
			return Value{Kind: KindInt, I: us}, nil
		}
	case types.KindChar, types.KindVarchar:
		return Value{Kind: KindBytes, B: []byte(lit)}, nil
	}
	return Value{}, fmt.Errorf("invalid partition value '%s' for type %s", lit, t)
}

// parseDecimal parses a decimal literal into an unscaled int128 at scale.
func parseDecimal(s string, scale int) (decimal128.Num, bool) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return decimal128.Num{}, false
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() {
		return decimal128.Num{}, false
	}
	n := decimal128.FromBigInt(r.Num())
	return n, n.BigInt().Cmp(r.Num()) == 0
}

// Bound parses a catalog bound into a full-width key for the partition
// columns: absent trailing values become KindMin, MAXVALUE becomes KindMax in
// every position.
func Bound(cols []types.Type, b catalog.PartitionBound) ([]Value, error) {
	key := make([]Value, len(cols))
	if b.MaxValue {
		for i := range key {
			key[i] = Value{Kind: KindMax}
		}
		return key, nil
	}
	if len(b.Values) > len(cols) {
		return nil, fmt.Errorf("partition bound has %d values but there are %d partition columns", len(b.Values), len(cols))
	}
	for i, lit := range b.Values {
		v, err := ParseValue(cols[i], lit)
		if err != nil {
			return nil, err
		}
		key[i] = v
	}
	return key, nil
}

// Range is a partition's [Lower, Upper) as parsed keys.
type Range struct {
	Lower, Upper []Value
}

// Ranges parses the bounds of every partition of a range-partitioned table,
// in catalog order.
func Ranges(t *catalog.Table) (colTypes []types.Type, colIdx []int, ranges []Range, err error) {
	for _, name := range t.PartitionColumns {
		i, c := t.Schema.ColumnByName(name)
		if c == nil {
			return nil, nil, nil, fmt.Errorf("partition column %s not found in table %s", name, t.Name)
		}
		colTypes = append(colTypes, c.Type)
		colIdx = append(colIdx, i)
	}
	for _, p := range t.Partitions {
		lo, err := Bound(colTypes, p.Lower)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("partition %s: %w", p.Name, err)
		}
		hi, err := Bound(colTypes, p.Upper)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("partition %s: %w", p.Name, err)
		}
		ranges = append(ranges, Range{Lower: lo, Upper: hi})
	}
	return colTypes, colIdx, ranges, nil
}

// CheckRanges verifies that every range is non-empty and that no two overlap,
// as CREATE TABLE and ADD PARTITION require.
func CheckRanges(names []string, ranges []Range) error {
	for i, r := range ranges {
		if CompareTuple(r.Lower, r.Upper) >= 0 {
			return fmt.Errorf("partition %s has an empty range: lower bound is not below upper bound", names[i])
		}
		for j := 0; j < i; j++ {
			o := ranges[j]
			if CompareTuple(r.Lower, o.Upper) < 0 && CompareTuple(o.Lower, r.Upper) < 0 {
				return fmt.Errorf("range of partition %s intersects range of partition %s", names[i], names[j])
			}
		}
	}
	return nil
}
