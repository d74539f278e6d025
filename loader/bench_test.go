package loader

// Run with:
//
//	go test ./loader -run '^$' -bench . -benchmem -count 6 | tee new.txt && benchstat new.txt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// ssbFlat is the column list of SSB's denormalised lineorder_flat: 38
// columns, integers and short strings.
func ssbFlat() []catalog.Column {
	spec := []struct {
		name string
		t    types.Type
	}{
		{"lo_orderdate", types.Date}, {"lo_orderkey", types.Int}, {"lo_linenumber", types.TinyInt},
		{"lo_custkey", types.Int}, {"lo_partkey", types.Int}, {"lo_suppkey", types.Int},
		{"lo_orderpriority", types.Varchar(16)}, {"lo_shippriority", types.TinyInt}, {"lo_quantity", types.TinyInt},
		{"lo_extendedprice", types.Int}, {"lo_ordtotalprice", types.Int}, {"lo_discount", types.TinyInt},
		{"lo_revenue", types.Int}, {"lo_supplycost", types.Int}, {"lo_tax", types.TinyInt},
		{"lo_commitdate", types.Date}, {"lo_shipmode", types.Varchar(11)}, {"c_name", types.Varchar(26)},
		{"c_address", types.Varchar(41)}, {"c_city", types.Varchar(11)}, {"c_nation", types.Varchar(16)},
		{"c_region", types.Varchar(13)}, {"c_phone", types.Varchar(16)}, {"c_mktsegment", types.Varchar(11)},
		{"s_name", types.Varchar(26)}, {"s_address", types.Varchar(26)}, {"s_city", types.Varchar(11)},
		{"s_nation", types.Varchar(16)}, {"s_region", types.Varchar(13)}, {"s_phone", types.Varchar(16)},
		{"p_name", types.Varchar(23)}, {"p_mfgr", types.Varchar(7)}, {"p_category", types.Varchar(8)},
		{"p_brand", types.Varchar(10)}, {"p_color", types.Varchar(12)}, {"p_type", types.Varchar(26)},
		{"p_size", types.TinyInt}, {"p_container", types.Varchar(11)},
	}
	cols := make([]catalog.Column, len(spec))
	for i, s := range spec {
		cols[i] = catalog.Column{Name: s.name, Type: s.t, Nullable: i > 0, IsKey: i == 0}
	}
	return cols
}

func ssbFlatCSV(rows int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
		return b.String()
	}
	num := func(n int) string { return strconv.Itoa(rng.IntN(n)) }
	var buf bytes.Buffer
	f := make([]string, 0, 38)
	for r := 0; r < rows; r++ {
		d := fmt.Sprintf("199%d-%02d-%02d", rng.IntN(8), 1+rng.IntN(12), 1+rng.IntN(28))
		f = append(f[:0], d, num(60000000), num(7), num(3000000), num(2000000), num(200000),
			num(5)+"-"+word(8), "0", num(50), num(10000000), num(50000000), num(11),
			num(10000000), num(100000), num(9), d, word(7),
			"Customer#"+num(3000000), word(20), word(9), word(10), word(8), num(30)+"-"+num(999)+"-"+num(9999), word(9),
			"Supplier#"+num(200000), word(18), word(9), word(10), word(8), num(30)+"-"+num(9999),
			word(8)+" "+word(6), "MFGR#"+num(5), "MFGR#"+num(55), "MFGR#"+num(5555), word(8), word(10)+" "+word(5),
			num(50), word(5)+" "+word(4))
		buf.WriteString(strings.Join(f, "|"))
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// BenchmarkCSVParseConvert measures CSV parsing plus conversion into Arrow
// arrays for an SSB-flat-like row (38 columns).
func BenchmarkCSVParseConvert(b *testing.B) {
	for _, batch := range []int{4096, 65536} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchCSV(b, batch) })
	}
}

func benchCSV(b *testing.B, batch int) {
	cols := ssbFlat()
	body := ssbFlatCSV(20000)
	h := http.Header{}
	h.Set("column_separator", "|")
	opts, err := ParseLoadOptions(h)
	if err != nil {
		b.Fatal(err)
	}
	mapping, _, err := PlanColumns(cols, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ReportMetric(float64(len(body))/20000, "B/row")
	for b.Loop() {
		src := NewCSVSource(bytes.NewReader(body), opts, mapping, cols, func(raw []byte, err error) {
			b.Fatalf("row error %v: %s", err, raw)
		})
		bb, err := NewBatchBuilder(cols, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			ferr := src.Fill(bb, batch, 64<<20)
			releaseAll(bb.Build())
			if errors.Is(ferr, io.EOF) {
				break
			}
			if ferr != nil {
				b.Fatal(ferr)
			}
		}
	}
}

// BenchmarkJSONLinesParseConvert measures JSON lines with every value sent
// as a string, as the Flink connector writes them.
func BenchmarkJSONLinesParseConvert(b *testing.B) {
	cols := ssbFlat()
	csv := ssbFlatCSV(5000)
	var body bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimSuffix(csv, []byte("\n")), []byte("\n")) {
		body.WriteByte('{')
		for i, f := range bytes.Split(line, []byte("|")) {
			if i > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, "%q:%q", cols[i].Name, f)
		}
		body.WriteString("}\n")
	}
	h := http.Header{}
	h.Set("format", "json")
	opts, err := ParseLoadOptions(h)
	if err != nil {
		b.Fatal(err)
	}
	_, idx, err := PlanColumns(cols, opts)
	if err != nil {
		b.Fatal(err)
	}
	data := body.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		src := NewJSONSource(bytes.NewReader(data), opts, idx, func(raw []byte, err error) {
			b.Fatalf("row error %v: %s", err, raw)
		})
		bb, err := NewBatchBuilder(cols, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			ferr := src.Fill(bb, 65536, 64<<20)
			releaseAll(bb.Build())
			if errors.Is(ferr, io.EOF) {
				break
			}
			if ferr != nil {
				b.Fatal(ferr)
			}
		}
	}
}
