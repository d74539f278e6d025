package sql

import "strings"

// Statements other than queries render as their source text.
func (s *stmtBase) String() string            { return s.text }
func (s *stmtBase) format(b *strings.Builder) { b.WriteString(s.text) }
func (s *SelectStmt) String() string          { return nodeString(s) }
func (b *SelectBlock) String() string         { return nodeString(b) }
func (o *SetOp) String() string               { return nodeString(o) }
func (t *TableSource) String() string         { return nodeString(t) }
func (d *DerivedTable) String() string        { return nodeString(d) }
func (j *Join) String() string                { return nodeString(j) }

func (s *SelectStmt) format(b *strings.Builder) {
	if len(s.With) > 0 {
		b.WriteString("WITH ")
		for i, c := range s.With {
			if i > 0 {
				b.WriteString(", ")
			}
			writeIdent(b, c.Name)
			if len(c.Columns) > 0 {
				b.WriteByte('(')
				writeIdentList(b, c.Columns)
				b.WriteByte(')')
			}
			b.WriteString(" AS (")
			c.Query.format(b)
			b.WriteByte(')')
		}
		b.WriteByte(' ')
	}
	if inner, ok := s.Body.(*SelectStmt); ok {
		b.WriteByte('(')
		inner.format(b)
		b.WriteByte(')')
	} else {
		s.Body.format(b)
	}
	if len(s.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		formatOrderBy(b, s.OrderBy)
	}
	if s.Limit != nil {
		b.WriteString(" LIMIT ")
		s.Limit.Count.format(b)
		if s.Limit.Offset != nil {
			b.WriteString(" OFFSET ")
			s.Limit.Offset.format(b)
		}
	}
}

func writeIdentList(b *strings.Builder, names []string) {
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		writeIdent(b, n)
	}
}

func formatOrderBy(b *strings.Builder, items []*OrderItem) {
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		it.Expr.format(b)
		if it.Desc {
			b.WriteString(" DESC")
		}
		if it.Nulls != "" {
			b.WriteString(" NULLS ")
			b.WriteString(it.Nulls)
		}
	}
}

func (sb *SelectBlock) format(b *strings.Builder) {
	b.WriteString("SELECT ")
	if sb.Distinct {
		b.WriteString("DISTINCT ")
	}
	for i, it := range sb.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		it.Expr.format(b)
		if it.Alias != "" {
			b.WriteString(" AS ")
			writeIdent(b, it.Alias)
		}
	}
	if sb.From != nil {
		b.WriteString(" FROM ")
		sb.From.format(b)
	}
	if sb.Where != nil {
		b.WriteString(" WHERE ")
		sb.Where.format(b)
	}
	if len(sb.GroupBy) > 0 {
		b.WriteString(" GROUP BY ")
		if sb.GroupingKind == "CUBE" || sb.GroupingKind == "ROLLUP" {
			b.WriteString(sb.GroupingKind)
			b.WriteByte('(')
			formatExprList(b, sb.GroupBy)
			b.WriteByte(')')
		} else {
			formatExprList(b, sb.GroupBy)
		}
	}
	if sb.Having != nil {
		b.WriteString(" HAVING ")
		sb.Having.format(b)
	}
}

func (o *SetOp) format(b *strings.Builder) {
	formatQueryOperand(b, o.Left)
	b.WriteByte(' ')
	b.WriteString(o.Op)
	if o.All {
		b.WriteString(" ALL")
	}
	b.WriteByte(' ')
	formatQueryOperand(b, o.Right)
}

func formatQueryOperand(b *strings.Builder, q QueryBody) {
	switch q.(type) {
	case *SelectBlock:
		q.format(b)
	default:
		b.WriteByte('(')
		q.format(b)
		b.WriteByte(')')
	}
}

func (t *TableSource) format(b *strings.Builder) {
	t.Name.format(b)
	if len(t.Partitions) > 0 {
		b.WriteString(" PARTITION (")
		writeIdentList(b, t.Partitions)
		b.WriteByte(')')
	}
	if t.Alias != "" {
		b.WriteString(" AS ")
		writeIdent(b, t.Alias)
	}
}

func (d *DerivedTable) format(b *strings.Builder) {
	b.WriteByte('(')
	d.Query.format(b)
	b.WriteString(") AS ")
	writeIdent(b, d.Alias)
}

func (j *Join) format(b *strings.Builder) {
	j.Left.format(b)
	if j.Comma {
		b.WriteString(", ")
	} else {
		b.WriteByte(' ')
		b.WriteString(j.Kind.String())
		b.WriteByte(' ')
	}
	if _, nested := j.Right.(*Join); nested {
		b.WriteByte('(')
		j.Right.format(b)
		b.WriteByte(')')
	} else {
		j.Right.format(b)
	}
	if j.On != nil {
		b.WriteString(" ON ")
		j.On.format(b)
	}
	if len(j.Using) > 0 {
		b.WriteString(" USING (")
		writeIdentList(b, j.Using)
		b.WriteByte(')')
	}
}
