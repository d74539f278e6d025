package exec

import (
	"testing"

	"github.com/strata-db/strata/types"
)

// FuzzCastString feeds arbitrary text to the string conversions CAST and
// STR_TO_DATE use: no input may panic, and a parsed date must format back
// to a value that parses to the same instant.
func FuzzCastString(f *testing.F) {
	for _, s := range []string{"2024-01-05", "2024-01-05 10:20:30.123456789", "20240105", "1e3", "-12.345",
		"99999999999999999999999999999999999999999", "2024-02-30", " 7 ", "0x1F", "1.5e-400", "", "-", ".", "2024/1/2T3:4",
		"12:", "9999-12-31 23:59:59.9999999"} {
		f.Add(s, "%Y-%m-%d %H:%i:%s")
	}
	kinds := []types.Type{types.Boolean, types.TinyInt, types.BigInt, types.Double, types.Decimal(38, 10),
		types.Decimal(5, 2), types.LargeInt, types.Date, types.DateTime(6), types.String}
	f.Fuzz(func(t *testing.T, s, format string) {
		for _, k := range kinds {
			castString(s, k)
		}
		if us, ok := parseDateTime(s); ok {
			back, ok2 := parseDateTime(formatDateTime(us, 6))
			if !ok2 || back != us {
				t.Fatalf("%q parsed to %d, formatted %q, reparsed %d %v", s, us, formatDateTime(us, 6), back, ok2)
			}
		}
		if len(format) < 64 {
			strToDate(s, format)
			if us, ok := parseDateTime(s); ok {
				_ = dateFormat(us, format)
			}
		}
		if m, err := compileLike(s, '\\'); err == nil {
			m.match(format)
		}
	})
}
