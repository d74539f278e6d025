package loader

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

func col(name string, t types.Type, nullable bool) catalog.Column {
	return catalog.Column{Name: name, Type: t, Nullable: nullable}
}

func strp(s string) *string { return &s }

// testTable is the conformance table: id BIGINT, name VARCHAR(32), age INT,
// ts BIGINT.
func testTable() []catalog.Column {
	return []catalog.Column{
		{Name: "id", Type: types.BigInt, IsKey: true},
		col("name", types.Varchar(32), true),
		col("age", types.Int, true),
		col("ts", types.BigInt, true),
	}
}

// rowsOf renders arrays as rows of value strings; NULL is "NULL".
func rowsOf(arrs []arrow.Array) [][]string {
	if len(arrs) == 0 {
		return nil
	}
	var out [][]string
	for i := 0; i < arrs[0].Len(); i++ {
		row := make([]string, len(arrs))
		for j, a := range arrs {
			if a.IsNull(i) {
				row[j] = "NULL"
			} else {
				row[j] = valueText(a, i)
			}
		}
		out = append(out, row)
	}
	return out
}

type parseResult struct {
	rows            [][]string
	errs            []string
	total, filtered int64
}

// parseAll runs body through the source for opts into cols, in small
// batches so that batch boundaries are exercised.
func parseAll(t testing.TB, cols []catalog.Column, hdr map[string]string, body io.Reader) (parseResult, error) {
	t.Helper()
	h := http.Header{}
	for k, v := range hdr {
		h.Set(k, v)
	}
	opts, err := ParseLoadOptions(h)
	if err != nil {
		return parseResult{}, err
	}
	var res parseResult
	src, err := newSource(body, opts, cols, func(raw []byte, err error) {
		res.errs = append(res.errs, err.Error()+" | "+string(raw))
	})
	if err != nil {
		return res, err
	}
	bb, err := NewBatchBuilder(cols, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	require.NoError(t, err)
	for {
		ferr := src.Fill(bb, 3, 1<<20)
		arrs := bb.Build()
		for _, a := range arrs {
			require.Equal(t, arrs[0].Len(), a.Len())
		}
		res.rows = append(res.rows, rowsOf(arrs)...)
		releaseAll(arrs)
		if errors.Is(ferr, io.EOF) {
			break
		}
		if ferr != nil {
			res.total, res.filtered = src.Stats()
			return res, ferr
		}
	}
	res.total, res.filtered = src.Stats()
	return res, nil
}

// valueText renders one value the way SQL prints it.
func valueText(a arrow.Array, i int) string {
	switch a := a.(type) {
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Date32:
		return a.Value(i).FormattedString()
	case *array.Timestamp:
		return a.Value(i).ToTime(arrow.Microsecond).Format("2006-01-02 15:04:05.999999")
	case *array.Float32, *array.Float64:
		return strings.TrimSuffix(a.ValueStr(i), ".0")
	}
	return a.ValueStr(i)
}

func slogDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
