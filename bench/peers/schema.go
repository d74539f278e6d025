package peers

import (
	"strings"

	"github.com/strata-db/strata/bench/ssb"
	"github.com/strata-db/strata/bench/strataload"
)

// column is a table column with a generic SQL type: INT, TINYINT or
// VARCHAR(n). Each system maps it to its own type.
type column struct{ name, typ string }

// table is one loaded table: its columns in file order and its files.
type table struct {
	name string
	cols []column
	key  []string // sort key (Strata DUPLICATE KEY, ClickHouse ORDER BY)
	fact bool     // lineorder or lineorder_flat: yearly partitions, 8 buckets
}

func cols(spec string) []column {
	var out []column
	for _, f := range strings.Split(spec, ",") {
		name, typ, _ := strings.Cut(strings.TrimSpace(f), " ")
		out = append(out, column{name, typ})
	}
	return out
}

// starTables are the five star tables in dbgen column order (BENCHMARKS.md
// §1.1); the date table is called dates, as in the query texts.
var starTables = []table{
	{name: "lineorder", key: []string{"lo_orderkey"}, fact: true, cols: cols(`lo_orderkey INT, lo_linenumber TINYINT,
		lo_custkey INT, lo_partkey INT, lo_suppkey INT, lo_orderdate INT, lo_orderpriority VARCHAR(15),
		lo_shippriority TINYINT, lo_quantity TINYINT, lo_extendedprice INT, lo_ordtotalprice INT,
		lo_discount TINYINT, lo_revenue INT, lo_supplycost INT, lo_tax TINYINT, lo_commitdate INT,
		lo_shipmode VARCHAR(10)`)},
	{name: "customer", key: []string{"c_custkey"}, cols: cols(`c_custkey INT, c_name VARCHAR(25),
		c_address VARCHAR(40), c_city VARCHAR(10), c_nation VARCHAR(15), c_region VARCHAR(12),
		c_phone VARCHAR(15), c_mktsegment VARCHAR(10)`)},
	{name: "supplier", key: []string{"s_suppkey"}, cols: cols(`s_suppkey INT, s_name VARCHAR(25),
		s_address VARCHAR(40), s_city VARCHAR(10), s_nation VARCHAR(15), s_region VARCHAR(12),
		s_phone VARCHAR(15)`)},
	{name: "part", key: []string{"p_partkey"}, cols: cols(`p_partkey INT, p_name VARCHAR(22),
		p_mfgr VARCHAR(6), p_category VARCHAR(7), p_brand VARCHAR(9), p_color VARCHAR(11),
		p_type VARCHAR(25), p_size TINYINT, p_container VARCHAR(10)`)},
	{name: "dates", key: []string{"d_datekey"}, cols: cols(`d_datekey INT, d_date VARCHAR(18),
		d_dayofweek VARCHAR(9), d_month VARCHAR(9), d_year INT, d_yearmonthnum INT,
		d_yearmonth VARCHAR(7), d_daynuminweek TINYINT, d_daynuminmonth TINYINT, d_daynuminyear INT,
		d_monthnuminyear TINYINT, d_weeknuminyear TINYINT, d_sellingseason VARCHAR(12),
		d_lastdayinweekfl TINYINT, d_lastdayinmonthfl TINYINT, d_holidayfl TINYINT, d_weekdayfl TINYINT`)},
}

// flatTable is lineorder_flat with the sort key first, Strata's column
// order and types (bench/strataload).
func flatTable() table {
	t := table{name: "lineorder_flat", key: []string{"LO_ORDERDATE", "LO_ORDERKEY"}, fact: true}
	for _, c := range ssb.FlatColumnsKeyFirst() {
		t.cols = append(t.cols, column{c, strataload.FlatColumnTypes[c]})
	}
	return t
}

// partitionColumn is the yearly partitioning column of a fact table.
func (t table) partitionColumn() string {
	if t.name == "lineorder" {
		return "lo_orderdate"
	}
	return "LO_ORDERDATE"
}
