package differential

import (
	"math/big"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"
)

// The comparison itself: what counts as the same value and the same result.
func TestNormalise(t *testing.T) {
	s := func(c class, text string, dbType string) cell {
		t.Helper()
		x, err := strataCell(c, text, true, dbType)
		require.NoError(t, err)
		return x
	}
	d := func(c class, v any) cell {
		t.Helper()
		x, err := duckCell(c, v)
		require.NoError(t, err)
		return x
	}
	dec := func(unscaled int64, scale uint8) duckdb.Decimal {
		return duckdb.Decimal{Width: 18, Scale: scale, Value: big.NewInt(unscaled)}
	}
	for _, c := range []struct {
		name string
		a, b cell
		same bool
	}{
		{"decimal scale", s(cNum, "1.50", "DECIMAL"), d(cNum, dec(15, 1)), true},
		{"decimal differs", s(cNum, "1.51", "DECIMAL"), d(cNum, dec(15, 1)), false},
		{"int vs hugeint", s(cNum, "9223372036854775807", "BIGINT"), d(cNum, new(big.Int).SetInt64(9223372036854775807)), true},
		{"bigint exact", s(cNum, "9223372036854775807", "BIGINT"), d(cNum, int64(9223372036854775806)), false},
		{"double text", s(cNum, "1e+10", "DOUBLE"), d(cNum, 1e10), true},
		{"double rounding", s(cNum, "0.30000000000000004", "DOUBLE"), d(cNum, 0.3), true},
		{"double differs", s(cNum, "0.3", "DOUBLE"), d(cNum, 0.31), false},
		{"avg as decimal", s(cNum, "1.6667", "DECIMAL"), d(cNum, 5.0/3), true},
		{"avg as decimal, wrong", s(cNum, "1.6668", "DECIMAL"), d(cNum, 5.0/3), false},
		{"boolean", s(cBool, "1", "TINYINT"), d(cBool, true), true},
		{"boolean differs", s(cBool, "0", "TINYINT"), d(cBool, true), false},
		{"date", s(cDate, "2024-02-29", "DATE"), d(cDate, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)), true},
		{"datetime", s(cDatetime, "2024-02-29 01:02:03", "DATETIME"), d(cDatetime, time.Date(2024, 2, 29, 1, 2, 3, 0, time.UTC)), true},
		{"datetime fraction", s(cDatetime, "2024-02-29 01:02:03.000000", "DATETIME"), d(cDatetime, time.Date(2024, 2, 29, 1, 2, 3, 0, time.UTC)), true},
		{"datetime differs", s(cDatetime, "2024-02-29 01:02:04", "DATETIME"), d(cDatetime, time.Date(2024, 2, 29, 1, 2, 3, 0, time.UTC)), false},
		{"string case", s(cStr, "a", "VARCHAR"), d(cStr, "A"), false},
		{"NULL", cell{null: true}, d(cStr, nil), true},
		{"NULL against empty", cell{null: true}, d(cStr, ""), false},
		{"NULL against zero", cell{null: true}, d(cNum, int32(0)), false},
	} {
		require.Equal(t, c.same, sameCell(c.a, c.b), c.name)
	}

	one, two := row{s(cNum, "1", "INT")}, row{s(cNum, "2", "INT")}
	null := row{{null: true}}
	require.Empty(t, diffResults([]row{one, two, null}, []row{null, two, one}, false), "a multiset in another order")
	require.NotEmpty(t, diffResults([]row{one, two}, []row{two, one}, true), "a list in another order")
	require.NotEmpty(t, diffResults([]row{one, one}, []row{one}, false), "a repeated row")
	require.NotEmpty(t, diffResults([]row{one, one, two}, []row{one, two, two}, false), "repetitions differ")
}

func TestAliasColumns(t *testing.T) {
	require.Equal(t, "SELECT a.c0 AS x0, CONCAT(a.c1, ', ') AS x1 FROM t a WHERE (a.c0 > 1)",
		aliasColumns("SELECT a.c0, CONCAT(a.c1, ', ') FROM t a WHERE (a.c0 > 1)"))
	require.Equal(t, "SELECT DISTINCT (a.c0 LIKE 'x' ESCAPE '\\') AS x0 FROM t a",
		aliasColumns("SELECT DISTINCT (a.c0 LIKE 'x' ESCAPE '\\') FROM t a"))
}

// The generator replays: one seed, one sequence of statements.
func TestGeneratorIsDeterministic(t *testing.T) {
	run := func() []string {
		g := newGen(42)
		var out []string
		for i := 0; i < 3; i++ {
			g.database()
			out = append(out, g.setup.my...)
			for j := 0; j < 20; j++ {
				q := g.query()
				out = append(out, q.my, q.dk)
			}
		}
		return out
	}
	require.Equal(t, run(), run())
}
