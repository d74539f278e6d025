package planner

import (
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// The information_schema views about the server: engines, character sets
// and collations (the same rows SHOW ENGINES, SHOW CHARSET and SHOW
// COLLATION list), system variables, connections and profiling.

// Engine is a row of SHOW ENGINES and information_schema.ENGINES.
type Engine struct {
	Name, Support, Comment, Transactions, XA, Savepoints string
}

// Engines lists the storage engines.
var Engines = []Engine{
	{"Olap engine", "DEFAULT", "Default storage engine of Strata", "YES", "NO", "NO"},
}

// Charset is a row of SHOW CHARSET and information_schema.CHARACTER_SETS.
type Charset struct {
	Name, DefaultCollation, Description string
	MaxLen                              int64
}

// Charsets lists the character sets: utf8mb4, and utf8 because the
// handshake announces utf8_general_ci (id 33), which clients look up here.
var Charsets = []Charset{
	{"utf8", "utf8_general_ci", "UTF-8 Unicode", 3},
	{"utf8mb4", "utf8mb4_0900_bin", "UTF-8 Unicode", 4},
}

// Collation is a row of SHOW COLLATION and information_schema.COLLATIONS.
type Collation struct {
	Name, Charset     string
	ID                int64
	Default, Compiled string
	SortLen           int64
}

// Collations lists the collations. It must include id 33, the handshake's,
// and 45, go-sql-driver's default: drivers map result column charsets
// through it.
var Collations = []Collation{
	{"utf8mb4_0900_bin", "utf8mb4", 309, "Yes", "Yes", 1},
	{"utf8_general_ci", "utf8", 33, "Yes", "Yes", 1},
	{"utf8mb4_general_ci", "utf8mb4", 45, "", "Yes", 1},
}

// Process is a connection as PROCESSLIST shows it.
type Process struct {
	ID                       int64
	User, Host, DB, Command  string
	LoginMillis, TimeSeconds int64
	State, Info              string
	Current                  bool // the connection asking
}

// VariableRow is a system variable as SHOW VARIABLES and the
// *_VARIABLES tables show it.
type VariableRow struct {
	Name, Value, Default string
	Changed              bool
}

// ServerInfo is what a Session may also provide for the tables describing
// the server. A Session without it sees those tables empty.
type ServerInfo interface {
	// Variables lists the system variables sorted by name, with their
	// global values when global is set, else the session's.
	Variables(global bool) []VariableRow
	// Processes lists the open connections sorted by id.
	Processes() []Process
}

func enginesTable() *systemTable {
	vc := types.Varchar
	return &systemTable{
		name: "engines",
		columns: []catalog.Column{
			nc("ENGINE", vc(64)), nc("SUPPORT", vc(8)), nc("COMMENT", vc(80)),
			nc("TRANSACTIONS", vc(3)), nc("XA", vc(3)), nc("SAVEPOINTS", vc(3)),
		},
		rows: func(_ *sysEnv, out *sysRows) error {
			for _, e := range Engines {
				out.add(e.Name, e.Support, e.Comment, e.Transactions, e.XA, e.Savepoints)
			}
			return nil
		},
	}
}

func characterSetsTable() *systemTable {
	vc := types.Varchar
	return &systemTable{
		name: "character_sets",
		columns: []catalog.Column{
			nc("CHARACTER_SET_NAME", vc(512)), nc("DEFAULT_COLLATE_NAME", vc(64)),
			nc("DESCRIPTION", vc(64)), nc("MAXLEN", types.BigInt),
		},
		rows: func(_ *sysEnv, out *sysRows) error {
			for _, c := range Charsets {
				out.add(c.Name, c.DefaultCollation, c.Description, c.MaxLen)
			}
			return nil
		},
	}
}

func collationsTable() *systemTable {
	vc := types.Varchar
	return &systemTable{
		name: "collations",
		columns: []catalog.Column{
			nc("COLLATION_NAME", vc(512)), nc("CHARACTER_SET_NAME", vc(64)), nc("ID", types.BigInt),
			nc("IS_DEFAULT", vc(64)), nc("IS_COMPILED", vc(64)), nc("SORTLEN", types.BigInt),
		},
		rows: func(_ *sysEnv, out *sysRows) error {
			for _, c := range Collations {
				out.add(c.Name, c.Charset, c.ID, c.Default, c.Compiled, c.SortLen)
			}
			return nil
		},
	}
}

func variablesTable(name string, global bool) *systemTable {
	vc := types.Varchar
	return &systemTable{
		name: name,
		columns: []catalog.Column{
			nc("VARIABLE_NAME", vc(64)), nc("VARIABLE_VALUE", vc(1024)),
			nc("DEFAULT_VALUE", vc(1024)), nc("CHANGED", vc(4)),
		},
		rows: func(env *sysEnv, out *sysRows) error {
			info, ok := env.sess.(ServerInfo)
			if !ok {
				return nil
			}
			for _, v := range info.Variables(global) {
				changed := "0"
				if v.Changed {
					changed = "1"
				}
				out.add(v.Name, v.Value, v.Default, changed)
			}
			return nil
		},
	}
}

// processlistTable has Doris's columns, which are MySQL's SHOW PROCESSLIST
// ones plus Doris's own.
func processlistTable() *systemTable {
	vc := types.Varchar
	return &systemTable{
		name: "processlist",
		columns: []catalog.Column{
			nc("CurrentConnected", vc(16)), nc("Id", types.BigInt), nc("User", vc(32)), nc("Host", vc(261)),
			nc("LoginTime", types.DateTime(0)), nc("Catalog", vc(64)), nc("Db", vc(64)), nc("Command", vc(16)),
			nc("Time", types.Int), nc("State", vc(64)), nc("QueryId", vc(256)), nc("TraceId", vc(256)),
			nc("Info", vc(65533)), nc("FE", vc(64)), nc("CloudCluster", vc(64)),
		},
		rows: func(env *sysEnv, out *sysRows) error {
			info, ok := env.sess.(ServerInfo)
			if !ok {
				return nil
			}
			for _, p := range info.Processes() {
				current := "No"
				if p.Current {
					current = "Yes"
				}
				var db any
				if p.DB != "" {
					db = p.DB
				}
				out.add(current, p.ID, p.User, p.Host, env.time(p.LoginMillis), sysCatalog, db, p.Command,
					p.TimeSeconds, p.State, "", "", p.Info, "", "")
			}
			return nil
		},
	}
}

// profilingTable is empty: the profiling variable is accepted, but no
// per-statement profiles are kept. The columns are Doris's.
func profilingTable() *systemTable {
	i32, dbl, vc := types.Int, types.Double, types.Varchar
	return emptyTable("profiling",
		nc("QUERY_ID", i32), nc("SEQ", i32), nc("STATE", vc(30)), nc("DURATION", dbl),
		nc("CPU_USER", dbl), nc("CPU_SYSTEM", dbl), nc("CONTEXT_VOLUNTARY", i32),
		nc("CONTEXT_INVOLUNTARY", i32), nc("BLOCK_OPS_IN", i32), nc("BLOCK_OPS_OUT", i32),
		nc("MESSAGES_SENT", i32), nc("MESSAGES_RECEIVED", i32), nc("PAGE_FAULTS_MAJOR", i32),
		nc("PAGE_FAULTS_MINOR", i32), nc("SWAPS", i32), nc("SOURCE_FUNCTION", vc(30)),
		nc("SOURCE_FILE", vc(20)), nc("SOURCE_LINE", i32))
}

// mysqlRoutineTables are the mysql schema's tables about stored routines,
// read-only stand-ins for MySQL's.
func mysqlRoutineTables() []*systemTable {
	return []*systemTable{procsPrivTable()}
}

// procsPrivTable is mysql.procs_priv, empty: there are no stored routines
// to grant on. DBeaver and DataGrip read it.
func procsPrivTable() *systemTable {
	vc := types.Varchar
	return emptyTable("procs_priv",
		sysCol("Host", vc(255), false), sysCol("Db", vc(64), false), sysCol("User", vc(32), false),
		sysCol("Routine_name", vc(64), false), sysCol("Routine_type", vc(9), false),
		sysCol("Grantor", vc(288), false), sysCol("Proc_priv", vc(27), false),
		sysCol("Timestamp", types.DateTime(0), true))
}
