package differential

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// cell is one normalised result value.
type cell struct {
	null bool
	// num is set for numbers and booleans (0 or 1): exact, or from a
	// DOUBLE (approx).
	num    *big.Rat
	f      float64
	approx bool
	// scale is the number of fraction digits an exact decimal was
	// written with; a DOUBLE compared with it may be off by half a unit
	// in its last place (MySQL and Doris average and divide DECIMALs into
	// a DECIMAL of fixed scale, DuckDB into a DOUBLE).
	scale int
	// s is the text of strings, dates ("2006-01-02") and datetimes
	// ("2006-01-02 15:04:05[.ffffff]").
	s string
}

func (c cell) String() string {
	switch {
	case c.null:
		return "NULL"
	case c.num != nil && c.approx:
		return strconv.FormatFloat(c.f, 'g', -1, 64)
	case c.num != nil:
		return c.num.FloatString(c.scale)
	default:
		return strconv.Quote(c.s)
	}
}

type row []cell

func (r row) String() string {
	s := make([]string, len(r))
	for i, c := range r {
		s[i] = c.String()
	}
	return "(" + strings.Join(s, ", ") + ")"
}

func numCell(text string, approx bool) (cell, error) {
	if !approx && !strings.ContainsAny(text, "eEnN") {
		r, ok := new(big.Rat).SetString(text)
		if ok {
			scale := 0
			if i := strings.IndexByte(text, '.'); i >= 0 {
				scale = len(text) - i - 1
			}
			f, _ := r.Float64()
			return cell{num: r, f: f, scale: scale}, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return cell{}, fmt.Errorf("not a number: %q", text)
	}
	r := new(big.Rat)
	if !math.IsInf(f, 0) && !math.IsNaN(f) {
		r.SetFloat64(f)
	}
	return cell{num: r, f: f, approx: true}, nil
}

// strataCell normalises a value Strata returned as text (valid false for
// NULL); dbType is the column's MySQL type name.
func strataCell(c class, text string, valid bool, dbType string) (cell, error) {
	if !valid {
		return cell{null: true}, nil
	}
	switch c {
	case cNum, cBool:
		return numCell(text, dbType == "DOUBLE" || dbType == "FLOAT")
	case cDatetime:
		return cell{s: trimFraction(text)}, nil
	default:
		return cell{s: text}, nil
	}
}

// trimFraction drops a datetime's zero fraction of a second.
func trimFraction(s string) string {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		f := strings.TrimRight(s[i+1:], "0")
		if f == "" {
			return s[:i]
		}
		return s[:i+1] + f
	}
	return s
}

// duckCell normalises a value DuckDB's driver returned.
func duckCell(c class, v any) (cell, error) {
	switch x := v.(type) {
	case nil:
		return cell{null: true}, nil
	case bool:
		if x {
			return numCell("1", false)
		}
		return numCell("0", false)
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		return numCell(fmt.Sprint(x), false)
	case *big.Int:
		return numCell(x.String(), false)
	case float32:
		return numCell(strconv.FormatFloat(float64(x), 'g', -1, 64), true)
	case float64:
		return numCell(strconv.FormatFloat(x, 'g', -1, 64), true)
	case duckdb.Decimal:
		r := new(big.Rat).SetFrac(x.Value, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale)), nil))
		f, _ := r.Float64()
		return cell{num: r, f: f, scale: int(x.Scale)}, nil
	case string:
		return cell{s: x}, nil
	case []byte:
		return cell{s: string(x)}, nil
	case time.Time:
		if c == cDate {
			return cell{s: x.Format("2006-01-02")}, nil
		}
		return cell{s: trimFraction(x.Format("2006-01-02 15:04:05.000000"))}, nil
	}
	return cell{}, fmt.Errorf("unexpected DuckDB value %T %v", v, v)
}

// compareCells orders cells for sorting a multiset: NULL first, then
// numbers by value, then text.
func compareCells(a, b cell) int {
	switch {
	case a.null || b.null:
		return cmp.Compare(boolInt(!a.null), boolInt(!b.null))
	case a.num != nil && b.num != nil:
		if a.approx || b.approx {
			return cmp.Compare(a.f, b.f)
		}
		return a.num.Cmp(b.num)
	case a.num != nil:
		return -1
	case b.num != nil:
		return 1
	}
	return strings.Compare(a.s, b.s)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func compareRows(a, b row) int {
	for i := range min(len(a), len(b)) {
		if c := compareCells(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// sameCell reports whether two normalised values agree: exact numbers
// exactly, two DOUBLEs within a relative 1e-9 or 1e-3 absolute, a DOUBLE
// against an exact decimal within a relative 1e-9 and half a unit of the
// decimal's last place.
func sameCell(a, b cell) bool {
	if a.null || b.null {
		return a.null == b.null
	}
	if (a.num == nil) != (b.num == nil) {
		return false
	}
	if a.num == nil {
		return a.s == b.s
	}
	if !a.approx && !b.approx {
		return a.num.Cmp(b.num) == 0
	}
	if math.IsInf(a.f, 0) || math.IsNaN(a.f) || math.IsInf(b.f, 0) || math.IsNaN(b.f) {
		return a.f == b.f || math.IsNaN(a.f) && math.IsNaN(b.f)
	}
	tol := 1e-9 * max(1, math.Abs(a.f), math.Abs(b.f))
	if a.approx && b.approx {
		// Sums of DOUBLEs in another order cancel differently: 1e-3
		// absolute covers the values the generator makes (up to 1e10, a
		// few dozen of them), as in tests/oracle.
		tol = max(tol, 1e-3)
	} else {
		exact := a
		if a.approx {
			exact = b
		}
		tol += 0.5 * math.Pow10(-exact.scale)
	}
	return math.Abs(a.f-b.f) <= tol
}

// diffResults compares Strata's rows with DuckDB's, as lists when ordered
// and as multisets otherwise, and describes the first difference ("" if
// none).
func diffResults(strata, duck []row, ordered bool) string {
	if !ordered {
		strata = slices.Clone(strata)
		duck = slices.Clone(duck)
		slices.SortStableFunc(strata, compareRows)
		slices.SortStableFunc(duck, compareRows)
	}
	if len(strata) != len(duck) {
		return fmt.Sprintf("Strata returned %d rows, DuckDB %d", len(strata), len(duck))
	}
	for i := range strata {
		if len(strata[i]) != len(duck[i]) {
			return fmt.Sprintf("row %d: Strata has %d columns, DuckDB %d", i, len(strata[i]), len(duck[i]))
		}
		for j := range strata[i] {
			if !sameCell(strata[i][j], duck[i][j]) {
				return fmt.Sprintf("row %d (sorted), column %d: Strata %s, DuckDB %s", i, j+1, strata[i][j], duck[i][j])
			}
		}
	}
	return ""
}
