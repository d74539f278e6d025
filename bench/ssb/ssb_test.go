package ssb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/golden.txt")

func TestSizesFor(t *testing.T) {
	for _, tc := range []struct {
		sf                                    float64
		cust, supp, parts, orders, partKeyMax int64
	}{
		{0.01, 300, 20, 2_000, 15_000, 2_000},
		{0.1, 3_000, 200, 20_000, 150_000, 20_000},
		{1, 30_000, 2_000, 200_000, 1_500_000, 200_000},
		{10, 300_000, 20_000, 800_000, 15_000_000, 600_000},
		{100, 3_000_000, 200_000, 1_400_000, 150_000_000, 1_000_000},
		{1000, 30_000_000, 2_000_000, 2_000_000, 1_500_000_000, 1_400_000},
	} {
		t.Run(fmt.Sprint(tc.sf), func(t *testing.T) {
			s, err := SizesFor(tc.sf)
			require.NoError(t, err)
			require.Equal(t, Sizes{SF: tc.sf, Customers: tc.cust, Suppliers: tc.supp, Parts: tc.parts,
				Orders: tc.orders, PartKeyMax: tc.partKeyMax, Dates: 2556}, s)
		})
	}
	for _, bad := range []float64{0, -1, math.NaN(), math.Inf(1), 1e-5, MaxSF + 1} {
		_, err := SizesFor(bad)
		require.Error(t, err, "sf %v", bad)
	}
}

func TestKeysAndPrices(t *testing.T) {
	for o, want := range map[int64]int64{1: 1, 7: 7, 8: 32, 9: 33, 15: 39, 16: 64, 1_500_000: 6_000_000} {
		require.Equal(t, want, OrderKey(o), "order %d", o)
	}
	for _, tc := range []struct{ k, max, want int64 }{
		{1, 30000, 1}, {2, 30000, 2}, {3, 30000, 4}, {29999, 30000, 29999}, {30000, 30000, 29999},
		{299, 300, 299}, {300, 300, 299}, {297, 299, 298},
	} {
		require.Equal(t, tc.want, BumpCustKey(tc.k, tc.max), "key %d", tc.k)
	}
	for p, want := range map[int64]int64{1: 90_100, 10: 91_001, 999: 90_000 + 99 + 99_900, 1000: 90_100, 200_010: 90_000 + (20_001 % 20_001) + 1_000} {
		require.Equal(t, want, RetailPrice(p), "part %d", p)
	}
}

func TestDists(t *testing.T) {
	require.Len(t, Nations(), 25)
	require.Len(t, Regions(), 5)
	require.Len(t, Colors(), 92)
	require.Len(t, PartTypes(), 150)
	require.Len(t, Containers(), 40)
	byRegion := map[string][]string{}
	for i, n := range Nations() {
		byRegion[NationRegion(i)] = append(byRegion[NationRegion(i)], n)
	}
	require.Equal(t, map[string][]string{
		"AFRICA":      {"ALGERIA", "ETHIOPIA", "KENYA", "MOROCCO", "MOZAMBIQUE"},
		"AMERICA":     {"ARGENTINA", "BRAZIL", "CANADA", "PERU", "UNITED STATES"},
		"ASIA":        {"INDIA", "INDONESIA", "JAPAN", "CHINA", "VIETNAM"},
		"EUROPE":      {"FRANCE", "GERMANY", "ROMANIA", "RUSSIA", "UNITED KINGDOM"},
		"MIDDLE EAST": {"EGYPT", "IRAN", "IRAQ", "JORDAN", "SAUDI ARABIA"},
	}, byRegion)
	require.Equal(t, "STANDARD ANODIZED TIN", partTypes[0])
	require.Equal(t, "STANDARD BURNISHED TIN", partTypes[5])
	require.Equal(t, "SMALL ANODIZED TIN", partTypes[25])
	require.Equal(t, "PROMO BRUSHED COPPER", partTypes[149])
	require.Equal(t, []string{"SM CASE", "SM BOX", "SM BAG", "SM JAR", "SM PACK", "SM PKG", "SM CAN", "SM DRUM"}, containers[:8])
	require.Equal(t, "WRAP DRUM", containers[39])
	require.Equal(t, "almond", colors[0])
	require.Equal(t, "yellow", colors[91])
	for _, l := range [][]string{Nations(), Regions(), Colors(), PartTypes(), Containers()} {
		s := slices.Clone(l)
		slices.Sort(s)
		require.Len(t, slices.Compact(s), len(l), "duplicates in %v", l[:3])
	}
}

func TestDates(t *testing.T) {
	g, err := New(0.01)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, g.WriteDates(&buf))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, 2556)
	require.Equal(t, "19920101|January 1, 1992|Thursday|January|1992|199201|Jan1992|5|1|1|1|1|Winter|0|0|1|1|", lines[0])
	require.Equal(t, "19981230|December 30, 1998|Thursday|December|1998|199812|Dec1998|5|30|364|12|53|Christmas|0|0|0|1|", lines[2555])
	require.Contains(t, lines, "19920229|February 29, 1992|Sunday|February|1992|199202|Feb1992|1|29|60|2|9|Winter|0|1|0|0|")
	for d, line := range lines {
		f := strings.Split(line, "|")
		require.Len(t, f, 18, line)
		r := DateRow(d)
		day := startDate.AddDate(0, 0, d)
		require.Equal(t, strconv.Itoa(int(r.DateKey)), f[0])
		require.Equal(t, day.Format("20060102"), f[0])
		require.Equal(t, day.YearDay()/7+1, r.WeekNumInYear, line)
		require.Equal(t, r.DayNumInYear, day.YearDay())
	}
	first, last, ok := WeekDateRange(1994, 6)
	require.True(t, ok)
	require.Equal(t, [2]int32{19940204, 19940210}, [2]int32{first, last})
	require.Equal(t, int32(19980802), DateKey(OrderDateDays-1))
	require.Equal(t, int32(19981230), DateKey(DateRows-1))
}

// table generates one whole table at sf as lines without the newline.
func table(t *testing.T, g *Generator, name string, o FlatOptions) []string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, g.WriteTable(context.Background(), name, &buf, o))
	require.True(t, buf.Len() > 0 && buf.Bytes()[buf.Len()-1] == '\n')
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

// dbgenFields splits a dbgen line, checking the trailing '|'.
func dbgenFields(t *testing.T, line string, n int) []string {
	t.Helper()
	require.True(t, strings.HasSuffix(line, "|"), line)
	f := strings.Split(strings.TrimSuffix(line, "|"), "|")
	require.Len(t, f, n, line)
	return f
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	return v
}

func checkAddressCityPhone(t *testing.T, f []string) {
	t.Helper()
	addr, city, nation, region, phone := f[0], f[1], f[2], f[3], f[4]
	require.True(t, len(addr) >= addressMinLen && len(addr) <= addressMaxLen, addr)
	for _, c := range addr {
		require.Contains(t, addressChars, string(c))
	}
	ni := slices.Index(nations[:], nation)
	require.GreaterOrEqual(t, ni, 0, nation)
	require.Equal(t, NationRegion(ni), region)
	require.Len(t, city, 10)
	require.Equal(t, fmt.Sprintf("%-9.9s", nation), city[:9])
	require.True(t, city[9] >= '0' && city[9] <= '9')
	require.Regexp(t, `^\d\d-\d{3}-\d{3}-\d{4}$`, phone)
	require.Equal(t, strconv.Itoa(10+ni), phone[:2])
}

func TestDimensionDomains(t *testing.T) {
	g, err := New(0.1)
	require.NoError(t, err)
	s := g.Sizes()

	cust := table(t, g, "customer", FlatOptions{})
	require.Len(t, cust, int(s.Customers))
	cities := map[string]bool{}
	for i, line := range cust {
		f := dbgenFields(t, line, 8)
		require.Equal(t, strconv.Itoa(i+1), f[0])
		require.Equal(t, fmt.Sprintf("Customer#%09d", i+1), f[1])
		checkAddressCityPhone(t, f[2:7])
		require.Contains(t, marketSegments, f[7])
		cities[f[3]] = true
	}
	require.Len(t, cities, 250)

	supp := table(t, g, "supplier", FlatOptions{})
	require.Len(t, supp, int(s.Suppliers))
	for i, line := range supp {
		f := dbgenFields(t, line, 7)
		require.Equal(t, strconv.Itoa(i+1), f[0])
		require.Equal(t, fmt.Sprintf("Supplier#%09d", i+1), f[1])
		checkAddressCityPhone(t, f[2:7])
	}

	part := table(t, g, "part", FlatOptions{})
	require.Len(t, part, int(s.Parts))
	brands := map[string]bool{}
	for i, line := range part {
		f := dbgenFields(t, line, 9)
		require.Equal(t, strconv.Itoa(i+1), f[0])
		name := strings.Split(f[1], " ")
		require.Len(t, name, 2, f[1])
		require.Contains(t, colors, name[0])
		require.Contains(t, colors, name[1])
		require.Contains(t, colors, f[5])
		require.NotEqual(t, name[0], name[1])
		require.NotContains(t, name, f[5])
		require.Regexp(t, `^MFGR#[1-5]$`, f[2])
		require.Regexp(t, `^MFGR#[1-5][1-5]$`, f[3])
		require.True(t, strings.HasPrefix(f[3], f[2]))
		require.True(t, strings.HasPrefix(f[4], f[3]))
		b := atoi(t, f[4][len(f[3]):])
		require.True(t, b >= 1 && b <= 40, f[4])
		require.Contains(t, partTypes, f[6])
		size := atoi(t, f[7])
		require.True(t, size >= 1 && size <= 50)
		require.Contains(t, containers, f[8])
		brands[f[4]] = true
	}
	require.Len(t, brands, 1000)
}

// lineRow is a parsed dbgen lineorder row.
type lineRow struct{ f []string }

func TestLineorder(t *testing.T) {
	g, err := New(0.01)
	require.NoError(t, err)
	s := g.Sizes()
	lines := table(t, g, "lineorder", FlatOptions{})
	n := float64(len(lines))
	require.InDelta(t, 4*float64(s.Orders), n, 0.02*n, "about 4 lines per order")

	orders := 0
	var prevKey int64
	var group [][]string
	checkOrder := func() {
		if len(group) == 0 {
			return
		}
		orders++
		var total int64
		for i, f := range group {
			require.Equal(t, int64(i+1), atoi(t, f[1]), "line numbers run 1..n")
			for _, c := range []int{0, 2, 5, 6} {
				require.Equal(t, group[0][c], f[c], "order-level column %d", c)
			}
			ext, disc, tax := atoi(t, f[9]), atoi(t, f[11]), atoi(t, f[14])
			total += ext * (100 - disc) / 100 * (100 + tax) / 100
		}
		require.LessOrEqual(t, len(group), 7)
		for _, f := range group {
			require.Equal(t, total, atoi(t, f[10]), "lo_ordtotalprice")
		}
		group = group[:0]
	}
	var mod [3]int
	for _, line := range lines {
		f := dbgenFields(t, line, 17)
		key := atoi(t, f[0])
		if key != prevKey {
			checkOrder()
			require.Greater(t, key, prevKey)
			prevKey = key
		}
		group = append(group, f)
		cust := atoi(t, f[2])
		require.True(t, cust >= 1 && cust <= s.Customers)
		mod[cust%3]++
		part := atoi(t, f[3])
		require.True(t, part >= 1 && part <= s.PartKeyMax)
		supp := atoi(t, f[4])
		require.True(t, supp >= 1 && supp <= s.Suppliers)
		od, err := time.Parse("20060102", f[5])
		require.NoError(t, err)
		require.False(t, od.Before(startDate) || od.After(time.Date(1998, 8, 2, 0, 0, 0, 0, time.UTC)), f[5])
		require.Contains(t, orderPriorities, f[6])
		require.Equal(t, "0", f[7])
		qty, ext, disc, rev, cost, tax := atoi(t, f[8]), atoi(t, f[9]), atoi(t, f[11]), atoi(t, f[12]), atoi(t, f[13]), atoi(t, f[14])
		require.True(t, qty >= 1 && qty <= 50)
		require.True(t, disc >= 0 && disc <= 10)
		require.True(t, tax >= 0 && tax <= 8)
		rp := RetailPrice(part)
		require.Equal(t, rp*qty, ext)
		require.Equal(t, ext*(100-disc)/100, rev)
		require.Equal(t, 6*rp/10, cost)
		cd, err := time.Parse("20060102", f[15])
		require.NoError(t, err)
		days := int(cd.Sub(od).Hours() / 24)
		require.True(t, days >= 30 && days <= 90, "commit %s order %s", f[15], f[5])
		require.Contains(t, shipModes, f[16])
	}
	checkOrder()
	require.Equal(t, int(s.Orders), orders)
	require.Zero(t, mod[0], "no customer key is a multiple of 3")
	require.InDelta(t, 2.0, float64(mod[1])/float64(mod[2]), 0.1, "keys ≡ 1 have double weight")
}

// TestFlatJoin checks every lineorder_flat row against the lineorder row at
// the same position and the dimension rows its keys name.
func TestFlatJoin(t *testing.T) {
	g, err := New(0.01)
	require.NoError(t, err)
	dim := func(name string, n int) map[string][]string {
		m := map[string][]string{}
		for _, line := range table(t, g, name, FlatOptions{}) {
			f := dbgenFields(t, line, n)
			m[f[0]] = f[1:]
		}
		return m
	}
	cust, supp, part := dim("customer", 8), dim("supplier", 7), dim("part", 9)
	lo := table(t, g, "lineorder", FlatOptions{})
	for _, tc := range []struct {
		sep      string
		keyFirst bool
	}{{"|", false}, {",", false}, {"\t", true}, {"||", false}} {
		t.Run(fmt.Sprintf("%q/%v", tc.sep, tc.keyFirst), func(t *testing.T) {
			flat := table(t, g, "lineorder_flat", FlatOptions{Separator: tc.sep, KeyFirst: tc.keyFirst})
			require.Len(t, flat, len(lo))
			cols := FlatColumns
			if tc.keyFirst {
				cols = FlatColumnsKeyFirst()
			}
			require.Len(t, cols, 38)
			idx := map[string]int{}
			for j, c := range cols {
				idx[c] = j
			}
			for i, line := range flat {
				f := strings.Split(line, tc.sep)
				require.Len(t, f, 38, line)
				l := dbgenFields(t, lo[i], 17)
				want := make([]string, 0, 38)
				want = append(want, l...)
				want = append(want, cust[l[2]]...)
				want = append(want, supp[l[4]]...)
				want = append(want, part[l[3]]...)
				for j, c := range FlatColumns {
					if f[idx[c]] != want[j] {
						require.Equal(t, want[j], f[idx[c]], "row %d column %s", i, c)
					}
				}
			}
		})
	}
}

func hashOf(t *testing.T, g *Generator, name string, o FlatOptions) string {
	t.Helper()
	h := sha256.New()
	require.NoError(t, g.WriteTable(context.Background(), name, h, o))
	return hex.EncodeToString(h.Sum(nil))
}

func TestDeterminism(t *testing.T) {
	sf := 0.1
	if testing.Short() {
		sf = 0.03
	}
	g1, err := New(sf)
	require.NoError(t, err)
	g2, err := New(sf)
	require.NoError(t, err)
	for _, name := range []string{"customer", "supplier", "part", "lineorder", "lineorder_flat"} {
		want := hashOf(t, g1, name, FlatOptions{Options: Options{Workers: 1}})
		for _, w := range []int{2, 3, 8} {
			require.Equal(t, want, hashOf(t, g2, name, FlatOptions{Options: Options{Workers: w}}), "%s with %d workers", name, w)
		}
	}
	// Chunk ranges concatenate to the whole stream.
	var whole, parts bytes.Buffer
	require.NoError(t, g1.WriteFlat(context.Background(), &whole, FlatOptions{}))
	n := g1.LineorderChunks()
	require.Equal(t, (g1.Sizes().Orders+OrdersPerChunk-1)/OrdersPerChunk, n)
	require.Greater(t, n, int64(5))
	var rows int64
	for first := int64(0); first < n; first += 5 {
		o := FlatOptions{Options: Options{FirstChunk: first, Chunks: min(5, n-first),
			Progress: func(p Progress) { rows = p.Rows }}}
		require.NoError(t, g1.WriteFlat(context.Background(), &parts, o))
	}
	require.Equal(t, whole.String(), parts.String())
	require.Positive(t, rows)
	// A different scale factor gives different data.
	g3, err := New(sf + 0.01)
	require.NoError(t, err)
	require.NotEqual(t, hashOf(t, g1, "customer", FlatOptions{}), hashOf(t, g3, "customer", FlatOptions{}))
}

func TestProgressAndErrors(t *testing.T) {
	g, err := New(0.01)
	require.NoError(t, err)
	var last Progress
	calls := 0
	var buf bytes.Buffer
	require.NoError(t, g.WriteFlat(context.Background(), &buf, FlatOptions{Options: Options{
		Progress: func(p Progress) {
			require.Equal(t, last.Chunks+1, p.Chunks)
			require.Greater(t, p.Rows, last.Rows)
			last = p
			calls++
		}}}))
	require.Equal(t, int(g.LineorderChunks()), calls)
	require.Equal(t, int64(buf.Len()), last.Bytes)
	require.Equal(t, int64(bytes.Count(buf.Bytes(), []byte{'\n'})), last.Rows)

	for _, sep := range []string{"", "a", " ", "-", "\n", "#", "1"} {
		if sep == "" {
			continue // "" means the default
		}
		require.Error(t, g.WriteFlat(context.Background(), &buf, FlatOptions{Separator: sep}), "%q", sep)
	}
	require.Error(t, g.WriteFlat(context.Background(), &buf, FlatOptions{Options: Options{FirstChunk: 1, Chunks: 5}}))
	require.Error(t, g.WriteFlat(context.Background(), &buf, FlatOptions{Options: Options{FirstChunk: -1}}))
	require.Error(t, g.WriteTable(context.Background(), "nation", &buf, FlatOptions{}))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, g.WriteFlat(ctx, &buf, FlatOptions{}), context.Canceled)
	require.Error(t, g.WriteFlat(context.Background(), failWriter{}, FlatOptions{}))
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// TestGolden pins the first rows and a hash of every table at SF 0.01, so a
// change to the generated data is deliberate. Regenerate with -rewrite.
func TestGolden(t *testing.T) {
	g, err := New(0.01)
	require.NoError(t, err)
	var out strings.Builder
	for _, name := range Tables {
		lines := table(t, g, name, FlatOptions{})
		fmt.Fprintf(&out, "%s rows=%d sha256=%s\n", name, len(lines), hashOf(t, g, name, FlatOptions{}))
		for _, l := range lines[:3] {
			fmt.Fprintf(&out, "  %s\n", l)
		}
	}
	path := filepath.Join("testdata", "golden.txt")
	if *rewrite {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(out.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), out.String())
}

// TestReferenceAnswers evaluates some flat queries over the generated SF 1
// data in process and compares the broad ones with the dbgen answers of
// §1.7: group counts exactly, sums within sampling noise.
func TestReferenceAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("generates SF 1")
	}
	g, err := New(1)
	require.NoError(t, err)
	s := g.Sizes()
	// Dimension attributes by key, parsed from the rendered tables.
	field := func(tb *dimTable, k int64, i int) string {
		return strings.Split(string(tb.row(k)), "\x00")[i]
	}
	g.dims()
	custRegion := make([]string, s.Customers+1)
	custNation := make([]string, s.Customers+1)
	for k := int64(1); k <= s.Customers; k++ {
		custRegion[k], custNation[k] = field(g.cust, k, 4), field(g.cust, k, 3)
	}
	suppRegion := make([]string, s.Suppliers+1)
	suppNation := make([]string, s.Suppliers+1)
	for k := int64(1); k <= s.Suppliers; k++ {
		suppRegion[k], suppNation[k] = field(g.supp, k, 4), field(g.supp, k, 3)
	}
	partCat := make([]string, s.Parts+1)
	partBrand := make([]string, s.Parts+1)
	for k := int64(1); k <= s.Parts; k++ {
		partCat[k], partBrand[k] = field(g.part, k, 2), field(g.part, k, 3)
	}

	type agg struct {
		sum    int64
		groups map[string]bool
	}
	res := map[string]*agg{}
	for _, id := range []string{"Q1.1", "Q1.2", "Q2.1", "Q3.1", "Q4.1"} {
		res[id] = &agg{groups: map[string]bool{}}
	}
	add := func(id, group string, v int64) {
		res[id].sum += v
		res[id].groups[group] = true
	}
	var b lineBatch
	var rows int64
	for c := range g.LineorderChunks() {
		b.fill(&s, c)
		rows += int64(b.len())
		for i := range b.len() {
			date := dayKeys[b.orderDay[i]]
			year := date / 10000
			qty, disc := b.quantity[i], b.discount[i]
			ext, rev := int64(b.extPrice[i]), int64(b.revenue[i])
			cust, supp, part := b.custKey[i], b.suppKey[i], b.partKey[i]
			if year == 1993 && disc >= 1 && disc <= 3 && qty < 25 {
				add("Q1.1", "", ext*int64(disc))
			}
			if date/100 == 199401 && disc >= 4 && disc <= 6 && qty >= 26 && qty <= 35 {
				add("Q1.2", "", ext*int64(disc))
			}
			if partCat[part] == "MFGR#12" && suppRegion[supp] == "AMERICA" {
				add("Q2.1", fmt.Sprint(year, partBrand[part]), rev)
			}
			if custRegion[cust] == "ASIA" && suppRegion[supp] == "ASIA" && year <= 1997 {
				add("Q3.1", fmt.Sprint(custNation[cust], suppNation[supp], year), rev)
			}
			mfgr := partCat[part][:6]
			if custRegion[cust] == "AMERICA" && suppRegion[supp] == "AMERICA" && (mfgr == "MFGR#1" || mfgr == "MFGR#2") {
				add("Q4.1", fmt.Sprint(year, custNation[cust]), rev-int64(b.supplyCost[i]))
			}
		}
	}
	require.InDelta(t, 6_001_215, rows, 6_001_215*0.005, "SF 1 lineorder rows")
	answers, err := g.FlatAnswers(context.Background(), 0)
	require.NoError(t, err)
	for _, q := range Queries() {
		var sum int64
		for _, r := range answers[q.ID].Rows {
			sum += atoi(t, r[q.AggColumn])
		}
		t.Logf("FlatAnswers %s: groups %d (dbgen %d), sum %d (dbgen %d, %+.2f%%)", q.ID, len(answers[q.ID].Rows),
			q.FlatRef.Groups, sum, q.FlatRef.Sum, 100*(float64(sum)/float64(q.FlatRef.Sum)-1))
		if a, ok := res[q.ID]; ok {
			require.Equal(t, a.sum, sum, q.ID)
			require.Len(t, answers[q.ID].Rows, len(a.groups), q.ID)
		}
	}
	for id, a := range res {
		q, ok := QueryByID(id)
		require.True(t, ok)
		ref := q.FlatRef
		t.Logf("%s groups %d (ref %d) sum %d (ref %d, %+.2f%%)", id, len(a.groups), ref.Groups, a.sum, ref.Sum,
			100*(float64(a.sum)/float64(ref.Sum)-1))
		if !q.Broad {
			continue // selective: sampling noise of several percent
		}
		require.Equal(t, ref.Groups, len(a.groups), id)
		// Q1.1 reads only lineorder columns and lands within 1 %. The others
		// filter on supplier region: at SF 1 only 2,000 suppliers exist, so
		// the count per region varies by ±4.5 % (1σ) in our data and in
		// dbgen's alike, and the sums differ by up to about 20 %.
		tol := 0.20
		if id == "Q1.1" {
			tol = 0.01
		}
		require.InEpsilon(t, ref.Sum, a.sum, tol, id)
	}
}
