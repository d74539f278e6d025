package peers

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Result is a query's answer as text, one string per value, in the order
// the system returned the rows.
type Result struct {
	Rows [][]string
}

// floatTolerance is the relative difference allowed between two
// non-integer values (BENCHMARKS.md §4: integers compare exactly; every
// SSB answer is an integer, so this only matters for a system that returns
// a float for an integer sum).
const floatTolerance = 1e-9

// formatValue renders a value scanned through database/sql as text.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	case string:
		return x
	case *big.Int:
		return x.String()
	case big.Int:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// sameValue reports whether two values agree: integers exactly, other
// numbers within floatTolerance, anything else as equal strings.
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	ai, aok := new(big.Int).SetString(a, 10)
	bi, bok := new(big.Int).SetString(b, 10)
	if aok && bok {
		return ai.Cmp(bi) == 0
	}
	af, aerr := strconv.ParseFloat(a, 64)
	bf, berr := strconv.ParseFloat(b, 64)
	if aerr != nil || berr != nil {
		return false
	}
	if aok || bok { // an integer against a non-integer: the float must be integral
		if af != math.Trunc(af) || bf != math.Trunc(bf) {
			return false
		}
	}
	d := math.Abs(af - bf)
	return d <= floatTolerance*math.Max(math.Abs(af), math.Abs(bf))
}

// sortedRows returns a copy of rows sorted by their text, so results can
// be compared as multisets: the SSB ORDER BY clauses may leave ties, and
// systems break them differently.
func sortedRows(rows [][]string) [][]string {
	out := slices.Clone(rows)
	slices.SortFunc(out, func(a, b []string) int {
		return strings.Compare(strings.Join(a, "\x00"), strings.Join(b, "\x00"))
	})
	return out
}

// Diff compares got with want as multisets of rows and describes the first
// difference, or returns "" when they agree. Rows are matched after
// sorting, so values that differ only in format (7 vs 7.0) must sort the
// same way; the SSB results hold integers and plain strings, which do.
func Diff(got, want *Result) string {
	if len(got.Rows) != len(want.Rows) {
		return fmt.Sprintf("%d rows, want %d", len(got.Rows), len(want.Rows))
	}
	g, w := sortedRows(got.Rows), sortedRows(want.Rows)
	for i := range g {
		if len(g[i]) != len(w[i]) {
			return fmt.Sprintf("row %d has %d values, want %d", i, len(g[i]), len(w[i]))
		}
		for j := range g[i] {
			if !sameValue(g[i][j], w[i][j]) {
				return fmt.Sprintf("row (%s), want (%s)", strings.Join(g[i], ","), strings.Join(w[i], ","))
			}
		}
	}
	return ""
}

// verdict is the outcome of checking one query on every system.
type verdict struct {
	// wrong maps a system to why its answer is wrong.
	wrong map[string]string
	// note describes a check that could not single out a system.
	note string
}

// judge decides which systems answered a query correctly. want, if not nil,
// is the exact answer and decides alone. Otherwise the answer most systems
// share is taken as right; with no majority (e.g. two systems that
// disagree) every system is marked wrong, since the run cannot tell which.
// results holds the answers of the systems that did not fail.
func judge(results map[string]*Result, order []string, want *Result) verdict {
	v := verdict{wrong: map[string]string{}}
	if want != nil {
		for _, s := range order {
			if r, ok := results[s]; ok {
				if d := Diff(r, want); d != "" {
					v.wrong[s] = "differs from the generator's answer: " + d
				}
			}
		}
		return v
	}
	var present []string
	for _, s := range order {
		if _, ok := results[s]; ok {
			present = append(present, s)
		}
	}
	best, bestAgree := "", 0
	for _, s := range present {
		agree := 0
		for _, t := range present {
			if Diff(results[t], results[s]) == "" {
				agree++
			}
		}
		if agree > bestAgree {
			best, bestAgree = s, agree
		}
	}
	if len(present) < 2 {
		if len(present) == 1 {
			v.note = "only " + present[0] + " answered; nothing to compare with"
		}
		return v
	}
	if 2*bestAgree <= len(present) && bestAgree < len(present) {
		for _, s := range present {
			v.wrong[s] = "no majority answer among " + strings.Join(present, ", ")
		}
		return v
	}
	for _, s := range present {
		if d := Diff(results[s], results[best]); d != "" {
			v.wrong[s] = "differs from " + best + ": " + d
		}
	}
	return v
}
