package planner

import (
	"fmt"
	"strings"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/sql"
)

// bindTableRef binds a FROM item.
func (p *Planner) bindTableRef(ref sql.TableRef, ctes cteScope) (node, error) {
	switch r := ref.(type) {
	case *sql.TableSource:
		return p.bindTableSource(r, ctes)
	case *sql.DerivedTable:
		n, err := p.bindSelect(r.Query, ctes)
		if err != nil {
			return nil, err
		}
		return renameColumns(n, r.Alias), nil
	case *sql.Join:
		return p.bindJoin(r, ctes)
	}
	return nil, unsupported(fmt.Sprintf("FROM item %T", ref))
}

// renameColumns re-qualifies a subquery's output with its alias.
func renameColumns(n node, alias string) node {
	n = stripHidden(n)
	cols := n.columns()
	out := make([]column, len(cols))
	exprs := make([]*ir, len(cols))
	for i, c := range cols {
		out[i] = column{name: c.name, table: alias, t: c.t, nullable: c.nullable, orgName: c.orgName, orgTable: c.orgTable, scanID: -1}
		exprs[i] = colIR(i, c.t)
	}
	return &projectNode{child: n, exprs: exprs, out: out}
}

func (p *Planner) bindTableSource(r *sql.TableSource, ctes cteScope) (node, error) {
	if r.Name.DB == "" {
		if c, ok := ctes[strings.ToLower(r.Name.Name)]; ok {
			n, err := p.bindSelect(c.Query, ctes)
			if err != nil {
				return nil, err
			}
			alias := r.Alias
			if alias == "" {
				alias = c.Name
			}
			n = renameColumns(n, alias)
			if len(c.Columns) > 0 {
				pn := n.(*projectNode)
				if len(c.Columns) != len(pn.out) {
					return nil, &Error{Code: 1353, Msg: fmt.Sprintf("In definition of view, derived table or common table expression, SELECT list and column names list have different column counts")}
				}
				for i := range pn.out {
					pn.out[i].name = c.Columns[i]
				}
			}
			return n, nil
		}
		if strings.EqualFold(r.Name.Name, "dual") {
			return &valuesNode{rows: [][]*ir{{}}}, nil
		}
	}
	db := r.Name.DB
	if db == "" {
		db = p.defaultDB()
		if db == "" {
			return nil, &Error{Code: ErrNoDB, Msg: "No database selected"}
		}
	}
	if sys, ok := IsSystemSchema(db); ok {
		if len(r.Partitions) > 0 {
			return nil, unsupported("PARTITION on a system table")
		}
		return p.bindSystemTable(sys, r.Name.Name, r.Alias)
	}
	t, ok, err := p.bindTable(db, r.Name.Name)
	if err != nil {
		return nil, err
	}
	if !ok {
		if !p.cat.HasDatabase(db) {
			return nil, &Error{Code: ErrBadDB, Msg: fmt.Sprintf("Unknown database '%s'", db)}
		}
		return nil, &Error{Code: ErrNoSuchTable, Msg: fmt.Sprintf("Table '%s.%s' doesn't exist", db, r.Name.Name)}
	}
	alias := r.Alias
	if alias == "" {
		alias = t.Name
	}
	if t.IsView() {
		if len(r.Partitions) > 0 {
			return nil, &Error{Code: ErrUnknown, Msg: fmt.Sprintf("'%s.%s' is not BASE TABLE", db, t.Name)}
		}
		return p.bindView(db, t, alias)
	}
	id := p.scanSeq
	p.scanSeq++
	s := &scanNode{db: db, table: t, alias: alias}
	s.colIdx = p.scanColumns(id, len(t.Schema.Columns))
	for _, i := range s.colIdx {
		c := t.Schema.Columns[i]
		s.out = append(s.out, column{
			name: c.Name, table: alias, db: db, orgTable: t.Name, orgName: c.Name,
			t: c.Type, nullable: c.Nullable, scanID: id, schemaIdx: i,
		})
	}
	if len(r.Partitions) > 0 {
		// A partition named twice is still read once.
		chosen := make([]bool, len(t.Partitions))
		for _, name := range r.Partitions {
			found := false
			for i := range t.Partitions {
				if strings.EqualFold(t.Partitions[i].Name, name) {
					if !chosen[i] {
						s.partitions = append(s.partitions, i)
					}
					chosen[i] = true
					found = true
				}
			}
			if !found {
				return nil, &Error{Code: ErrUnknown, Msg: fmt.Sprintf("Unknown partition '%s' in table '%s'", name, t.Name)}
			}
		}
		s.pruned = true
	}
	return s, nil
}

func (p *Planner) bindJoin(j *sql.Join, ctes cteScope) (node, error) {
	left, err := p.bindTableRef(j.Left, ctes)
	if err != nil {
		return nil, err
	}
	right, err := p.bindTableRef(j.Right, ctes)
	if err != nil {
		return nil, err
	}
	kind := j.Kind
	if kind == sql.JoinRight {
		// a RIGHT JOIN b = b LEFT JOIN a, with the columns put back in order.
		n, err := p.joinNodes(right, left, sql.JoinLeft, j.On, j.Using)
		if err != nil {
			return nil, err
		}
		nl, nr := len(right.columns()), len(left.columns())
		cols := n.columns()
		var exprs []*ir
		var out []column
		for i := 0; i < nr; i++ {
			exprs = append(exprs, colIR(nl+i, cols[nl+i].t))
			out = append(out, cols[nl+i])
		}
		for i := 0; i < nl; i++ {
			exprs = append(exprs, colIR(i, cols[i].t))
			out = append(out, cols[i])
		}
		return &projectNode{child: n, exprs: exprs, out: out}, nil
	}
	return p.joinNodes(left, right, kind, j.On, j.Using)
}

func (p *Planner) joinNodes(left, right node, kind sql.JoinKind, on sql.Expr, using []string) (node, error) {
	lc, rc := left.columns(), right.columns()
	out := concatCols(lc, rc)
	n := &joinNode{left: left, right: right, out: out}
	switch kind {
	case sql.JoinInner:
		n.kind = exec.JoinInner
	case sql.JoinCross:
		n.kind = exec.JoinInner
	case sql.JoinLeft:
		n.kind = exec.JoinLeft
		for i := len(lc); i < len(out); i++ {
			out[i].nullable = true
		}
	default:
		return nil, unsupported(kind.String())
	}
	sc := &scope{cols: out}
	var conds []*ir
	if on != nil {
		b := &exprBinder{p: p, scope: sc, params: p.params}
		pred, err := b.bind(on)
		if err != nil {
			return nil, err
		}
		conds = conjuncts(pred)
	}
	for _, name := range using {
		lref, rref := &sql.ColumnRef{Column: name}, &sql.ColumnRef{Column: name}
		li, err := (&scope{cols: lc}).resolve(lref)
		if err != nil {
			return nil, err
		}
		ri, err := (&scope{cols: rc}).resolve(rref)
		if err != nil {
			return nil, err
		}
		p.markUsed(lc[li])
		p.markUsed(rc[ri])
		eq, err := newCall("=", "=", []*ir{colIR(li, lc[li].t), colIR(len(lc)+ri, rc[ri].t)}, &callSpec{Kind: callCompare, Op: "="})
		if err != nil {
			return nil, typeError(err)
		}
		conds = append(conds, eq)
	}
	if len(conds) == 0 {
		n.cross = true
		return n, nil
	}
	var rightOnly []*ir
	for _, c := range conds {
		if n.kind == exec.JoinLeft && c.onlyColumnsIn(len(lc), len(out)) && !c.isConst() {
			rightOnly = append(rightOnly, c.shift(-len(lc)))
			continue
		}
		if lk, rk, ok := equiKey(c, len(lc), len(out)); ok {
			n.leftKeys = append(n.leftKeys, lk)
			n.rightKeys = append(n.rightKeys, rk)
			continue
		}
		n.other = andOpt(n.other, c)
	}
	if len(rightOnly) > 0 {
		n.right = &filterNode{child: n.right, pred: andAll(rightOnly)}
	}
	if len(n.leftKeys) == 0 {
		if n.kind == exec.JoinLeft {
			return nil, unsupported("LEFT JOIN without an equality between the two sides")
		}
		n.cross = true
	}
	return n, nil
}

func andOpt(a, b *ir) *ir {
	if a == nil {
		return b
	}
	return andIR(a, b)
}

// equiKey recognises l = r where one side reads only left columns [0, nl)
// and the other only right columns [nl, n). It returns the left key and the
// right key (shifted to the right input's numbering), each converted to
// their common type.
func equiKey(c *ir, nl, n int) (lk, rk *ir, ok bool) {
	if c.op != "=" || len(c.args) != 2 {
		return nil, nil, false
	}
	a, b := c.args[0], c.args[1]
	if a.isConst() || b.isConst() {
		return nil, nil, false
	}
	switch {
	case a.onlyColumnsIn(0, nl) && b.onlyColumnsIn(nl, n):
	case b.onlyColumnsIn(0, nl) && a.onlyColumnsIn(nl, n):
		a, b = b, a
	default:
		return nil, nil, false
	}
	t, err := exec.CommonType(a.t, b.t)
	if err != nil {
		return nil, nil, false
	}
	return castIR(a, t), castIR(b.shift(-nl), t), true
}
