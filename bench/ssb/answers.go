package ssb

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
)

// Answer is the exact result of one flat query over a generator's data,
// rows in the query's ORDER BY order (ties in no particular order), every
// value as the text a SQL client prints (integers in decimal).
type Answer struct {
	Rows [][]string
}

// dimAttrs are the dimension attributes the queries filter and group on, as
// small integers indexed by key: nation index, city (nation·10 + digit),
// part (mfgr, category, brand) digits.
type dimAttrs struct {
	custNation, custCity []uint8
	suppNation, suppCity []uint8
	partMfgr, partCat    []uint8 // 1..5
	partBrand            []uint8 // 1..40
}

// cityCode returns nation·10 + digit for a rendered city; nation is the
// row's nation index.
func cityCode(nation int, city []byte) uint8 { return uint8(nation*10 + int(city[9]-'0')) }

func (g *Generator) attrs() *dimAttrs {
	g.dims()
	s := g.sizes
	a := &dimAttrs{
		custNation: make([]uint8, s.Customers+1), custCity: make([]uint8, s.Customers+1),
		suppNation: make([]uint8, s.Suppliers+1), suppCity: make([]uint8, s.Suppliers+1),
		partMfgr: make([]uint8, s.Parts+1), partCat: make([]uint8, s.Parts+1), partBrand: make([]uint8, s.Parts+1),
	}
	nationIdx := map[string]int{}
	for i, n := range nations {
		nationIdx[n] = i
	}
	// Fields: customer NAME ADDRESS CITY NATION ...; supplier the same;
	// part NAME MFGR CATEGORY BRAND ...
	for k := int64(1); k <= s.Customers; k++ {
		f := splitFields(g.cust.row(k), 4)
		n := nationIdx[string(f[3])]
		a.custNation[k], a.custCity[k] = uint8(n), cityCode(n, f[2])
	}
	for k := int64(1); k <= s.Suppliers; k++ {
		f := splitFields(g.supp.row(k), 4)
		n := nationIdx[string(f[3])]
		a.suppNation[k], a.suppCity[k] = uint8(n), cityCode(n, f[2])
	}
	for k := int64(1); k <= s.Parts; k++ {
		f := splitFields(g.part.row(k), 4)
		brand := f[3] // MFGR#mcb
		a.partMfgr[k], a.partCat[k] = brand[5]-'0', brand[6]-'0'
		b, err := strconv.Atoi(string(brand[7:]))
		if err != nil {
			panic(fmt.Sprintf("BUG: brand %q", brand))
		}
		a.partBrand[k] = uint8(b)
	}
	return a
}

// splitFields returns the first n fields of a rendered dimension row.
func splitFields(row []byte, n int) [][]byte {
	out := make([][]byte, 0, n)
	start := 0
	for i := 0; i < len(row) && len(out) < n; i++ {
		if row[i] == fieldSep {
			out = append(out, row[start:i])
			start = i + 1
		}
	}
	if len(out) < n {
		out = append(out, row[start:])
	}
	return out
}

// Group keys pack small attributes into a uint64: year-1992 (3 bits), then
// the query's attributes 8 bits each.
func key3(a, b, c uint64) uint64 { return a | b<<8 | c<<16 }

// partial holds one worker's aggregates: a sum for each Q1 query and a map
// per grouped query.
type partial struct {
	q1     [3]int64
	groups [10]map[uint64]int64 // Q2.1 .. Q4.3
}

func newPartial() *partial {
	p := &partial{}
	for i := range p.groups {
		p.groups[i] = map[uint64]int64{}
	}
	return p
}

// Indexes of the grouped queries in partial.groups.
const (
	g21 = iota
	g22
	g23
	g31
	g32
	g33
	g34
	g41
	g42
	g43
)

var (
	nationUS = uint8(24)
	nationUK = uint8(23)
	regAmer  = uint8(1)
	regAsia  = uint8(2)
	regEur   = uint8(3)
	cityUKI1 = nationUK*10 + 1
	cityUKI5 = nationUK*10 + 5
)

// add folds the rows of b into p.
func (p *partial) add(b *lineBatch, a *dimAttrs) {
	for i := range b.len() {
		date := dayKeys[b.orderDay[i]]
		year := uint64(date/10000 - 1992)
		qty, disc := b.quantity[i], b.discount[i]
		ext, rev := int64(b.extPrice[i]), int64(b.revenue[i])
		profit := rev - int64(b.supplyCost[i])
		ck, sk, pk := b.custKey[i], b.suppKey[i], b.partKey[i]

		switch {
		case date >= 19930101 && date <= 19931231 && disc >= 1 && disc <= 3 && qty < 25:
			p.q1[0] += ext * int64(disc)
		case date >= 19940101 && date <= 19940131 && disc >= 4 && disc <= 6 && qty >= 26 && qty <= 35:
			p.q1[1] += ext * int64(disc)
		}
		if date >= 19940207 && date <= 19940213 && disc >= 5 && disc <= 7 && qty >= 26 && qty <= 35 {
			p.q1[2] += ext * int64(disc)
		}

		sn, cn := a.suppNation[sk], a.custNation[ck]
		sr, cr := nationRegion[sn], nationRegion[cn]
		m, c, br := a.partMfgr[pk], a.partCat[pk], a.partBrand[pk]
		brandKey := uint64(m)<<16 | uint64(c)<<8 | uint64(br)

		if m == 1 && c == 2 && sr == regAmer {
			p.groups[g21][year|brandKey<<8] += rev
		}
		// P_BRAND BETWEEN 'MFGR#2221' AND 'MFGR#2228' is brands 21..28 of MFGR#22.
		if m == 2 && c == 2 && br >= 21 && br <= 28 && sr == regAsia {
			p.groups[g22][year|brandKey<<8] += rev
		}
		if m == 2 && c == 2 && br == 39 && sr == regEur {
			p.groups[g23][year|brandKey<<8] += rev
		}
		if date <= 19971231 {
			if cr == regAsia && sr == regAsia {
				p.groups[g31][key3(year, uint64(cn), uint64(sn))] += rev
			}
			if cn == nationUS && sn == nationUS {
				p.groups[g32][key3(year, uint64(a.custCity[ck]), uint64(a.suppCity[sk]))] += rev
			}
			cc, sc := a.custCity[ck], a.suppCity[sk]
			if (cc == cityUKI1 || cc == cityUKI5) && (sc == cityUKI1 || sc == cityUKI5) {
				p.groups[g33][key3(year, uint64(cc), uint64(sc))] += rev
				if date >= 19971201 {
					p.groups[g34][key3(year, uint64(cc), uint64(sc))] += rev
				}
			}
		}
		if cr == regAmer && sr == regAmer && (m == 1 || m == 2) {
			p.groups[g41][key3(year, uint64(cn), 0)] += profit
			if date >= 19970101 {
				p.groups[g42][key3(year, uint64(sn), uint64(m)<<4|uint64(c))] += profit
			}
		}
		if sn == nationUS && date >= 19970101 && m == 1 && c == 4 {
			p.groups[g43][year|uint64(a.suppCity[sk])<<8|brandKey<<16] += profit
		}
	}
}

func (p *partial) merge(o *partial) {
	for i := range p.q1 {
		p.q1[i] += o.q1[i]
	}
	for i := range p.groups {
		for k, v := range o.groups[i] {
			p.groups[i][k] += v
		}
	}
}

// FlatAnswers computes the exact answer of every flat query (Queries) over
// the generator's data, reading the lineorder chunks on workers goroutines
// (0 means GOMAXPROCS). At SF 1 it takes about a second per core.
func (g *Generator) FlatAnswers(ctx context.Context, workers int) (map[string]Answer, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	a := g.attrs()
	chunks := g.LineorderChunks()
	next := make(chan int64)
	parts := make([]*partial, workers)
	var wg sync.WaitGroup
	for w := range workers {
		parts[w] = newPartial()
		wg.Go(func() {
			var b lineBatch
			for c := range next {
				b.fill(&g.sizes, c)
				parts[w].add(&b, a)
			}
		})
	}
	var err error
feed:
	for c := range chunks {
		select {
		case next <- c:
		case <-ctx.Done():
			err = fmt.Errorf("ssb: computing answers: %w", ctx.Err())
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	total := parts[0]
	for _, p := range parts[1:] {
		total.merge(p)
	}
	return total.answers(), nil
}

func yearText(k uint64) string   { return strconv.Itoa(1992 + int(k&0xff)) }
func sumText(v int64) string     { return strconv.FormatInt(v, 10) }
func nationText(n uint64) string { return nations[n] }

func cityText(code uint64) string {
	return string(appendCity(nil, int(code/10), int64(code%10)))
}

func brandText(k uint64) string {
	m, c, b := k>>16&0xff, k>>8&0xff, k&0xff
	return "MFGR#" + strconv.Itoa(int(m)) + strconv.Itoa(int(c)) + strconv.Itoa(int(b))
}

// answers renders the aggregates as result rows in ORDER BY order.
func (p *partial) answers() map[string]Answer {
	out := map[string]Answer{}
	for i, id := range []string{"Q1.1", "Q1.2", "Q1.3"} {
		out[id] = Answer{Rows: [][]string{{sumText(p.q1[i])}}}
	}
	type row struct {
		cols []string
		sort []string // ORDER BY values, compared in order
		desc int64    // revenue, for ORDER BY year, revenue DESC
	}
	render := func(id string, m map[uint64]int64, f func(k uint64, v int64) row, byRevenue bool) {
		rows := make([]row, 0, len(m))
		for k, v := range m {
			rows = append(rows, f(k, v))
		}
		slices.SortFunc(rows, func(a, b row) int {
			for i := range a.sort {
				if c := cmp.Compare(a.sort[i], b.sort[i]); c != 0 {
					return c
				}
			}
			if byRevenue {
				return cmp.Compare(b.desc, a.desc)
			}
			return 0
		})
		ans := Answer{Rows: make([][]string, len(rows))}
		for i, r := range rows {
			ans.Rows[i] = r.cols
		}
		out[id] = ans
	}
	q2 := func(k uint64, v int64) row {
		y, b := yearText(k), brandText(k>>8)
		return row{cols: []string{sumText(v), y, b}, sort: []string{y, b}}
	}
	render("Q2.1", p.groups[g21], q2, false)
	render("Q2.2", p.groups[g22], q2, false)
	render("Q2.3", p.groups[g23], q2, false)
	render("Q3.1", p.groups[g31], func(k uint64, v int64) row {
		y := yearText(k)
		return row{cols: []string{nationText(k >> 8 & 0xff), nationText(k >> 16 & 0xff), y, sumText(v)}, sort: []string{y}, desc: v}
	}, true)
	q3city := func(k uint64, v int64) row {
		y := yearText(k)
		return row{cols: []string{cityText(k >> 8 & 0xff), cityText(k >> 16 & 0xff), y, sumText(v)}, sort: []string{y}, desc: v}
	}
	render("Q3.2", p.groups[g32], q3city, true)
	render("Q3.3", p.groups[g33], q3city, true)
	render("Q3.4", p.groups[g34], q3city, true)
	render("Q4.1", p.groups[g41], func(k uint64, v int64) row {
		y, n := yearText(k), nationText(k>>8&0xff)
		return row{cols: []string{y, n, sumText(v)}, sort: []string{y, n}}
	}, false)
	render("Q4.2", p.groups[g42], func(k uint64, v int64) row {
		y, n := yearText(k), nationText(k>>8&0xff)
		mc := k >> 16 & 0xff
		cat := "MFGR#" + strconv.Itoa(int(mc>>4)) + strconv.Itoa(int(mc&0xf))
		return row{cols: []string{y, n, cat, sumText(v)}, sort: []string{y, n, cat}}
	}, false)
	render("Q4.3", p.groups[g43], func(k uint64, v int64) row {
		y, c, b := yearText(k), cityText(k>>8&0xff), brandText(k>>16)
		return row{cols: []string{y, c, b, sumText(v)}, sort: []string{y, c, b}}
	}, false)
	return out
}
