package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const salesDDL = `
CREATE DATABASE demo;
CREATE TABLE demo.sales (
    sale_date DATE NOT NULL COMMENT 'day of sale',
    id BIGINT NOT NULL,
    region VARCHAR(16) NOT NULL,
    store_id INT NOT NULL,
    qty INT NULL,
    price DECIMAL(10, 2),
    note STRING
) ENGINE=OLAP
DUPLICATE KEY(sale_date, id)
PARTITION BY RANGE(sale_date) (
    PARTITION p2023 VALUES LESS THAN ("2024-01-01"),
    PARTITION p2024 VALUES LESS THAN ("2025-01-01"),
    PARTITION pmax VALUES LESS THAN MAXVALUE
)
DISTRIBUTED BY HASH(id) BUCKETS 4
PROPERTIES ("replication_num" = "1");
CREATE TABLE demo.stores (
    store_id INT NOT NULL,
    city VARCHAR(32)
) DUPLICATE KEY(store_id)
DISTRIBUTED BY HASH(store_id) BUCKETS 2
PROPERTIES ("replication_num" = "1");
`

// TestEndToEnd creates a partitioned, bucketed DUPLICATE KEY table through
// the mysql client, loads 120,000 CSV rows and a JSON file with curl, and
// checks aggregates, filters, ORDER BY/LIMIT and a join against answers
// computed here from the generated rows.
func TestEndToEnd(t *testing.T) {
	s := startServer(t, "")
	s.MustMySQL(salesDDL)

	out := s.MustMySQL("SHOW TABLES FROM demo")
	require.Equal(t, []string{"sales", "stores"}, lines(out))
	out = s.MustMySQL("SHOW PARTITIONS FROM demo.sales")
	require.Len(t, lines(out), 3)
	out = s.MustMySQL("SHOW CREATE TABLE demo.sales")
	require.Contains(t, out, "DUPLICATE KEY(`sale_date`, `id`)")
	require.Contains(t, out, "DISTRIBUTED BY HASH(`id`) BUCKETS 4")
	require.Contains(t, out, `"replication_allocation" = "tag.location.default: 1"`)

	csvRows := genSales(1, 1, 120_000)
	resp := s.StreamLoad("demo", "sales", writeCSV(t, csvRows, ","), "column_separator: ,", "label: sales_csv_1")
	require.Equal(t, "Success", resp["Status"], "%v", resp)
	require.EqualValues(t, 120_000, resp["NumberLoadedRows"])

	jsonRows := genSales(2, 1_000_001, 1000)
	resp = s.StreamLoad("demo", "sales", writeJSONLines(t, jsonRows), "format: json", "read_json_by_line: true")
	require.Equal(t, "Success", resp["Status"], "%v", resp)
	require.EqualValues(t, 1000, resp["NumberLoadedRows"])

	s.MustMySQL(`INSERT INTO demo.stores VALUES (1,'oslo'),(2,'lima'),(3,'pune'),(4,'kobe'),(5,'oslo'),(6,'lima'),
		(7,'pune'),(8,'kobe'),(9,'oslo'),(10,'lima'),(11,'pune'),(12,'kobe'),(13,'oslo'),(14,'lima'),(15,'pune'),(16,'kobe')`)

	all := append(append([]sale{}, csvRows...), jsonRows...)
	city := map[int32]string{}
	for i, c := 1, []string{"oslo", "lima", "pune", "kobe"}; i <= 16; i++ {
		city[int32(i)] = c[(i-1)%4]
	}

	t.Run("count and sums", func(t *testing.T) {
		var qty, cents int64
		for _, r := range all {
			if r.qty != nil {
				qty += int64(*r.qty)
			}
			cents += r.cents
		}
		got := s.MustMySQL("SELECT count(*), sum(qty), sum(price), count(qty) FROM demo.sales")
		nonNull := 0
		for _, r := range all {
			if r.qty != nil {
				nonNull++
			}
		}
		require.Equal(t, fmt.Sprintf("%d\t%d\t%s\t%d\n", len(all), qty, centsString(cents), nonNull), got)
	})

	t.Run("group by with having", func(t *testing.T) {
		type agg struct{ n, qty int64 }
		m := map[string]*agg{}
		for _, r := range all {
			a := m[r.region]
			if a == nil {
				a = &agg{}
				m[r.region] = a
			}
			a.n++
			if r.qty != nil {
				a.qty += int64(*r.qty)
			}
		}
		var want []string
		for _, k := range sortedKeys(m) {
			want = append(want, fmt.Sprintf("%s\t%d\t%d", k, m[k].n, m[k].qty))
		}
		got := s.MustMySQL("SELECT region, count(*) AS n, sum(qty) FROM demo.sales GROUP BY region HAVING n > 0 ORDER BY region")
		require.Equal(t, want, lines(got))
	})

	t.Run("filter with partition pruning", func(t *testing.T) {
		var n int64
		var cents int64
		for _, r := range all {
			if r.date >= "2024-03-01" && r.date < "2024-06-15" && r.region == "east" && r.qty != nil && *r.qty > 50 {
				n++
				cents += r.cents
			}
		}
		got := s.MustMySQL(`SELECT count(*), sum(price) FROM demo.sales
			WHERE sale_date >= '2024-03-01' AND sale_date < '2024-06-15' AND region = 'east' AND qty > 50`)
		require.Equal(t, fmt.Sprintf("%d\t%s\n", n, centsString(cents)), got)
		plan := s.MustMySQL(`EXPLAIN SELECT count(*) FROM demo.sales WHERE sale_date >= '2024-03-01' AND sale_date < '2024-06-15'`)
		require.Contains(t, plan, "partitions=1/3")
	})

	t.Run("order by limit offset", func(t *testing.T) {
		sorted := append([]sale{}, all...)
		sort.Slice(sorted, func(i, j int) bool {
			if sorted[i].cents != sorted[j].cents {
				return sorted[i].cents > sorted[j].cents
			}
			return sorted[i].id < sorted[j].id
		})
		var want []string
		for _, r := range sorted[3:10] {
			want = append(want, fmt.Sprintf("%d\t%s\t%s", r.id, r.date, centsString(r.cents)))
		}
		got := s.MustMySQL("SELECT id, sale_date, price FROM demo.sales ORDER BY price DESC, id LIMIT 7 OFFSET 3")
		require.Equal(t, want, lines(got))
	})

	t.Run("join", func(t *testing.T) {
		m := map[string]int64{}
		for _, r := range all {
			c, ok := city[r.store]
			if !ok || r.qty == nil {
				continue
			}
			m[c] += int64(*r.qty)
		}
		var want []string
		for _, k := range sortedKeys(m) {
			want = append(want, fmt.Sprintf("%s\t%d", k, m[k]))
		}
		got := s.MustMySQL(`SELECT st.city, sum(s.qty) FROM demo.sales s JOIN demo.stores st ON s.store_id = st.store_id
			GROUP BY st.city ORDER BY st.city`)
		require.Equal(t, want, lines(got))

		// LEFT JOIN keeps the sales of stores 17..20, which have no city.
		var unmatched int64
		for _, r := range all {
			if _, ok := city[r.store]; !ok {
				unmatched++
			}
		}
		got = s.MustMySQL(`SELECT count(*) FROM demo.sales s LEFT JOIN demo.stores st ON s.store_id = st.store_id WHERE st.city IS NULL`)
		require.Equal(t, fmt.Sprintf("%d\n", unmatched), got)
	})

	t.Run("expressions", func(t *testing.T) {
		var n int64
		for _, r := range all {
			if strings.HasPrefix(r.note, "n99") && (r.region == "north" || r.region == "west") {
				n++
			}
		}
		got := s.MustMySQL(`SELECT count(*) FROM demo.sales WHERE note LIKE 'n99%' AND region IN ('north', 'west')`)
		require.Equal(t, fmt.Sprintf("%d\n", n), got)
		got = s.MustMySQL(`SELECT CASE WHEN 1 + 2 * 3 = 7 THEN 'yes' ELSE 'no' END, upper('abc'), year('2024-05-06'), CAST('12' AS INT) + 1`)
		require.Equal(t, "yes\tABC\t2024\t13\n", got)
	})

	t.Run("restart keeps everything", func(t *testing.T) {
		s.Stop()
		s.Restart()
		got := s.MustMySQL("SELECT count(*) FROM demo.sales")
		require.Equal(t, fmt.Sprintf("%d\n", len(all)), got)
		require.Equal(t, []string{"sales", "stores"}, lines(s.MustMySQL("SHOW TABLES FROM demo")))
	})
}
