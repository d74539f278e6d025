package session

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/google/uuid"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/storage"
	"github.com/strata-db/strata/types"
)

// DELETE on duplicate, aggregate and merge-on-read unique tables is a
// condition, as in Doris: a transaction that records it in every tablet of
// the table (or of the partitions named), deleting the rows of older
// versions that satisfy it (see be/tabletstore "Delete predicates"). The
// condition is what Doris accepts: comparisons, IN and IS NULL of a column
// with literals, joined by AND; on aggregate and merge-on-read tables, of
// key columns only.

const msgDeleteWhere = "Where clause only supports compound predicate, binary predicate, is_null predicate or in predicate."

// deleteByCondition runs DELETE FROM t WHERE ... on a table that does not
// merge on write.
func (s *Session) deleteByCondition(ctx context.Context, db string, t *catalog.Table, st *sql.DeleteStmt, params []any) (*mysqlproto.Result, error) {
	var pred storage.DeletePredicate
	if err := s.deleteConditions(t, st.Where, false, params, &pred); err != nil {
		return nil, err
	}
	if err := checkDeleteIndexes(t, &pred); err != nil {
		return nil, err
	}
	for _, name := range st.Partitions {
		if t.PartitionByName(name) == nil {
			return nil, ddlError("Partition does not exist. name: %s", name)
		}
	}
	label := "delete_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	load, err := s.beginLoad(ctx, db, t.Name, label)
	if err != nil {
		return nil, err
	}
	if err := load.Delete(ctx, pred, st.Partitions); err != nil {
		_ = load.Abort(ctx, err.Error())
		return nil, err
	}
	return commitLoad(ctx, load, label, 0)
}

// deleteConditions adds the conditions of where to pred; not negates the
// expression.
func (s *Session) deleteConditions(t *catalog.Table, where sql.Expr, not bool, params []any, pred *storage.DeletePredicate) error {
	switch e := where.(type) {
	case *sql.BinaryExpr:
		if e.Op == "AND" && !not {
			if err := s.deleteConditions(t, e.L, false, params, pred); err != nil {
				return err
			}
			return s.deleteConditions(t, e.R, false, params, pred)
		}
		op, ok := map[string]string{"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[e.Op]
		if !ok {
			break
		}
		if not {
			op = map[string]string{"=": "!=", "!=": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}[op]
		}
		ref, ok := e.L.(*sql.ColumnRef)
		if !ok {
			return ddlError("Left expr of binary predicate should be column name, predicate: %s", e)
		}
		return s.deleteCondition(t, ref, op, []sql.Expr{e.R}, params, pred)
	case *sql.UnaryExpr:
		if e.Op == "NOT" && !not {
			return s.deleteConditions(t, e.X, true, params, pred)
		}
	case *sql.IsExpr:
		ref, ok := e.X.(*sql.ColumnRef)
		if e.What != "NULL" {
			break
		}
		if !ok {
			return ddlError("Child expr of is_null predicate should be column name, predicate: %s", e)
		}
		op := "IS NULL"
		if e.Not != not {
			op = "IS NOT NULL"
		}
		return s.deleteCondition(t, ref, op, nil, params, pred)
	case *sql.InExpr:
		if e.Query != nil {
			break
		}
		ref, ok := e.X.(*sql.ColumnRef)
		if !ok {
			return ddlError("Left expr of in predicate should be column name, predicate: %s", e)
		}
		op := "IN"
		if e.Not != not {
			op = "NOT IN"
		}
		return s.deleteCondition(t, ref, op, e.List, params, pred)
	}
	return ddlError("%s But we meet %s", msgDeleteWhere, where)
}

// deleteCondition adds one condition on a column, checked as Doris does.
func (s *Session) deleteCondition(t *catalog.Table, ref *sql.ColumnRef, op string, vals []sql.Expr, params []any, pred *storage.DeletePredicate) error {
	_, c := t.Schema.ColumnByName(ref.Column)
	if c == nil {
		return &sqlError{Code: 1054, Msg: fmt.Sprintf("Unknown column '%s' in '%s'", ref.Column, t.Name)}
	}
	switch {
	case c.Type.Kind.IsObject():
		return ddlError("Can not apply delete condition to column type: %s", c.Type.SQLName())
	case c.Type.Kind == types.KindFloat || c.Type.Kind == types.KindDouble:
		return ddlError("Column[%s] type is float or double.", c.Name)
	case !c.IsKey && t.KeysType == catalog.AggKeys:
		return ddlError("delete predicate on value column only supports Unique table with merge-on-write enabled and Duplicate table, but Table[%s] is an Aggregate table.", t.Name)
	case !c.IsKey && t.KeysType == catalog.UniqueKeys:
		return ddlError("delete predicate on value column only supports Unique table with merge-on-write enabled and Duplicate table, but Table[%s] is an unique table without merge-on-write.", t.Name)
	}
	cond := storage.DeleteCondition{Column: c.ID, Op: op}
	pl := s.planner()
	for _, v := range vals {
		l, err := pl.EvalConstant(v, params)
		if err != nil {
			return ddlError("Right expr of binary predicate should be value, predicate: %s", v)
		}
		if l.IsNull() {
			return ddlError("Right expr of binary predicate should be value, predicate: %s %s NULL", c.Name, op)
		}
		if c.Type.Kind == types.KindDate {
			// A query compares a DATE with text holding a time of day as a
			// DATETIME ('2000-01-01 10:00:00' equals no DATE); cut to a
			// DATE here it would delete the whole day.
			if ct, err := exec.CompareType(exec.NewColumnRef(0, c.Type), l); err == nil && ct.Kind != types.KindDate {
				return ddlError("Invalid column value [%s] for column %s: a DATE condition cannot have a time of day", l, c.Name)
			}
		}
		x, err := convertValue(l, *c, 1)
		if err != nil {
			return ddlError("Invalid column value [%s] for column %s: %v", l, c.Name, err)
		}
		switch x := x.(type) {
		case int64:
			cond.Ints = append(cond.Ints, x)
		case bool:
			cond.Ints = append(cond.Ints, map[bool]int64{false: 0, true: 1}[x])
		case string:
			cond.Strs = append(cond.Strs, x)
		case decimal128.Num:
			cond.Strs = append(cond.Strs, x.BigInt().String())
		default:
			return ddlError("Can not apply delete condition to column type: %s", c.Type.SQLName())
		}
	}
	// A segment written before the column was added reads its default:
	// whether that satisfies the condition is decided once, here.
	if d, err := columnDefault(*c); err == nil {
		arr, err := d.Eval(exec.NewEvalContext(), &exec.Batch{Len: 1})
		if err != nil {
			return err
		}
		matched := roaring.New()
		one := storage.DeletePredicate{Conditions: []storage.DeleteCondition{cond}}
		err = one.Match(map[uint32]arrow.Array{c.ID: arr}, 1, 0, matched)
		arr.Release()
		if err != nil {
			return err
		}
		cond.MissingMatches = !matched.IsEmpty()
	}
	pred.Conditions = append(pred.Conditions, cond)
	return nil
}

// checkDeleteIndexes refuses a condition that a rollup or materialized
// view of the table cannot apply as the base does (see sink.CheckDelete).
func checkDeleteIndexes(t *catalog.Table, pred *storage.DeletePredicate) error {
	for i := range t.Indexes {
		var de *sink.DeleteIndexError
		if err := sink.CheckDelete(&t.Indexes[i], *pred); errors.As(err, &de) {
			de.Name = baseName(t, de.Column)
			return ddlError("%s", de.Error())
		}
	}
	return nil
}
