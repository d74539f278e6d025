package strataload

import (
	"fmt"
	"strings"
)

// FlatColumnTypes are Strata's lineorder_flat column types, by column:
// dates as INT yyyymmdd, keys and money INT (cents), small numbers TINYINT,
// strings VARCHAR sized to the longest generated value (BENCHMARKS.md §1.1).
var FlatColumnTypes = map[string]string{
	"LO_ORDERKEY": "INT", "LO_LINENUMBER": "TINYINT", "LO_CUSTKEY": "INT", "LO_PARTKEY": "INT",
	"LO_SUPPKEY": "INT", "LO_ORDERDATE": "INT", "LO_ORDERPRIORITY": "VARCHAR(15)",
	"LO_SHIPPRIORITY": "TINYINT", "LO_QUANTITY": "TINYINT", "LO_EXTENDEDPRICE": "INT",
	"LO_ORDTOTALPRICE": "INT", "LO_DISCOUNT": "TINYINT", "LO_REVENUE": "INT", "LO_SUPPLYCOST": "INT",
	"LO_TAX": "TINYINT", "LO_COMMITDATE": "INT", "LO_SHIPMODE": "VARCHAR(10)",
	"C_NAME": "VARCHAR(25)", "C_ADDRESS": "VARCHAR(40)", "C_CITY": "VARCHAR(10)", "C_NATION": "VARCHAR(15)",
	"C_REGION": "VARCHAR(12)", "C_PHONE": "VARCHAR(15)", "C_MKTSEGMENT": "VARCHAR(10)",
	"S_NAME": "VARCHAR(25)", "S_ADDRESS": "VARCHAR(40)", "S_CITY": "VARCHAR(10)", "S_NATION": "VARCHAR(15)",
	"S_REGION": "VARCHAR(12)", "S_PHONE": "VARCHAR(15)",
	"P_NAME": "VARCHAR(22)", "P_MFGR": "VARCHAR(6)", "P_CATEGORY": "VARCHAR(7)", "P_BRAND": "VARCHAR(9)",
	"P_COLOR": "VARCHAR(11)", "P_TYPE": "VARCHAR(25)", "P_SIZE": "TINYINT", "P_CONTAINER": "VARCHAR(10)",
}

// CreateFlatTable returns the CREATE TABLE statement for lineorder_flat with
// columns in the given order (the key columns first). bigKeys makes
// LO_ORDERKEY BIGINT, needed once order keys pass 2³¹ (above SF ≈ 357).
func CreateFlatTable(columns []string, buckets int, bigKeys bool) string {
	return CreateFlatTableModel(columns, buckets, bigKeys, "dup")
}

// CreateFlatTableModel is CreateFlatTable with a data model: "dup"
// (DUPLICATE KEY(LO_ORDERDATE, LO_ORDERKEY)), or "mow" / "mor", a UNIQUE
// KEY(LO_ORDERDATE, LO_ORDERKEY, LO_LINENUMBER) table with merge-on-write
// or merge-on-read (the columns must start with those three).
func CreateFlatTableModel(columns []string, buckets int, bigKeys bool, model string) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS lineorder_flat (\n")
	for i, c := range columns {
		typ, ok := FlatColumnTypes[c]
		if !ok {
			panic(fmt.Sprintf("BUG: no type for column %s", c))
		}
		if c == "LO_ORDERKEY" && bigKeys {
			typ = "BIGINT"
		}
		fmt.Fprintf(&b, "  %s %s NOT NULL", c, typ)
		if i < len(columns)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	props := `"replication_num" = "1"`
	switch model {
	case "mow", "mor":
		b.WriteString(")\nUNIQUE KEY(LO_ORDERDATE, LO_ORDERKEY, LO_LINENUMBER)\nPARTITION BY RANGE(LO_ORDERDATE) (\n")
		props += fmt.Sprintf(`, "enable_unique_key_merge_on_write" = "%v"`, model == "mow")
	default:
		b.WriteString(")\nDUPLICATE KEY(LO_ORDERDATE, LO_ORDERKEY)\nPARTITION BY RANGE(LO_ORDERDATE) (\n")
	}
	for y := 1992; y <= 1998; y++ {
		fmt.Fprintf(&b, "  PARTITION p%d VALUES LESS THAN (%d0101)", y, y+1)
		if y < 1998 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, ")\nDISTRIBUTED BY HASH(LO_ORDERKEY) BUCKETS %d\nPROPERTIES (%s)", buckets, props)
	return b.String()
}
