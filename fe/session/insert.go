package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/loader"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/types"
)

// insert runs INSERT INTO ... VALUES and INSERT INTO ... SELECT through the
// load path stream load uses: one transaction, visible all at once.
func (s *Session) insert(ctx context.Context, st *sql.InsertStmt, params []any) (*mysqlproto.Result, error) {
	if st.Overwrite {
		return nil, notSupported("INSERT OVERWRITE")
	}
	if len(st.Partitions) > 0 {
		return nil, notSupported("INSERT INTO ... PARTITION")
	}
	db, t, err := s.lookupBaseTable(st.Table)
	if err != nil {
		return nil, err
	}
	// target[i] is the schema index of the i-th listed column.
	var target []int
	if len(st.Columns) == 0 {
		// Every column but Doris's hidden ones, which take their defaults.
		for i, c := range t.Schema.Columns {
			if !planner.IsHiddenColumn(c.Name) {
				target = append(target, i)
			}
		}
	} else {
		seen := map[int]bool{}
		for _, name := range st.Columns {
			i, c := t.Schema.ColumnByName(name)
			if c == nil {
				return nil, &sqlError{Code: 1054, Msg: fmt.Sprintf("Unknown column '%s' in '%s'", name, t.Name)}
			}
			if seen[i] {
				return nil, &sqlError{Code: 1110, Msg: fmt.Sprintf("Column '%s' specified twice", name)}
			}
			seen[i] = true
			target = append(target, i)
		}
	}
	// Columns not listed take their default; NOT NULL without one is an error.
	listed := make([]bool, len(t.Schema.Columns))
	for _, i := range target {
		listed[i] = true
	}
	partial, err := s.partialUpdate(t, st, target, listed)
	if err != nil {
		return nil, err
	}
	if i, c := t.Schema.ColumnByName(catalog.SequenceColumn); c != nil && !listed[i] && partial == nil {
		return nil, &sqlError{Code: 1105, Msg: fmt.Sprintf("Table %s has sequence column, need to specify the sequence column", t.Name)}
	}
	// defaults[i] nil for an unlisted column: a partial update's
	// placeholder, filled from the row it updates.
	defaults := make([]*exec.Literal, len(t.Schema.Columns))
	for i, c := range t.Schema.Columns {
		if listed[i] {
			continue
		}
		d, err := columnDefault(c)
		if err != nil {
			if partial != nil {
				continue
			}
			return nil, err
		}
		defaults[i] = d
	}

	label := st.Label
	if label == "" {
		label = "insert_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	}
	load, err := s.beginLoad(ctx, db, t.Name, label)
	if err != nil {
		return nil, err
	}
	if partial != nil {
		if err := load.SetPartialUpdate(partial); err != nil {
			_ = load.Abort(ctx, err.Error())
			return nil, err
		}
	}
	n, err := s.writeInsert(ctx, st, params, t, target, defaults, load)
	if err != nil {
		_ = load.Abort(ctx, err.Error())
		return nil, err
	}
	return commitLoad(ctx, load, label, uint64(n))
}

// beginLoad begins the load transaction of a DML statement under label.
func (s *Session) beginLoad(ctx context.Context, db, table, label string) (loader.Load, error) {
	load, err := s.eng.Loads.Begin(ctx, loader.BeginRequest{DB: db, Table: table, Label: label, User: s.user})
	if err != nil {
		var le *loader.LabelExistsError
		if errors.As(err, &le) {
			return nil, ddlError("Label [%s] has already been used, relate to txn [%d]", label, le.TxnID)
		}
		return nil, err
	}
	return load, nil
}

// commitLoad commits a DML statement's load (aborting it on failure) and
// reports it as Doris does.
func commitLoad(ctx context.Context, load loader.Load, label string, affected uint64) (*mysqlproto.Result, error) {
	publishTimeout, err := load.Commit(ctx)
	if err != nil {
		_ = load.Abort(ctx, err.Error())
		return nil, err
	}
	// Committed but not yet published: the rows become visible when a
	// later publish succeeds, and Doris tells the client so.
	status := "VISIBLE"
	if publishTimeout {
		status = "COMMITTED"
	}
	return &mysqlproto.Result{AffectedRows: affected, Info: fmt.Sprintf("{'label':'%s', 'status':'%s', 'txnId':'%d'}", label, status, load.TxnID())}, nil
}

func (s *Session) writeInsert(ctx context.Context, st *sql.InsertStmt, params []any, t *catalog.Table, target []int, defaults []*exec.Literal, load loader.Load) (int64, error) {
	colTypes := make([]types.Type, len(t.Schema.Columns))
	for i, c := range t.Schema.Columns {
		colTypes[i] = c.Type
	}
	var src exec.Operator
	var checks []insertCheck
	if st.Values != nil {
		pl := s.planner()
		rows := make([][]any, len(st.Values))
		for r, vals := range st.Values {
			if len(vals) != len(target) {
				return 0, &sqlError{Code: 1136, Msg: fmt.Sprintf("Column count doesn't match value count at row %d", r+1)}
			}
			row := make([]any, len(target))
			for i, e := range vals {
				c := t.Schema.Columns[target[i]]
				if _, isDefault := e.(*sql.DefaultExpr); isDefault {
					d, err := columnDefault(c)
					if err != nil {
						return 0, err
					}
					row[i] = d.Value
					continue
				}
				l, err := pl.EvalConstant(e, params)
				if err != nil {
					return 0, err
				}
				v, err := convertValue(l, c, r+1)
				if err != nil {
					return 0, err
				}
				row[i] = v
			}
			rows[r] = row
		}
		targetTypes := make([]types.Type, len(target))
		for i, ti := range target {
			targetTypes[i] = colTypes[ti]
		}
		vals, err := exec.NewValues(targetTypes, rows)
		if err != nil {
			return 0, &sqlError{Code: 1366, Msg: err.Error()}
		}
		src = vals
	} else {
		pl := s.planner()
		plan, err := pl.PlanSelect(st.Select, params)
		if err != nil {
			return 0, err
		}
		if len(plan.Fields) != len(target) {
			return 0, &sqlError{Code: 1136, Msg: "Column count doesn't match value count at row 1"}
		}
		x, err := pl.Build(plan)
		if err != nil {
			return 0, err
		}
		defer x.Release()
		exprs := make([]exec.Expr, len(target))
		for i, ti := range target {
			in := exec.NewColumnRef(i, plan.Fields[i].Type)
			ct := colTypes[ti]
			if plan.Fields[i].Type == ct {
				exprs[i] = in
				continue
			}
			// Strict, as INSERT ... VALUES: a CAST would cut strings to
			// the column's length and turn values out of range into NULL,
			// so strings are converted whole and checked, and every
			// converted column is checked against its source.
			to := ct
			if ct.Kind == types.KindChar || ct.Kind == types.KindVarchar {
				to = types.String
			}
			c, err := exec.NewCast(in, to)
			if err != nil {
				return 0, &sqlError{Code: 1366, Msg: fmt.Sprintf("column %s: %v", t.Schema.Columns[ti].Name, err)}
			}
			exprs[i] = c
			checks = append(checks, insertCheck{pos: i, src: len(target) + len(checks), col: t.Schema.Columns[ti], from: plan.Fields[i].Type})
		}
		for _, ch := range checks {
			exprs = append(exprs, exec.NewColumnRef(ch.pos, ch.from))
		}
		src = exec.NewProject(x.Root, exprs)
	}

	ec := exec.NewEvalContext()
	ec.TimeZone = planner.TimeZone(s.Variable("time_zone"))
	ectx := exec.WithEvalContext(ctx, ec)
	if err := src.Open(ectx); err != nil {
		src.Close()
		return 0, err
	}
	defer src.Close()
	var total int64
	var b exec.Batch
	for {
		b.Reset()
		err := exec.Next(ectx, src, &b)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		n := b.NumRows()
		if n == 0 {
			continue
		}
		cols, err := compactBatch(ctx, &b)
		if err != nil {
			return 0, err
		}
		err = checkConverted(cols, checks, total)
		releaseArrays(cols[len(target):])
		cols = cols[:len(target)]
		if err != nil {
			releaseArrays(cols)
			return 0, err
		}
		full := make([]arrow.Array, len(t.Schema.Columns))
		for i, ti := range target {
			full[ti] = cols[i]
		}
		for i := range full {
			if full[i] != nil {
				continue
			}
			if defaults[i] == nil {
				full[i] = zeroArray(t.Schema.Columns[i].Type.Arrow(), n)
				continue
			}
			arr, err := defaults[i].Eval(exec.NewEvalContext(), &exec.Batch{Len: n})
			if err != nil {
				return 0, err
			}
			full[i] = arr
		}
		for i, c := range t.Schema.Columns {
			if !c.Nullable && full[i].NullN() > 0 {
				return 0, &sqlError{Code: 1048, Msg: fmt.Sprintf("Column '%s' cannot be null", c.Name)}
			}
		}
		err = load.Write(ctx, full)
		for _, a := range full {
			a.Release()
		}
		if err != nil {
			return 0, err
		}
		total += int64(n)
	}
	return total, nil
}

// partialUpdate returns the partial column update an INSERT makes into
// a unique table when enable_unique_key_partial_update is set (nil: a
// whole-row insert), checked as Doris does.
func (s *Session) partialUpdate(t *catalog.Table, st *sql.InsertStmt, target []int, listed []bool) (*loader.PartialUpdate, error) {
	if t.KeysType != catalog.UniqueKeys || !s.boolVariable("enable_unique_key_partial_update") {
		return nil, nil
	}
	if !t.MergeOnWrite() {
		return nil, &sqlError{Code: 1105, Msg: "Partial update is only allowed on unique table with merge-on-write enabled."}
	}
	if len(st.Columns) == 0 {
		return nil, &sqlError{Code: 1105, Msg: "You must explicitly specify the columns to be updated when updating partial columns using the INSERT statement."}
	}
	p, err := loader.PlanPartialUpdate(t, target, false, false, strings.EqualFold(s.Variable("partial_update_new_key_behavior"), "ERROR"))
	if err != nil {
		return nil, &sqlError{Code: 1105, Msg: err.Error()}
	}
	return p, nil
}

// zeroArray is n values of the type's zero, not NULL: the placeholder of a
// column a partial update leaves out.
func zeroArray(dt arrow.DataType, n int) arrow.Array {
	nulls := array.MakeArrayOfNull(memory.DefaultAllocator, dt, n)
	defer nulls.Release()
	d := nulls.Data()
	bufs := append([]*memory.Buffer{nil}, d.Buffers()[1:]...)
	data := array.NewData(dt, n, bufs, d.Children(), 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// insertCheck is a converted column of INSERT ... SELECT: output pos holds
// the converted values, output src the same values before conversion.
type insertCheck struct {
	pos, src int
	col      catalog.Column
	from     types.Type
}

// checkConverted fails when a conversion lost a value: a non-NULL source
// that became NULL (out of range, or not a number or date), or a string
// longer than its CHAR or VARCHAR column. done is the number of rows of
// earlier batches, for the row number in the message.
func checkConverted(cols []arrow.Array, checks []insertCheck, done int64) error {
	for _, ch := range checks {
		out, in := cols[ch.pos], cols[ch.src]
		str, isStr := out.(*array.String)
		limited := isStr && (ch.col.Type.Kind == types.KindChar || ch.col.Type.Kind == types.KindVarchar)
		for r := 0; r < out.Len(); r++ {
			row := done + int64(r) + 1
			if out.IsNull(r) {
				if in.IsNull(r) {
					continue
				}
				if ch.from.Kind.IsString() {
					return &sqlError{Code: 1366, Msg: fmt.Sprintf("Incorrect %s value: '%s' for column '%s' at row %d", ch.col.Type.SQLName(), in.ValueStr(r), ch.col.Name, row)}
				}
				return &sqlError{Code: 1264, Msg: fmt.Sprintf("Out of range value for column '%s' at row %d", ch.col.Name, row)}
			}
			if limited && len(str.Value(r)) > ch.col.Type.Length {
				return &sqlError{Code: 1406, Msg: fmt.Sprintf("Data too long for column '%s' at row %d", ch.col.Name, row)}
			}
		}
	}
	return nil
}

func releaseArrays(as []arrow.Array) {
	for _, a := range as {
		a.Release()
	}
}

// compactBatch returns the live rows of b as dense arrays the caller owns.
func compactBatch(ctx context.Context, b *exec.Batch) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(b.Cols))
	if b.Sel == nil {
		for i, c := range b.Cols {
			c.Retain()
			out[i] = c
		}
		return out, nil
	}
	ib := array.NewInt32Builder(memory.DefaultAllocator)
	ib.AppendValues(b.Sel, nil)
	idx := ib.NewArray()
	defer idx.Release()
	for i, c := range b.Cols {
		a, err := compute.TakeArray(ctx, c, idx)
		if err != nil {
			return nil, fmt.Errorf("compacting insert rows: %w", err)
		}
		out[i] = a
	}
	return out, nil
}

// columnDefault is the value an omitted column takes.
func columnDefault(c catalog.Column) (*exec.Literal, error) {
	switch {
	case c.Default != nil:
		d := *c.Default
		if strings.HasPrefix(strings.ToUpper(d), "CURRENT_TIMESTAMP") || strings.EqualFold(d, "CURRENT_DATE") {
			now, err := exec.Call("now")
			if err != nil {
				return nil, err
			}
			v, err := now.Eval(exec.NewEvalContext(), &exec.Batch{Len: 1})
			if err != nil {
				return nil, err
			}
			defer v.Release()
			us := int64(v.(*array.Timestamp).Value(0))
			if c.Type.Kind == types.KindDate {
				return exec.NewLiteral(us/types.MicrosPerDay, c.Type), nil
			}
			return exec.NewLiteral(us, c.Type), nil
		}
		l, err := exec.NewLiteralChecked(d, c.Type)
		if err != nil {
			return nil, ddlError("invalid default value '%s' of column %s: %v", d, c.Name, err)
		}
		return l, nil
	case c.Nullable:
		return exec.NewLiteral(nil, c.Type), nil
	}
	return nil, &sqlError{Code: 1364, Msg: fmt.Sprintf("Field '%s' doesn't have a default value", c.Name)}
}

// convertValue converts an INSERT value to the column's type, strictly: a
// value that does not convert is an error, as in Doris's strict insert.
func convertValue(l *exec.Literal, c catalog.Column, row int) (any, error) {
	if l.IsNull() {
		if !c.Nullable {
			return nil, &sqlError{Code: 1048, Msg: fmt.Sprintf("Column '%s' cannot be null", c.Name)}
		}
		return nil, nil
	}
	if l.Type() == c.Type {
		return l.Value, nil
	}
	if str, isStr := l.Value.(string); isStr && l.Type().Kind.IsString() && c.Type.Kind.IsString() {
		if c.Type.Kind != types.KindString && len(str) > c.Type.Length {
			return nil, &sqlError{Code: 1406, Msg: fmt.Sprintf("Data too long for column '%s' at row %d", c.Name, row)}
		}
		return str, nil
	}
	if l.Type().Kind.IsString() && (c.Type.Kind.IsNumeric() || c.Type.Kind.IsTemporal() || c.Type.Kind == types.KindBoolean) {
		// A string must parse as the column type.
		v, err := exec.NewLiteralChecked(l.Value, c.Type)
		if err != nil {
			return nil, &sqlError{Code: 1366, Msg: fmt.Sprintf("Incorrect %s value: '%v' for column '%s' at row %d", c.Type.SQLName(), l.Value, c.Name, row)}
		}
		return v.Value, nil
	}
	x := exec.Coerce(l, c.Type)
	v, ok := x.(*exec.Literal)
	if !ok || v.IsNull() {
		return nil, &sqlError{Code: 1366, Msg: fmt.Sprintf("Incorrect %s value: %s for column '%s' at row %d", c.Type.SQLName(), l, c.Name, row)}
	}
	return v.Value, nil
}
