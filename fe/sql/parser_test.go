package sql

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/types"
)

func mustParse(t *testing.T, sql string) Stmt {
	t.Helper()
	s, err := Parse(sql)
	require.NoError(t, err, "sql: %s", sql)
	return s
}

func TestParseCorpus(t *testing.T) {
	for _, tc := range corpus {
		s, err := Parse(tc.sql)
		require.NoError(t, err, "sql: %s", tc.sql)
		require.Equal(t, tc.want, fmt.Sprintf("%T", s), "sql: %s", tc.sql)
	}
}

// TestQueryRoundTrip checks that the canonical text of every query parses
// back to the same canonical text.
func TestQueryRoundTrip(t *testing.T) {
	for _, tc := range corpus {
		s := mustParse(t, tc.sql)
		q, ok := s.(*SelectStmt)
		if !ok {
			continue
		}
		text := q.String()
		again, err := Parse(text)
		require.NoError(t, err, "canonical text of %q: %s", tc.sql, text)
		require.Equal(t, text, again.String(), "sql: %s", tc.sql)
	}
}

func TestParseFiles(t *testing.T) {
	for _, tc := range []struct {
		file  string
		count int
	}{
		{"testdata/sqlmd_examples.sql", 12},
		{"testdata/ssb_star.sql", 13},
		{"testdata/ssb_flat.sql", 13},
	} {
		data, err := os.ReadFile(tc.file)
		require.NoError(t, err)
		stmts, err := ParseMulti(string(data))
		require.NoError(t, err, tc.file)
		require.Len(t, stmts, tc.count, tc.file)
		for _, s := range stmts {
			again, err := Parse(s.Text())
			require.NoError(t, err, "text of statement: %s", s.Text())
			require.Equal(t, fmt.Sprintf("%T", s), fmt.Sprintf("%T", again))
		}
	}
}

func TestExprCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a + b * c", "a + (b * c)"},
		{"(a + b) * c", "(a + b) * c"},
		{"a OR b AND c", "a OR (b AND c)"},
		{"a || b && c", "a OR (b AND c)"},
		{"a XOR b OR c", "(a XOR b) OR c"},
		{"NOT a = b", "NOT (a = b)"},
		{"!a = b", "(NOT a) = b"},
		{"a <> b", "a != b"},
		{"a MOD 2", "a % 2"},
		{"a DIV 2 * 3", "(a DIV 2) * 3"},
		{"a | b & c", "a | (b & c)"},
		{"a + b << 1", "(a + b) << 1"},
		{"a ^ b * c", "(a ^ b) * c"},
		{"-a * b", "(-a) * b"},
		{"- - 1", "-(-1)"},
		{"a BETWEEN 1 AND 2 AND c", "(a BETWEEN 1 AND 2) AND c"},
		{"a NOT LIKE 'x%' ESCAPE '!'", "a NOT LIKE 'x%' ESCAPE '!'"},
		{"a RLIKE 'x'", "a REGEXP 'x'"},
		{"a IS NOT NULL = TRUE", "(a IS NOT NULL) = TRUE"},
		{"x = 1 IS TRUE", "(x = 1) IS TRUE"},
		{"a IN (1, 2) OR b NOT IN ('c')", "(a IN (1, 2)) OR (b NOT IN ('c'))"},
		{"d + INTERVAL 1 DAY", "d + INTERVAL 1 DAY"},
		{"date_add(d, interval 2 hour)", "date_add(d, INTERVAL 2 HOUR)"},
		{"CAST(a AS signed integer)", "CAST(a AS SIGNED)"},
		{"cast(a as decimalv3(10,2))", "CAST(a AS DECIMALV3(10, 2))"},
		{"CONVERT(a, UNSIGNED)", "CONVERT(a, UNSIGNED)"},
		{"convert(a using utf8mb4)", "CONVERT(a USING utf8mb4)"},
		{"TRIM(TRAILING ')' FROM x)", "TRIM(TRAILING ')' FROM x)"},
		{"trim(both from x)", "TRIM(BOTH FROM x)"},
		{"EXTRACT(year FROM d)", "EXTRACT(YEAR FROM d)"},
		{"COUNT(*)", "COUNT(*)"},
		{"count(distinct a, b)", "count(DISTINCT a, b)"},
		{"@@GLOBAL.time_zone", "@@global.time_zone"},
		{"@@local.x", "@@session.x"},
		{"@v", "@v"},
		{"a COLLATE utf8_bin = 'x'", "(a COLLATE utf8_bin) = 'x'"},
		{"BINARY a = 'x'", "(BINARY a) = 'x'"},
		{"'it''s' ' ok'", "'it\\'s ok'"},
		{"\"a\\tb\"", "'a\\tb'"},
		{"'50\\%'", "'50\\%'"},
		{"DATE '2024-01-01'", "DATE '2024-01-01'"},
		{"`select`.`from`", "`select`.`from`"},
		{"t.select", "t.`select`"},
		{"current_timestamp", "current_timestamp"},
		{"CASE WHEN a THEN 1 ELSE 2 END", "CASE WHEN a THEN 1 ELSE 2 END"},
		{"(1, 2)", "(1, 2)"},
		{"a = (SELECT 1)", "a = (SELECT 1)"},
		{"NOT EXISTS (SELECT 1)", "NOT EXISTS (SELECT 1)"},
		{"12345678901234567890123", "12345678901234567890123"},
		{"1.5e3", "1.5e3"},
		{"0xFF", "0xFF"},
		{"?", "?"},
	} {
		e, err := ParseExpr(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, e.String(), tc.in)
	}
}

func TestLiterals(t *testing.T) {
	e, err := ParseExpr("9223372036854775807")
	require.NoError(t, err)
	require.Equal(t, &IntLit{Text: "9223372036854775807", Val: 9223372036854775807}, e)
	e, err = ParseExpr("9223372036854775808")
	require.NoError(t, err)
	require.Equal(t, &IntLit{Text: "9223372036854775808", Big: true}, e)
	e, err = ParseExpr("1.50")
	require.NoError(t, err)
	require.Equal(t, &DecimalLit{Text: "1.50"}, e)
	e, err = ParseExpr("2.5E-1")
	require.NoError(t, err)
	require.Equal(t, &FloatLit{Text: "2.5E-1", Val: 0.25}, e)
	e, err = ParseExpr(`'a\nb\\c\'d''e\0'`)
	require.NoError(t, err)
	require.Equal(t, &StringLit{Val: "a\nb\\c'd'e\x00"}, e)
	e, err = ParseExpr(`"x""y"`)
	require.NoError(t, err)
	require.Equal(t, &StringLit{Val: `x"y`, DoubleQuoted: true}, e)
	e, err = ParseExpr("TIMESTAMP '2024-01-01 10:00:00'")
	require.NoError(t, err)
	require.Equal(t, &TypedLit{Type: "TIMESTAMP", Val: "2024-01-01 10:00:00"}, e)
	e, err = ParseExpr("x'0A'")
	require.NoError(t, err)
	require.Equal(t, &HexLit{Digits: "0A"}, e)
}

func TestSelectItems(t *testing.T) {
	s := mustParse(t, "SELECT sum(lo_revenue), a+1 AS x, b  y, c \"time\", d 'q', t.*, *, `e` FROM t").(*SelectStmt)
	blk := s.Body.(*SelectBlock)
	var got [][2]string
	for _, it := range blk.Items {
		got = append(got, [2]string{it.Text, it.Alias})
	}
	require.Equal(t, [][2]string{
		{"sum(lo_revenue)", ""}, {"a+1", "x"}, {"b", "y"}, {"c", "time"}, {"d", "q"}, {"t.*", ""}, {"*", ""}, {"`e`", ""},
	}, got)
	require.Equal(t, &StarExpr{Table: "t"}, blk.Items[5].Expr)
	require.Equal(t, &ColumnRef{Column: "e"}, blk.Items[7].Expr)
}

func TestSelectStructure(t *testing.T) {
	s := mustParse(t, "SELECT DISTINCT a FROM db.t1 AS x LEFT JOIN t2 y USING (k), t3 WHERE a > ? AND b = ? "+
		"GROUP BY a HAVING count(*) > 1 ORDER BY a DESC NULLS LAST LIMIT 3, 4").(*SelectStmt)
	require.Equal(t, 2, s.ParamCount())
	blk := s.Body.(*SelectBlock)
	require.True(t, blk.Distinct)
	comma := blk.From.(*Join)
	require.True(t, comma.Comma)
	require.Equal(t, &TableSource{Name: ObjectName{Name: "t3"}}, comma.Right)
	left := comma.Left.(*Join)
	require.Equal(t, JoinLeft, left.Kind)
	require.Equal(t, []string{"k"}, left.Using)
	require.Equal(t, &TableSource{Name: ObjectName{DB: "db", Name: "t1"}, Alias: "x"}, left.Left)
	require.Equal(t, &TableSource{Name: ObjectName{Name: "t2"}, Alias: "y"}, left.Right)
	where := blk.Where.(*BinaryExpr)
	require.Equal(t, &Placeholder{Index: 0}, where.L.(*BinaryExpr).R)
	require.Equal(t, &Placeholder{Index: 1}, where.R.(*BinaryExpr).R)
	require.Equal(t, []*OrderItem{{Expr: &ColumnRef{Column: "a"}, Desc: true, Nulls: "LAST"}}, s.OrderBy)
	require.Equal(t, &Limit{Count: &IntLit{Text: "4", Val: 4}, Offset: &IntLit{Text: "3", Val: 3}}, s.Limit)

	s = mustParse(t, "SELECT a FROM t UNION ALL SELECT b FROM u ORDER BY 1 LIMIT 2").(*SelectStmt)
	op := s.Body.(*SetOp)
	require.Equal(t, "UNION", op.Op)
	require.True(t, op.All)
	require.NotNil(t, s.Limit)

	s = mustParse(t, "SELECT 1 FROM DUAL").(*SelectStmt)
	require.Nil(t, s.Body.(*SelectBlock).From)
}

func TestNonReservedNames(t *testing.T) {
	s := mustParse(t, "SELECT date, year, comment, status, value, type, key, `order` FROM t AS status WHERE date > '2020-01-01'").(*SelectStmt)
	blk := s.Body.(*SelectBlock)
	require.Len(t, blk.Items, 8)
	require.Equal(t, &ColumnRef{Column: "key"}, blk.Items[6].Expr)
	require.Equal(t, "status", blk.From.(*TableSource).Alias)

	ct := mustParse(t, "CREATE TABLE t (date DATE, year INT, comment STRING, status TINYINT, value DOUBLE, type VARCHAR(3)) DUPLICATE KEY(date) DISTRIBUTED BY HASH(date)").(*CreateTableStmt)
	require.Len(t, ct.Columns, 6)
	require.Equal(t, "comment", ct.Columns[2].Name)
}

func TestCreateTableExample(t *testing.T) {
	data, err := os.ReadFile("testdata/sqlmd_examples.sql")
	require.NoError(t, err)
	stmts, err := ParseMulti(string(data))
	require.NoError(t, err)

	ct := stmts[0].(*CreateTableStmt)
	require.True(t, ct.IfNotExists)
	require.Equal(t, ObjectName{DB: "analytics", Name: "page_events"}, ct.Name)
	require.Len(t, ct.Columns, 7)
	require.Equal(t, &ColumnDef{Name: "event_day", Type: &TypeName{Name: "DATE"}, Null: NotNull, Comment: "partition day"}, ct.Columns[0])
	require.Equal(t, &TypeName{Name: "DATETIME", Params: []int{3}}, ct.Columns[1].Type)
	require.Equal(t, &StringLit{Val: "0", DoubleQuoted: true}, ct.Columns[6].Default)
	require.Equal(t, []*IndexDef{{Name: "idx_url", Columns: []string{"url"}, Using: "INVERTED", Comment: "full text on url"}}, ct.Indexes)
	require.Equal(t, KeysDuplicate, ct.Keys)
	require.Equal(t, []string{"event_day", "event_time", "site_id"}, ct.KeyColumns)
	require.Equal(t, "raw page view stream", ct.Comment)
	require.Equal(t, &PartitionDesc{Type: "RANGE", Columns: []string{"event_day"}, Exprs: []Expr{&ColumnRef{Column: "event_day"}}}, ct.Partition)
	require.Equal(t, &DistributionDesc{Columns: []string{"session_id"}, Buckets: 16}, ct.Distribution)
	require.Len(t, ct.Properties, 9)
	require.Equal(t, Property{Key: "compression", Value: "ZSTD"}, ct.Properties[8])

	ct = stmts[1].(*CreateTableStmt)
	require.Equal(t, KeysUnique, ct.Keys)
	require.Equal(t, &FuncCall{Name: "CURRENT_TIMESTAMP", Args: []Expr{&IntLit{Text: "6", Val: 6}}}, ct.Columns[5].Default)
	require.Equal(t, "LIST", ct.Partition.Type)
	require.Len(t, ct.Partition.Items, 3)
	require.Equal(t, PartitionIn, ct.Partition.Items[0].Kind)
	require.Equal(t, [][]Expr{{&StringLit{Val: "CN", DoubleQuoted: true}}, {&StringLit{Val: "JP", DoubleQuoted: true}},
		{&StringLit{Val: "SG", DoubleQuoted: true}}}, ct.Partition.Items[0].In)

	ct = stmts[2].(*CreateTableStmt)
	require.Equal(t, KeysAggregate, ct.Keys)
	aggs := []string{}
	for _, c := range ct.Columns {
		aggs = append(aggs, c.AggType)
	}
	require.Equal(t, []string{"", "", "", "SUM", "SUM", "MAX", "MIN", "REPLACE", "REPLACE_IF_NOT_NULL", "BITMAP_UNION", "HLL_UNION"}, aggs)
	require.Equal(t, &PartitionDef{Kind: PartitionBatch, Lower: []Expr{&StringLit{Val: "2024-01-01", DoubleQuoted: true}},
		Upper: []Expr{&StringLit{Val: "2025-01-01", DoubleQuoted: true}}, Interval: 1, IntervalUnit: "MONTH"}, ct.Partition.Items[0])
	require.Equal(t, []*RollupDef{{Name: "r_by_channel", Columns: []string{"stat_date", "channel", "impressions", "clicks", "uv_bitmap"}}}, ct.Rollups)

	ins := stmts[3].(*InsertStmt)
	require.Len(t, ins.Values, 1)
	require.Len(t, ins.Values[0], 11)

	ct = stmts[5].(*CreateTableStmt)
	require.True(t, ct.Partition.Auto)
	require.Equal(t, []string{"ts"}, ct.Partition.Columns)
	require.Equal(t, "date_trunc(ts, 'month')", ct.Partition.Exprs[0].String())
	require.Equal(t, &DistributionDesc{Random: true, AutoBuckets: true}, ct.Distribution)
	require.Equal(t, "ARRAY<VARCHAR(32)>", ct.Columns[3].Type.String())
	require.Equal(t, "MAP<VARCHAR(32), DOUBLE>", ct.Columns[4].Type.String())
	require.Equal(t, "STRUCT<lat:DOUBLE, lon:DOUBLE>", ct.Columns[5].Type.String())

	ins = stmts[7].(*InsertStmt)
	require.Equal(t, []string{"customer_id", "email", "segment", "score", "signup_date", "__DORIS_SEQUENCE_COL__"}, ins.Columns)

	alter := stmts[10].(*AlterTableStmt)
	require.Equal(t, AlterAddColumn, alter.Cmds[0].Kind)
	require.Equal(t, "segment", alter.Cmds[0].After)
	require.Equal(t, "country", alter.Cmds[0].Columns[0].Name)

	mv := stmts[11].(*CreateMaterializedViewStmt)
	require.Equal(t, "mv_cid_segment", mv.Name.Name)
	require.Equal(t, "SELECT customer_id AS cid_, segment AS seg_ FROM crm.customer_profile", mv.QueryText)
}

func TestCreateTableDetails(t *testing.T) {
	ct := mustParse(t, "CREATE TABLE t (id BIGINT NOT NULL AUTO_INCREMENT(100), v INT KEY, "+
		"ts DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, m INT DEFAULT -1, "+
		"g INT GENERATED ALWAYS AS (m + 1) NULL) UNIQUE KEY(id, v) ORDER BY (v) "+
		"PARTITION BY RANGE(id) (PARTITION p1 VALUES [(1), (10)) (\"replication_num\" = \"1\")) "+
		"DISTRIBUTED BY HASH(id) BUCKETS 3 PROPERTIES ('a' = 'b', \"c\" = \"d\")").(*CreateTableStmt)
	start := int64(100)
	require.Equal(t, &ColumnDef{Name: "id", Type: &TypeName{Name: "BIGINT"}, Null: NotNull, AutoIncrement: true,
		AutoIncrementStart: &start}, ct.Columns[0])
	require.True(t, ct.Columns[1].IsKey)
	require.Equal(t, &FuncCall{Name: "CURRENT_TIMESTAMP", NoParens: true}, ct.Columns[2].Default)
	require.Equal(t, &FuncCall{Name: "CURRENT_TIMESTAMP", NoParens: true}, ct.Columns[2].OnUpdate)
	require.Equal(t, &UnaryExpr{Op: "-", X: &IntLit{Text: "1", Val: 1}}, ct.Columns[3].Default)
	require.Equal(t, "m + 1", ct.Columns[4].Generated.String())
	require.Equal(t, Nullable, ct.Columns[4].Null)
	require.Equal(t, []string{"v"}, ct.ClusterBy)
	require.Equal(t, &PartitionDef{Kind: PartitionFixed, Name: "p1", Lower: []Expr{&IntLit{Text: "1", Val: 1}},
		Upper: []Expr{&IntLit{Text: "10", Val: 10}}, Properties: []Property{{Key: "replication_num", Value: "1"}}},
		ct.Partition.Items[0])
	require.Equal(t, []Property{{"a", "b"}, {"c", "d"}}, ct.Properties)

	ct = mustParse(t, "CREATE TABLE t2 AS SELECT * FROM t1").(*CreateTableStmt)
	require.NotNil(t, ct.AsSelect)
	ct = mustParse(t, "CREATE TABLE t2 LIKE db.t1 WITH ROLLUP").(*CreateTableStmt)
	require.Equal(t, &ObjectName{DB: "db", Name: "t1"}, ct.Like)
	require.True(t, ct.LikeWithRollup)
	ct = mustParse(t, "CREATE TABLE t (d DATE, v INT) PARTITION BY RANGE(d) (PARTITION p VALUES LESS THAN MAXVALUE) DISTRIBUTED BY HASH(v)").(*CreateTableStmt)
	require.Equal(t, []Expr{&MaxValue{}}, ct.Partition.Items[0].LessThan)
}

func TestDMLDetails(t *testing.T) {
	ins := mustParse(t, "INSERT INTO db.t PARTITION (p1) WITH LABEL lbl (a, b) VALUES (1, DEFAULT), ()").(*InsertStmt)
	require.Equal(t, ObjectName{DB: "db", Name: "t"}, ins.Table)
	require.Equal(t, []string{"p1"}, ins.Partitions)
	require.Equal(t, "lbl", ins.Label)
	require.Equal(t, []string{"a", "b"}, ins.Columns)
	require.Equal(t, [][]Expr{{&IntLit{Text: "1", Val: 1}, &DefaultExpr{}}, {}}, ins.Values)

	ins = mustParse(t, "INSERT OVERWRITE TABLE t SELECT * FROM u").(*InsertStmt)
	require.True(t, ins.Overwrite)
	require.NotNil(t, ins.Select)

	del := mustParse(t, "DELETE FROM t PARTITION p1 WHERE k = 1").(*DeleteStmt)
	require.Equal(t, []string{"p1"}, del.Partitions)
	require.Equal(t, "k = 1", del.Where.String())

	up := mustParse(t, "UPDATE t SET score = score + 1 WHERE customer_id = 1").(*UpdateStmt)
	require.Equal(t, []*Assignment{{Column: &ColumnRef{Column: "score"}, Value: &BinaryExpr{Op: "+",
		L: &ColumnRef{Column: "score"}, R: &IntLit{Text: "1", Val: 1}}}}, up.Set)
}

func TestUtilityDetails(t *testing.T) {
	require.Equal(t, &UseStmt{stmtBase: stmtBase{text: "USE internal.db"}, Catalog: "internal", DB: "db"},
		mustParse(t, "USE internal.db"))

	sh := mustParse(t, "SHOW FULL COLUMNS FROM `t` FROM `db` LIKE 'c%'").(*ShowStmt)
	require.Equal(t, "COLUMNS", sh.Kind)
	require.True(t, sh.Full)
	require.Equal(t, ObjectName{DB: "db", Name: "t"}, sh.Table)
	require.Equal(t, "c%", *sh.Like)

	sh = mustParse(t, "SHOW FULL TABLES FROM db WHERE Table_type = 'VIEW'").(*ShowStmt)
	require.Equal(t, "TABLES", sh.Kind)
	require.Equal(t, "db", sh.DB)
	require.NotNil(t, sh.Where)

	sh = mustParse(t, "SHOW GLOBAL VARIABLES LIKE 'x'").(*ShowStmt)
	require.Equal(t, "GLOBAL", sh.Scope)
	sh = mustParse(t, "SHOW GRANTS FOR 'admin'@'%'").(*ShowStmt)
	require.Equal(t, "'admin'@'%'", sh.Name)
	sh = mustParse(t, "SHOW ALTER TABLE COLUMN FROM db ORDER BY CreateTime DESC LIMIT 1").(*ShowStmt)
	require.Equal(t, "ALTER TABLE COLUMN", sh.Kind)
	require.Equal(t, "db", sh.DB)
	require.Len(t, sh.OrderBy, 1)
	sh = mustParse(t, "SHOW CREATE MATERIALIZED VIEW mv ON db.t").(*ShowStmt)
	require.Equal(t, "mv", sh.Name)
	require.Equal(t, ObjectName{DB: "db", Name: "t"}, sh.Table)

	d := mustParse(t, "DESC db.t ALL").(*DescribeStmt)
	require.Equal(t, ObjectName{DB: "db", Name: "t"}, d.Table)
	require.True(t, d.All)

	ex := mustParse(t, "EXPLAIN VERBOSE SELECT a FROM t").(*ExplainStmt)
	require.Equal(t, "VERBOSE", ex.Level)
	require.Equal(t, "SELECT a FROM t", ex.Stmt.Text())

	set := mustParse(t, "SET GLOBAL a = 1, @@session.b = 'x', @u = 2, NAMES utf8mb4 COLLATE utf8mb4_bin, "+
		"SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED, c = ON, d = DEFAULT").(*SetStmt)
	require.Equal(t, []*SetItem{
		{Kind: SetVariable, Scope: "GLOBAL", Name: "a", Value: &IntLit{Text: "1", Val: 1}},
		{Kind: SetVariable, Scope: "SESSION", Name: "b", Value: &StringLit{Val: "x"}},
		{Kind: SetVariable, Name: "u", User: true, Value: &IntLit{Text: "2", Val: 2}},
		{Kind: SetNames, Charset: "utf8mb4", Collation: "utf8mb4_bin"},
		{Kind: SetTransaction, Scope: "SESSION", Isolation: "READ COMMITTED"},
		{Kind: SetVariable, Name: "c", Value: &ColumnRef{Column: "ON"}},
		{Kind: SetVariable, Name: "d", Value: &DefaultExpr{}},
	}, set.Items)

	k := mustParse(t, "KILL QUERY 12").(*KillStmt)
	require.True(t, k.Query)
	require.Equal(t, &IntLit{Text: "12", Val: 12}, k.ID)

	c := mustParse(t, "CANCEL ALTER TABLE ROLLUP FROM db.t (10, 11)").(*CancelAlterStmt)
	require.Equal(t, &CancelAlterStmt{stmtBase: c.stmtBase, Kind: "ROLLUP", Table: ObjectName{DB: "db", Name: "t"}, JobIDs: []int64{10, 11}}, c)
	require.True(t, c.Matches("ROLLUP", false) && !c.Matches("SCHEMA_CHANGE", false))
	c = mustParse(t, "cancel alter table materialized view from t").(*CancelAlterStmt)
	require.True(t, c.Matches("ROLLUP", true) && !c.Matches("ROLLUP", false))
	c = mustParse(t, "CANCEL ALTER TABLE COLUMN FROM t").(*CancelAlterStmt)
	require.True(t, c.Matches("SCHEMA_CHANGE", false) && !c.Matches("ROLLUP", true))
}

func TestAlterDetails(t *testing.T) {
	a := mustParse(t, "ALTER TABLE db.t ADD ROLLUP r1 (a, b), r2 (b) FROM base, DROP ROLLUP r3, r4, "+
		"MODIFY COLUMN c COMMENT 'x', RENAME COLUMN a TO b, SET ('k' = 'v')").(*AlterTableStmt)
	require.Len(t, a.Cmds, 5)
	require.Equal(t, AlterAddRollup, a.Cmds[0].Kind)
	require.Len(t, a.Cmds[0].Rollups, 2)
	require.Equal(t, "base", a.Cmds[0].Rollups[1].FromIndex)
	require.Equal(t, []string{"r3", "r4"}, a.Cmds[1].Names)
	require.Equal(t, &AlterCmd{Kind: AlterModifyColumnComment, Name: "c", Comment: "x"}, a.Cmds[2])
	require.Equal(t, &AlterCmd{Kind: AlterRenameColumn, Name: "a", NewName: "b"}, a.Cmds[3])
	require.Equal(t, []Property{{"k", "v"}}, a.Cmds[4].Properties)

	a = mustParse(t, "ALTER TABLE t ADD PARTITION p2 VALUES LESS THAN ('2024-02-01')").(*AlterTableStmt)
	require.Equal(t, "p2", a.Cmds[0].Partition.Name)
	a = mustParse(t, "ALTER TABLE t DROP PARTITION p2").(*AlterTableStmt)
	require.Equal(t, &AlterCmd{Kind: AlterDropPartition, Name: "p2"}, a.Cmds[0])
}

func TestParseMulti(t *testing.T) {
	stmts, err := ParseMulti("SHOW VARIABLES LIKE 'lower_case_%'; SHOW VARIABLES LIKE 'sql_mode'; " +
		"SELECT COUNT(*) AS support_ndb FROM information_schema.ENGINES WHERE Engine = 'ndbcluster';;")
	require.NoError(t, err)
	require.Len(t, stmts, 3)
	require.Equal(t, "SHOW VARIABLES LIKE 'sql_mode'", stmts[1].Text())

	stmts, err = ParseMulti("SELECT ';' AS a; /* ; */ SELECT `;` FROM t -- ;\n; SELECT \"x;\"")
	require.NoError(t, err)
	require.Len(t, stmts, 3)
	require.Equal(t, "SELECT `;` FROM t", stmts[1].Text())

	stmts, err = ParseMulti("  ;; -- nothing\n")
	require.NoError(t, err)
	require.Empty(t, stmts)
	_, err = Parse("/* only a comment */")
	require.ErrorIs(t, err, ErrEmptyQuery)
}

func TestSyntaxErrors(t *testing.T) {
	const prefix = "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near "
	for _, tc := range []struct {
		sql       string
		near      string
		line, col int
	}{
		{"SELECT * FORM t", "'FORM t' at line 1", 1, 10},
		{"SELECT a FROM t WHERE", "'' at line 1", 1, 22},
		{"SELECT\n  a,\n  FROM t", "'FROM t' at line 3", 3, 3},
		{"SELEC 1", "'SELEC 1' at line 1", 1, 1},
		{"SELECT 'abc", "''abc' at line 1", 1, 8},
		{"SELECT 1; SELECT 2", "'SELECT 2' at line 1", 1, 11},
		{"CREATE TABLE t (a INT", "'' at line 1", 1, 22},
		{"SELECT (1 + 2", "'' at line 1", 1, 14},
		{"INSERT INTO t VALUES (1", "'' at line 1", 1, 24},
		{"SELECT a FROM (SELECT 1)", "'' at line 1", 1, 25},
		{"SELECT 1 /* open", "'/* open' at line 1", 1, 10},
		{"SELECT * FROM t WHERE a = 1 ORDER a", "'ORDER a' at line 1", 1, 29},
		{"CANCEL ALTER TABLE INDEX FROM t", "'INDEX FROM t' at line 1", 1, 20},
		{"CANCEL ALTER TABLE ROLLUP t", "'t' at line 1", 1, 27},
		{"CANCEL ALTER TABLE ROLLUP FROM t (x)", "'x)' at line 1", 1, 35},
		{"CANCEL ALTER TABLE ROLLUP FROM t (1,", "'' at line 1", 1, 37},
	} {
		_, err := Parse(tc.sql)
		var se *SyntaxError
		require.True(t, errors.As(err, &se), "sql %q: got %v", tc.sql, err)
		require.Equal(t, prefix+tc.near, err.Error(), tc.sql)
		require.Equal(t, tc.line, se.Line, tc.sql)
		require.Equal(t, tc.col, se.Column, tc.sql)
	}
	// The quoted remainder is cut at 80 bytes.
	long := "SELECT * FORM " + string(make([]byte, 0)) + "t WHERE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1"
	_, err := Parse(long)
	var se *SyntaxError
	require.True(t, errors.As(err, &se))
	require.Len(t, se.Near, 80)
}

func TestUnsupported(t *testing.T) {
	for _, tc := range []struct{ sql, msg string }{
		{"ADMIN SET FRONTEND CONFIG ('a' = 'b')", "unsupported statement: ADMIN"},
		{"GRANT USAGE_PRIV ON RESOURCE 'r' TO u", "unsupported statement: RESOURCE privileges"},
		{"CANCEL LOAD FROM db", "unsupported statement: CANCEL"},
		{"CREATE FUNCTION f", "unsupported statement: CREATE FUNCTION"},
		{"SHOW TABLET 1", "unsupported statement: SHOW TABLET"},
		{"SELECT * FROM a NATURAL JOIN b", "unsupported statement: NATURAL JOIN"},
		{"CREATE MATERIALIZED VIEW mv BUILD IMMEDIATE REFRESH AUTO AS SELECT 1", "unsupported statement: CREATE MATERIALIZED VIEW with BUILD/REFRESH (asynchronous materialized view)"},
	} {
		_, err := Parse(tc.sql)
		var ue *UnsupportedError
		require.True(t, errors.As(err, &ue), "sql %q: got %v", tc.sql, err)
		require.Equal(t, tc.msg, err.Error())
	}
}

func TestTypeResolve(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		want types.Type
		err  string
	}{
		{"BOOLEAN", types.Boolean, ""},
		{"bool", types.Boolean, ""},
		{"TINYINT(4)", types.TinyInt, ""},
		{"smallint", types.SmallInt, ""},
		{"INT(11)", types.Int, ""},
		{"INTEGER", types.Int, ""},
		{"BIGINT(20)", types.BigInt, ""},
		{"LARGEINT", types.LargeInt, ""},
		{"FLOAT", types.Float, ""},
		{"DOUBLE", types.Double, ""},
		{"DECIMAL(10, 2)", types.Decimal(10, 2), ""},
		{"DECIMALV3(38,9)", types.Decimal(38, 9), ""},
		{"DECIMALV2(27)", types.Decimal(27, 0), ""},
		{"DECIMAL", types.Decimal(9, 0), ""},
		{"DATE", types.Date, ""},
		{"DATEV2", types.Date, ""},
		{"DATETIME", types.DateTime(0), ""},
		{"DATETIMEV2(6)", types.DateTime(6), ""},
		{"CHAR", types.Char(1), ""},
		{"CHAR(10)", types.Char(10), ""},
		{"VARCHAR", types.Varchar(65533), ""},
		{"VARCHAR(64)", types.Varchar(64), ""},
		{"STRING", types.String, ""},
		{"TEXT", types.String, ""},
		{"ARRAY<INT>", types.Type{}, "type ARRAY is not supported yet"},
		{"MAP<INT, INT>", types.Type{}, "type MAP is not supported yet"},
		{"STRUCT<a:INT>", types.Type{}, "type STRUCT is not supported yet"},
		{"JSON", types.Type{}, "type JSON is not supported yet"},
		{"JSONB", types.Type{}, "type JSONB is not supported yet"},
		{"BITMAP", types.Bitmap, ""},
		{"bitmap", types.Bitmap, ""},
		{"HLL", types.HLL, ""},
		{"BITMAP(3)", types.Type{}, "type BITMAP takes no parameters"},
		{"HLL(1)", types.Type{}, "type HLL takes no parameters"},
		{"QUANTILE_STATE", types.Type{}, "type QUANTILE_STATE is not supported yet"},
		{"DECIMAL(39, 2)", types.Type{}, "invalid type DECIMAL(39, 2): DECIMAL precision must be between 1 and 38, got 39"},
		{"DATETIME(7)", types.Type{}, "invalid type DATETIME(7): DATETIME precision must be between 0 and 6, got 7"},
		{"VARCHAR(1, 2)", types.Type{}, "type VARCHAR takes at most 1 parameter"},
		{"STRING(3)", types.Type{}, "type STRING takes no parameters"},
	} {
		ct := mustParse(t, "CREATE TABLE t (c "+tc.typ+")").(*CreateTableStmt)
		got, err := ct.Columns[0].Type.Resolve()
		if tc.err != "" {
			require.EqualError(t, err, tc.err, tc.typ)
			continue
		}
		require.NoError(t, err, tc.typ)
		require.Equal(t, tc.want, got, tc.typ)
	}
	sel := mustParse(t, "SELECT CAST(a AS SIGNED), CAST(a AS UNSIGNED INTEGER)").(*SelectStmt)
	items := sel.Body.(*SelectBlock).Items
	ty, err := items[0].Expr.(*CastExpr).Type.Resolve()
	require.NoError(t, err)
	require.Equal(t, types.BigInt, ty)
	ty, err = items[1].Expr.(*CastExpr).Type.Resolve()
	require.NoError(t, err)
	require.Equal(t, types.LargeInt, ty)
	// The aggregate-key columns of the sketch types.
	ct := mustParse(t, "CREATE TABLE t (k INT, v BITMAP BITMAP_UNION NOT NULL, h HLL HLL_UNION) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k)").(*CreateTableStmt)
	for i, want := range []types.Type{types.Int, types.Bitmap, types.HLL} {
		got, err := ct.Columns[i].Type.Resolve()
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	require.Equal(t, "BITMAP_UNION", ct.Columns[1].AggType)
	require.Equal(t, "HLL_UNION", ct.Columns[2].AggType)
	sel = mustParse(t, "SELECT CAST(NULL AS BITMAP), CAST(h AS HLL)").(*SelectStmt)
	items = sel.Body.(*SelectBlock).Items
	ty, err = items[0].Expr.(*CastExpr).Type.Resolve()
	require.NoError(t, err)
	require.Equal(t, types.Bitmap, ty)
	ty, err = items[1].Expr.(*CastExpr).Type.Resolve()
	require.NoError(t, err)
	require.Equal(t, types.HLL, ty)
}

func TestStatementText(t *testing.T) {
	stmts, err := ParseMulti("/* lead */ CREATE VIEW v AS SELECT a  +  1 FROM t ; SHOW CREATE VIEW v")
	require.NoError(t, err)
	v := stmts[0].(*CreateViewStmt)
	require.Equal(t, "CREATE VIEW v AS SELECT a  +  1 FROM t", v.Text())
	require.Equal(t, "SELECT a  +  1 FROM t", v.QueryText)
	require.Equal(t, "SHOW CREATE VIEW v", stmts[1].Text())
}

func TestDeepNesting(t *testing.T) {
	for _, sql := range []string{
		"SELECT " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000),
		"SELECT " + strings.Repeat("-", 100000) + "1",
		"SELECT " + strings.Repeat("NOT ", 100000) + "1",
		strings.Repeat("(", 100000) + "SELECT 1" + strings.Repeat(")", 100000),
		"SELECT * FROM " + strings.Repeat("(", 100000) + "t" + strings.Repeat(")", 100000),
		"CREATE TABLE t (a " + strings.Repeat("ARRAY<", 100000) + "INT" + strings.Repeat(">", 100000) + ")",
	} {
		_, err := Parse(sql)
		var se *SyntaxError
		require.True(t, errors.As(err, &se), "got %v", err)
		require.Equal(t, "statement nested too deeply", se.Detail)
	}
	// Reasonable nesting is fine.
	mustParse(t, "SELECT "+strings.Repeat("(", 100)+"1"+strings.Repeat(")", 100))
}

func TestParseAlterSystem(t *testing.T) {
	s := mustParse(t, `ALTER SYSTEM ADD BACKEND "h1:8060", 'h2:8061'`).(*AlterSystemStmt)
	require.Equal(t, "ADD", s.Op)
	require.Equal(t, "BACKEND", s.Node)
	require.Equal(t, []string{"h1:8060", "h2:8061"}, s.Hosts)
	for _, bad := range []string{
		"ALTER SYSTEM ADD BACKEND",
		"ALTER SYSTEM ADD BACKEND h1",
		`ALTER SYSTEM DECOMMISSION FOLLOWER "h:1"`,
		`ALTER SYSTEM MOVE BACKEND "h:1"`,
		`ALTER SYSTEM ADD BACKEND "h:1",`,
	} {
		_, err := Parse(bad)
		require.Error(t, err, bad)
	}
}
