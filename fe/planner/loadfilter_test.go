package planner

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/types"
)

// rowFilterTable is the table the row filter tests load into.
func rowFilterTable() []catalog.Column {
	return []catalog.Column{
		{Name: "id", Type: types.BigInt, IsKey: true},
		{Name: "name", Type: types.Varchar(32), Nullable: true},
		{Name: "age", Type: types.Int, Nullable: true},
		{Name: "d", Type: types.Date, Nullable: true},
		{Name: "dt", Type: types.DateTime(0), Nullable: true},
		{Name: "price", Type: types.Decimal(10, 2), Nullable: true},
		{Name: "flag", Type: types.Boolean, Nullable: true},
		{Name: "score", Type: types.Double, Nullable: true},
	}
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func moment(s string) time.Time {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return t
}

// rowFilterRows are the test rows; nil is NULL.
var rowFilterRows = [][]any{
	{int64(1), "alice", int64(10), day("2024-01-15"), moment("2024-01-15 10:00:00"), "9.50", true, 1.5},
	{int64(2), "bob", nil, day("2023-12-31"), moment("2023-12-31 23:59:59"), "10.00", false, nil},
	{int64(3), nil, int64(30), nil, nil, nil, nil, 3.0},
	{int64(4), "Carol", int64(40), day("2024-06-01"), moment("2024-06-01 00:00:00"), "123.45", true, -2.0},
	{int64(5), "dave", int64(5), day("2025-01-01"), moment("2025-01-01 12:30:00"), "0.01", false, 0.0},
}

// buildRowFilterBatch builds one array per column of cols from rows.
func buildRowFilterBatch(t *testing.T, mem memory.Allocator, cols []catalog.Column, rows [][]any) []arrow.Array {
	t.Helper()
	out := make([]arrow.Array, len(cols))
	for j, c := range cols {
		b := array.NewBuilder(mem, c.Type.Arrow())
		for _, row := range rows {
			v := row[j]
			if v == nil {
				b.AppendNull()
				continue
			}
			switch b := b.(type) {
			case *array.Int64Builder:
				b.Append(v.(int64))
			case *array.Int32Builder:
				b.Append(int32(v.(int64)))
			case *array.StringBuilder:
				b.Append(v.(string))
			case *array.Date32Builder:
				b.Append(arrow.Date32FromTime(v.(time.Time)))
			case *array.TimestampBuilder:
				b.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
			case *array.Decimal128Builder:
				n, err := decimal128.FromString(v.(string), int32(c.Type.Precision), int32(c.Type.Scale))
				require.NoError(t, err)
				b.Append(n)
			case *array.BooleanBuilder:
				b.Append(v.(bool))
			case *array.Float64Builder:
				b.Append(v.(float64))
			default:
				t.Fatalf("no test builder for %T", b)
			}
		}
		out[j] = b.NewArray()
		b.Release()
	}
	return out
}

func releaseArrays(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

func TestCompileRowFilter(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cols := rowFilterTable()
	batch := buildRowFilterBatch(t, mem, cols, rowFilterRows)
	defer releaseArrays(batch)
	all := []int32{0, 1, 2, 3, 4}

	for _, tc := range []struct {
		where string
		want  []int32
	}{
		// Integers; a NULL comparison drops the row.
		{"age > 10", []int32{2, 3}},
		{"age >= 10", []int32{0, 2, 3}},
		{"AGE = 10", []int32{0}},
		{"`Age` < 30", []int32{0, 4}},
		{"age != 10", []int32{2, 3, 4}},
		{"age <=> NULL", []int32{1}},
		{"age > NULL", nil},
		{"id % 2 = 1", []int32{0, 2, 4}},
		{"id * 10 + age >= 50", []int32{2, 3, 4}},
		{"-age < -20", []int32{2, 3}},
		// NULL tests.
		{"age IS NULL", []int32{1}},
		{"age IS NOT NULL", []int32{0, 2, 3, 4}},
		{"flag IS TRUE", []int32{0, 3}},
		{"flag IS NOT TRUE", []int32{1, 2, 4}},
		{"coalesce(age, 0) < 10", []int32{1, 4}},
		{"ifnull(name, 'x') = 'x'", []int32{2}},
		// Connectives with three-valued logic.
		{"NOT age > 10", []int32{0, 4}},
		{"NOT (age > 10)", []int32{0, 4}},
		{"age > 10 OR name = 'bob'", []int32{1, 2, 3}},
		{"age > 10 AND name IS NOT NULL", []int32{3}},
		{"age > 100 OR age IS NULL", []int32{1}},
		{"age < 100 AND id > 1", []int32{2, 3, 4}},
		{"age > 1 XOR id > 3", []int32{0, 2}},
		// Strings.
		{"name = 'alice'", []int32{0}},
		{"name <> 'alice'", []int32{1, 3, 4}},
		{"name LIKE 'a%'", []int32{0}},
		{"name NOT LIKE '%o%'", []int32{0, 4}},
		{"upper(name) = 'CAROL'", []int32{3}},
		{"length(name) = 3", []int32{1}},
		{"name IN ('alice', 'dave', NULL)", []int32{0, 4}},
		// IN and BETWEEN.
		{"id IN (1, 3)", []int32{0, 2}},
		{"id NOT IN (1, 2)", []int32{2, 3, 4}},
		{"age NOT IN (10, NULL)", nil},
		{"age BETWEEN 10 AND 30", []int32{0, 2}},
		{"age NOT BETWEEN 10 AND 30", []int32{3, 4}},
		// Dates and datetimes.
		{"d = '2024-01-15'", []int32{0}},
		{"d >= DATE '2024-01-01'", []int32{0, 3, 4}},
		{"d < '2024-01-01'", []int32{1}},
		{"d BETWEEN '2024-01-01' AND '2024-12-31'", []int32{0, 3}},
		{"year(d) = 2024", []int32{0, 3}},
		{"month(d) = 1 AND day(d) = 1", []int32{4}},
		{"dt >= '2024-01-15 10:00:00'", []int32{0, 3, 4}},
		{"dt < TIMESTAMP '2024-01-01 00:00:00'", []int32{1}},
		{"date(dt) = d", []int32{0, 1, 3, 4}},
		{"d > date_sub('2024-06-02', INTERVAL 1 DAY)", []int32{4}},
		// Decimals and floats.
		{"price > 10", []int32{3}},
		{"price = 9.5", []int32{0}},
		{"price >= 10.00", []int32{1, 3}},
		{"price < 0.1", []int32{4}},
		{"price * 2 > 20", []int32{3}},
		{"score > 1", []int32{0, 2}},
		{"score <= 0", []int32{3, 4}},
		// Booleans, conditionals, constants.
		{"flag", []int32{0, 3}},
		{"flag = false", []int32{1, 4}},
		{"NOT flag", []int32{1, 4}},
		{"if(age > 10, true, false)", []int32{2, 3}},
		{"CASE WHEN age > 20 THEN true ELSE false END", []int32{2, 3}},
		{"CAST(age AS BIGINT) = 40", []int32{3}},
		{"true", all},
		{"1 = 1", all},
		{"false", nil},
		{"NULL", nil},
		{"1 = 0 AND age > 0", nil},
		{"1 = 0 OR age > 10", []int32{2, 3}},
		{"age > 1 + 9 AND 'a' < 'b'", []int32{2, 3}},
		{"now() > '2000-01-01'", all},
	} {
		t.Run(tc.where, func(t *testing.T) {
			f, err := CompileRowFilter(cols, tc.where)
			require.NoError(t, err)
			got, err := f.Select(batch, len(rowFilterRows), nil)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestCompileRowFilterErrors(t *testing.T) {
	cols := rowFilterTable()
	for _, tc := range []struct {
		where string
		code  uint16
		msg   string
	}{
		{"zzz > 1", ErrBadField, "Unknown column 'zzz' in 'where clause'"},
		{"t.age > 1", ErrBadField, "Unknown column 't.age' in 'where clause'"},
		{"age > 1 AND upper(nope) = 'x'", ErrBadField, "Unknown column 'nope' in 'where clause'"},
		{"age", ErrWrongArguments, "where clause must be a boolean expression, not INT: age"},
		{"age + 1", ErrWrongArguments, "where clause must be a boolean expression"},
		{"'x'", ErrWrongArguments, "where clause must be a boolean expression"},
		{"age >", ErrParse, "You have an error in your SQL syntax"},
		{"age > 1 age", ErrParse, "You have an error in your SQL syntax"},
		{"", ErrParse, "You have an error in your SQL syntax"},
		{"sum(age) > 1", ErrInvalidGroupFunc, "aggregate function sum is not allowed in a where clause"},
		{"count(*) > 0", ErrInvalidGroupFunc, "aggregate function count is not allowed in a where clause"},
		{"row_number() OVER (ORDER BY id) > 1", ErrNotSupportedYet, "window function row_number is not allowed in a where clause"},
		{"age IN (SELECT 1)", ErrNotSupportedYet, "subqueries are not allowed"},
		{"EXISTS (SELECT 1)", ErrNotSupportedYet, "subqueries are not allowed"},
		{"(SELECT 1) = age", ErrNotSupportedYet, "subqueries are not allowed"},
		{"@x = 1", ErrNotSupportedYet, "variable @x is not allowed"},
		{"@@version = '1'", ErrNotSupportedYet, "is not allowed in a where clause of a load"},
		{"age = ?", ErrParse, "placeholder ? is not allowed"},
		{"no_such_function(age) = 1", ErrSPDoesNotExist, "no_such_function"},
	} {
		t.Run(tc.where, func(t *testing.T) {
			f, err := CompileRowFilter(cols, tc.where)
			require.Nil(t, f)
			require.Error(t, err)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.code, pe.Code, err.Error())
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

// TestRowFilterReuse runs one filter over several batches, including an
// empty one, and checks that Select appends to the slice it is given.
func TestRowFilterReuse(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cols := rowFilterTable()
	f, err := CompileRowFilter(cols, "age > 10 OR name = 'alice'")
	require.NoError(t, err)
	require.Equal(t, "(age > 10) OR (name = 'alice')", f.String())

	keep := make([]int32, 0, 8)
	for i, tc := range []struct {
		rows [][]any
		want []int32
	}{
		{rowFilterRows, []int32{0, 2, 3}},
		{rowFilterRows[1:2], nil},
		{nil, nil},
		{rowFilterRows[2:], []int32{0, 1}},
	} {
		batch := buildRowFilterBatch(t, mem, cols, tc.rows)
		got, err := f.Select(batch, len(tc.rows), keep[:0])
		releaseArrays(batch)
		require.NoError(t, err, "batch %d", i)
		if tc.want == nil {
			require.Empty(t, got, "batch %d", i)
		} else {
			require.Equal(t, tc.want, got, "batch %d", i)
		}
		keep = got
	}

	batch := buildRowFilterBatch(t, mem, cols, rowFilterRows)
	defer releaseArrays(batch)
	got, err := f.Select(batch, len(rowFilterRows), []int32{-1})
	require.NoError(t, err)
	require.Equal(t, []int32{-1, 0, 2, 3}, got)

	_, err = f.Select(batch[:3], len(rowFilterRows), nil)
	require.EqualError(t, err, fmt.Sprintf("where clause compiled for %d columns, batch has 3", len(cols)))
}
