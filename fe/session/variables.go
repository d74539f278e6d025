package session

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/strata-db/strata/version"
)

// varKind is how a system variable's value is typed when a client reads it.
type varKind uint8

const (
	varString varKind = iota
	varInt
	varBool // reported as 0/1 by SELECT @@x, ON/OFF by SHOW VARIABLES for MySQL's own
)

// sysVar describes one system variable. Values are kept as text; SELECT @@x
// converts them by kind so that drivers which expect integers get integers.
type sysVar struct {
	name       string
	kind       varKind
	def        string
	globalOnly bool
	readOnly   bool
	enum       []string // the values a string variable takes, upper case; nil: any
}

// sysVars is the variable set MySQL drivers, BI tools and Doris scripts read
// or set on connect (SQL.md §3.0). Unknown names are an error
// ("Unknown system variable"), as in MySQL.
var sysVars = func() map[string]*sysVar {
	list := []sysVar{
		{name: "version", def: version.MySQLVersion},
		{name: "version_comment", def: version.VersionComment(), readOnly: true},
		{name: "version_compile_os", def: "Linux", readOnly: true},
		{name: "version_compile_machine", def: "x86_64", readOnly: true},
		{name: "license", def: "Apache License, Version 2.0", readOnly: true},
		{name: "language", def: "/palo/share/english/"},
		{name: "init_connect", def: ""},
		{name: "system_time_zone", def: "UTC", readOnly: true},
		{name: "time_zone", def: "UTC"},
		{name: "lower_case_table_names", kind: varInt, def: "0", readOnly: true},
		{name: "autocommit", kind: varBool, def: "1"},
		{name: "auto_increment_increment", kind: varInt, def: "1"},
		{name: "auto_increment_offset", kind: varInt, def: "1"},
		{name: "sql_mode", def: "ONLY_FULL_GROUP_BY"},
		{name: "sql_select_limit", kind: varInt, def: "9223372036854775807"},
		{name: "sql_auto_is_null", kind: varBool, def: "0"},
		{name: "sql_safe_updates", kind: varInt, def: "0"},
		{name: "sql_quote_show_create", kind: varBool, def: "1"},
		{name: "max_allowed_packet", kind: varInt, def: "67108864"}, // mysqlproto.Options.MaxPacketSize, MySQL 8's default
		{name: "net_buffer_length", kind: varInt, def: "16384"},
		{name: "net_read_timeout", kind: varInt, def: "60"},
		{name: "net_write_timeout", kind: varInt, def: "60"},
		{name: "interactive_timeout", kind: varInt, def: "3600"},
		{name: "wait_timeout", kind: varInt, def: "28800"},
		{name: "connect_timeout", kind: varInt, def: "10"},
		{name: "character_set_client", def: "utf8mb4"},
		{name: "character_set_connection", def: "utf8mb4"},
		{name: "character_set_results", def: "utf8mb4"},
		{name: "character_set_server", def: "utf8mb4"},
		{name: "character_set_database", def: "utf8mb4"},
		{name: "character_set_system", def: "utf8", readOnly: true},
		{name: "character_set_filesystem", def: "binary"},
		{name: "collation_connection", def: "utf8mb4_0900_bin"},
		{name: "collation_database", def: "utf8mb4_0900_bin"},
		{name: "collation_server", def: "utf8mb4_0900_bin"},
		{name: "tx_isolation", def: "REPEATABLE-READ"},
		{name: "transaction_isolation", def: "REPEATABLE-READ"},
		{name: "tx_read_only", kind: varBool, def: "0"},
		{name: "transaction_read_only", kind: varBool, def: "0"},
		{name: "query_cache_size", kind: varInt, def: "1048576"},
		{name: "query_cache_type", def: "OFF"},
		{name: "have_query_cache", def: "YES", readOnly: true},
		{name: "performance_schema", kind: varBool, def: "0"},
		{name: "event_scheduler", def: "OFF"},
		{name: "default_storage_engine", def: "olap"},
		{name: "default_tmp_storage_engine", def: "olap"},
		{name: "storage_engine", def: "olap"},
		{name: "div_precision_increment", kind: varInt, def: "4"},
		{name: "profiling", kind: varBool, def: "0"},
		{name: "lc_time_names", def: "en_US"},
		{name: "read_only", kind: varBool, def: "1", readOnly: true},
		{name: "super_read_only", kind: varBool, def: "1", readOnly: true},
		{name: "warning_count", kind: varInt, def: "0", readOnly: true},
		{name: "error_count", kind: varInt, def: "0", readOnly: true},
		{name: "max_execution_time", kind: varInt, def: "0"},
		{name: "net_retry_count", kind: varInt, def: "10"},
		{name: "foreign_key_checks", kind: varBool, def: "1"},
		{name: "unique_checks", kind: varBool, def: "1"},
		{name: "sql_notes", kind: varBool, def: "1"},
		{name: "sql_warnings", kind: varBool, def: "0"},
		{name: "group_concat_max_len", kind: varInt, def: "1024"},
		{name: "default_week_format", kind: varInt, def: "0"},
		{name: "max_connections", kind: varInt, def: "1024"},
		{name: "protocol_version", kind: varInt, def: "10", readOnly: true},
		{name: "port", kind: varInt, def: "9030", readOnly: true},
		{name: "hostname", def: "localhost", readOnly: true},
		{name: "socket", def: "", readOnly: true},
		{name: "datadir", def: "", readOnly: true},
		{name: "basedir", def: "", readOnly: true},
		{name: "tmpdir", def: "/tmp", readOnly: true},
		{name: "have_ssl", def: "DISABLED", readOnly: true},
		{name: "have_openssl", def: "DISABLED", readOnly: true},
		{name: "ssl_cipher", def: ""},
		{name: "log_bin", kind: varBool, def: "0", readOnly: true},
		{name: "binlog_format", def: "ROW", readOnly: true},
		{name: "explicit_defaults_for_timestamp", kind: varBool, def: "1"},
		{name: "long_query_time", kind: varInt, def: "10"},
		{name: "slow_query_log", kind: varBool, def: "0"},
		{name: "innodb_lock_wait_timeout", kind: varInt, def: "50"},
		{name: "transaction_prealloc_size", kind: varInt, def: "4096"},
		{name: "default_password_lifetime", kind: varInt, def: "0"},
		{name: "time_format", def: "%H:%i:%s"},
		{name: "date_format", def: "%Y-%m-%d"},
		{name: "datetime_format", def: "%Y-%m-%d %H:%i:%s"},
		{name: "block_encryption_mode", def: ""},
		{name: "session_track_schema", kind: varBool, def: "0"},
		{name: "session_track_state_change", kind: varBool, def: "0"},
		{name: "session_track_system_variables", def: ""},
		{name: "resultset_metadata", def: "FULL"},
		// Doris session variables that scripts set.
		{name: "query_timeout", kind: varInt, def: "900"},
		{name: "insert_timeout", kind: varInt, def: "14400"},
		{name: "exec_mem_limit", kind: varInt, def: "2147483648"},
		{name: "parallel_pipeline_task_num", kind: varInt, def: "0"},
		{name: "parallel_fragment_exec_instance_num", kind: varInt, def: "8"},
		{name: "enable_nereids_planner", kind: varBool, def: "1"},
		{name: "enable_nereids_dml", kind: varBool, def: "1"},
		{name: "enable_fallback_to_original_planner", kind: varBool, def: "0"},
		{name: "enable_vectorized_engine", kind: varBool, def: "1"},
		{name: "enable_pipeline_engine", kind: varBool, def: "1"},
		{name: "enable_profile", kind: varBool, def: "0"},
		{name: "show_hidden_columns", kind: varBool, def: "0"},
		// Off: every scan reads the base index, never a rollup or
		// materialized view (fe/planner/index_select.go). Strata's own:
		// Doris has no session variable for it (its NO_USE_MV hint does
		// it per query; enable_sync_mv_cost_based_rewrite only picks how
		// it chooses).
		{name: "use_rollup", kind: varBool, def: "1"},
		// skip_delete_sign: scans leave the rows whose delete sign is set
		// (unique tables), as in Doris.
		{name: "skip_delete_sign", kind: varBool, def: "0"},
		// Off: BITMAP and HLL values are sent as NULL, as Doris does.
		{name: "return_object_data_as_binary", kind: varBool, def: "0"},
		{name: "enable_insert_strict", kind: varBool, def: "1"},
		{name: "insert_max_filter_ratio", def: "1.0"},
		{name: "delete_without_partition", kind: varBool, def: "0"},
		{name: "enable_unique_key_partial_update", kind: varBool, def: "0"},
		{name: "partial_update_new_key_behavior", def: "APPEND", enum: []string{"APPEND", "ERROR"}},
		{name: "enable_server_side_prepared_statement", kind: varBool, def: "1"},
		{name: "batch_size", kind: varInt, def: "4064"},
		{name: "disable_colocate_plan", kind: varBool, def: "0"},
		// How a cluster's frontend joins tables across backends (see
		// fe/planner/joinplan.go): AUTO chooses; the others force a
		// strategy where the join allows it. Strata's own: Doris takes
		// per-join hints ([broadcast], [shuffle], [bucket]).
		{name: "strata_join_strategy", def: "AUTO", enum: []string{"AUTO", "BROADCAST", "SHUFFLE", "BUCKET", "COLOCATE"}},
		{name: "runtime_filter_mode", def: "GLOBAL"},
		{name: "runtime_filter_type", def: "IN_OR_BLOOM_FILTER"},
		{name: "enable_sql_cache", kind: varBool, def: "0"},
		{name: "enable_query_cache", kind: varBool, def: "0"},
		{name: "sql_dialect", def: "doris"},
		{name: "default_order_by_limit", kind: varInt, def: "-1"},
		{name: "enable_spilling", kind: varBool, def: "0"},
		{name: "enable_decimal256", kind: varBool, def: "0"},
		{name: "forward_to_master", kind: varBool, def: "1"},
		{name: "group_commit", def: "off_mode"},
		{name: "resource_group", def: ""},
		{name: "wait_full_block_schedule_times", kind: varInt, def: "1"},
	}
	m := make(map[string]*sysVar, len(list))
	for i := range list {
		m[list[i].name] = &list[i]
	}
	return m
}()

// globals holds SET GLOBAL values; sessions start from them.
var globals = struct {
	mu   sync.RWMutex // protects vals
	vals map[string]string
}{vals: map[string]string{}}

func lookupVar(name string) (*sysVar, error) {
	v, ok := sysVars[strings.ToLower(name)]
	if !ok {
		return nil, errUnknownVariable(name)
	}
	return v, nil
}

// globalValue returns the global value of v.
func globalValue(v *sysVar) string {
	globals.mu.RLock()
	defer globals.mu.RUnlock()
	if s, ok := globals.vals[v.name]; ok {
		return s
	}
	return v.def
}

func setGlobal(v *sysVar, val string) {
	globals.mu.Lock()
	globals.vals[v.name] = val
	globals.mu.Unlock()
}

// normalizeVarValue checks and canonicalises a value being SET.
func normalizeVarValue(v *sysVar, val string) (string, error) {
	switch v.kind {
	case varBool:
		switch strings.ToLower(val) {
		case "1", "on", "true":
			return "1", nil
		case "0", "off", "false":
			return "0", nil
		}
		return "", fmt.Errorf("Variable '%s' can't be set to the value of '%s'", v.name, val)
	case varString:
		if v.enum != nil {
			up := strings.ToUpper(val)
			if !slices.Contains(v.enum, up) {
				return "", fmt.Errorf("%s should be one of {'%s'}, but found %s", v.name, strings.Join(v.enum, "', '"), val)
			}
			return up, nil
		}
	case varInt:
		if _, err := strconv.ParseInt(val, 10, 64); err != nil {
			if f, ferr := strconv.ParseFloat(val, 64); ferr == nil {
				return strconv.FormatInt(int64(f), 10), nil
			}
			return "", fmt.Errorf("Incorrect argument type to variable '%s'", v.name)
		}
	}
	return val, nil
}

// sortedVarNames lists every variable name in order, for SHOW VARIABLES.
func sortedVarNames() []string {
	names := make([]string, 0, len(sysVars))
	for n := range sysVars {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
