package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/types"
)

// Heavy schema change.
//
// A change that alters how rows are stored — a column's type, nullability
// or default, its position, a key column added or dropped, the column
// order — cannot be a catalog edit. Such an ALTER TABLE builds the new
// schema and adds a shadow index holding it (named __doris_shadow_<t>,
// state SHADOW, never read by queries) with its tablets and a
// SCHEMA_CHANGE job, in one compare-and-swap, and returns. From then on
// loads write the shadow index too, each row converted (a value that does
// not convert fails the load); the job converts the rows loaded before,
// exactly as it builds a rollup (alterjob.go), and at the end swaps the
// shadow in: the table's schema becomes the new one and each partition's
// tablets become the shadow's, in one write. The old tablets are then in
// no table, and the backend deletes them. While the job runs the table
// accepts no other ALTER; CANCEL ALTER TABLE COLUMN drops the shadow.
//
// A converted column gets a new id, so rows of the old and the new form
// never meet in one tablet. Columns a rollup or materialized view reads
// cannot be changed this way (drop the index first).

// shadowPrefix names the shadow index of a schema change, as Doris does.
const shadowPrefix = "__doris_shadow_"

// startSchemaChange runs ALTER TABLE st as a heavy schema change job.
func (s *Session) startSchemaChange(ctx context.Context, db, table string, cmds []*sql.AlterCmd) error {
	return s.addIndexJob(ctx, db, table, func(t *catalog.Table) (catalog.Index, catalog.AlterJob, error) {
		if j := t.RunningJob(); j != nil {
			return catalog.Index{}, catalog.AlterJob{}, tableNotNormal(t, j)
		}
		ix, err := shadowIndex(t, cmds)
		job := catalog.AlterJob{Type: catalog.JobSchemaChange, SchemaVersion: ix.Schema.Version, Timeout: defaultAlterTimeout}
		return ix, job, err
	})
}

// tableNotNormal refuses an ALTER while a job runs on the table, with
// Doris's text.
func tableNotNormal(t *catalog.Table, j *catalog.AlterJob) error {
	state := "SCHEMA_CHANGE"
	if j.Type == catalog.JobRollup {
		state = "ROLLUP"
	}
	return ddlError("Table[%s]'s state(%s) is not NORMAL. Do not allow doing ALTER ops", t.Name, state)
}

// shadowIndex applies the commands to the table's schema, heavy changes
// included, and returns the shadow index holding the result; t keeps its
// schema (only NextColumnID moves on).
func shadowIndex(t *catalog.Table, cmds []*sql.AlterCmd) (catalog.Index, error) {
	orig := t.Schema
	origKeys := slices.Clone(t.KeyColumns)
	origIndexes := t.Indexes
	t.Schema.Columns = slices.Clone(orig.Columns)
	t.Indexes = slices.Clone(t.Indexes)
	a, err := applyAlterMode(t, cmds, true)
	newCols := t.Schema.Columns
	t.Schema, t.KeyColumns, t.Indexes = orig, origKeys, origIndexes
	if err != nil {
		return catalog.Index{}, err
	}
	if !a.heavy {
		return catalog.Index{}, errors.New("BUG: a heavy schema change without a heavy step")
	}
	ix := catalog.Index{
		Name: shadowPrefix + t.Name, State: catalog.IndexShadow, KeysType: t.KeysType, SchemaChange: true,
		Schema: catalog.Schema{Version: orig.Version + 1, Columns: newCols},
	}
	had := map[uint32]bool{}
	for _, c := range orig.Columns {
		had[c.ID] = true
	}
	for _, c := range newCols {
		switch {
		case a.retyped[c.ID] != 0:
			ix.Defines = append(ix.Defines, catalog.ColumnDefine{Base: a.retyped[c.ID]})
		case had[c.ID]:
			ix.Defines = append(ix.Defines, catalog.ColumnDefine{Base: c.ID})
		default:
			// Added by this statement: every row takes the default.
			ix.Defines = append(ix.Defines, catalog.ColumnDefine{Func: catalog.DefineDefault})
		}
	}
	return ix, nil
}

// moveColumn moves column i to position at (an index of the columns
// before the move) for MODIFY COLUMN ... FIRST | AFTER x; keys stay before
// values.
func (a *alteration) moveColumn(i, at int) error {
	cols := a.t.Schema.Columns
	c := cols[i]
	rest := append(slices.Clone(cols[:i]), cols[i+1:]...)
	if at > i {
		at--
	}
	moved := append(rest[:at:at], append([]catalog.Column{c}, rest[at:]...)...)
	if err := checkKeysFirst(moved); err != nil {
		return err
	}
	a.t.Schema.Columns = moved
	a.syncKeyColumns()
	return nil
}

// reorderColumns is ORDER BY (c1, c2, ...): every visible column, in a new
// order.
func (a *alteration) reorderColumns(cmd *sql.AlterCmd) error {
	t := a.t
	if err := a.checkRollup(cmd.Rollup); err != nil {
		return err
	}
	var visible, hidden []catalog.Column
	for _, c := range t.Schema.Columns {
		if planner.IsHiddenColumn(c.Name) {
			hidden = append(hidden, c)
		} else {
			visible = append(visible, c)
		}
	}
	if len(cmd.Names) != len(visible) {
		return ddlError("Reorder stmt should contains all columns")
	}
	var out []catalog.Column
	seen := map[string]bool{}
	for _, n := range cmd.Names {
		_, c := t.Schema.ColumnByName(n)
		if c == nil || planner.IsHiddenColumn(n) {
			return ddlErrorCode(mysqlproto.ER_BAD_FIELD_ERROR, "Column[%s] does not exists", n)
		}
		if seen[strings.ToLower(n)] {
			return ddlError("Duplicated column[%s]", n)
		}
		seen[strings.ToLower(n)] = true
		out = append(out, *c)
	}
	out = append(out, hidden...)
	if sameColumns(out, t.Schema.Columns) {
		return ddlError("Nothing is changed. please check your alter stmt.")
	}
	if err := checkKeysFirst(out); err != nil {
		return err
	}
	if err := a.heavyStep("Reordering columns"); err != nil {
		return err
	}
	t.Schema.Columns = out
	a.syncKeyColumns()
	return nil
}

func checkKeysFirst(cols []catalog.Column) error {
	meetValue := false
	for _, c := range cols {
		if c.IsKey && meetValue {
			return ddlError("Invalid column order. value should be after key. index[%s]", c.Name)
		}
		meetValue = meetValue || !c.IsKey
	}
	return nil
}

// syncKeyColumns makes KeyColumns the key columns in schema order.
func (a *alteration) syncKeyColumns() {
	a.t.KeyColumns = a.t.KeyColumns[:0:0]
	for _, c := range a.t.Schema.Columns {
		if c.IsKey {
			a.t.KeyColumns = append(a.t.KeyColumns, c.Name)
		}
	}
}

// checkTypeChange refuses the type changes Doris refuses: narrowing,
// and conversions between unrelated types. Strings may become numbers or
// dates; a value that does not convert fails the job, or the load.
func checkTypeChange(c *catalog.Column, to types.Type) error {
	from := c.Type
	refuse := func() error {
		return ddlError("Can not change %s to %s", from.SQLName(), to.SQLName())
	}
	if from.Kind.IsObject() || to.Kind.IsObject() || from.Kind == types.KindBoolean || to.Kind == types.KindBoolean {
		return refuse()
	}
	if c.IsKey && (to.Kind == types.KindFloat || to.Kind == types.KindDouble || to.Kind == types.KindString) {
		return refuse()
	}
	switch {
	case to.Kind == types.KindString || to.Kind == types.KindVarchar && !from.Kind.IsString():
		return nil
	case from.Kind.IsString() && to.Kind.IsString():
		if to.Kind == types.KindChar || from.Kind == types.KindString && to.Kind != types.KindString || to.Length < from.Length {
			return ddlError("Shorten type length is prohibited, srcType=%s, dstType=%s",
				strings.ToLower(from.String()), strings.ToLower(to.String()))
		}
		return nil
	case from.Kind.IsString():
		if to.Kind.IsNumeric() || to.Kind.IsTemporal() {
			return nil
		}
	case from.Kind.IsInteger() && to.Kind.IsInteger():
		if to.Kind >= from.Kind {
			return nil
		}
	case from.Kind.IsInteger() && (to.Kind == types.KindDouble || to.Kind == types.KindFloat && from.Kind <= types.KindSmallInt):
		return nil
	case from.Kind.IsInteger() && to.Kind == types.KindDecimal:
		digits := exec.IntDigits(from.Kind)
		if from.Kind == types.KindLargeInt {
			digits = 39 // up to 170141183460469231731687303715884105727
		}
		if to.Precision-to.Scale >= digits {
			return nil
		}
	case from.Kind == types.KindFloat && to.Kind == types.KindDouble:
		return nil
	case from.Kind == types.KindDecimal && to.Kind == types.KindDecimal:
		if to.Scale >= from.Scale && to.Precision-to.Scale >= from.Precision-from.Scale {
			return nil
		}
	case from.Kind.IsTemporal() && to.Kind.IsTemporal():
		return nil
	}
	return refuse()
}

// finishSchemaChange swaps the shadow index of a finished job in for the
// base: the table's schema and each partition's tablets become the
// shadow's.
func finishSchemaChange(t *catalog.Table, j *catalog.AlterJob) error {
	ix := t.IndexByID(j.IndexID)
	if ix == nil {
		return fmt.Errorf("the shadow index of job %d is gone", j.ID)
	}
	t.Schema = ix.Schema
	t.KeyColumns = t.KeyColumns[:0:0]
	for _, c := range t.Schema.Columns {
		if c.IsKey {
			t.KeyColumns = append(t.KeyColumns, c.Name)
		}
	}
	for i := range t.Partitions {
		p := &t.Partitions[i]
		p.Tablets = p.IndexTablets[ix.ID]
	}
	t.DropIndex(ix.ID)
	j.State, j.FinishTime = catalog.JobFinished, time.Now().UnixMilli()
	return nil
}

// showSchemaChangeJobs is SHOW ALTER TABLE COLUMN, with Doris's columns.
// Light schema changes finish in their statement and leave no job.
func (s *Session) showSchemaChangeJobs(st *sql.ShowStmt) (*mysqlproto.Result, error) {
	names := []string{"JobId", "TableName", "CreateTime", "FinishTime", "IndexName", "IndexId", "OriginIndexId",
		"SchemaVersion", "TransactionId", "State", "Msg", "Progress", "Timeout"}
	keep := func(j *catalog.AlterJob) bool { return j.Type == catalog.JobSchemaChange }
	return s.showJobs(st, names, keep, func(t *catalog.Table, j *catalog.AlterJob, times [2]string, progress string) []any {
		return []any{
			fmt.Sprint(j.ID), t.Name, times[0], times[1], j.IndexName, fmt.Sprint(j.IndexID), fmt.Sprint(t.ID),
			fmt.Sprintf("%d:0", j.SchemaVersion), fmt.Sprint(j.Watershed), string(j.State), j.Msg, progress, fmt.Sprint(j.Timeout),
		}
	})
}
