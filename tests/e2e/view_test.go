package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestViews creates, reads, lists, replaces and drops views through the
// mysql client, and checks they survive a restart.
func TestViews(t *testing.T) {
	s := startServer(t, "")
	s.MustMySQL(`CREATE DATABASE shop; CREATE DATABASE other;
		CREATE TABLE shop.orders (id INT NOT NULL, region VARCHAR(8), amount DECIMAL(10,2))
			DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2;
		INSERT INTO shop.orders VALUES (1,'eu',10.50),(2,'eu',4.50),(3,'us',7.00),(4,NULL,1.00)`)
	// Unqualified names in the query mean the view's database.
	s.MustMySQL(`CREATE VIEW shop.by_region (region, total COMMENT 'sum of amounts') COMMENT 'totals'
		AS SELECT region, SUM(amount) FROM orders WHERE region IS NOT NULL GROUP BY region`, "-D", "other")

	require.Equal(t, "eu\t15.00\nus\t7.00\n", s.MustMySQL("SELECT * FROM shop.by_region ORDER BY region"))
	require.Equal(t, "22.00\n", s.MustMySQL("SELECT SUM(total) FROM by_region", "-D", "shop"))
	require.Equal(t, "3\t7.00\n", s.MustMySQL(
		"SELECT o.id, v.total FROM shop.orders o JOIN shop.by_region v ON o.region = v.region WHERE v.total < 10"))
	s.MustMySQL("CREATE VIEW shop.big AS SELECT region FROM by_region WHERE total > 10")
	require.Equal(t, "eu\n", s.MustMySQL("SELECT * FROM shop.big"))

	require.Equal(t, "by_region\tVIEW\norders\tBASE TABLE\n", s.MustMySQL("SHOW FULL TABLES FROM shop LIKE '%r%'"))
	require.Equal(t, "region\tvarchar(8)\tyes\tfalse\tnull\t\ntotal\tdecimal(38, 2)\tyes\tfalse\tnull\t\n",
		strings.ToLower(s.MustMySQL("DESC shop.by_region")))
	require.Equal(t, "big\tVIEW\nby_region\tVIEW\norders\tBASE TABLE\n", s.MustMySQL(
		"SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' ORDER BY 1"))
	out := s.MustMySQL("SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'shop' ORDER BY 1")
	require.Equal(t, "big\tSELECT region FROM by_region WHERE total > 10\nby_region\tSELECT region, SUM(amount) FROM orders WHERE region IS NOT NULL GROUP BY region\n", out)
	create := s.MustMySQL("SHOW CREATE VIEW shop.by_region")
	require.Contains(t, create, "CREATE VIEW `shop`.`by_region` (`region`, `total` COMMENT 'sum of amounts') COMMENT 'totals' AS SELECT region, SUM(amount)")

	// Writes and table DDL refuse a view; DROP VIEW refuses a table.
	for _, q := range []string{
		"INSERT INTO shop.by_region VALUES ('x', 1)",
		"DELETE FROM shop.by_region WHERE region = 'eu'",
		"DROP TABLE shop.by_region",
		"ALTER TABLE shop.by_region ADD COLUMN z INT",
	} {
		_, err := s.MySQL(q)
		require.ErrorContains(t, err, "ERROR 1347", q)
		require.ErrorContains(t, err, "is not BASE TABLE", q)
	}
	data := filepath.Join(t.TempDir(), "rows.csv")
	require.NoError(t, os.WriteFile(data, []byte("eu,1\n"), 0o644))
	out, err := s.Curl("--location-trusted", "-u", "root:", "-T", data, "-H", "Expect: 100-continue",
		"-H", "column_separator:,", fmt.Sprintf("http://127.0.0.1:%d/api/shop/by_region/_stream_load", s.HTTP))
	require.NoError(t, err)
	require.Contains(t, out, `"Status": "Fail"`)
	require.Contains(t, out, "is not BASE TABLE")
	_, err = s.MySQL("DROP VIEW shop.orders")
	require.ErrorContains(t, err, "ERROR 1347")
	_, err = s.MySQL("SHOW CREATE VIEW shop.orders")
	require.ErrorContains(t, err, "is not VIEW")
	_, err = s.MySQL("CREATE VIEW shop.by_region AS SELECT 1")
	require.ErrorContains(t, err, "ERROR 1050")
	_, err = s.MySQL("CREATE VIEW shop.bad AS SELECT nope FROM orders")
	require.ErrorContains(t, err, "ERROR 1054")
	_, err = s.MySQL("CREATE VIEW shop.bad (a, b) AS SELECT id FROM orders")
	require.ErrorContains(t, err, "ERROR 1353")

	// A view whose table changed under it names itself.
	s.MustMySQL("CREATE VIEW shop.ids AS SELECT id FROM orders")
	s.MustMySQL("ALTER TABLE shop.orders RENAME COLUMN id order_id")
	_, err = s.MySQL("SELECT * FROM shop.ids")
	require.ErrorContains(t, err, "ERROR 1356")
	s.MustMySQL("CREATE OR REPLACE VIEW shop.ids AS SELECT order_id AS id FROM orders")
	require.Equal(t, "4\n", s.MustMySQL("SELECT COUNT(*) FROM shop.ids"))

	// A user granted the view alone reads through it, not the table
	// under it, and may not create a view over that table.
	s.MustMySQL(`CREATE USER 'viewer'@'%' IDENTIFIED BY 'pw'; GRANT SELECT_PRIV ON shop.by_region TO 'viewer'@'%';
		GRANT CREATE_PRIV ON shop.* TO 'viewer'@'%'`)
	viewer := []string{"-uviewer", "--password=pw"}
	require.Equal(t, "eu\t15.00\nus\t7.00\n", s.MustMySQL("SELECT * FROM shop.by_region ORDER BY region", viewer...))
	_, err = s.MySQL("SELECT * FROM shop.orders", viewer...)
	require.ErrorContains(t, err, "ERROR 1142")
	_, err = s.MySQL("CREATE VIEW shop.mine AS SELECT * FROM shop.orders", viewer...)
	require.ErrorContains(t, err, "ERROR 1142")
	_, err = s.MySQL("DROP VIEW shop.by_region", viewer...)
	require.ErrorContains(t, err, "ERROR 1142")

	// Views are kept in the catalog: they survive a restart.
	s.Stop()
	s.Restart()
	require.Equal(t, "eu\t15.00\nus\t7.00\n", s.MustMySQL("SELECT * FROM shop.by_region ORDER BY region"))
	s.MustMySQL("DROP VIEW shop.big, shop.ids; DROP VIEW IF EXISTS shop.nope")
	_, err = s.MySQL("SELECT * FROM shop.big")
	require.ErrorContains(t, err, "ERROR 1146")
	require.Equal(t, fmt.Sprintf("%s\n", "by_region"), s.MustMySQL(
		"SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'shop'"))
}
