package loader

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Format is the body format of a load.
type Format uint8

const (
	FormatCSV Format = iota
	FormatCSVWithNames
	FormatCSVWithNamesAndTypes
	FormatJSON
)

func (f Format) String() string {
	switch f {
	case FormatCSV:
		return "csv"
	case FormatCSVWithNames:
		return "csv_with_names"
	case FormatCSVWithNamesAndTypes:
		return "csv_with_names_and_types"
	case FormatJSON:
		return "json"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Compression is the compression of a load body.
type Compression uint8

const (
	CompressNone Compression = iota
	CompressGzip
)

// LoadOptions is a stream load's headers, parsed and validated.
type LoadOptions struct {
	Label string
	// LabelGenerated is set when the request carried no label and Label is
	// a generated UUID.
	LabelGenerated bool
	Format         Format
	Compress       Compression

	// CSV.
	ColumnSeparator  []byte // decoded, never empty
	LineDelimiter    []byte // decoded, never empty
	Enclose          byte   // 0: none
	Escape           byte   // 0: none
	TrimDoubleQuotes bool
	// SkipLines is the number of leading lines to skip, the header lines of
	// csv_with_names(_and_types) included.
	SkipLines        int
	EmptyFieldAsNull bool

	// JSON.
	ReadJSONByLine  bool
	StripOuterArray bool
	JSONPaths       string
	JSONRoot        string
	NumAsString     bool
	FuzzyParse      bool

	// Columns are the target columns of the body's fields, in order, with
	// backticks removed; nil when the header is absent.
	Columns []string
	// HiddenColumns lists hidden columns (e.g. __DORIS_DELETE_SIGN__) the
	// body carries after the visible ones; used only without Columns.
	HiddenColumns []string
	// Where is the where header: a SQL boolean expression over the table's
	// columns, applied to the converted rows (see [Config.CompileWhere]).
	Where string

	MaxFilterRatio float64
	StrictMode     bool
	// Timeout is the load timeout; 0 means the server default.
	Timeout        time.Duration
	Timezone       string
	TwoPhaseCommit bool
	Comment        string

	MergeType           string // APPEND (default), DELETE or MERGE
	Delete              string
	SequenceCol         string
	PartialColumns      bool
	UniqueKeyUpdateMode string // UPSERT (default), UPDATE_FIXED_COLUMNS or UPDATE_FLEXIBLE_COLUMNS
	// NewKeyError: a partial update refuses rows whose key the table
	// lacks (partial_update_new_key_behavior ERROR; default APPEND).
	NewKeyError bool
	partial     *PartialUpdate // set by the handler once it knows the table
	Partitions  []string
	GroupCommit string
}

// LabelPattern is the label syntax Doris accepts.
const LabelPattern = `^[-_A-Za-z0-9:]{1,128}$`

var labelRE = regexp.MustCompile(LabelPattern)

// ValidateLabel checks a label against LabelPattern.
func ValidateLabel(label string) error {
	if !labelRE.MatchString(label) {
		return fmt.Errorf("Label format error. regex: %s, label: %s", LabelPattern, label)
	}
	return nil
}

// errNotSupported marks options Strata does not implement yet.
var errNotSupported = errors.New("not supported yet")

// ParseLoadOptions parses and validates stream load headers. Unknown headers
// are ignored; an invalid value of a known header is an error whose text is
// fit to return to the client.
func ParseLoadOptions(h http.Header) (*LoadOptions, error) {
	o := &LoadOptions{
		ColumnSeparator: []byte{'\t'},
		LineDelimiter:   []byte{'\n'},
		MergeType:       "APPEND",
	}
	get := func(k string) (string, bool) {
		v, ok := h[http.CanonicalHeaderKey(k)]
		if !ok || len(v) == 0 {
			return "", false
		}
		return strings.TrimSpace(v[0]), true
	}
	var err error

	if v, ok := get("label"); ok && v != "" {
		if err := ValidateLabel(v); err != nil {
			return nil, err
		}
		o.Label = v
	} else {
		o.Label = uuid.NewString()
		o.LabelGenerated = true
	}

	if v, ok := get("format"); ok && v != "" {
		switch strings.ToLower(v) {
		case "csv":
			o.Format = FormatCSV
		case "csv_with_names":
			o.Format = FormatCSVWithNames
			o.SkipLines = 1
		case "csv_with_names_and_types":
			o.Format = FormatCSVWithNamesAndTypes
			o.SkipLines = 2
		case "json":
			o.Format = FormatJSON
		case "parquet", "orc", "arrow":
			return nil, fmt.Errorf("format %s is %w", strings.ToLower(v), errNotSupported)
		default:
			return nil, fmt.Errorf("unknown data format, format=%s", v)
		}
	}

	if v, ok := get("compress_type"); ok && v != "" {
		switch strings.ToLower(v) {
		case "gz", "gzip":
			o.Compress = CompressGzip
		case "lzo", "bz2", "lz4", "lz4frame", "lz4_block", "lzop", "snappy_block", "deflate", "zstd":
			return nil, fmt.Errorf("compress_type %s is %w; use gz", v, errNotSupported)
		default:
			return nil, fmt.Errorf("unknown compress_type: %s", v)
		}
	}

	if v, ok := get("column_separator"); ok && v != "" {
		if o.ColumnSeparator, err = DecodeSeparator(v); err != nil {
			return nil, fmt.Errorf("invalid column_separator: %w", err)
		}
	}
	if v, ok := get("line_delimiter"); ok && v != "" {
		if o.LineDelimiter, err = DecodeSeparator(v); err != nil {
			return nil, fmt.Errorf("invalid line_delimiter: %w", err)
		}
	}
	if o.Enclose, err = singleByte(get, "enclose"); err != nil {
		return nil, err
	}
	if o.Escape, err = singleByte(get, "escape"); err != nil {
		return nil, err
	}
	if o.TrimDoubleQuotes, err = boolHeader(get, "trim_double_quotes"); err != nil {
		return nil, err
	}
	if v, ok := get("skip_lines"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid skip_lines: %s", v)
		}
		o.SkipLines += n
	}
	if o.EmptyFieldAsNull, err = boolHeader(get, "empty_field_as_null"); err != nil {
		return nil, err
	}

	if o.StripOuterArray, err = boolHeader(get, "strip_outer_array"); err != nil {
		return nil, err
	}
	if o.ReadJSONByLine, err = boolHeader(get, "read_json_by_line"); err != nil {
		return nil, err
	}
	if o.Format == FormatJSON && !o.ReadJSONByLine && !o.StripOuterArray {
		o.ReadJSONByLine = true
	}
	if v, ok := get("jsonpaths"); ok && v != "" {
		o.JSONPaths = v
		return nil, fmt.Errorf("jsonpaths is %w", errNotSupported)
	}
	if v, ok := get("json_root"); ok && v != "" {
		o.JSONRoot = v
		return nil, fmt.Errorf("json_root is %w", errNotSupported)
	}
	if o.NumAsString, err = boolHeader(get, "num_as_string"); err != nil {
		return nil, err
	}
	if o.FuzzyParse, err = boolHeader(get, "fuzzy_parse"); err != nil {
		return nil, err
	}

	if v, ok := get("columns"); ok && v != "" {
		if o.Columns, err = parseColumns(v); err != nil {
			return nil, err
		}
	}
	if v, ok := get("hidden_columns"); ok && v != "" {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" {
				o.HiddenColumns = append(o.HiddenColumns, c)
			}
		}
	}
	if v, ok := get("where"); ok {
		o.Where = v
	}

	if v, ok := get("max_filter_ratio"); ok && v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return nil, fmt.Errorf("invalid max_filter_ratio: %s, it must be between 0 and 1", v)
		}
		o.MaxFilterRatio = f
	}
	if v, ok := get("strict_mode"); ok && v != "" {
		switch strings.ToLower(v) {
		case "true":
			o.StrictMode = true
		case "false":
		default:
			return nil, fmt.Errorf("Invalid strict mode format. Must be bool type")
		}
	}
	if v, ok := get("timeout"); ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n > 100*365*24*3600 {
			return nil, fmt.Errorf("invalid timeout: %s, it must be a positive number of seconds", v)
		}
		o.Timeout = time.Duration(n) * time.Second
	}
	tz, ok := get("timezone")
	if !ok || tz == "" {
		tz, _ = get("time_zone")
	}
	if tz != "" {
		if err := checkTimezone(tz); err != nil {
			return nil, err
		}
		o.Timezone = tz
	}
	if v, ok := get("two_phase_commit"); ok {
		o.TwoPhaseCommit = v == "true"
	}
	if v, ok := get("comment"); ok {
		o.Comment = v
	}

	if v, ok := get("merge_type"); ok && v != "" {
		switch strings.ToUpper(v) {
		case "APPEND", "DELETE", "MERGE":
			o.MergeType = strings.ToUpper(v)
		default:
			return nil, fmt.Errorf("Invalid merge type %s", v)
		}
	}
	if v, ok := get("delete"); ok && v != "" {
		o.Delete = v
	}
	switch {
	case o.MergeType == "MERGE" && o.Delete == "":
		return nil, errors.New("Excepted DELETE ON clause when merge type is MERGE.")
	case o.MergeType != "MERGE" && o.Delete != "":
		return nil, errors.New("Not support DELETE ON clause when merge type is not MERGE.")
	}
	if v, ok := get("function_column.sequence_col"); ok && v != "" {
		o.SequenceCol = v
	}
	if o.PartialColumns, err = boolHeader(get, "partial_columns"); err != nil {
		return nil, err
	}
	if v, ok := get("unique_key_update_mode"); ok && v != "" {
		switch strings.ToUpper(v) {
		case "UPSERT", "UPDATE_FIXED_COLUMNS", "UPDATE_FLEXIBLE_COLUMNS":
			o.UniqueKeyUpdateMode = strings.ToUpper(v)
		default:
			return nil, fmt.Errorf("Invalid unique_key_partial_mode %s, must be one of 'UPSERT', 'UPDATE_FIXED_COLUMNS' or 'UPDATE_FLEXIBLE_COLUMNS'", v)
		}
	}
	if o.UniqueKeyUpdateMode == "UPDATE_FLEXIBLE_COLUMNS" && len(o.HiddenColumns) > 0 {
		return nil, errors.New("Don't support flexible partial update when 'hidden_columns' is specified")
	}
	if o.UniqueKeyUpdateMode == "" {
		// The legacy header; the mode wins when both are given.
		o.UniqueKeyUpdateMode = "UPSERT"
		if o.PartialColumns {
			o.UniqueKeyUpdateMode = "UPDATE_FIXED_COLUMNS"
		}
	}
	if o.UniqueKeyUpdateMode == "UPDATE_FLEXIBLE_COLUMNS" {
		return nil, fmt.Errorf("flexible partial update is %w", errNotSupported)
	}
	if v, ok := get("partial_update_new_key_behavior"); ok && v != "" {
		switch strings.ToUpper(v) {
		case "APPEND":
		case "ERROR":
			o.NewKeyError = true
		default:
			return nil, fmt.Errorf("Invalid partial_update_new_key_behavior %s, must be one of {'APPEND', 'ERROR'}", strings.ToUpper(v))
		}
	}
	for _, k := range []string{"partitions", "temporary_partitions"} {
		if v, ok := get(k); ok && v != "" {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					o.Partitions = append(o.Partitions, p)
				}
			}
		}
	}
	if v, ok := get("group_commit"); ok && v != "" {
		switch strings.ToLower(v) {
		case "sync_mode", "async_mode", "off_mode":
			o.GroupCommit = strings.ToLower(v)
		default:
			return nil, fmt.Errorf("group_commit can only be [async_mode, sync_mode, off_mode]")
		}
		if !o.LabelGenerated && o.GroupCommit != "off_mode" {
			return nil, errors.New("label and group_commit can't be set at the same time")
		}
	}
	return o, nil
}

// DecodeSeparator decodes a column_separator or line_delimiter header. A
// value starting with \x or \X is hex: every \x marker is removed and the
// rest decoded as hex pairs ("\x0d\x0a" is CR LF). Otherwise the escapes
// \\ \' \" \r \t \n are replaced; other bytes stand for themselves.
func DecodeSeparator(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty separator")
	}
	if len(s) >= 2 && s[0] == '\\' && (s[1] == 'x' || s[1] == 'X') {
		hex := strings.NewReplacer(`\x`, "", `\X`, "").Replace(s)
		if len(hex) == 0 || len(hex)%2 != 0 {
			return nil, fmt.Errorf("bad hex separator %q", s)
		}
		out := make([]byte, len(hex)/2)
		for i := range out {
			hi, ok1 := unhex(hex[2*i])
			lo, ok2 := unhex(hex[2*i+1])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("bad hex separator %q", s)
			}
			out[i] = hi<<4 | lo
		}
		return out, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '\\', '\'', '"':
				c = s[i+1]
				i++
			case 'r':
				c = '\r'
				i++
			case 't':
				c = '\t'
				i++
			case 'n':
				c = '\n'
				i++
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func singleByte(get func(string) (string, bool), key string) (byte, error) {
	v, ok := get(key)
	if !ok || v == "" {
		return 0, nil
	}
	b, err := DecodeSeparator(v)
	if err != nil || len(b) != 1 {
		return 0, fmt.Errorf("%s must be a single character, got %q", key, v)
	}
	return b[0], nil
}

func boolHeader(get func(string) (string, bool), key string) (bool, error) {
	v, ok := get(key)
	if !ok || v == "" {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("invalid %s: %s, it must be true or false", key, v)
}

// parseColumns splits the columns header. Backticks around names are
// removed; expressions (c=expr) are not supported yet.
func parseColumns(v string) ([]string, error) {
	var out []string
	for _, part := range splitTopLevel(v) {
		p := strings.TrimSpace(part)
		if p == "" {
			return nil, fmt.Errorf("invalid columns header %q: empty column name", v)
		}
		if strings.ContainsAny(stripQuoted(p), "=()") {
			return nil, fmt.Errorf("column expression %q in columns is %w", p, errNotSupported)
		}
		if len(p) >= 2 && p[0] == '`' && p[len(p)-1] == '`' {
			p = strings.ReplaceAll(p[1:len(p)-1], "``", "`")
		} else if strings.ContainsAny(p, "` \t") {
			return nil, fmt.Errorf("invalid column name %q in columns", p)
		}
		if p == "" {
			return nil, fmt.Errorf("invalid columns header %q: empty column name", v)
		}
		for _, q := range out {
			if strings.EqualFold(q, p) {
				return nil, fmt.Errorf("Duplicate column: %s", p)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// splitTopLevel splits on commas outside backticks, quotes and parentheses.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '`' || c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// stripQuoted removes backtick-quoted parts, so that a quoted name may
// contain '=' without being taken for an expression.
func stripQuoted(s string) string {
	if !strings.Contains(s, "`") {
		return s
	}
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			in = !in
			continue
		}
		if !in {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

var tzOffsetRE = regexp.MustCompile(`^[+-]\d{1,2}:\d{2}$`)

func checkTimezone(tz string) error {
	if tzOffsetRE.MatchString(tz) {
		return nil
	}
	switch strings.ToUpper(tz) {
	case "UTC", "GMT", "CST", "SYSTEM":
		return nil
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return fmt.Errorf("Unknown or incorrect time zone: '%s'", tz)
	}
	return nil
}
