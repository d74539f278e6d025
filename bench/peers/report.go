package peers

import (
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Measurement is what one run learned about one query on every system.
type Measurement struct {
	Query  string // "Q1.1"
	Schema string // "flat" or "star"
	// Hot and Cold hold times only for systems whose answer was right.
	Hot, Cold map[string]time.Duration
	// Failed maps a system to its error or to why its answer was wrong.
	Failed map[string]string
	Rows   int // result rows of the accepted answer
}

// Report is a whole run.
type Report struct {
	SF      float64
	Systems []string // Strata first: the ratios are to it
	Results []Measurement
	Load    map[string]time.Duration // per system, every table
	Size    map[string]int64         // per system, bytes on disk after loading
	Notes   []string
}

// schemas returns the schemas present, in first-seen order.
func (r *Report) schemas() []string {
	var out []string
	for _, m := range r.Results {
		if !containsString(out, m.Schema) {
			out = append(out, m.Schema)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// GeoMean returns the geometric mean of ds in milliseconds, 0 for none.
func GeoMean(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	var s float64
	for _, d := range ds {
		s += math.Log(max(msOf(d), 1e-3))
	}
	return math.Exp(s / float64(len(ds)))
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// common returns, per system, the times of the queries of schema that every
// system answered correctly, so geometric means compare like with like.
func (r *Report) common(schema string, cold bool) (map[string][]time.Duration, int) {
	out := map[string][]time.Duration{}
	n := 0
	for _, m := range r.Results {
		if m.Schema != schema {
			continue
		}
		t := m.Hot
		if cold {
			t = m.Cold
		}
		all := true
		for _, s := range r.Systems {
			if _, ok := t[s]; !ok {
				all = false
			}
		}
		if !all {
			continue
		}
		n++
		for _, s := range r.Systems {
			out[s] = append(out[s], t[s])
		}
	}
	return out, n
}

// hasCold reports whether any cold time was measured.
func (r *Report) hasCold() bool {
	for _, m := range r.Results {
		if len(m.Cold) > 0 {
			return true
		}
	}
	return false
}

func fmtMS(d time.Duration) string {
	v := msOf(d)
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func fmtRatio(x float64) string {
	if x >= 10 {
		return strconv.FormatFloat(x, 'f', 0, 64) + "×"
	}
	return strconv.FormatFloat(x, 'f', 2, 64) + "×"
}

// cell is one system's entry for one query: the time, or why there is none.
func (r *Report) cell(m Measurement, t map[string]time.Duration, s string, notes *[]string) string {
	if d, ok := t[s]; ok {
		return fmtMS(d)
	}
	if why, ok := m.Failed[s]; ok {
		*notes = append(*notes, fmt.Sprintf("%s %s on %s: %s", m.Schema, m.Query, s, oneLine(why)))
		if strings.HasPrefix(why, "error") {
			return fmt.Sprintf("error [%d]", len(*notes))
		}
		return fmt.Sprintf("wrong [%d]", len(*notes))
	}
	return "–"
}

// WriteMarkdown writes the report's tables: per schema the hot times (and
// cold, if measured) with ratios to the first system and geometric means
// over the queries every system answered, then load times and sizes, then
// the footnotes on failures.
func (r *Report) WriteMarkdown(w io.Writer) {
	var notes []string
	base := r.Systems[0]
	for _, schema := range r.schemas() {
		kinds := []bool{false}
		if r.hasCold() {
			kinds = append(kinds, true)
		}
		for _, cold := range kinds {
			label := "hot, best of runs"
			if cold {
				label = "cold: restart + drop caches"
			}
			fmt.Fprintf(w, "\nSSB-%s SF %g, %s, ms (ratio = system / %s; above 1 means %s is faster)\n\n", schema, r.SF, label, base, base)
			hdr := "| query |"
			sep := "|---|"
			for i, s := range r.Systems {
				hdr += " " + s + " |"
				sep += "---:|"
				if i > 0 {
					hdr += " " + s + "/" + base + " |"
					sep += "---:|"
				}
			}
			fmt.Fprintln(w, hdr)
			fmt.Fprintln(w, sep)
			var sums = map[string]time.Duration{}
			for _, m := range r.Results {
				if m.Schema != schema {
					continue
				}
				t := m.Hot
				if cold {
					t = m.Cold
				}
				line := "| " + m.Query + " |"
				for i, s := range r.Systems {
					line += " " + r.cell(m, t, s, &notes) + " |"
					sums[s] += t[s]
					if i > 0 {
						bt, ok1 := t[base]
						st, ok2 := t[s]
						if ok1 && ok2 && bt > 0 {
							line += " " + fmtRatio(msOf(st)/msOf(bt)) + " |"
						} else {
							line += " – |"
						}
					}
				}
				fmt.Fprintln(w, line)
			}
			com, n := r.common(schema, cold)
			line := fmt.Sprintf("| **geomean** (%d common) |", n)
			for i, s := range r.Systems {
				if n == 0 {
					line += " – |"
					if i > 0 {
						line += " – |"
					}
					continue
				}
				g := GeoMean(com[s])
				line += " **" + strconv.FormatFloat(g, 'f', 1, 64) + "** |"
				if i > 0 {
					line += " **" + fmtRatio(g/GeoMean(com[base])) + "** |"
				}
			}
			fmt.Fprintln(w, line)
			line = "| total of answered |"
			for i, s := range r.Systems {
				line += " " + fmtMS(sums[s]) + " |"
				if i > 0 {
					line += " |"
				}
			}
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintf(w, "\nLoad and size, SF %g (every loaded table)\n\n| system | load s | on disk MB |\n|---|---:|---:|\n", r.SF)
	for _, s := range r.Systems {
		load, size := "–", "–"
		if d, ok := r.Load[s]; ok {
			load = strconv.FormatFloat(d.Seconds(), 'f', 1, 64)
		}
		if b, ok := r.Size[s]; ok {
			size = strconv.FormatFloat(float64(b)/1e6, 'f', 0, 64)
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", s, load, size)
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for i, n := range notes {
			fmt.Fprintf(w, "[%d] %s\n", i+1, n)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\nNote: %s\n", n)
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.ReplaceAll(s, "|", `\|`)
}

// barColors are the systems' bar colours, in Systems order.
var barColors = []string{"#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"}

// WriteSVG writes a grouped bar chart of the hot times of one schema: a
// group per query, a bar per system, on a logarithmic millisecond axis; a
// missing bar is marked with an ×.
func (r *Report) WriteSVG(w io.Writer, schema string) error {
	var ms []Measurement
	for _, m := range r.Results {
		if m.Schema == schema {
			ms = append(ms, m)
		}
	}
	const (
		left, right, top, bottom = 60, 20, 50, 60
		plotH                    = 300
		barW, gap                = 14, 16
	)
	groupW := len(r.Systems)*barW + gap
	width := left + right + len(ms)*groupW
	height := top + plotH + bottom
	// The axis spans whole decades around the data.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, m := range ms {
		for _, d := range m.Hot {
			v := max(msOf(d), 0.1)
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 10
	}
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dhi <= dlo {
		dhi = dlo + 1
	}
	y := func(v float64) float64 {
		f := (math.Log10(max(v, 0.1)) - dlo) / (dhi - dlo)
		return top + plotH*(1-f)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">SSB-%s SF %g, hot ms (log scale, lower is better)</text>`+"\n", left, html.EscapeString(schema), r.SF)
	for dec := dlo; dec <= dhi; dec++ {
		v := math.Pow(10, dec)
		yy := y(v)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, width-right, yy, yy)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-4, yy+4, strconv.FormatFloat(v, 'g', -1, 64))
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>`+"\n", left, width-right, top+plotH, top+plotH)
	for i, m := range ms {
		x0 := left + i*groupW + gap/2
		for j, s := range r.Systems {
			x := x0 + j*barW
			color := barColors[j%len(barColors)]
			d, ok := m.Hot[s]
			if !ok {
				fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="%s">×</text>`+"\n", x+barW/2, top+plotH-4, color)
				continue
			}
			yy := y(msOf(d))
			fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s: %s ms</title></rect>`+"\n",
				x, yy, barW-2, float64(top+plotH)-yy, color, html.EscapeString(s), m.Query, fmtMS(d))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", x0+len(r.Systems)*barW/2, top+plotH+16, m.Query)
	}
	for j, s := range r.Systems {
		x := left + j*110
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			x, height-24, barColors[j%len(barColors)], x+16, height-14, html.EscapeString(s))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
