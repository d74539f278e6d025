package session

import (
	"fmt"
	"sort"
	"strings"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/planner"
)

// quoteIdent backquotes an identifier, doubling embedded backquotes.
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

func quoteIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// quoteString single-quotes a string literal, escaping as MySQL does.
func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "\x00", `\0`)
	return "'" + r.Replace(s) + "'"
}

func quoteDouble(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// renderCreateTable prints t the way SHOW CREATE TABLE shows it: a statement
// that recreates the table.
func renderCreateTable(t *catalog.Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (\n", quoteIdent(t.Name))
	var cols []catalog.Column
	for _, c := range t.Schema.Columns {
		if !planner.IsHiddenColumn(c.Name) {
			cols = append(cols, c)
		}
	}
	for i, c := range cols {
		b.WriteString("  ")
		b.WriteString(quoteIdent(c.Name))
		b.WriteByte(' ')
		b.WriteString(c.Type.SQLName())
		if c.AggType != "" {
			b.WriteByte(' ')
			b.WriteString(c.AggType)
		}
		if c.Nullable {
			b.WriteString(" NULL")
		} else {
			b.WriteString(" NOT NULL")
		}
		switch {
		case c.DefaultNull:
			b.WriteString(" DEFAULT NULL")
		case c.Default != nil:
			b.WriteString(" DEFAULT ")
			if strings.HasPrefix(strings.ToUpper(*c.Default), "CURRENT_TIMESTAMP") {
				b.WriteString(*c.Default)
			} else {
				b.WriteString(quoteDouble(*c.Default))
			}
		}
		if c.Comment != "" {
			b.WriteString(" COMMENT ")
			b.WriteString(quoteDouble(c.Comment))
		}
		if i < len(cols)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(") ENGINE=OLAP\n")
	fmt.Fprintf(&b, "%s KEY(%s)\n", t.KeysType, quoteIdents(t.KeyColumns))
	if t.Comment != "" {
		fmt.Fprintf(&b, "COMMENT %s\n", quoteString(t.Comment))
	} else {
		b.WriteString("COMMENT 'OLAP'\n")
	}
	if t.PartitionType == catalog.RangePartitioned {
		fmt.Fprintf(&b, "PARTITION BY RANGE(%s)\n(", quoteIdents(t.PartitionColumns))
		for i, p := range t.Partitions {
			if i > 0 {
				b.WriteString(",\n")
			}
			if len(p.Lower.Values) == 0 && !p.Lower.MaxValue {
				if p.Upper.MaxValue {
					fmt.Fprintf(&b, "PARTITION %s VALUES LESS THAN MAXVALUE", quoteIdent(p.Name))
				} else {
					fmt.Fprintf(&b, "PARTITION %s VALUES LESS THAN %s", quoteIdent(p.Name), renderBound(p.Upper))
				}
				continue
			}
			fmt.Fprintf(&b, "PARTITION %s VALUES [%s, %s)", quoteIdent(p.Name), renderBound(p.Lower), renderBound(p.Upper))
		}
		b.WriteString(")\n")
	}
	switch t.Distribution.Type {
	case catalog.HashDistributed:
		fmt.Fprintf(&b, "DISTRIBUTED BY HASH(%s) ", quoteIdents(t.Distribution.Columns))
	case catalog.RandomDistributed:
		b.WriteString("DISTRIBUTED BY RANDOM ")
	}
	if t.Distribution.AutoBuckets {
		b.WriteString("BUCKETS AUTO\n")
	} else {
		fmt.Fprintf(&b, "BUCKETS %d\n", t.Distribution.Buckets)
	}
	b.WriteString("PROPERTIES (\n")
	props := showProperties(t)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		fmt.Fprintf(&b, "%s = %s", quoteDouble(k), quoteDouble(props[k]))
		if i < len(keys)-1 {
			b.WriteString(",\n")
		}
	}
	b.WriteString("\n);")
	return b.String()
}

// showProperties is the table's properties with the defaults Doris echoes.
func showProperties(t *catalog.Table) map[string]string {
	props := map[string]string{
		"replication_allocation":  "tag.location.default: 1",
		"in_memory":               "false",
		"storage_format":          "V2",
		"storage_medium":          "hdd",
		"light_schema_change":     "true",
		"disable_auto_compaction": "false",
		"compression":             "LZ4F",
	}
	for k, v := range t.Properties {
		props[k] = v
	}
	if n, ok := t.Properties["replication_num"]; ok {
		props["replication_allocation"] = "tag.location.default: " + n
		delete(props, "replication_num")
	}
	return props
}

// renderBound prints a non-minimum partition bound as `("v1", "v2")` or
// `(MAXVALUE)`.
func renderBound(b catalog.PartitionBound) string {
	if b.MaxValue {
		return "(MAXVALUE)"
	}
	parts := make([]string, len(b.Values))
	for i, v := range b.Values {
		parts[i] = quoteDouble(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
