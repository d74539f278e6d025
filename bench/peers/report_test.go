package peers

import (
	"encoding/xml"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGeoMean(t *testing.T) {
	require.Zero(t, GeoMean(nil))
	require.InDelta(t, 10, GeoMean([]time.Duration{time.Millisecond, 100 * time.Millisecond}), 1e-9)
	require.InDelta(t, 4, GeoMean([]time.Duration{2 * time.Millisecond, 8 * time.Millisecond}), 1e-9)
	require.InDelta(t, math.Cbrt(6), GeoMean([]time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}), 1e-9)
}

func sampleReport() *Report {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	return &Report{
		SF:      1,
		Systems: []string{"strata", "duckdb", "clickhouse"},
		Results: []Measurement{
			{Query: "Q1.1", Schema: "flat", Rows: 1,
				Hot: map[string]time.Duration{"strata": ms(10), "duckdb": ms(20), "clickhouse": ms(5)}},
			{Query: "Q2.1", Schema: "flat", Rows: 280,
				Hot: map[string]time.Duration{"strata": ms(40), "duckdb": ms(20), "clickhouse": ms(80)}},
			{Query: "Q3.1", Schema: "flat", Rows: 150,
				Hot:    map[string]time.Duration{"duckdb": ms(30), "clickhouse": ms(60)},
				Failed: map[string]string{"strata": "error: unsupported | thing"}},
			{Query: "Q1.1", Schema: "star", Rows: 1,
				Hot:    map[string]time.Duration{"strata": ms(100), "clickhouse": ms(50)},
				Failed: map[string]string{"duckdb": "wrong answer: differs from strata: 1 rows, want 2"}},
		},
		Load: map[string]time.Duration{"strata": 12 * time.Second, "duckdb": 8 * time.Second, "clickhouse": 10 * time.Second},
		Size: map[string]int64{"strata": 700e6, "duckdb": 600e6, "clickhouse": 650e6},
	}
}

func TestWriteMarkdown(t *testing.T) {
	var b strings.Builder
	sampleReport().WriteMarkdown(&b)
	out := b.String()
	for _, want := range []string{
		"SSB-flat SF 1, hot",
		"| query | strata | duckdb | duckdb/strata | clickhouse | clickhouse/strata |",
		"| Q1.1 | 10.0 | 20.0 | 2.00× | 5.0 | 0.50× |",
		"| Q2.1 | 40.0 | 20.0 | 0.50× | 80.0 | 2.00× |",
		"| Q3.1 | error [1] | 30.0 | – | 60.0 | – |",
		// Geometric means over Q1.1 and Q2.1 only, where all three answered.
		"| **geomean** (2 common) | **20.0** | **20.0** | **1.00×** | **20.0** | **1.00×** |",
		"| Q1.1 | 100 | wrong [2] | – | 50.0 | 0.50× |",
		"| **geomean** (0 common) | – | – | – | – | – |",
		"| strata | 12.0 | 700 |",
		"[1] flat Q3.1 on strata: error: unsupported \\| thing",
		"[2] star Q1.1 on duckdb: wrong answer",
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, "cold")
}

func TestWriteMarkdownCold(t *testing.T) {
	r := sampleReport()
	r.Results[0].Cold = map[string]time.Duration{"strata": 300 * time.Millisecond, "duckdb": 150 * time.Millisecond,
		"clickhouse": 600 * time.Millisecond}
	var b strings.Builder
	r.WriteMarkdown(&b)
	require.Contains(t, b.String(), "cold: restart + drop caches")
	require.Contains(t, b.String(), "| Q1.1 | 300 | 150 | 0.50× | 600 | 2.00× |")
}

func TestWriteSVG(t *testing.T) {
	var b strings.Builder
	require.NoError(t, sampleReport().WriteSVG(&b, "flat"))
	svg := b.String()
	// Well-formed XML.
	d := xml.NewDecoder(strings.NewReader(svg))
	rects, titles := 0, []string{}
	inTitle := false
	for {
		tok, err := d.Token()
		if err != nil {
			require.ErrorContains(t, err, "EOF")
			break
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if e.Name.Local == "rect" {
				rects++
			}
			inTitle = e.Name.Local == "title"
		case xml.CharData:
			if inTitle {
				titles = append(titles, string(e))
			}
		case xml.EndElement:
			inTitle = false
		}
	}
	// Background, 8 bars (Strata has no Q3.1 bar), 3 legend boxes.
	require.Equal(t, 1+8+3, rects)
	require.Contains(t, titles, "strata Q1.1: 10.0 ms")
	require.Contains(t, titles, "clickhouse Q2.1: 80.0 ms")
	require.Contains(t, svg, ">×</text>")
	require.Contains(t, svg, "SSB-flat SF 1")
	// Bars of 5 ms and 80 ms: the axis runs from 1 to 100 ms.
	require.Contains(t, svg, ">1</text>")
	require.Contains(t, svg, ">100</text>")
}
