package ssb

// Query is one of the 13 SSB queries in Strata's canonical star and flat
// forms (BENCHMARKS.md §1.4, §1.5), with what is known about its answer.
type Query struct {
	ID   string // "Q1.1" .. "Q4.3"
	Flat string // the community SSB-flat text, on lineorder_flat
	Star string // the star-schema text (the paper's semantics)

	Columns   int // result columns
	AggColumn int // index of the aggregate column
	// MaxGroups is the number of result rows the value domains allow,
	// whatever the scale factor.
	MaxGroups int
	// Broad queries keep enough rows that, at SF 1, data from any faithful
	// generator lands close to the dbgen reference; the others vary more.
	Broad bool

	// SF 1 reference answers from dbgen data (TZ=UTC), BENCHMARKS.md §1.7.
	// The flat and star forms differ for Q1.3 (ISO week vs dbgen week) and
	// Q4.3 (C_REGION predicate dropped in the flat form).
	FlatRef, StarRef Reference
}

// Reference is an expected answer: the number of result rows and the sum
// of the aggregate column over them.
type Reference struct {
	Groups int
	Sum    int64
}

// Queries returns the 13 SSB queries in order Q1.1 .. Q4.3. The texts are
// exactly those of BENCHMARKS.md.
func Queries() []Query { return append([]Query(nil), queries...) }

// QueryByID returns the query with the given id ("Q2.1"), or false.
func QueryByID(id string) (Query, bool) {
	for _, q := range queries {
		if q.ID == id {
			return q, true
		}
	}
	return Query{}, false
}

var queries = []Query{
	{
		ID: "Q1.1",
		Flat: `SELECT SUM(LO_EXTENDEDPRICE*LO_DISCOUNT) AS revenue FROM lineorder_flat
WHERE LO_ORDERDATE BETWEEN 19930101 AND 19931231 AND LO_DISCOUNT BETWEEN 1 AND 3 AND LO_QUANTITY<25;`,
		Star: `SELECT SUM(lo_extendedprice*lo_discount) AS revenue FROM lineorder JOIN dates ON lo_orderdate=d_datekey
WHERE d_year=1993 AND lo_discount BETWEEN 1 AND 3 AND lo_quantity<25;`,
		Columns: 1, AggColumn: 0, MaxGroups: 1, Broad: true,
		FlatRef: Reference{Groups: 1, Sum: 446031203850},
		StarRef: Reference{Groups: 1, Sum: 446031203850},
	},
	{
		ID: "Q1.2",
		Flat: `SELECT SUM(LO_EXTENDEDPRICE*LO_DISCOUNT) AS revenue FROM lineorder_flat
WHERE LO_ORDERDATE BETWEEN 19940101 AND 19940131 AND LO_DISCOUNT BETWEEN 4 AND 6 AND LO_QUANTITY BETWEEN 26 AND 35;`,
		Star: `SELECT SUM(lo_extendedprice*lo_discount) AS revenue FROM lineorder JOIN dates ON lo_orderdate=d_datekey
WHERE d_yearmonthnum=199401 AND lo_discount BETWEEN 4 AND 6 AND lo_quantity BETWEEN 26 AND 35;`,
		Columns: 1, AggColumn: 0, MaxGroups: 1, Broad: false,
		FlatRef: Reference{Groups: 1, Sum: 98714004603},
		StarRef: Reference{Groups: 1, Sum: 98714004603},
	},
	{
		ID: "Q1.3",
		Flat: `SELECT SUM(LO_EXTENDEDPRICE*LO_DISCOUNT) AS revenue FROM lineorder_flat
WHERE LO_ORDERDATE BETWEEN 19940207 AND 19940213 AND LO_DISCOUNT BETWEEN 5 AND 7 AND LO_QUANTITY BETWEEN 26 AND 35;`,
		Star: `SELECT SUM(lo_extendedprice*lo_discount) AS revenue FROM lineorder JOIN dates ON lo_orderdate=d_datekey
WHERE d_weeknuminyear=6 AND d_year=1994 AND lo_discount BETWEEN 5 AND 7 AND lo_quantity BETWEEN 26 AND 35;`,
		Columns: 1, AggColumn: 0, MaxGroups: 1, Broad: false,
		FlatRef: Reference{Groups: 1, Sum: 26110729246},
		StarRef: Reference{Groups: 1, Sum: 26232701005},
	},
	{
		ID: "Q2.1",
		Flat: `SELECT SUM(LO_REVENUE), LO_ORDERDATE DIV 10000 AS year, P_BRAND FROM lineorder_flat
WHERE P_CATEGORY='MFGR#12' AND S_REGION='AMERICA' GROUP BY year, P_BRAND ORDER BY year, P_BRAND;`,
		Star: `SELECT SUM(lo_revenue), d_year, p_brand FROM lineorder JOIN dates ON lo_orderdate=d_datekey
  JOIN part ON lo_partkey=p_partkey JOIN supplier ON lo_suppkey=s_suppkey
WHERE p_category='MFGR#12' AND s_region='AMERICA' GROUP BY d_year, p_brand ORDER BY d_year, p_brand;`,
		Columns: 3, AggColumn: 0, MaxGroups: 280, Broad: true,
		FlatRef: Reference{Groups: 280, Sum: 161531952734},
		StarRef: Reference{Groups: 280, Sum: 161531952734},
	},
	{
		ID: "Q2.2",
		Flat: `SELECT SUM(LO_REVENUE), LO_ORDERDATE DIV 10000 AS year, P_BRAND FROM lineorder_flat
WHERE P_BRAND BETWEEN 'MFGR#2221' AND 'MFGR#2228' AND S_REGION='ASIA' GROUP BY year, P_BRAND ORDER BY year, P_BRAND;`,
		Star: `SELECT SUM(lo_revenue), d_year, p_brand FROM lineorder JOIN dates ON lo_orderdate=d_datekey
  JOIN part ON lo_partkey=p_partkey JOIN supplier ON lo_suppkey=s_suppkey
WHERE p_brand BETWEEN 'MFGR#2221' AND 'MFGR#2228' AND s_region='ASIA'
GROUP BY d_year, p_brand ORDER BY d_year, p_brand;`,
		Columns: 3, AggColumn: 0, MaxGroups: 56, Broad: false,
		FlatRef: Reference{Groups: 56, Sum: 38394653763},
		StarRef: Reference{Groups: 56, Sum: 38394653763},
	},
	{
		ID: "Q2.3",
		Flat: `SELECT SUM(LO_REVENUE), LO_ORDERDATE DIV 10000 AS year, P_BRAND FROM lineorder_flat
WHERE P_BRAND='MFGR#2239' AND S_REGION='EUROPE' GROUP BY year, P_BRAND ORDER BY year, P_BRAND;`,
		Star: `SELECT SUM(lo_revenue), d_year, p_brand FROM lineorder JOIN dates ON lo_orderdate=d_datekey
  JOIN part ON lo_partkey=p_partkey JOIN supplier ON lo_suppkey=s_suppkey
WHERE p_brand='MFGR#2239' AND s_region='EUROPE' GROUP BY d_year, p_brand ORDER BY d_year, p_brand;`,
		Columns: 3, AggColumn: 0, MaxGroups: 7, Broad: false,
		FlatRef: Reference{Groups: 7, Sum: 4652296043},
		StarRef: Reference{Groups: 7, Sum: 4652296043},
	},
	{
		ID: "Q3.1",
		Flat: `SELECT C_NATION, S_NATION, LO_ORDERDATE DIV 10000 AS year, SUM(LO_REVENUE) AS revenue FROM lineorder_flat
WHERE C_REGION='ASIA' AND S_REGION='ASIA' AND LO_ORDERDATE BETWEEN 19920101 AND 19971231
GROUP BY C_NATION, S_NATION, year ORDER BY year ASC, revenue DESC;`,
		Star: `SELECT c_nation, s_nation, d_year, SUM(lo_revenue) AS revenue FROM lineorder
  JOIN customer ON lo_custkey=c_custkey JOIN supplier ON lo_suppkey=s_suppkey JOIN dates ON lo_orderdate=d_datekey
WHERE c_region='ASIA' AND s_region='ASIA' AND d_year BETWEEN 1992 AND 1997
GROUP BY c_nation, s_nation, d_year ORDER BY d_year ASC, revenue DESC;`,
		Columns: 4, AggColumn: 3, MaxGroups: 150, Broad: true,
		FlatRef: Reference{Groups: 150, Sum: 899714860448},
		StarRef: Reference{Groups: 150, Sum: 899714860448},
	},
	{
		ID: "Q3.2",
		Flat: `SELECT C_CITY, S_CITY, LO_ORDERDATE DIV 10000 AS year, SUM(LO_REVENUE) AS revenue FROM lineorder_flat
WHERE C_NATION='UNITED STATES' AND S_NATION='UNITED STATES' AND LO_ORDERDATE BETWEEN 19920101 AND 19971231
GROUP BY C_CITY, S_CITY, year ORDER BY year ASC, revenue DESC;`,
		Star: `SELECT c_city, s_city, d_year, SUM(lo_revenue) AS revenue FROM lineorder
  JOIN customer ON lo_custkey=c_custkey JOIN supplier ON lo_suppkey=s_suppkey JOIN dates ON lo_orderdate=d_datekey
WHERE c_nation='UNITED STATES' AND s_nation='UNITED STATES' AND d_year BETWEEN 1992 AND 1997
GROUP BY c_city, s_city, d_year ORDER BY d_year ASC, revenue DESC;`,
		Columns: 4, AggColumn: 3, MaxGroups: 600, Broad: false,
		FlatRef: Reference{Groups: 599, Sum: 30886343624},
		StarRef: Reference{Groups: 599, Sum: 30886343624},
	},
	{
		ID: "Q3.3",
		Flat: `SELECT C_CITY, S_CITY, LO_ORDERDATE DIV 10000 AS year, SUM(LO_REVENUE) AS revenue FROM lineorder_flat
WHERE C_CITY IN ('UNITED KI1','UNITED KI5') AND S_CITY IN ('UNITED KI1','UNITED KI5')
  AND LO_ORDERDATE BETWEEN 19920101 AND 19971231
GROUP BY C_CITY, S_CITY, year ORDER BY year ASC, revenue DESC;`,
		Star: `SELECT c_city, s_city, d_year, SUM(lo_revenue) AS revenue FROM lineorder
  JOIN customer ON lo_custkey=c_custkey JOIN supplier ON lo_suppkey=s_suppkey JOIN dates ON lo_orderdate=d_datekey
WHERE c_city IN ('UNITED KI1','UNITED KI5') AND s_city IN ('UNITED KI1','UNITED KI5')
  AND d_year BETWEEN 1992 AND 1997
GROUP BY c_city, s_city, d_year ORDER BY d_year ASC, revenue DESC;`,
		Columns: 4, AggColumn: 3, MaxGroups: 24, Broad: false,
		FlatRef: Reference{Groups: 24, Sum: 940481837},
		StarRef: Reference{Groups: 24, Sum: 940481837},
	},
	{
		ID: "Q3.4",
		Flat: `SELECT C_CITY, S_CITY, LO_ORDERDATE DIV 10000 AS year, SUM(LO_REVENUE) AS revenue FROM lineorder_flat
WHERE C_CITY IN ('UNITED KI1','UNITED KI5') AND S_CITY IN ('UNITED KI1','UNITED KI5')
  AND LO_ORDERDATE BETWEEN 19971201 AND 19971231
GROUP BY C_CITY, S_CITY, year ORDER BY year ASC, revenue DESC;`,
		Star: `SELECT c_city, s_city, d_year, SUM(lo_revenue) AS revenue FROM lineorder
  JOIN customer ON lo_custkey=c_custkey JOIN supplier ON lo_suppkey=s_suppkey JOIN dates ON lo_orderdate=d_datekey
WHERE c_city IN ('UNITED KI1','UNITED KI5') AND s_city IN ('UNITED KI1','UNITED KI5')
  AND d_yearmonth='Dec1997'
GROUP BY c_city, s_city, d_year ORDER BY d_year ASC, revenue DESC;`,
		Columns: 4, AggColumn: 3, MaxGroups: 4, Broad: false,
		FlatRef: Reference{Groups: 3, Sum: 17191717},
		StarRef: Reference{Groups: 3, Sum: 17191717},
	},
	{
		ID: "Q4.1",
		Flat: `SELECT LO_ORDERDATE DIV 10000 AS year, C_NATION, SUM(LO_REVENUE-LO_SUPPLYCOST) AS profit FROM lineorder_flat
WHERE C_REGION='AMERICA' AND S_REGION='AMERICA' AND P_MFGR IN ('MFGR#1','MFGR#2')
GROUP BY year, C_NATION ORDER BY year, C_NATION;`,
		Star: `SELECT d_year, c_nation, SUM(lo_revenue-lo_supplycost) AS profit FROM lineorder
  JOIN dates ON lo_orderdate=d_datekey JOIN customer ON lo_custkey=c_custkey
  JOIN supplier ON lo_suppkey=s_suppkey JOIN part ON lo_partkey=p_partkey
WHERE c_region='AMERICA' AND s_region='AMERICA' AND p_mfgr IN ('MFGR#1','MFGR#2')
GROUP BY d_year, c_nation ORDER BY d_year, c_nation;`,
		Columns: 3, AggColumn: 2, MaxGroups: 35, Broad: true,
		FlatRef: Reference{Groups: 35, Sum: 317685142922},
		StarRef: Reference{Groups: 35, Sum: 317685142922},
	},
	{
		ID: "Q4.2",
		Flat: `SELECT LO_ORDERDATE DIV 10000 AS year, S_NATION, P_CATEGORY, SUM(LO_REVENUE-LO_SUPPLYCOST) AS profit
FROM lineorder_flat
WHERE C_REGION='AMERICA' AND S_REGION='AMERICA' AND LO_ORDERDATE BETWEEN 19970101 AND 19981231
  AND P_MFGR IN ('MFGR#1','MFGR#2')
GROUP BY year, S_NATION, P_CATEGORY ORDER BY year, S_NATION, P_CATEGORY;`,
		Star: `SELECT d_year, s_nation, p_category, SUM(lo_revenue-lo_supplycost) AS profit FROM lineorder
  JOIN dates ON lo_orderdate=d_datekey JOIN customer ON lo_custkey=c_custkey
  JOIN supplier ON lo_suppkey=s_suppkey JOIN part ON lo_partkey=p_partkey
WHERE c_region='AMERICA' AND s_region='AMERICA' AND d_year IN (1997,1998) AND p_mfgr IN ('MFGR#1','MFGR#2')
GROUP BY d_year, s_nation, p_category ORDER BY d_year, s_nation, p_category;`,
		Columns: 4, AggColumn: 3, MaxGroups: 100, Broad: false,
		FlatRef: Reference{Groups: 100, Sum: 77245250569},
		StarRef: Reference{Groups: 100, Sum: 77245250569},
	},
	{
		ID: "Q4.3",
		Flat: `SELECT LO_ORDERDATE DIV 10000 AS year, S_CITY, P_BRAND, SUM(LO_REVENUE-LO_SUPPLYCOST) AS profit
FROM lineorder_flat
WHERE S_NATION='UNITED STATES' AND LO_ORDERDATE BETWEEN 19970101 AND 19981231 AND P_CATEGORY='MFGR#14'
GROUP BY year, S_CITY, P_BRAND ORDER BY year, S_CITY, P_BRAND;`,
		Star: `SELECT d_year, s_city, p_brand, SUM(lo_revenue-lo_supplycost) AS profit FROM lineorder
  JOIN dates ON lo_orderdate=d_datekey JOIN customer ON lo_custkey=c_custkey
  JOIN supplier ON lo_suppkey=s_suppkey JOIN part ON lo_partkey=p_partkey
WHERE c_region='AMERICA' AND s_nation='UNITED STATES' AND d_year IN (1997,1998) AND p_category='MFGR#14'
GROUP BY d_year, s_city, p_brand ORDER BY d_year, s_city, p_brand;`,
		Columns: 4, AggColumn: 3, MaxGroups: 800, Broad: false,
		FlatRef: Reference{Groups: 694, Sum: 7644205259},
		StarRef: Reference{Groups: 316, Sum: 1489288998},
	},
}
