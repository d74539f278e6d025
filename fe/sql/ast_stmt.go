package sql

import (
	"strconv"
	"strings"
)

// Stmt is a parsed statement.
type Stmt interface {
	Node
	// Text is the statement's source text, without the terminating semicolon
	// and without comments before its first token.
	Text() string
	// ParamCount is the number of ? placeholders in the statement.
	ParamCount() int
	stmtNode()
}

// stmtBase carries what every statement has.
type stmtBase struct {
	text   string
	params int
}

func (s *stmtBase) Text() string    { return s.text }
func (s *stmtBase) ParamCount() int { return s.params }
func (s *stmtBase) stmtNode()       {}
func (s *stmtBase) base() *stmtBase { return s }

// ObjectName is a possibly qualified name of a table, view or database:
// [catalog.][db.]name.
type ObjectName struct {
	Catalog, DB, Name string
}

func (n ObjectName) String() string {
	var b strings.Builder
	n.format(&b)
	return b.String()
}

func (n ObjectName) format(b *strings.Builder) {
	if n.Catalog != "" {
		writeIdent(b, n.Catalog)
		b.WriteByte('.')
	}
	if n.DB != "" {
		writeIdent(b, n.DB)
		b.WriteByte('.')
	}
	writeIdent(b, n.Name)
}

// Property is one "key" = "value" pair of a PROPERTIES clause, in order.
type Property struct {
	Key, Value string
}

// ---- queries ----

// QueryBody is the body of a query: a *SelectBlock, a *SetOp or a
// parenthesised *SelectStmt.
type QueryBody interface {
	Node
	queryBody()
}

// SelectStmt is a complete query: WITH, a body, and the ORDER BY and LIMIT
// that apply to the whole body. For a plain SELECT, Body is a *SelectBlock
// and OrderBy/Limit here are its ORDER BY and LIMIT.
type SelectStmt struct {
	stmtBase
	With    []*CTE
	Body    QueryBody
	OrderBy []*OrderItem
	Limit   *Limit
}

// CTE is one WITH name [(cols)] AS (query).
type CTE struct {
	Name    string
	Columns []string
	Query   *SelectStmt
}

// SelectBlock is one SELECT ... FROM ... WHERE ... GROUP BY ... HAVING.
type SelectBlock struct {
	Distinct bool
	Items    []*SelectItem
	// From is nil for SELECT without FROM and for FROM DUAL.
	From    TableRef
	Where   Expr
	GroupBy []Expr
	// GroupingKind is "", "ROLLUP" (GROUP BY ... WITH ROLLUP or
	// ROLLUP(...)) or "CUBE".
	GroupingKind string
	Having       Expr
}

// SelectItem is one output expression. Text is the exact source text of the
// expression (without the alias), which MySQL uses as the column name when
// there is no alias.
type SelectItem struct {
	Expr  Expr
	Alias string
	Text  string
}

// SetOp is left UNION|INTERSECT|EXCEPT [ALL|DISTINCT] right.
type SetOp struct {
	Op          string // UNION, INTERSECT, EXCEPT
	All         bool
	Left, Right QueryBody
}

// OrderItem is one ORDER BY expression. Nulls is "", "FIRST" or "LAST".
type OrderItem struct {
	Expr  Expr
	Desc  bool
	Nulls string
}

// Limit is LIMIT count [OFFSET offset] or LIMIT offset, count.
type Limit struct {
	Count, Offset Expr // Offset is nil when absent
}

func (*SelectBlock) queryBody() {}
func (*SetOp) queryBody()       {}
func (*SelectStmt) queryBody()  {}

// TableRef is an item of a FROM clause: *TableSource, *DerivedTable or *Join.
type TableRef interface {
	Node
	tableRef()
}

// TableSource is a named table with an optional alias.
type TableSource struct {
	Name       ObjectName
	Alias      string
	Partitions []string
}

// DerivedTable is (subquery) [AS] alias.
type DerivedTable struct {
	Query *SelectStmt
	Alias string
}

// JoinKind says how a Join combines its sides.
type JoinKind uint8

const (
	JoinInner JoinKind = iota
	JoinLeft
	JoinRight
	JoinFull
	JoinCross
	JoinLeftSemi
	JoinLeftAnti
	JoinRightSemi
	JoinRightAnti
)

var joinKindNames = [...]string{
	JoinInner: "INNER JOIN", JoinLeft: "LEFT JOIN", JoinRight: "RIGHT JOIN", JoinFull: "FULL OUTER JOIN",
	JoinCross: "CROSS JOIN", JoinLeftSemi: "LEFT SEMI JOIN", JoinLeftAnti: "LEFT ANTI JOIN",
	JoinRightSemi: "RIGHT SEMI JOIN", JoinRightAnti: "RIGHT ANTI JOIN",
}

func (k JoinKind) String() string {
	if int(k) < len(joinKindNames) {
		return joinKindNames[k]
	}
	return "JoinKind(" + strconv.Itoa(int(k)) + ")"
}

// Join is left kind JOIN right [ON cond | USING (cols)]. A comma join is a
// JoinCross with Comma set.
type Join struct {
	Kind        JoinKind
	Left, Right TableRef
	On          Expr
	Using       []string
	Comma       bool
}

func (*TableSource) tableRef()  {}
func (*DerivedTable) tableRef() {}
func (*Join) tableRef()         {}

// ---- DML ----

// InsertStmt is INSERT INTO|OVERWRITE TABLE t [PARTITION (...)]
// [WITH LABEL l] [(cols)] VALUES ... | SELECT ....
type InsertStmt struct {
	stmtBase
	Table      ObjectName
	Overwrite  bool
	Partitions []string
	Label      string
	Columns    []string
	// Exactly one of Values and Select is set.
	Values [][]Expr
	Select *SelectStmt
}

// Assignment is col = expr in UPDATE ... SET.
type Assignment struct {
	Column *ColumnRef
	Value  Expr
}

// UpdateStmt is UPDATE t [alias] SET ... [FROM ...] [WHERE ...].
type UpdateStmt struct {
	stmtBase
	Table ObjectName
	Alias string
	Set   []*Assignment
	From  TableRef
	Where Expr
}

// DeleteStmt is DELETE FROM t [alias] [PARTITION ...] [USING ...] [WHERE ...].
type DeleteStmt struct {
	stmtBase
	Table      ObjectName
	Alias      string
	Partitions []string
	Using      TableRef
	Where      Expr
}

// ---- DDL ----

// CreateDatabaseStmt is CREATE DATABASE|SCHEMA [IF NOT EXISTS] name [PROPERTIES].
type CreateDatabaseStmt struct {
	stmtBase
	IfNotExists bool
	Name        ObjectName // Catalog and Name; DB is unused
	Properties  []Property
}

// DropDatabaseStmt is DROP DATABASE|SCHEMA [IF EXISTS] name [FORCE].
type DropDatabaseStmt struct {
	stmtBase
	IfExists bool
	Name     ObjectName
	Force    bool
}

// KeysKind is the data model named in CREATE TABLE.
type KeysKind uint8

const (
	KeysUnspecified KeysKind = iota
	KeysDuplicate
	KeysUnique
	KeysAggregate
)

func (k KeysKind) String() string {
	switch k {
	case KeysDuplicate:
		return "DUPLICATE"
	case KeysUnique:
		return "UNIQUE"
	case KeysAggregate:
		return "AGGREGATE"
	}
	return ""
}

// CreateTableStmt is CREATE TABLE in the Doris grammar (see SQL.md §2).
type CreateTableStmt struct {
	stmtBase
	Temporary, External bool
	IfNotExists         bool
	Name                ObjectName
	Columns             []*ColumnDef
	Indexes             []*IndexDef
	Engine              string
	Keys                KeysKind
	KeyColumns          []string
	ClusterBy           []string // ORDER BY (...) after the key clause
	Comment             string
	Partition           *PartitionDesc
	Distribution        *DistributionDesc
	Rollups             []*RollupDef
	Properties          []Property
	// Like is set for CREATE TABLE t LIKE src; LikeRollups lists WITH ROLLUP names.
	Like           *ObjectName
	LikeWithRollup bool
	LikeRollups    []string
	// AsSelect is set for CREATE TABLE ... AS SELECT.
	AsSelect *SelectStmt
}

// NullSpec is the nullability written on a column.
type NullSpec uint8

const (
	NullUnspecified NullSpec = iota
	Nullable
	NotNull
)

// ColumnDef is one column definition.
type ColumnDef struct {
	Name    string
	Type    *TypeName
	IsKey   bool
	AggType string // upper case: SUM, MAX, MIN, REPLACE, REPLACE_IF_NOT_NULL, HLL_UNION, BITMAP_UNION, ...
	Null    NullSpec
	// AutoIncrement is set by AUTO_INCREMENT; AutoIncrementStart by AUTO_INCREMENT(n).
	AutoIncrement      bool
	AutoIncrementStart *int64
	// Default is the DEFAULT value: a literal, NULL, or a niladic function
	// such as CURRENT_TIMESTAMP (FuncCall, possibly with a precision arg).
	Default   Expr
	OnUpdate  Expr
	Generated Expr // GENERATED ALWAYS AS (expr)
	Comment   string
}

// IndexDef is INDEX [IF NOT EXISTS] name (cols) [USING kind] [PROPERTIES] [COMMENT].
type IndexDef struct {
	Name        string
	IfNotExists bool
	Columns     []string
	Using       string // upper case, "" when absent
	Properties  []Property
	Comment     string
}

// PartitionDesc is PARTITION BY RANGE|LIST (...) (items).
type PartitionDesc struct {
	Type string // RANGE or LIST
	Auto bool   // AUTO PARTITION BY
	// Columns are the partition columns; for AUTO PARTITION BY RANGE
	// (date_trunc(col, 'unit')) Exprs holds the function and Columns the
	// column names found in it.
	Columns []string
	Exprs   []Expr
	Items   []*PartitionDef
}

// PartitionValueKind says which form a PartitionDef has.
type PartitionValueKind uint8

const (
	PartitionLessThan PartitionValueKind = iota // VALUES LESS THAN (...) | MAXVALUE
	PartitionFixed                              // VALUES [(lo), (hi))
	PartitionBatch                              // FROM (lo) TO (hi) INTERVAL n [unit]
	PartitionIn                                 // VALUES IN (...)
	PartitionBare                               // name only (ALTER ... DROP PARTITION)
)

// PartitionDef is one partition item.
type PartitionDef struct {
	Kind        PartitionValueKind
	Name        string
	IfNotExists bool
	// LessThan holds the bound values; a MAXVALUE bound is a *MaxValue.
	LessThan []Expr
	// Lower/Upper are the fixed-range bounds, or the FROM/TO of a batch.
	Lower, Upper []Expr
	// Interval and IntervalUnit describe a batch; unit is "" for numbers.
	Interval     int64
	IntervalUnit string
	// In holds the LIST values, one tuple per value (single-column lists
	// hold one-element tuples).
	In         [][]Expr
	Properties []Property
}

// DistributionDesc is DISTRIBUTED BY HASH(cols) | RANDOM [BUCKETS n | AUTO].
type DistributionDesc struct {
	Random      bool
	Columns     []string
	Buckets     int // 0 when not given
	AutoBuckets bool
}

// RollupDef is name (cols) [DUPLICATE KEY (cols)] [PROPERTIES] in ROLLUP (...).
type RollupDef struct {
	Name       string
	Columns    []string
	DupKeys    []string
	FromIndex  string // ALTER TABLE ADD ROLLUP ... FROM base
	Properties []Property
}

// DropTableStmt is DROP TABLE [IF EXISTS] names [FORCE].
type DropTableStmt struct {
	stmtBase
	IfExists bool
	Names    []ObjectName
	Force    bool
}

// TruncateTableStmt is TRUNCATE TABLE t [PARTITION (...)].
type TruncateTableStmt struct {
	stmtBase
	Table      ObjectName
	Partitions []string
}

// ViewColumn is a column of CREATE VIEW v (c [COMMENT '...'], ...).
type ViewColumn struct {
	Name, Comment string
}

// CreateViewStmt is CREATE [OR REPLACE] VIEW [IF NOT EXISTS] v [(cols)]
// [COMMENT '...'] AS query.
type CreateViewStmt struct {
	stmtBase
	OrReplace   bool
	IfNotExists bool
	Name        ObjectName
	Columns     []ViewColumn
	Comment     string
	Query       *SelectStmt
	// QueryText is the source text of the query after AS.
	QueryText string
}

// DropViewStmt is DROP VIEW [IF EXISTS] names.
type DropViewStmt struct {
	stmtBase
	IfExists bool
	Names    []ObjectName
}

// CreateMaterializedViewStmt is the synchronous form
// CREATE MATERIALIZED VIEW [IF NOT EXISTS] mv AS SELECT ... [PROPERTIES].
type CreateMaterializedViewStmt struct {
	stmtBase
	IfNotExists bool
	Name        ObjectName
	Query       *SelectStmt
	QueryText   string
	Properties  []Property
}

// DropMaterializedViewStmt is DROP MATERIALIZED VIEW [IF EXISTS] mv [ON t].
type DropMaterializedViewStmt struct {
	stmtBase
	IfExists bool
	Name     ObjectName
	Table    *ObjectName
}

// AlterKind names an ALTER TABLE sub-command.
type AlterKind uint8

const (
	AlterAddColumn AlterKind = iota
	AlterDropColumn
	AlterModifyColumn
	AlterRenameColumn
	AlterReorderColumns // ORDER BY (cols)
	AlterAddRollup
	AlterDropRollup
	AlterAddPartition
	AlterDropPartition
	AlterModifyPartition
	AlterSetProperties
	AlterModifyComment
	AlterModifyColumnComment
	AlterRenameTable
	AlterAddIndex
	AlterDropIndex
	AlterModifyDistribution
)

var alterKindNames = [...]string{
	AlterAddColumn: "ADD COLUMN", AlterDropColumn: "DROP COLUMN", AlterModifyColumn: "MODIFY COLUMN",
	AlterRenameColumn: "RENAME COLUMN", AlterReorderColumns: "ORDER BY", AlterAddRollup: "ADD ROLLUP",
	AlterDropRollup: "DROP ROLLUP", AlterAddPartition: "ADD PARTITION", AlterDropPartition: "DROP PARTITION",
	AlterModifyPartition: "MODIFY PARTITION", AlterSetProperties: "SET", AlterModifyComment: "MODIFY COMMENT",
	AlterModifyColumnComment: "MODIFY COLUMN COMMENT", AlterRenameTable: "RENAME", AlterAddIndex: "ADD INDEX",
	AlterDropIndex: "DROP INDEX", AlterModifyDistribution: "MODIFY DISTRIBUTION",
}

func (k AlterKind) String() string {
	if int(k) < len(alterKindNames) {
		return alterKindNames[k]
	}
	return "AlterKind(" + strconv.Itoa(int(k)) + ")"
}

// AlterCmd is one sub-command of ALTER TABLE. Which fields are used depends
// on Kind:
//
//	ADD COLUMN       Columns (one, or several for ADD COLUMN (...)), After/First, Rollup (TO r)
//	DROP COLUMN      Name, Rollup (FROM r)
//	MODIFY COLUMN    Columns[0], After/First, Rollup (FROM r)
//	RENAME COLUMN    Name, NewName
//	ORDER BY         Names, Rollup (FROM r)
//	ADD ROLLUP       Rollups
//	DROP ROLLUP      Names
//	ADD PARTITION    Partition, Distribution
//	DROP PARTITION   Name, IfExists, Force, Temporary
//	MODIFY PARTITION Names (or "*"), Properties
//	SET              Properties
//	MODIFY COMMENT   Comment
//	MODIFY COLUMN c COMMENT  Name, Comment
//	RENAME           NewName
//	ADD INDEX        Index
//	DROP INDEX       Name, IfExists
type AlterCmd struct {
	Kind         AlterKind
	Columns      []*ColumnDef
	Name         string
	NewName      string
	Names        []string
	After        string
	First        bool
	Rollup       string
	Rollups      []*RollupDef
	Partition    *PartitionDef
	Distribution *DistributionDesc
	Properties   []Property
	Comment      string
	Index        *IndexDef
	IfExists     bool
	Force        bool
	Temporary    bool
}

// AlterTableStmt is ALTER TABLE t cmd, cmd, ....
type AlterTableStmt struct {
	stmtBase
	Table ObjectName
	Cmds  []*AlterCmd
}

// AlterSystemStmt is ALTER SYSTEM {ADD | DROP | DROPP | DECOMMISSION}
// {BACKEND | FOLLOWER | OBSERVER} "host:port" [, ...].
type AlterSystemStmt struct {
	stmtBase
	Op    string // ADD, DROP, DROPP, DECOMMISSION
	Node  string // BACKEND, FOLLOWER, OBSERVER
	Hosts []string
}

// ---- utility statements ----

// UseStmt is USE [catalog.]db.
type UseStmt struct {
	stmtBase
	Catalog, DB string
}

// ShowStmt is any SHOW statement. Kind is the upper-case object word(s)
// after SHOW and its modifiers, for example "DATABASES", "TABLES",
// "CREATE TABLE", "CREATE VIEW", "CREATE DATABASE", "CREATE MATERIALIZED VIEW",
// "COLUMNS", "PARTITIONS", "VARIABLES", "STATUS", "WARNINGS", "ERRORS",
// "COUNT WARNINGS", "COUNT ERRORS", "PROCESSLIST", "TABLE STATUS", "INDEX"
// (also KEYS/INDEXES), "ENGINES", "CHARSET" (also CHARACTER SET), "COLLATION",
// "PLUGINS", "PRIVILEGES", "GRANTS", "TRANSACTION", "LOAD", "BACKENDS",
// "FRONTENDS", "ALTER TABLE COLUMN", "ALTER TABLE ROLLUP",
// "ALTER TABLE MATERIALIZED VIEW", "CATALOGS", "FUNCTION STATUS",
// "PROCEDURE STATUS", "TABLETS", "DATA", "PROC", "TRIGGERS", "EVENTS",
// "OPEN TABLES", "MASTER STATUS", "STREAM LOAD", "ROUTINE LOAD", "VIEWS",
// "DYNAMIC PARTITION TABLES".
type ShowStmt struct {
	stmtBase
	Kind string
	Full bool
	// Scope is "GLOBAL", "SESSION" (also for LOCAL) or "".
	Scope string
	// Table is the object of SHOW CREATE TABLE/VIEW, SHOW COLUMNS FROM t,
	// SHOW PARTITIONS FROM t, SHOW INDEX FROM t, SHOW CREATE MATERIALIZED VIEW mv ON t.
	Table ObjectName
	// DB is the FROM|IN db of SHOW TABLES, SHOW TABLE STATUS, SHOW COLUMNS ... FROM db,
	// SHOW ALTER TABLE ... FROM db, or the name of SHOW CREATE DATABASE;
	// Catalog is set by SHOW DATABASES FROM catalog.
	DB, Catalog string
	// Name is the extra name: the MV of SHOW CREATE MATERIALIZED VIEW, the
	// user of SHOW GRANTS FOR, the path of SHOW PROC, a transaction id.
	Name    string
	Like    *string
	Where   Expr
	OrderBy []*OrderItem
	Limit   *Limit
	// Temporary is set for SHOW TEMPORARY PARTITIONS.
	Temporary bool
}

// DescribeStmt is DESC|DESCRIBE t [ALL].
type DescribeStmt struct {
	stmtBase
	Table ObjectName
	All   bool
}

// ExplainStmt is EXPLAIN [VERBOSE|GRAPH|...] stmt. Level is upper case or "".
type ExplainStmt struct {
	stmtBase
	Level string
	Stmt  Stmt
}

// SetKind says what a SET item assigns.
type SetKind uint8

const (
	SetVariable    SetKind = iota // [GLOBAL|SESSION] name = v, @@x = v, @x = v
	SetNames                      // NAMES cs [COLLATE c] | NAMES DEFAULT
	SetCharset                    // CHARACTER SET cs | CHARSET cs
	SetTransaction                // [GLOBAL|SESSION] TRANSACTION ISOLATION LEVEL ... | READ ONLY|WRITE
	SetPassword                   // PASSWORD [FOR user] = ...; not produced yet (SET PASSWORD is unsupported)
)

// SetItem is one assignment of a SET statement.
type SetItem struct {
	Kind SetKind
	// Scope is "GLOBAL", "SESSION" or "" (session by default).
	Scope string
	// Name is the variable name without @/@@ and scope prefix.
	Name string
	// User is set for @user variables.
	User bool
	// Value is the assigned expression; a bare word such as ON or
	// READ-COMMITTED is a *ColumnRef, DEFAULT is *DefaultExpr.
	Value Expr
	// Charset and Collation are for NAMES/CHARACTER SET ("" for DEFAULT).
	Charset, Collation string
	// Isolation is e.g. "READ COMMITTED"; AccessMode is set by READ ONLY|WRITE.
	Isolation  string
	AccessMode string // "READ ONLY" or "READ WRITE"
}

// SetStmt is SET item, item, ....
type SetStmt struct {
	stmtBase
	Items []*SetItem
}

// TxnStmt is BEGIN, START TRANSACTION, COMMIT or ROLLBACK. Op is "BEGIN",
// "COMMIT" or "ROLLBACK"; Label is Doris's BEGIN WITH LABEL l.
type TxnStmt struct {
	stmtBase
	Op    string
	Label string
}

// KillStmt is KILL [CONNECTION|QUERY] id.
type KillStmt struct {
	stmtBase
	Query bool
	ID    Expr
}

// CancelAlterStmt is CANCEL ALTER TABLE Kind FROM t [(job ids)]; Kind is
// "COLUMN", "ROLLUP" or "MATERIALIZED VIEW".
type CancelAlterStmt struct {
	stmtBase
	Kind   string
	Table  ObjectName
	JobIDs []int64
}

// Matches reports whether the statement cancels a job of the given type
// ("ROLLUP" or "SCHEMA_CHANGE"), created by CREATE MATERIALIZED VIEW when
// mv is set.
func (s *CancelAlterStmt) Matches(jobType string, mv bool) bool {
	switch s.Kind {
	case "COLUMN":
		return jobType == "SCHEMA_CHANGE"
	case "ROLLUP":
		return jobType == "ROLLUP"
	}
	return jobType == "ROLLUP" && mv
}

// SyncStmt is SYNC.
type SyncStmt struct{ stmtBase }
