package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/types"
)

// Light schema change.
//
// Columns have ids that segments store, and the reader maps the catalog's
// columns to a segment's by id, filling the column's default (or NULL) for
// a segment written before the column existed. So adding a value column,
// dropping one, renaming one, widening a VARCHAR and changing comments only
// change the table's catalog entry: ALTER TABLE is one compare-and-swap of
// the table key (Catalog.UpdateTable), whatever the size of the table, and
// returns once this FE's snapshot shows it.
//
// A load fixes its schema when it begins, so one that began before the
// ALTER writes segments with the old column ids and still commits: a
// column dropped meanwhile is never read again, a column added meanwhile
// reads its default in that load's rows. Ids are never reused
// (Table.NextColumnID only grows), so dropping a column and adding one of
// the same name never brings the old values back.
//
// What would rewrite data (key columns, type changes other than a longer
// VARCHAR, nullability, defaults, column order) is a heavy schema change,
// which is not supported yet and is refused; so is everything when the
// table's "light_schema_change" property is "false".
//
// The sub-commands of one statement are applied in order to a private copy
// of the table and written together or not at all. Which ones may share a
// statement follows Doris's compatibility matrix (alter/AlterOpType.java):
// column adds, drops and modifications together, column comments together,
// RENAME COLUMN and MODIFY COMMENT alone.

// alterTable runs ALTER TABLE.
func (s *Session) alterTable(ctx context.Context, st *sql.AlterTableStmt) (*mysqlproto.Result, error) {
	db, err := s.dbFor(st.Table)
	if err != nil {
		return nil, err
	}
	if sys, ok := planner.IsSystemSchema(db); ok {
		return nil, ddlErrorCode(mysqlproto.ER_DBACCESS_DENIED_ERROR, "Access denied for user '%s'@'%s' to database '%s'", s.user, s.host, sys)
	}
	if t, err := s.eng.Catalog.Snapshot().Table(db, st.Table.Name); err == nil && t.IsView() {
		return nil, notBaseTable(db, st.Table.Name)
	}
	if err := checkAlterConflicts(st.Cmds); err != nil {
		return nil, err
	}
	switch st.Cmds[0].Kind {
	case sql.AlterAddRollup:
		for _, cmd := range st.Cmds {
			if _, err := s.addRollups(ctx, db, st.Table.Name, cmd); err != nil {
				return nil, err
			}
		}
		return ok(0), nil
	case sql.AlterDropRollup:
		var names []string
		for _, cmd := range st.Cmds {
			names = append(names, cmd.Names...)
		}
		return s.dropRollups(ctx, db, st.Table.Name, names)
	}
	err = s.eng.Catalog.UpdateTable(ctx, db, st.Table.Name, func(t *catalog.Table) error {
		if j := t.RunningJob(); j != nil && j.Type == catalog.JobSchemaChange {
			return tableNotNormal(t, j)
		}
		_, err := applyAlterMode(t, st.Cmds, false)
		return err
	})
	var heavy *heavyError
	if errors.As(err, &heavy) {
		err = s.startSchemaChange(ctx, db, st.Table.Name, st.Cmds)
	}
	if err != nil {
		return nil, err
	}
	return ok(0), nil
}

// alterOpType is the class of a sub-command in Doris's conflict check; the
// names are Doris's, as its error messages print them.
type alterOpType string

const (
	opSchemaChange        alterOpType = "SCHEMA_CHANGE"
	opRename              alterOpType = "RENAME"
	opModifyColumnComment alterOpType = "MODIFY_COLUMN_COMMENT"
	opModifyTableComment  alterOpType = "MODIFY_TABLE_COMMENT"
	opAddRollup           alterOpType = "ADD_ROLLUP"
	opDropRollup          alterOpType = "DROP_ROLLUP"
)

// batchable reports whether several sub-commands of the class may share a
// statement.
func (o alterOpType) batchable() bool {
	return o == opSchemaChange || o == opModifyColumnComment || o == opAddRollup || o == opDropRollup
}

// checkAlterConflicts refuses unsupported sub-commands and combinations
// Doris refuses.
func checkAlterConflicts(cmds []*sql.AlterCmd) error {
	var first alterOpType
	for _, cmd := range cmds {
		var op alterOpType
		switch cmd.Kind {
		case sql.AlterAddColumn, sql.AlterDropColumn, sql.AlterModifyColumn, sql.AlterReorderColumns:
			op = opSchemaChange
		case sql.AlterRenameColumn:
			op = opRename
		case sql.AlterModifyColumnComment:
			op = opModifyColumnComment
		case sql.AlterModifyComment:
			op = opModifyTableComment
		case sql.AlterAddRollup:
			op = opAddRollup
		case sql.AlterDropRollup:
			op = opDropRollup
		default:
			return notSupported("ALTER TABLE ... " + cmd.Kind.String())
		}
		switch {
		case first == "":
			first = op
		case op != first || !op.batchable():
			return ddlError("Alter operation %s conflicts with operation %s", op, first)
		}
	}
	return nil
}

// applyAlterMode applies the sub-commands to t, a private copy of the
// table. It depends on nothing but t and cmds, as Catalog.UpdateTable
// requires. Unless heavyOK, a change that would rewrite data stops it with
// a heavyError.
func applyAlterMode(t *catalog.Table, cmds []*sql.AlterCmd, heavyOK bool) (*alteration, error) {
	a := &alteration{t: t, added: map[string]catalog.Column{}, commented: map[string]bool{}, heavyOK: heavyOK}
	before := slices.Clone(t.Schema.Columns) // the commands change columns in place
	schemaOps := false
	for _, cmd := range cmds {
		var err error
		switch cmd.Kind {
		case sql.AlterAddColumn:
			schemaOps = true
			err = a.addColumns(cmd)
		case sql.AlterDropColumn:
			schemaOps = true
			err = a.dropColumn(cmd)
		case sql.AlterModifyColumn:
			schemaOps = true
			err = a.modifyColumn(cmd)
		case sql.AlterRenameColumn:
			err = a.renameColumn(cmd)
		case sql.AlterModifyColumnComment:
			err = a.modifyColumnComment(cmd)
		case sql.AlterModifyComment:
			t.Comment = cmd.Comment
		case sql.AlterReorderColumns:
			schemaOps = true
			err = a.reorderColumns(cmd)
		default:
			err = notSupported("ALTER TABLE ... " + cmd.Kind.String())
		}
		if err != nil {
			return a, err
		}
	}
	if schemaOps && !a.newVersion && sameColumns(before, t.Schema.Columns) {
		// The text Flink CDC looks for to tell "already applied" from a
		// failure.
		return a, ddlError("Nothing is changed. please check your alter stmt.")
	}
	if a.newVersion {
		t.Schema.Version++
	}
	return a, nil
}

// alteration is the state of one ALTER TABLE statement being applied.
type alteration struct {
	t *catalog.Table
	// newVersion is set when a column was added, dropped, renamed or
	// retyped (comments do not count): the schema version goes up by one
	// for the statement.
	newVersion bool
	// added holds the columns added by this statement, by lower-case name,
	// as defined (before the id): Doris lets a statement repeat an identical
	// ADD COLUMN.
	added map[string]catalog.Column
	// commented holds the columns a MODIFY COLUMN c COMMENT of this
	// statement named, by lower-case name.
	commented map[string]bool
	// heavyOK: changes that rewrite data are applied (the schema change
	// job's pass); heavy is set when one was. retyped maps the new id of a
	// column whose stored form changed to its old id.
	heavyOK, heavy bool
	retyped        map[uint32]uint32
}

func (a *alteration) lightSchemaChange() bool {
	v, ok := a.t.Properties["light_schema_change"]
	return !ok || !strings.EqualFold(strings.TrimSpace(v), "false")
}

// heavyError: the statement needs a heavy schema change; it is run again
// as a background job (schemachange.go).
type heavyError struct{ what string }

func (e *heavyError) Error() string { return e.what + " needs a heavy schema change" }

// heavyStep allows a change that rewrites data: in the first pass it
// stops the statement with a heavyError, in the job's pass it is done and
// recorded.
func (a *alteration) heavyStep(what string) error {
	if !a.heavyOK {
		return &heavyError{what}
	}
	a.heavy = true
	return nil
}

// needLight makes what heavy when the table has light schema change off.
func (a *alteration) needLight(what string) error {
	if a.lightSchemaChange() {
		return nil
	}
	return a.heavyStep(what)
}

func (a *alteration) checkRollup(name string) error {
	if name == "" {
		return nil
	}
	if ix, ok := a.t.IndexByName(name); ok && ix != nil {
		return notSupported("ADD, DROP or MODIFY COLUMN of a rollup or materialized view")
	}
	return ddlError("Index[%s] does not exist in table[%s]", name, a.t.Name)
}

// isDistOrPartition reports whether name is a partition or distribution
// column.
func (a *alteration) isDistOrPartition(name string) bool {
	for _, n := range a.t.PartitionColumns {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	if a.t.Distribution.Type == catalog.HashDistributed {
		for _, n := range a.t.Distribution.Columns {
			if strings.EqualFold(n, name) {
				return true
			}
		}
	}
	return false
}

// columnKind sets IsKey and AggType of c, defined by cd, by the table's
// data model, with Doris's checks (AddColumnOp, SchemaChangeHandler).
func (a *alteration) columnKind(c *catalog.Column, cd *sql.ColumnDef, wasKey bool) error {
	c.IsKey = cd.IsKey || wasKey
	c.AggType = strings.ToUpper(cd.AggType)
	switch a.t.KeysType {
	case catalog.AggKeys:
		switch {
		case c.AggType == "":
			c.IsKey = true
		case c.IsKey:
			return ddlError("Can not assign aggregation method on key column: %s", c.Name)
		case c.AggType == "NONE":
			return ddlError("can't set NONE as aggregation type on column %s", c.Name)
		case c.AggType == "SUM" && c.Default != nil && *c.Default != "0":
			return ddlError("The default value of '%s' with SUM aggregation function must be zero", c.Name)
		}
	case catalog.UniqueKeys:
		if c.AggType != "" && c.AggType != "REPLACE" && c.AggType != "REPLACE_IF_NOT_NULL" {
			return ddlError("Can not assign aggregation method on column in Unique data model table: %s", c.Name)
		}
		c.AggType = ""
	default:
		if c.AggType != "" {
			return ddlError("Can not assign aggregation method on column in Duplicate data model table: %s", c.Name)
		}
	}
	return nil
}

// addColumns is ADD COLUMN c ... [FIRST | AFTER x] and ADD COLUMN (c1 ..., c2 ...).
func (a *alteration) addColumns(cmd *sql.AlterCmd) error {
	if err := a.checkRollup(cmd.Rollup); err != nil {
		return err
	}
	for _, cd := range cmd.Columns {
		if err := a.addColumn(cd, cmd.After, cmd.First); err != nil {
			return err
		}
	}
	return nil
}

func (a *alteration) addColumn(cd *sql.ColumnDef, after string, first bool) error {
	t := a.t
	c, err := columnFromDef(cd)
	if err != nil {
		return err
	}
	if err := a.columnKind(&c, cd, false); err != nil {
		return err
	}
	if !c.Nullable && c.Default == nil {
		return ddlErrorCode(1364, "Field '%s' is not null but doesn't have a default value", c.Name)
	}
	if !c.Nullable && c.Type.Kind.IsTemporal() && strings.HasPrefix(strings.ToUpper(*c.Default), "CURRENT_") {
		// Rows written before the column existed read its default, and
		// a default that is a function of the load time has no value for
		// them: they would read NULL from a NOT NULL column.
		return ddlErrorCode(planner.ErrNotSupportedYet, "Adding NOT NULL column %s with DEFAULT %s to a table that has rows is not supported yet: "+
			"the existing rows would have no value; add it as NULL, or with a constant default", c.Name, *c.Default)
	}
	cols := t.Schema.Columns
	at := len(cols) // a value column goes last, before any hidden column
	for at > 0 && planner.IsHiddenColumn(cols[at-1].Name) {
		at--
	}
	switch {
	case first:
		if !c.IsKey {
			return ddlError("Can't add value column %s as First column", c.Name)
		}
		at = 0
	case after != "":
		i, prev := t.Schema.ColumnByName(after)
		if _, dup := t.Schema.ColumnByName(c.Name); dup != nil {
			return ddlErrorCode(mysqlproto.ER_DUP_FIELDNAME, "column %s already exists in table %s", c.Name, t.Name)
		}
		if prev != nil {
			if prev.IsKey && !c.IsKey && i+1 < len(cols) && cols[i+1].IsKey {
				return ddlError("can't add value column %s before key column %s", c.Name, cols[i+1].Name)
			}
			if !prev.IsKey && c.IsKey {
				return ddlError("can't add key column %s after value column %s", c.Name, prev.Name)
			}
		}
		at = i + 1
	}
	if c.IsKey {
		if t.KeysType == catalog.UniqueKeys {
			return ddlError("Can not add key column %s to unique data model table", c.Name)
		}
		if err := a.heavyStep(fmt.Sprintf("Adding key column %s", c.Name)); err != nil {
			return err
		}
	} else if err := a.needLight("ADD COLUMN " + c.Name); err != nil {
		return err
	}
	if _, old := t.Schema.ColumnByName(c.Name); old != nil {
		prev, ok := a.added[strings.ToLower(c.Name)]
		if !ok {
			return ddlErrorCode(mysqlproto.ER_DUP_FIELDNAME, "Can not add column which already exists in base table: %s", c.Name)
		}
		if !sameColumn(prev, c) {
			return ddlErrorCode(mysqlproto.ER_DUP_FIELDNAME, "Repeatedly add same column with different definition: %s", c.Name)
		}
		return nil // the same ADD twice in one statement: Doris ignores the second
	}
	if after != "" && at == 0 {
		return ddlErrorCode(mysqlproto.ER_BAD_FIELD_ERROR, "Column[%s] does not found", after)
	}
	a.added[strings.ToLower(c.Name)] = c
	c.ID = nextColumnID(t)
	t.NextColumnID = c.ID + 1
	t.Schema.Columns = append(cols[:at:at], append([]catalog.Column{c}, cols[at:]...)...)
	a.newVersion = true
	return nil
}

// nextColumnID is the id for a new column: never one a column of the table
// or of one of its indexes had, even a dropped one.
func nextColumnID(t *catalog.Table) uint32 {
	id := max(t.NextColumnID, 1)
	for _, c := range t.Schema.Columns {
		id = max(id, c.ID+1)
	}
	for _, ix := range t.Indexes {
		for _, c := range ix.Schema.Columns {
			id = max(id, c.ID+1)
		}
	}
	return id
}

// dropColumn is DROP COLUMN c.
func (a *alteration) dropColumn(cmd *sql.AlterCmd) error {
	t := a.t
	if err := a.checkRollup(cmd.Rollup); err != nil {
		return err
	}
	name := cmd.Name
	if a.isDistOrPartition(name) {
		return ddlError("Can not drop partition or distribution column : %s", name)
	}
	i, c := t.Schema.ColumnByName(name)
	if c == nil {
		return ddlErrorCode(1091, "Column does not exists: %s", name)
	}
	if c.IsKey {
		if t.KeysType == catalog.UniqueKeys {
			return ddlError("Can not drop key column %s in unique data model table", name)
		}
		if t.KeysType == catalog.AggKeys {
			return ddlErrorCode(planner.ErrNotSupportedYet, "Dropping key column %s of an aggregate table is not supported yet", name)
		}
		if t.Schema.NumKeys() == 1 {
			return ddlError("Can not drop the only key column %s", name)
		}
		if err := a.heavyStep(fmt.Sprintf("Dropping key column %s", c.Name)); err != nil {
			return err
		}
		for i, k := range t.KeyColumns {
			if strings.EqualFold(k, c.Name) {
				t.KeyColumns = append(t.KeyColumns[:i:i], t.KeyColumns[i+1:]...)
				break
			}
		}
	} else if err := a.needLight("DROP COLUMN " + c.Name); err != nil {
		return err
	}
	if ix := a.indexUsing(c.ID); ix != nil {
		return ddlError("Can not drop column %s: rollup or materialized view %s uses it; drop the index first", c.Name, ix.Name)
	}
	t.Schema.Columns = append(t.Schema.Columns[:i:i], t.Schema.Columns[i+1:]...)
	a.newVersion = true
	return nil
}

// renameColumn is RENAME COLUMN old new: the column keeps its id, and every
// reference to it by name in the table (keys, partition and distribution
// columns) follows.
func (a *alteration) renameColumn(cmd *sql.AlterCmd) error {
	t := a.t
	old, name := cmd.Name, cmd.NewName
	if strings.EqualFold(old, name) {
		return ddlError("Same column name")
	}
	if !a.lightSchemaChange() {
		return ddlError("not implemented for table without column unique id, which are created with property 'light_schema_change'.")
	}
	if strings.HasPrefix(strings.ToUpper(name), "__DORIS_") {
		return ddlError("Column name '%s' is reserved", name)
	}
	if _, c := t.Schema.ColumnByName(name); c != nil {
		return ddlErrorCode(mysqlproto.ER_DUP_FIELDNAME, "Column name[%s] is already used", name)
	}
	_, c := t.Schema.ColumnByName(old)
	if c == nil {
		return ddlErrorCode(mysqlproto.ER_BAD_FIELD_ERROR, "Column[%s] does not exists", old)
	}
	c.Name = name
	a.eachIndexCopy(c.ID, false, func(ic *catalog.Column) { ic.Name = name })
	for _, refs := range [][]string{t.KeyColumns, t.PartitionColumns, t.Distribution.Columns} {
		for i := range refs {
			if strings.EqualFold(refs[i], old) {
				refs[i] = name
			}
		}
	}
	a.newVersion = true
	return nil
}

// modifyColumnComment is MODIFY COLUMN c COMMENT 'x'.
func (a *alteration) modifyColumnComment(cmd *sql.AlterCmd) error {
	_, c := a.t.Schema.ColumnByName(cmd.Name)
	if c == nil {
		return ddlErrorCode(mysqlproto.ER_BAD_FIELD_ERROR, "Unknown column: %s", cmd.Name)
	}
	if a.commented[strings.ToLower(c.Name)] {
		return ddlError("Duplicate column: %s", cmd.Name)
	}
	a.commented[strings.ToLower(c.Name)] = true
	c.Comment = cmd.Comment
	return nil
}

// modifyColumn is MODIFY COLUMN c <definition> [FIRST | AFTER x]. Only
// what storage never sees may change: the comment, and the length of a
// VARCHAR, upwards.
func (a *alteration) modifyColumn(cmd *sql.AlterCmd) error {
	t := a.t
	if err := a.checkRollup(cmd.Rollup); err != nil {
		return err
	}
	cd := cmd.Columns[0]
	i, orig := t.Schema.ColumnByName(cd.Name)
	if orig == nil {
		return ddlErrorCode(mysqlproto.ER_BAD_FIELD_ERROR, "Column[%s] does not exists", cd.Name)
	}
	c, err := columnFromDef(cd)
	if err != nil {
		return err
	}
	c.Name = orig.Name
	if err := a.columnKind(&c, cd, orig.IsKey); err != nil {
		return err
	}

	if cmd.First || cmd.After != "" {
		at := 0
		if cmd.After != "" {
			j, prev := t.Schema.ColumnByName(cmd.After)
			if prev == nil {
				return ddlErrorCode(mysqlproto.ER_BAD_FIELD_ERROR, "Column[%s] does not exists", cmd.After)
			}
			if j == i {
				return ddlError("Column[%s] modify position is invalid", cmd.After)
			}
			at = j + 1
		}
		if at != i {
			if err := a.heavyStep(fmt.Sprintf("Moving column %s", orig.Name)); err != nil {
				return err
			}
			if err := a.moveColumn(i, at); err != nil {
				return err
			}
			i, orig = t.Schema.ColumnByName(cd.Name)
		}
	}

	if c.IsKey != orig.IsKey {
		return ddlErrorCode(planner.ErrNotSupportedYet, "Changing column %s into a key column is not supported yet", orig.Name)
	}
	if c.AggType != orig.AggType {
		return ddlError("Can not change aggregation type of column %s from %q to %q", orig.Name, orig.AggType, c.AggType)
	}
	if c.Nullable != orig.Nullable && !c.Nullable {
		return ddlError("Can not change from nullable column to not nullable column: %s", orig.Name)
	}
	var heavy []string
	if c.Nullable != orig.Nullable {
		heavy = append(heavy, fmt.Sprintf("%s to %s", nullText(orig.Nullable), nullText(c.Nullable)))
	}
	if defaultText(*orig) != defaultText(c) {
		heavy = append(heavy, fmt.Sprintf("its default from %s to %s", defaultText(*orig), defaultText(c)))
	}
	widen := false
	if c.Type != orig.Type {
		if orig.Type.Kind == types.KindVarchar && c.Type.Kind == types.KindVarchar {
			if c.Type.Length < orig.Type.Length {
				return ddlError("Shorten type length is prohibited, srcType=%s, dstType=%s",
					strings.ToLower(orig.Type.String()), strings.ToLower(c.Type.String()))
			}
			widen = true
		} else {
			if err := checkTypeChange(orig, c.Type); err != nil {
				return err
			}
			if a.isDistOrPartition(orig.Name) {
				return ddlError("Can not modify partition or distribution column : %s", orig.Name)
			}
			heavy = append(heavy, fmt.Sprintf("its type from %s to %s", orig.Type.SQLName(), c.Type.SQLName()))
		}
	}
	if len(heavy) > 0 {
		if err := a.heavyStep(fmt.Sprintf("Changing column %s (%s)", orig.Name, strings.Join(heavy, ", "))); err != nil {
			return err
		}
		if ix := a.indexUsing(orig.ID); ix != nil {
			return ddlError("Can not change column %s: rollup or materialized view %s uses it; drop the index first", orig.Name, ix.Name)
		}
		// The column's stored form changes: it gets a new id, so that the
		// rewritten data never mixes with rows of the old form.
		id := nextColumnID(t)
		t.NextColumnID = id + 1
		if a.retyped == nil {
			a.retyped = map[uint32]uint32{}
		}
		old := orig.ID
		if o, ok := a.retyped[old]; ok {
			old = o
		}
		a.retyped[id] = old
		c.ID = id
		*orig = c
		return nil
	}
	if widen {
		// Every VARCHAR is stored as the same variable-length strings;
		// the declared length only bounds what loads accept.
		if err := a.needLight("MODIFY COLUMN " + orig.Name); err != nil {
			return err
		}
		orig.Type = c.Type
		a.eachIndexCopy(orig.ID, true, func(ic *catalog.Column) { ic.Type = c.Type })
		a.newVersion = true
	}
	orig.Comment = c.Comment
	return nil
}

// indexUsing returns an index of the table that reads the base column
// id, or nil.
func (a *alteration) indexUsing(id uint32) *catalog.Index {
	for i := range a.t.Indexes {
		for _, d := range a.t.Indexes[i].Defines {
			if d.Base == id {
				return &a.t.Indexes[i]
			}
		}
	}
	return nil
}

// eachIndexCopy calls fn with every index column that copies the base
// column id as it is: the column of the same id, and with values also
// the min, max or other aggregate of it that keeps its type.
func (a *alteration) eachIndexCopy(id uint32, values bool, fn func(*catalog.Column)) {
	for i := range a.t.Indexes {
		ix := &a.t.Indexes[i]
		for j := range ix.Schema.Columns {
			c := &ix.Schema.Columns[j]
			d := ix.Defines[j]
			if c.ID == id || values && d.Base == id && d.Func == "" && c.AggType != "SUM" {
				fn(c)
			}
		}
	}
}

func nullText(nullable bool) string {
	if nullable {
		return "NULL"
	}
	return "NOT NULL"
}

// defaultText renders a column's default for comparison and messages; no
// default and DEFAULT NULL are the same thing.
func defaultText(c catalog.Column) string {
	if c.Default == nil {
		return "NULL"
	}
	return quoteString(*c.Default)
}

// sameColumn compares two definitions, ids aside.
func sameColumn(x, y catalog.Column) bool {
	x.ID, y.ID = 0, 0
	return x.Name == y.Name && x.Type == y.Type && x.Nullable == y.Nullable && x.IsKey == y.IsKey &&
		x.AggType == y.AggType && defaultText(x) == defaultText(y) && x.Comment == y.Comment
}

func sameColumns(x, y []catalog.Column) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i].ID != y[i].ID || !sameColumn(x[i], y[i]) {
			return false
		}
	}
	return true
}
