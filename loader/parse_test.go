package loader

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

func TestCSV(t *testing.T) {
	tbl := testTable()
	for _, tc := range []struct {
		name     string
		hdr      map[string]string
		body     string
		rows     [][]string
		filtered int64
		errHas   string
	}{
		{name: "tab default", body: "1\ta\t10\t5\n2\tb\t20\t6\n",
			rows: [][]string{{"1", "a", "10", "5"}, {"2", "b", "20", "6"}}},
		{name: "x01 and x02 no trailing delimiter", hdr: map[string]string{"column_separator": `\x01`, "line_delimiter": `\x02`, "columns": "id,name,age"},
			body: "1\x01a\x0110\x022\x01b\x0120",
			rows: [][]string{{"1", "a", "10", "NULL"}, {"2", "b", "20", "NULL"}}},
		{name: "multi-byte separators", hdr: map[string]string{"column_separator": "||", "line_delimiter": `\x0d\x0a`},
			body: "1||a||10||5\r\n2||b|c||20||6\r\n",
			rows: [][]string{{"1", "a", "10", "5"}, {"2", "b|c", "20", "6"}}},
		{name: "null and empty", hdr: map[string]string{"column_separator": ","},
			body: "1,\\N,\\N,\n2,,3,4\n",
			rows: [][]string{{"1", "NULL", "NULL", "NULL"}, {"2", "", "3", "4"}}},
		{name: "empty_field_as_null", hdr: map[string]string{"column_separator": ",", "empty_field_as_null": "true"},
			body: "2,,3,4\n", rows: [][]string{{"2", "NULL", "3", "4"}}},
		{name: "too many and too few", hdr: map[string]string{"column_separator": ","},
			body: "1,a,2,3,4\n2,a\n3,c,4,5\n", rows: [][]string{{"3", "c", "4", "5"}}, filtered: 2,
			errHas: "actual column number in csv file is more than schema column number. actual number: 5, schema column number: 4"},
		{name: "bad int", hdr: map[string]string{"column_separator": ",", "columns": "id,name,age"},
			body: "1,abc,3\n1,x,abc", rows: [][]string{{"1", "abc", "3", "NULL"}}, filtered: 1,
			errHas: "column(age) value is incorrect: 'abc' is not a valid INT | 1,x,abc"},
		{name: "skip lines and empty lines", hdr: map[string]string{"column_separator": ",", "skip_lines": "1"},
			body: "header\n\n1,a,2,3\n\n", rows: [][]string{{"1", "a", "2", "3"}}},
		{name: "csv_with_names", hdr: map[string]string{"column_separator": ",", "format": "csv_with_names"},
			body: "id,name,age,ts\n1,a,2,3\n", rows: [][]string{{"1", "a", "2", "3"}}},
		{name: "csv_with_names_and_types", hdr: map[string]string{"column_separator": ",", "format": "csv_with_names_and_types"},
			body: "id,name,age,ts\nBIGINT,VARCHAR,INT,BIGINT\n1,a,2,3\n", rows: [][]string{{"1", "a", "2", "3"}}},
		{name: "trim_double_quotes", hdr: map[string]string{"column_separator": ",", "trim_double_quotes": "true"},
			body: "\"1\",\"a,\"b\",2,3\n", rows: nil, filtered: 1},
		{name: "trim_double_quotes simple", hdr: map[string]string{"column_separator": ",", "trim_double_quotes": "true"},
			body: "\"1\",\"ab\",2,\"3\"\n", rows: [][]string{{"1", "ab", "2", "3"}}},
		{name: "enclose", hdr: map[string]string{"column_separator": ",", "enclose": `"`},
			body: "1,\"a,b\nc\",2,3\n2,\"x\",3,4\n", rows: [][]string{{"1", "a,b\nc", "2", "3"}, {"2", "x", "3", "4"}}},
		{name: "enclose with escape", hdr: map[string]string{"column_separator": ",", "enclose": `"`, "escape": `\\`},
			body: "1,\"a\\\"b,\",2,3\n", rows: [][]string{{"1", "a\"b,", "2", "3"}}},
		{name: "enclose doubled", hdr: map[string]string{"column_separator": ",", "enclose": `"`, "escape": `"`},
			body: "1,\"a\"\"b\",2,3\n", rows: [][]string{{"1", "a\"b", "2", "3"}}},
		{name: "columns reorder and skip hidden", hdr: map[string]string{"column_separator": ",", "columns": "`age`,`id`,__DORIS_DELETE_SIGN__"},
			body: "5,1,0\n", rows: [][]string{{"1", "NULL", "5", "NULL"}}},
		{name: "hidden_columns absent from table", hdr: map[string]string{"column_separator": ",", "hidden_columns": "__DORIS_DELETE_SIGN__"},
			body: "1,a,2,3\n", rows: [][]string{{"1", "a", "2", "3"}}},
		{name: "varchar too long", hdr: map[string]string{"column_separator": ","},
			body: "1," + strings.Repeat("x", 33) + ",2,3\n", filtered: 1, errHas: "too long"},
		{name: "not null key gets null", hdr: map[string]string{"column_separator": ","},
			body: "\\N,a,2,3\n", filtered: 1, errHas: "column(id) value is null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, oneByte := range []bool{false, true} {
				var r = strings.NewReader(tc.body)
				res, err := parseAll(t, tbl, tc.hdr, r)
				if oneByte {
					res, err = parseAll(t, tbl, tc.hdr, iotest.OneByteReader(strings.NewReader(tc.body)))
				}
				require.NoError(t, err)
				require.Equal(t, tc.rows, res.rows)
				require.Equal(t, tc.filtered, res.filtered)
				require.Equal(t, int64(len(tc.rows))+tc.filtered, res.total)
				if tc.errHas != "" {
					require.Contains(t, strings.Join(res.errs, "\n"), tc.errHas)
				}
			}
		})
	}
}

func TestCSVPlanErrors(t *testing.T) {
	_, err := parseAll(t, testTable(), map[string]string{"columns": "id,nope"}, strings.NewReader(""))
	require.ErrorContains(t, err, "Unknown column 'nope'")
	_, err = parseAll(t, testTable(), map[string]string{"columns": "name,age"}, strings.NewReader("a\t1"))
	require.ErrorContains(t, err, "Column has no default value. column: id")
}

func TestCSVLongLinesAndBuffers(t *testing.T) {
	cols := []catalog.Column{col("k", types.Int, false), col("s", types.String, true)}
	var body bytes.Buffer
	var want [][]string
	for i := 0; i < 50; i++ {
		s := strings.Repeat(string(rune('a'+i%26)), i*20000)
		body.WriteString(strings.Repeat("", 0))
		body.WriteString(itoa(i) + "<|>" + s + "<EOL>")
		want = append(want, []string{itoa(i), s})
	}
	res, err := parseAll(t, cols, map[string]string{"column_separator": "<|>", "line_delimiter": "<EOL>"}, &body)
	require.NoError(t, err)
	require.Equal(t, want, res.rows)
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + string(appendInt(nil, i))) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

func gz(t testing.TB, s string) *bytes.Buffer {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return &b
}

func TestGzip(t *testing.T) {
	res, err := parseAll(t, testTable(), map[string]string{"compress_type": "gz", "column_separator": ","}, gz(t, "1,a,2,3\n2,b,3,4"))
	require.NoError(t, err)
	require.Len(t, res.rows, 2)
	res, err = parseAll(t, testTable(), map[string]string{"compress_type": "gz", "format": "json"}, gz(t, `{"id":1}`+"\n"+`{"id":2}`))
	require.NoError(t, err)
	require.Len(t, res.rows, 2)
	// An empty body with compress_type is an empty load.
	res, err = parseAll(t, testTable(), map[string]string{"compress_type": "gz", "format": "json"}, strings.NewReader(""))
	require.NoError(t, err)
	require.Empty(t, res.rows)
	_, err = parseAll(t, testTable(), map[string]string{"compress_type": "gz"}, strings.NewReader("not gzip"))
	require.Error(t, err)
}

func TestJSON(t *testing.T) {
	tbl := append(testTable(), col("__DORIS_DELETE_SIGN__", types.TinyInt, false))
	tbl[len(tbl)-1].Default = strp("0")
	for _, tc := range []struct {
		name     string
		hdr      map[string]string
		body     string
		rows     [][]string
		filtered int64
		errHas   string
		fatal    string
	}{
		{name: "lines with strings", hdr: map[string]string{"format": "json", "read_json_by_line": "true"},
			body: `{"id":"1","name":"x","age":"3","__DORIS_DELETE_SIGN__":"0","extra":"ignored"}` + "\n" + `{"id":"2","name":null,"age":"4","__DORIS_DELETE_SIGN__":"1"}`,
			rows: [][]string{{"1", "x", "3", "NULL", "0"}, {"2", "NULL", "4", "NULL", "1"}}},
		{name: "default is by line", hdr: map[string]string{"format": "json"},
			body: "{\"id\":1,\"AGE\":2}\r\n\n  {\"Id\": 3, \"ts\": 9, \"nested\": {\"a\":[1,2]}}  \n",
			rows: [][]string{{"1", "NULL", "2", "NULL", "0"}, {"3", "NULL", "NULL", "9", "0"}}},
		{name: "typed values and escapes", hdr: map[string]string{"format": "json"},
			body: `{"id":-5,"name":"a\"b\\c\u00e9\ud83d\ude00\n","age":true}` + "\n" + `{"id":6,"name":{"k":"v"},"age":1}`,
			rows: [][]string{{"6", `{"k":"v"}`, "1", "NULL", "0"}}, filtered: 1, errHas: "'true' is not a valid INT"},
		{name: "escaped string", hdr: map[string]string{"format": "json"},
			body: `{"id":-5,"name":"a\"b\\c\u00e9\ud83d\ude00\n"}`,
			rows: [][]string{{"-5", "a\"b\\cé😀\n", "NULL", "NULL", "0"}}},
		{name: "outer array", hdr: map[string]string{"format": "json", "strip_outer_array": "true"},
			body: ` [ {"id":"1","age":"2"}, {"id":"x"}, 5, {"id":"3"} ] `,
			rows: [][]string{{"1", "NULL", "2", "NULL", "0"}, {"3", "NULL", "NULL", "NULL", "0"}}, filtered: 2},
		{name: "empty outer array", hdr: map[string]string{"format": "json", "strip_outer_array": "true"}, body: `[]`},
		{name: "outer array not array", hdr: map[string]string{"format": "json", "strip_outer_array": "true"}, body: `{"id":1}`, fatal: "strip_outer_array"},
		{name: "outer array broken", hdr: map[string]string{"format": "json", "strip_outer_array": "true"}, body: `[{"id":1}, {"id"`, rows: [][]string{{"1", "NULL", "NULL", "NULL", "0"}}, fatal: "parsing JSON body"},
		{name: "array per line", hdr: map[string]string{"format": "json", "read_json_by_line": "true", "strip_outer_array": "true"},
			body: `[{"id":1},{"id":2}]` + "\n" + `[{"id":3}]`,
			rows: [][]string{{"1", "NULL", "NULL", "NULL", "0"}, {"2", "NULL", "NULL", "NULL", "0"}, {"3", "NULL", "NULL", "NULL", "0"}}},
		{name: "malformed lines", hdr: map[string]string{"format": "json"},
			body: "{\"id\":1\n{\"id\":2}\nnot json\n{\"id\":3} x\n{\"name\":\"no id\"}",
			rows: [][]string{{"2", "NULL", "NULL", "NULL", "0"}}, filtered: 4, errHas: "column(id) has no default value"},
		{name: "columns restrict keys", hdr: map[string]string{"format": "json", "columns": "id,age"},
			body: `{"id":1,"name":"dropped","age":2}`, rows: [][]string{{"1", "NULL", "2", "NULL", "0"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := parseAll(t, tbl, tc.hdr, strings.NewReader(tc.body))
			if tc.fatal != "" {
				require.ErrorContains(t, err, tc.fatal)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.rows, res.rows)
			require.Equal(t, tc.filtered, res.filtered)
			if tc.errHas != "" {
				require.Contains(t, strings.Join(res.errs, "\n"), tc.errHas)
			}
		})
	}
}

func allTypesTable() []catalog.Column {
	return []catalog.Column{
		col("b", types.Boolean, true), col("i8", types.TinyInt, true), col("i16", types.SmallInt, true),
		col("i32", types.Int, true), col("i64", types.BigInt, false), col("l", types.LargeInt, true),
		col("f", types.Float, true), col("d", types.Double, true), col("dec", types.Decimal(10, 3), true),
		col("dt", types.Date, true), col("ts", types.DateTime(3), true), col("c", types.Char(4), true),
		col("v", types.Varchar(8), true), col("s", types.String, true),
	}
}

func FuzzCSV(f *testing.F) {
	f.Add("1,true,2,3,4,5,6,1.5,2.5,1.234,2024-01-01,2024-01-01 00:00:00,ab,cd,ef\n\\N,,,,,1,,,,,,,,,", ",", "\n", "")
	f.Add("\"a,b\",1\n", ",", "\n", "\"")
	f.Add("1\x012\x02", `\x01`, `\x02`, "")
	f.Fuzz(func(t *testing.T, body, sep, delim, enclose string) {
		hdr := map[string]string{"column_separator": sep, "line_delimiter": delim, "enclose": enclose, "escape": `\\`}
		_, _ = parseAll(t, allTypesTable(), hdr, strings.NewReader(body))
	})
}

func FuzzJSON(f *testing.F) {
	f.Add(`{"b":"true","i8":1,"i64":"5","dec":"1.5","s":{"x":[1,"]"]}}`, false)
	f.Add(`[{"i64":1},{"i64":"2","ts":"2024-01-01T00:00:00.123"}]`, true)
	f.Add(`{"i64":"\ud800"}`, false)
	f.Fuzz(func(t *testing.T, body string, outer bool) {
		hdr := map[string]string{"format": "json"}
		if outer {
			hdr["strip_outer_array"] = "true"
		}
		_, _ = parseAll(t, allTypesTable(), hdr, strings.NewReader(body))
	})
}
