package session

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/partition"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/types"
)

// defaultBuckets is what BUCKETS AUTO, or no BUCKETS clause, becomes.
const defaultBuckets = 10

// tableFromDDL validates a CREATE TABLE statement against Doris's rules and
// builds the catalog table it describes (ids are assigned by the catalog).
func tableFromDDL(st *sql.CreateTableStmt) (*catalog.Table, error) {
	if st.Like != nil {
		return nil, notSupported("CREATE TABLE ... LIKE")
	}
	if st.AsSelect != nil {
		return nil, notSupported("CREATE TABLE ... AS SELECT")
	}
	if st.Temporary || st.External {
		return nil, notSupported("TEMPORARY and EXTERNAL tables")
	}
	if st.Engine != "" && !strings.EqualFold(st.Engine, "olap") {
		return nil, ddlError("Unknown table engine '%s'; only OLAP tables are supported", st.Engine)
	}
	if len(st.Rollups) > 0 {
		return nil, notSupported("ROLLUP")
	}
	if len(st.Columns) == 0 {
		return nil, ddlError("Table %s has no columns", st.Name.Name)
	}
	t := &catalog.Table{Name: st.Name.Name, KeysType: catalog.DupKeys, Comment: st.Comment}
	switch st.Keys {
	case sql.KeysUnique:
		t.KeysType = catalog.UniqueKeys
	case sql.KeysAggregate:
		t.KeysType = catalog.AggKeys
	}
	if t.KeysType != catalog.DupKeys && len(st.KeyColumns) == 0 {
		return nil, ddlError("The number of key columns is 0.")
	}

	seen := map[string]bool{}
	for _, cd := range st.Columns {
		lname := strings.ToLower(cd.Name)
		if seen[lname] {
			return nil, ddlErrorCode(1060, "Duplicate column name '%s'", cd.Name)
		}
		seen[lname] = true
		c, err := columnFromDef(cd)
		if err != nil {
			return nil, err
		}
		c.AggType = strings.ToUpper(cd.AggType)
		t.Schema.Columns = append(t.Schema.Columns, c)
	}

	// Key columns: as written, or Doris's default sort key for DUPLICATE
	// tables — the leading columns, at most three, up to and including the
	// first string column.
	keys := st.KeyColumns
	if len(keys) == 0 {
		for _, c := range t.Schema.Columns {
			if !c.Type.CanBeKey() || len(keys) == 3 {
				break
			}
			keys = append(keys, c.Name)
			if c.Type.Kind.IsString() {
				break
			}
		}
		if len(keys) == 0 {
			return nil, ddlError("The first column %s can not be a key column: type %s", t.Schema.Columns[0].Name, t.Schema.Columns[0].Type.SQLName())
		}
	}
	for i, k := range keys {
		if i >= len(t.Schema.Columns) || !strings.EqualFold(t.Schema.Columns[i].Name, k) {
			if _, c := t.Schema.ColumnByName(k); c == nil {
				return nil, ddlErrorCode(1054, "Key column %s does not exist in table %s", k, t.Name)
			}
			return nil, ddlError("Key columns should be a ordered prefix of the schema. KeyColumns[%d] (starts from zero) is %s, but corresponding column is %s in the previous columns declaration.", i, k, t.Schema.Columns[min(i, len(t.Schema.Columns)-1)].Name)
		}
		c := &t.Schema.Columns[i]
		if !c.Type.CanBeKey() {
			return nil, ddlError("%s column can not be a key column: %s", c.Type.SQLName(), c.Name)
		}
		c.IsKey = true
		t.KeyColumns = append(t.KeyColumns, c.Name)
	}
	if len(st.Properties) > 0 {
		t.Properties = map[string]string{}
		for _, p := range st.Properties {
			t.Properties[strings.ToLower(p.Key)] = p.Value
		}
	}
	if err := setKeysModel(t); err != nil {
		return nil, err
	}

	if err := setPartitions(t, st.Partition); err != nil {
		return nil, err
	}
	if err := setDistribution(t, st.Distribution); err != nil {
		return nil, err
	}
	if err := checkModelPlacement(t); err != nil {
		return nil, err
	}
	if n, ok := t.Properties["replication_num"]; ok {
		r, err := strconv.Atoi(n)
		if err != nil || r < 1 {
			return nil, ddlError("Invalid replication_num '%s': it must be a positive integer", n)
		}
	}
	return t, nil
}

// columnFromDef checks a column definition of CREATE TABLE or ALTER TABLE
// (name, type, default) and builds the catalog column it describes: no id,
// not a key, no aggregation type (the callers decide those by the table's
// data model). A column is nullable unless NOT NULL is written.
func columnFromDef(cd *sql.ColumnDef) (catalog.Column, error) {
	if strings.HasPrefix(strings.ToUpper(cd.Name), "__DORIS_") {
		return catalog.Column{}, ddlError("Column name '%s' is reserved", cd.Name)
	}
	ty, err := cd.Type.Resolve()
	if err != nil {
		return catalog.Column{}, notSupported(err.Error())
	}
	if err := ty.Validate(); err != nil {
		return catalog.Column{}, ddlError("column %s: %v", cd.Name, err)
	}
	if cd.AutoIncrement {
		return catalog.Column{}, notSupported("AUTO_INCREMENT")
	}
	if cd.Generated != nil {
		return catalog.Column{}, notSupported("generated columns")
	}
	c := catalog.Column{Name: cd.Name, Type: ty, Nullable: cd.Null != sql.NotNull, Comment: cd.Comment}
	if cd.Default != nil {
		if err := setDefault(&c, cd.Default); err != nil {
			return catalog.Column{}, err
		}
	}
	return c, nil
}

// setDefault records a column's DEFAULT after checking it fits the type.
func setDefault(c *catalog.Column, e sql.Expr) error {
	var lit string
	switch d := e.(type) {
	case *sql.NullLit:
		if !c.Nullable {
			return ddlError("Invalid default value for '%s': column is NOT NULL", c.Name)
		}
		c.DefaultNull = true
		return nil
	case *sql.StringLit:
		lit = d.Val
	case *sql.IntLit:
		lit = d.Text
	case *sql.DecimalLit:
		lit = d.Text
	case *sql.FloatLit:
		lit = d.Text
	case *sql.BoolLit:
		lit = "0"
		if d.Val {
			lit = "1"
		}
	case *sql.UnaryExpr:
		if d.Op == "-" {
			switch n := d.X.(type) {
			case *sql.IntLit:
				lit = "-" + n.Text
			case *sql.DecimalLit:
				lit = "-" + n.Text
			case *sql.FloatLit:
				lit = "-" + n.Text
			}
		}
	case *sql.FuncCall:
		name := strings.ToUpper(d.Name)
		if (name == "CURRENT_TIMESTAMP" || name == "NOW") && c.Type.Kind == types.KindDateTime {
			v := "CURRENT_TIMESTAMP"
			if len(d.Args) == 1 {
				v += "(" + d.Args[0].String() + ")"
			}
			c.Default = &v
			return nil
		}
		if name == "CURRENT_DATE" && c.Type.Kind == types.KindDate {
			v := "CURRENT_DATE"
			c.Default = &v
			return nil
		}
	}
	if lit == "" && e != nil {
		if _, ok := e.(*sql.StringLit); !ok {
			return ddlError("Invalid default value for '%s': %s", c.Name, e)
		}
	}
	if err := checkValue(c.Type, lit); err != nil {
		return ddlError("Invalid default value for '%s': %v", c.Name, err)
	}
	c.Default = &lit
	return nil
}

// checkValue checks that text converts to t.
func checkValue(t types.Type, text string) error {
	switch {
	case t.Kind.IsInteger() && t.Kind != types.KindLargeInt:
		bits := map[types.Kind]int{types.KindTinyInt: 8, types.KindSmallInt: 16, types.KindInt: 32, types.KindBigInt: 64}[t.Kind]
		if _, err := strconv.ParseInt(text, 10, bits); err != nil {
			return fmt.Errorf("'%s' is not a valid %s", text, t.SQLName())
		}
	case t.Kind == types.KindFloat || t.Kind == types.KindDouble:
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return fmt.Errorf("'%s' is not a valid %s", text, t.SQLName())
		}
	case t.Kind == types.KindDate:
		_, err := types.ParseDate(text)
		return err
	case t.Kind == types.KindDateTime:
		_, err := types.ParseDateTime(text)
		return err
	case t.Kind == types.KindDecimal || t.Kind == types.KindLargeInt:
		if _, err := partition.ParseValue(t, text); err != nil {
			return fmt.Errorf("'%s' is not a valid %s", text, t.SQLName())
		}
	case t.Kind == types.KindChar || t.Kind == types.KindVarchar:
		if len(text) > t.Length {
			return fmt.Errorf("'%s' is longer than %d bytes", text, t.Length)
		}
	case t.Kind == types.KindBoolean:
		switch strings.ToLower(text) {
		case "0", "1", "true", "false":
		default:
			return fmt.Errorf("'%s' is not a valid BOOLEAN", text)
		}
	}
	return nil
}

func setPartitions(t *catalog.Table, pd *sql.PartitionDesc) error {
	if pd == nil {
		t.PartitionType = catalog.Unpartitioned
		return nil
	}
	if pd.Type != "RANGE" || pd.Auto {
		return notSupported(fmt.Sprintf("%sPARTITION BY %s", map[bool]string{true: "AUTO ", false: ""}[pd.Auto], pd.Type))
	}
	t.PartitionType = catalog.RangePartitioned
	var colTypes []types.Type
	for _, name := range pd.Columns {
		_, c := t.Schema.ColumnByName(name)
		if c == nil {
			return ddlErrorCode(1054, "Partition column %s does not exist in table %s", name, t.Name)
		}
		if !c.Type.CanBeKey() {
			return ddlError("Type %s of column %s cannot be a partition column", c.Type.SQLName(), c.Name)
		}
		t.PartitionColumns = append(t.PartitionColumns, c.Name)
		colTypes = append(colTypes, c.Type)
	}
	if len(pd.Items) == 0 {
		return notSupported("a range-partitioned table without partitions (dynamic partitions)")
	}
	var prevUpper *catalog.PartitionBound
	names := map[string]bool{}
	add := func(name string, lo, hi catalog.PartitionBound) error {
		if names[strings.ToLower(name)] {
			return ddlError("Duplicate partition name %s", name)
		}
		names[strings.ToLower(name)] = true
		t.Partitions = append(t.Partitions, catalog.Partition{Name: name, Lower: lo, Upper: hi})
		up := hi
		prevUpper = &up
		return nil
	}
	for _, it := range pd.Items {
		switch it.Kind {
		case sql.PartitionLessThan:
			hi, err := boundFromExprs(it.LessThan, colTypes)
			if err != nil {
				return ddlError("partition %s: %v", it.Name, err)
			}
			lo := catalog.PartitionBound{}
			if prevUpper != nil {
				if prevUpper.MaxValue {
					return ddlError("partition %s: the previous partition already ends at MAXVALUE", it.Name)
				}
				lo = *prevUpper
			}
			if err := add(it.Name, lo, hi); err != nil {
				return err
			}
		case sql.PartitionFixed:
			lo, err := boundFromExprs(it.Lower, colTypes)
			if err != nil {
				return ddlError("partition %s: %v", it.Name, err)
			}
			hi, err := boundFromExprs(it.Upper, colTypes)
			if err != nil {
				return ddlError("partition %s: %v", it.Name, err)
			}
			if err := add(it.Name, lo, hi); err != nil {
				return err
			}
		case sql.PartitionBatch:
			if err := addBatch(it, colTypes, add); err != nil {
				return err
			}
		default:
			return ddlError("partition %s: a RANGE partition needs VALUES LESS THAN or VALUES [lower, upper)", it.Name)
		}
	}
	_, _, ranges, err := partition.Ranges(t)
	if err != nil {
		return ddlError("%v", err)
	}
	pnames := make([]string, len(t.Partitions))
	for i, p := range t.Partitions {
		pnames[i] = p.Name
	}
	if err := partition.CheckRanges(pnames, ranges); err != nil {
		return ddlError("%v", err)
	}
	return nil
}

// boundFromExprs reads the literal values of a partition bound.
func boundFromExprs(es []sql.Expr, colTypes []types.Type) (catalog.PartitionBound, error) {
	var b catalog.PartitionBound
	if len(es) > len(colTypes) {
		return b, fmt.Errorf("partition bound has %d values but there are %d partition columns", len(es), len(colTypes))
	}
	for i, e := range es {
		if _, ok := e.(*sql.MaxValue); ok {
			if len(es) != 1 {
				return b, fmt.Errorf("MAXVALUE must be the only value of a bound")
			}
			return catalog.PartitionBound{MaxValue: true}, nil
		}
		text, err := literalText(e)
		if err != nil {
			return b, err
		}
		if _, err := partition.ParseValue(colTypes[i], text); err != nil {
			return b, err
		}
		b.Values = append(b.Values, text)
	}
	return b, nil
}

func literalText(e sql.Expr) (string, error) {
	switch x := e.(type) {
	case *sql.StringLit:
		return x.Val, nil
	case *sql.IntLit:
		return x.Text, nil
	case *sql.DecimalLit:
		return x.Text, nil
	case *sql.UnaryExpr:
		if x.Op == "-" {
			if n, ok := x.X.(*sql.IntLit); ok {
				return "-" + n.Text, nil
			}
		}
	}
	return "", fmt.Errorf("partition values must be literals, got %s", e)
}

// addBatch expands FROM (lo) TO (hi) INTERVAL n [unit] into partitions.
func addBatch(it *sql.PartitionDef, colTypes []types.Type, add func(string, catalog.PartitionBound, catalog.PartitionBound) error) error {
	if len(colTypes) != 1 || len(it.Lower) != 1 || len(it.Upper) != 1 || it.Interval <= 0 {
		return ddlError("FROM ... TO ... INTERVAL needs one partition column and a positive interval")
	}
	loText, err := literalText(it.Lower[0])
	if err != nil {
		return ddlError("%v", err)
	}
	hiText, err := literalText(it.Upper[0])
	if err != nil {
		return ddlError("%v", err)
	}
	t := colTypes[0]
	const maxPartitions = 10000
	switch {
	case t.Kind.IsInteger() && it.IntervalUnit == "":
		lo, err1 := strconv.ParseInt(loText, 10, 64)
		hi, err2 := strconv.ParseInt(hiText, 10, 64)
		if err1 != nil || err2 != nil || lo >= hi {
			return ddlError("invalid FROM/TO range [%s, %s)", loText, hiText)
		}
		if (hi-lo)/it.Interval > maxPartitions {
			return ddlError("FROM ... TO ... INTERVAL would create more than %d partitions", maxPartitions)
		}
		for v := lo; v < hi; v += it.Interval {
			end := min(v+it.Interval, hi)
			name := fmt.Sprintf("p_%d_%d", v, end)
			if err := add(name, catalog.PartitionBound{Values: []string{strconv.FormatInt(v, 10)}}, catalog.PartitionBound{Values: []string{strconv.FormatInt(end, 10)}}); err != nil {
				return err
			}
		}
		return nil
	case t.Kind == types.KindDate || t.Kind == types.KindDateTime:
		lo, err1 := types.ParseDate(loText)
		hi, err2 := types.ParseDate(hiText)
		if err1 != nil || err2 != nil || lo >= hi {
			return ddlError("invalid FROM/TO range [%s, %s)", loText, hiText)
		}
		step := func(d int32) int32 {
			y, m, day := types.CivilFromDays(d)
			n := int(it.Interval)
			switch strings.ToUpper(it.IntervalUnit) {
			case "YEAR":
				return types.DaysFromCivil(y+n, m, day)
			case "MONTH":
				mm := m - 1 + n
				return types.DaysFromCivil(y+mm/12, mm%12+1, day)
			case "WEEK":
				return d + int32(7*n)
			default: // DAY
				return d + int32(n)
			}
		}
		unit := strings.ToUpper(it.IntervalUnit)
		if unit != "" && unit != "DAY" && unit != "WEEK" && unit != "MONTH" && unit != "YEAR" {
			return notSupported("INTERVAL unit " + unit + " in partition ranges")
		}
		count := 0
		for d := lo; d < hi; d = step(d) {
			if count++; count > maxPartitions {
				return ddlError("FROM ... TO ... INTERVAL would create more than %d partitions", maxPartitions)
			}
			end := min(step(d), hi)
			y, m, day := types.CivilFromDays(d)
			var name string
			switch unit {
			case "YEAR":
				name = fmt.Sprintf("p%04d", y)
			case "MONTH":
				name = fmt.Sprintf("p%04d%02d", y, m)
			default:
				name = fmt.Sprintf("p%04d%02d%02d", y, m, day)
			}
			if err := add(name, catalog.PartitionBound{Values: []string{string(types.AppendDate(nil, d))}}, catalog.PartitionBound{Values: []string{string(types.AppendDate(nil, end))}}); err != nil {
				return err
			}
		}
		return nil
	}
	return ddlError("FROM ... TO ... INTERVAL is not valid for a %s partition column", t.SQLName())
}

func setDistribution(t *catalog.Table, dd *sql.DistributionDesc) error {
	if dd == nil {
		t.Distribution = catalog.Distribution{Type: catalog.RandomDistributed, Buckets: defaultBuckets, AutoBuckets: true}
		return nil
	}
	d := catalog.Distribution{Buckets: dd.Buckets, AutoBuckets: dd.AutoBuckets || dd.Buckets == 0}
	if d.AutoBuckets {
		d.Buckets = defaultBuckets
	}
	if d.Buckets < 1 || d.Buckets > 65535 {
		return ddlError("Number of hash distribution should be greater than zero and at most 65535, got %d", d.Buckets)
	}
	if dd.Random {
		d.Type = catalog.RandomDistributed
	} else {
		d.Type = catalog.HashDistributed
		if len(dd.Columns) == 0 {
			return ddlError("DISTRIBUTED BY HASH needs at least one column")
		}
		for _, name := range dd.Columns {
			_, c := t.Schema.ColumnByName(name)
			if c == nil {
				return ddlErrorCode(1054, "Distribution column(%s) doesn't exist", name)
			}
			if c.Type.Kind == types.KindFloat || c.Type.Kind == types.KindDouble {
				return ddlError("Distribution column(%s) can not be FLOAT or DOUBLE", name)
			}
			d.Columns = append(d.Columns, c.Name)
		}
	}
	t.Distribution = d
	return nil
}

// setKeysModel applies the rules of t's data model to its columns (key
// columns are marked already) with Doris's checks and wording: aggregation
// types where the model wants them, the merge-on-write and sequence
// properties, and the hidden columns of UNIQUE KEY tables.
func setKeysModel(t *catalog.Table) error {
	cols := t.Schema.Columns
	for i := range cols {
		c := &cols[i]
		if c.IsKey {
			if c.AggType != "" {
				return ddlError("Key column[%s] should not specify aggregate type.", c.Name)
			}
			if isSketch(c.Type) {
				return ddlError("Key column can not set %s type: %s", c.Type.SQLName(), c.Name)
			}
			continue
		}
		switch t.KeysType {
		case catalog.AggKeys:
			if c.AggType == "" {
				return ddlError("AGG_KEYS table should specify aggregate type for non-key column[%s]", c.Name)
			}
			if err := checkAggType(c); err != nil {
				return err
			}
		default:
			if c.AggType != "" {
				name := "DUP_KEYS"
				if t.KeysType == catalog.UniqueKeys {
					name = "UNIQUE_KEYS"
				}
				return ddlError("%s table should not specify aggregate type for non-key column[%s]", name, c.Name)
			}
		}
	}
	if t.KeysType != catalog.UniqueKeys {
		for _, p := range []string{catalog.PropMergeOnWrite, catalog.PropSequenceCol, catalog.PropSequenceType} {
			if _, ok := t.Properties[p]; ok {
				if p == catalog.PropMergeOnWrite {
					return ddlError("%s property only support unique key table", p)
				}
				return ddlError("sequence column only support UNIQUE_KEYS")
			}
		}
		return nil
	}

	if t.Properties == nil {
		t.Properties = map[string]string{}
	}
	switch v := strings.ToLower(t.Properties[catalog.PropMergeOnWrite]); v {
	case "":
		t.Properties[catalog.PropMergeOnWrite] = "true"
	case "true", "false":
		t.Properties[catalog.PropMergeOnWrite] = v
	default:
		return ddlError("%s must be `true` or `false`", catalog.PropMergeOnWrite)
	}
	zero := "0"
	t.Schema.Columns = append(t.Schema.Columns, catalog.Column{
		Name: catalog.DeleteSignColumn, Type: types.Type{Kind: types.KindTinyInt}, Default: &zero,
	})
	seqCol, hasCol := t.Properties[catalog.PropSequenceCol]
	seqType, hasType := t.Properties[catalog.PropSequenceType]
	switch {
	case hasCol && hasType:
		return ddlError("The sequence_col and sequence_type cannot be set at the same time")
	case hasCol:
		_, c := t.Schema.ColumnByName(seqCol)
		if c == nil {
			return ddlError("The specified sequence column[%s] not exists", seqCol)
		}
		if !canBeSequence(c.Type) {
			return ddlError("Sequence type only support integer types and date types")
		}
		if c.IsKey {
			return ddlError("The sequence column[%s] can not be a key column", seqCol)
		}
		t.Properties[catalog.PropSequenceCol] = c.Name
	case hasType:
		ty, err := (&sql.TypeName{Name: strings.ToUpper(strings.TrimSpace(seqType))}).Resolve()
		if err != nil {
			return ddlError("Unknown sequence type: %s", seqType)
		}
		if !canBeSequence(ty) {
			return ddlError("Sequence type only support integer types and date types")
		}
		t.Schema.Columns = append(t.Schema.Columns, catalog.Column{Name: catalog.SequenceColumn, Type: ty, Nullable: true})
	}
	return nil
}

// checkAggType checks the aggregation of a value column of an AGGREGATE
// KEY table against its type (Doris's AggregateType.checkCompatibility).
func checkAggType(c *catalog.Column) error {
	k := c.Type.Kind
	ok := false
	switch c.AggType {
	case "SUM":
		ok = k.IsNumeric()
	case "MIN", "MAX", "REPLACE", "REPLACE_IF_NOT_NULL":
		ok = !isSketch(c.Type)
	case "BITMAP_UNION":
		ok = k == types.KindBitmap
	case "HLL_UNION":
		ok = k == types.KindHLL
	case "NONE":
		return ddlError("can't set NONE as aggregation type on column %s", c.Name)
	default:
		return ddlError("Unknown aggregation type %s of column %s", c.AggType, c.Name)
	}
	if !ok {
		return ddlError("Aggregate type %s is not compatible with primitive type %s", c.AggType, c.Type.SQLName())
	}
	if c.AggType == "SUM" && c.Default != nil {
		if f, err := strconv.ParseFloat(*c.Default, 64); err != nil || f != 0 {
			return ddlError("The default value of '%s' with SUM aggregation function must be zero", c.Name)
		}
	}
	return nil
}

// checkModelPlacement checks, for the UNIQUE and AGGREGATE KEY models,
// that every row of one key lands in one tablet: partition and bucket
// columns must be keys, and rows of a unique key may not be spread at
// random.
func checkModelPlacement(t *catalog.Table) error {
	if t.KeysType == catalog.DupKeys {
		return nil
	}
	if t.Distribution.Type == catalog.RandomDistributed {
		if t.KeysType == catalog.UniqueKeys {
			return ddlError("Should not be distributed by random when keys type is unique")
		}
		for _, c := range t.Schema.Columns {
			if c.AggType == "REPLACE" || c.AggType == "REPLACE_IF_NOT_NULL" {
				return ddlError("Should not be distributed by random when keys type is agg and column is in replace, [%s] is invalid", c.Name)
			}
		}
	}
	for _, name := range t.Distribution.Columns {
		if _, c := t.Schema.ColumnByName(name); c != nil && !c.IsKey {
			return ddlError("Distribution column[%s] is not key column", c.Name)
		}
	}
	for _, name := range t.PartitionColumns {
		if _, c := t.Schema.ColumnByName(name); c != nil && !c.IsKey {
			return ddlError("The partition column could not be aggregated column")
		}
	}
	return nil
}

// isSketch reports whether t is BITMAP or HLL, the types only their own
// aggregations (BITMAP_UNION, HLL_UNION) may fold.
func isSketch(t types.Type) bool { return t.Kind == types.KindBitmap || t.Kind == types.KindHLL }

// canBeSequence reports whether a column of type t may order the rows of a
// unique key: integers, dates and datetimes.
func canBeSequence(t types.Type) bool {
	return t.Kind.IsInteger() && t.Kind != types.KindLargeInt || t.Kind.IsTemporal()
}
