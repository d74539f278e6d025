package loader

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDecodeSeparator(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr bool
	}{
		{`\x01`, "\x01", false},
		{`\x0d\x0a`, "\r\n", false},
		{`\X0D\X0A`, "\r\n", false},
		{`\x0102`, "\x01\x02", false},
		{`\x1`, "", true},
		{`\xzz`, "", true},
		{`\t`, "\t", false},
		{`\n`, "\n", false},
		{`\r\n`, "\r\n", false},
		{`\\`, `\`, false},
		{`\'`, `'`, false},
		{`\"`, `"`, false},
		{`,`, `,`, false},
		{`||`, `||`, false},
		{`\a`, `\a`, false},
		{`a\`, `a\`, false},
	} {
		got, err := DecodeSeparator(tc.in)
		if tc.wantErr {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, string(got), tc.in)
	}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestParseLoadOptionsDefaults(t *testing.T) {
	o, err := ParseLoadOptions(hdr())
	require.NoError(t, err)
	require.True(t, o.LabelGenerated)
	require.Len(t, o.Label, 36)
	require.NoError(t, ValidateLabel(o.Label))
	require.Equal(t, FormatCSV, o.Format)
	require.Equal(t, "\t", string(o.ColumnSeparator))
	require.Equal(t, "\n", string(o.LineDelimiter))
	require.Equal(t, CompressNone, o.Compress)
	require.Zero(t, o.MaxFilterRatio)
	require.False(t, o.TwoPhaseCommit)
	require.Nil(t, o.Columns)
	require.Equal(t, "UPSERT", o.UniqueKeyUpdateMode)
	require.False(t, o.NewKeyError)
}

func TestParseLoadOptionsPartialUpdate(t *testing.T) {
	o, err := ParseLoadOptions(hdr("partial_columns", "TRUE", "partial_update_new_key_behavior", "error"))
	require.NoError(t, err)
	require.Equal(t, "UPDATE_FIXED_COLUMNS", o.UniqueKeyUpdateMode)
	require.True(t, o.NewKeyError)
	// The mode wins over the legacy header.
	o, err = ParseLoadOptions(hdr("partial_columns", "true", "unique_key_update_mode", "upsert"))
	require.NoError(t, err)
	require.Equal(t, "UPSERT", o.UniqueKeyUpdateMode)
}

func TestParseLoadOptions(t *testing.T) {
	o, err := ParseLoadOptions(hdr(
		"label", "P_db_t_0_1", "format", "JSON", "compress_type", "gz", "two_phase_commit", "true",
		"columns", "`id`, `name`,age,__DORIS_DELETE_SIGN__", "hidden_columns", "__DORIS_DELETE_SIGN__",
		"max_filter_ratio", "0.5", "strict_mode", "TRUE", "timeout", "60", "timezone", "Asia/Shanghai",
		"comment", "hello", "column_separator", `\x01`, "line_delimiter", `\x02`, "skip_lines", "1",
	))
	require.NoError(t, err)
	require.Equal(t, "P_db_t_0_1", o.Label)
	require.Equal(t, FormatJSON, o.Format)
	require.True(t, o.ReadJSONByLine)
	require.Equal(t, CompressGzip, o.Compress)
	require.True(t, o.TwoPhaseCommit)
	require.Equal(t, []string{"id", "name", "age", "__DORIS_DELETE_SIGN__"}, o.Columns)
	require.Equal(t, []string{"__DORIS_DELETE_SIGN__"}, o.HiddenColumns)
	require.InDelta(t, 0.5, o.MaxFilterRatio, 1e-9)
	require.True(t, o.StrictMode)
	require.Equal(t, 60*time.Second, o.Timeout)
	require.Equal(t, "hello", o.Comment)
	require.Equal(t, "\x01", string(o.ColumnSeparator))
	require.Equal(t, "\x02", string(o.LineDelimiter))
	require.Equal(t, 1, o.SkipLines)

	o, err = ParseLoadOptions(hdr("format", "csv_with_names_and_types", "skip_lines", "1", "two_phase_commit", "True", "compress_type", ""))
	require.NoError(t, err)
	require.Equal(t, 3, o.SkipLines)
	require.False(t, o.TwoPhaseCommit, "two_phase_commit is compared exactly")
	require.Equal(t, CompressNone, o.Compress)

	o, err = ParseLoadOptions(hdr("format", "json", "strip_outer_array", "true"))
	require.NoError(t, err)
	require.False(t, o.ReadJSONByLine)
	require.True(t, o.StripOuterArray)

	o, err = ParseLoadOptions(hdr("enclose", `"`, "escape", `\\`, "trim_double_quotes", "true", "unknown_header", "x"))
	require.NoError(t, err)
	require.Equal(t, byte('"'), o.Enclose)
	require.Equal(t, byte('\\'), o.Escape)
	require.True(t, o.TrimDoubleQuotes)
}

func TestParseLoadOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		h    http.Header
		want string
	}{
		{hdr("label", "a.b"), "Label format error. regex: ^[-_A-Za-z0-9:]{1,128}$, label: a.b"},
		{hdr("label", strings.Repeat("x", 129)), "Label format error"},
		{hdr("format", "xml"), "unknown data format"},
		{hdr("format", "parquet"), "not supported yet"},
		{hdr("compress_type", "lz4"), "not supported yet"},
		{hdr("compress_type", "foo"), "unknown compress_type"},
		{hdr("strict_mode", "yes"), "Invalid strict mode format. Must be bool type"},
		{hdr("max_filter_ratio", "2"), "invalid max_filter_ratio"},
		{hdr("max_filter_ratio", "x"), "invalid max_filter_ratio"},
		{hdr("timeout", "-1"), "invalid timeout"},
		{hdr("skip_lines", "x"), "invalid skip_lines"},
		{hdr("column_separator", `\x0`), "invalid column_separator"},
		{hdr("columns", "a,b=a+1"), "not supported yet"},
		{hdr("columns", "a,,b"), "empty column name"},
		{hdr("columns", "a,A"), "Duplicate column"},
		{hdr("jsonpaths", `["$.a"]`), "not supported yet"},
		{hdr("json_root", "$.data"), "not supported yet"},
		{hdr("merge_type", "MERGE"), "Excepted DELETE ON clause when merge type is MERGE."},
		{hdr("delete", "a=1"), "Not support DELETE ON clause when merge type is not MERGE."},
		{hdr("merge_type", "X"), "Invalid merge type X"},
		{hdr("unique_key_update_mode", "UPDATE_FLEXIBLE_COLUMNS", "hidden_columns", "__DORIS_DELETE_SIGN__"), "Don't support flexible partial update when 'hidden_columns' is specified"},
		{hdr("unique_key_update_mode", "bad"), "Invalid unique_key_partial_mode"},
		{hdr("unique_key_update_mode", "UPDATE_FLEXIBLE_COLUMNS"), "flexible partial update is not supported yet"},
		{hdr("partial_columns", "true", "partial_update_new_key_behavior", "skip"), "Invalid partial_update_new_key_behavior SKIP, must be one of {'APPEND', 'ERROR'}"},
		{hdr("partial_columns", "yes"), "partial_columns"},
		{hdr("label", "l1", "group_commit", "async_mode"), "label and group_commit can't be set at the same time"},
		{hdr("group_commit", "x"), "group_commit can only be"},
		{hdr("read_json_by_line", "maybe"), "invalid read_json_by_line"},
		{hdr("enclose", "ab"), "enclose must be a single character"},
		{hdr("timezone", "Not/AZone"), "Unknown or incorrect time zone"},
	} {
		_, err := ParseLoadOptions(tc.h)
		require.Error(t, err, "%v", tc.h)
		require.Contains(t, err.Error(), tc.want, "%v", tc.h)
	}
}

func FuzzParseLoadOptions(f *testing.F) {
	f.Add("column_separator", `\x01`, "columns", "`a`,b")
	f.Add("line_delimiter", `\x0d\x0a`, "format", "csv_with_names")
	f.Add("label", "a:b-c_d", "max_filter_ratio", "0.1")
	f.Add("enclose", `\"`, "escape", `\\`)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		o, err := ParseLoadOptions(hdr(k1, v1, k2, v2))
		if err != nil {
			return
		}
		if len(o.ColumnSeparator) == 0 || len(o.LineDelimiter) == 0 {
			t.Fatalf("empty separator from %q=%q %q=%q", k1, v1, k2, v2)
		}
		if ValidateLabel(o.Label) != nil {
			t.Fatalf("accepted invalid label %q", o.Label)
		}
	})
}
