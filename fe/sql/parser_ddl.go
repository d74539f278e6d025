package sql

import "strings"

func (p *parser) parseCreate() Stmt {
	p.expectKw("CREATE")
	orReplace := p.acceptKws("OR", "REPLACE")
	switch {
	case p.isKw("VIEW"):
		return p.parseCreateView(orReplace)
	case orReplace:
		p.fail("expected VIEW")
	case p.acceptKw("DATABASE"), p.acceptKw("SCHEMA"):
		s := &CreateDatabaseStmt{}
		s.IfNotExists = p.acceptKws("IF", "NOT", "EXISTS")
		first := p.ident()
		if p.acceptOp(".") {
			s.Name = ObjectName{Catalog: first, Name: p.anyName()}
		} else {
			s.Name = ObjectName{Name: first}
		}
		// MySQL options such as DEFAULT CHARACTER SET are accepted and ignored.
		for {
			p.acceptKw("DEFAULT")
			switch {
			case p.acceptKws("CHARACTER", "SET"), p.acceptKw("CHARSET"), p.acceptKw("COLLATE"):
				p.acceptOp("=")
				p.identOrString()
				continue
			}
			break
		}
		if p.acceptKw("PROPERTIES") {
			s.Properties = p.propertyList()
		}
		return s
	case p.acceptKws("MATERIALIZED", "VIEW"):
		return p.parseCreateMV()
	case p.isKw("TABLE") || p.isKw("TEMPORARY") || p.isKw("EXTERNAL"):
		return p.parseCreateTable()
	}
	t := p.tok()
	if t.kind == tokIdent {
		p.unsupported("CREATE " + strings.ToUpper(t.val))
	}
	p.fail("expected object type")
	return nil
}

func (p *parser) parseCreateView(orReplace bool) Stmt {
	p.expectKw("VIEW")
	s := &CreateViewStmt{OrReplace: orReplace}
	s.IfNotExists = p.acceptKws("IF", "NOT", "EXISTS")
	s.Name = p.objectName()
	if p.isOp("(") {
		p.i++
		for {
			c := ViewColumn{Name: p.ident()}
			if p.acceptKw("COMMENT") {
				c.Comment = p.stringLit()
			}
			s.Columns = append(s.Columns, c)
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	if p.acceptKw("COMMENT") {
		s.Comment = p.stringLit()
	}
	p.expectKw("AS")
	start := p.tok().pos
	s.Query = p.parseSelectStmt()
	s.QueryText = p.src[start:p.prevEnd()]
	return s
}

func (p *parser) parseCreateMV() Stmt {
	s := &CreateMaterializedViewStmt{}
	s.IfNotExists = p.acceptKws("IF", "NOT", "EXISTS")
	s.Name = p.objectName()
	if !p.isKw("AS") {
		p.unsupported("CREATE MATERIALIZED VIEW with BUILD/REFRESH (asynchronous materialized view)")
	}
	p.expectKw("AS")
	start := p.tok().pos
	s.Query = p.parseSelectStmt()
	s.QueryText = p.src[start:p.prevEnd()]
	if p.acceptKw("PROPERTIES") {
		s.Properties = p.propertyList()
	}
	return s
}

func (p *parser) parseCreateTable() Stmt {
	s := &CreateTableStmt{}
	switch {
	case p.acceptKw("TEMPORARY"):
		s.Temporary = true
	case p.acceptKw("EXTERNAL"):
		s.External = true
	}
	p.expectKw("TABLE")
	s.IfNotExists = p.acceptKws("IF", "NOT", "EXISTS")
	s.Name = p.objectName()
	if p.acceptKw("LIKE") {
		like := p.objectName()
		s.Like = &like
		if p.acceptKws("WITH", "ROLLUP") {
			s.LikeWithRollup = true
			if p.isOp("(") {
				s.LikeRollups = p.identList()
			}
		}
		return s
	}
	if p.isOp("(") && !p.startsQuery() {
		p.i++
		for {
			if p.isKw("INDEX") {
				s.Indexes = append(s.Indexes, p.parseIndexDef())
			} else {
				s.Columns = append(s.Columns, p.parseColumnDef())
			}
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	}
	for {
		switch {
		case p.acceptKw("ENGINE"):
			p.acceptOp("=")
			s.Engine = strings.ToUpper(p.ident())
		case p.isAnyKw("DUPLICATE", "UNIQUE", "AGGREGATE") && p.isKwAt(1, "KEY"):
			switch strings.ToUpper(p.advance().val) {
			case "DUPLICATE":
				s.Keys = KeysDuplicate
			case "UNIQUE":
				s.Keys = KeysUnique
			default:
				s.Keys = KeysAggregate
			}
			p.i++ // KEY
			s.KeyColumns = p.identList()
		case p.acceptKws("CLUSTER", "BY"), p.acceptKws("ORDER", "BY"):
			s.ClusterBy = p.identList()
		case p.acceptKw("COMMENT"):
			p.acceptOp("=")
			s.Comment = p.stringLit()
		case p.isKw("PARTITION") || p.isKw("AUTO") && p.isKwAt(1, "PARTITION"):
			s.Partition = p.parsePartitionDesc()
		case p.isKw("DISTRIBUTED"):
			s.Distribution = p.parseDistribution()
		case p.acceptKw("ROLLUP"):
			p.expectOp("(")
			for {
				s.Rollups = append(s.Rollups, p.parseRollupDef())
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectOp(")")
		case p.acceptKw("PROPERTIES"):
			s.Properties = p.propertyList()
		case p.isKw("BROKER") || p.isKw("EXTENDED"):
			p.unsupported("external table options")
		default:
			if p.acceptKw("AS") || p.startsQuery() {
				s.AsSelect = p.parseSelectStmt()
			}
			return s
		}
	}
}

func (p *parser) parseIndexDef() *IndexDef {
	p.expectKw("INDEX")
	d := &IndexDef{}
	d.IfNotExists = p.acceptKws("IF", "NOT", "EXISTS")
	d.Name = p.ident()
	d.Columns = p.identList()
	if p.acceptKw("USING") {
		d.Using = strings.ToUpper(p.ident())
	}
	if p.acceptKw("PROPERTIES") {
		d.Properties = p.propertyList()
	}
	if p.acceptKw("COMMENT") {
		d.Comment = p.stringLit()
	}
	return d
}

// parseColumnDef parses name type [attributes...].
func (p *parser) parseColumnDef() *ColumnDef {
	c := &ColumnDef{Name: p.ident()}
	c.Type = p.parseTypeName()
	p.parseColumnAttrs(c)
	return c
}

func (p *parser) parseColumnAttrs(c *ColumnDef) {
	for {
		t := p.tok()
		if t.kind != tokIdent {
			return
		}
		up := strings.ToUpper(t.val)
		switch {
		case up == "KEY":
			p.i++
			c.IsKey = true
		case aggTypes[up] && c.AggType == "":
			p.i++
			c.AggType = up
		case up == "GENERATED" || up == "AS" && p.isOpAt(1, "("):
			if p.acceptKw("GENERATED") {
				p.expectKw("ALWAYS")
			}
			p.expectKw("AS")
			p.expectOp("(")
			c.Generated = p.parseExpr()
			p.expectOp(")")
		case up == "NOT" && p.isKwAt(1, "NULL"):
			p.i += 2
			c.Null = NotNull
		case up == "NULL":
			p.i++
			c.Null = Nullable
		case up == "AUTO_INCREMENT":
			p.i++
			c.AutoIncrement = true
			if p.acceptOp("(") {
				v := p.intValue()
				c.AutoIncrementStart = &v
				p.expectOp(")")
			}
		case up == "DEFAULT":
			p.i++
			c.Default = p.parseDefaultValue()
		case up == "ON" && p.isKwAt(1, "UPDATE"):
			p.i += 2
			c.OnUpdate = p.parseDefaultValue()
		case up == "COMMENT":
			p.i++
			c.Comment = p.stringLit()
		default:
			return
		}
	}
}

// parseDefaultValue parses a DEFAULT or ON UPDATE value: a literal, a signed
// number, NULL, or a niladic function such as CURRENT_TIMESTAMP[(p)].
func (p *parser) parseDefaultValue() Expr {
	t := p.tok()
	switch t.kind {
	case tokIdent:
		up := strings.ToUpper(t.val)
		switch up {
		case "NULL", "TRUE", "FALSE":
			return p.parsePrimary()
		}
		if p.isOpAt(1, "(") {
			return p.parseFuncCall()
		}
		p.i++
		return &FuncCall{Name: t.val, NoParens: true}
	case tokOp:
		if t.val == "-" || t.val == "+" || t.val == "(" {
			return p.parseUnary()
		}
	}
	return p.parsePrimary()
}

func (p *parser) parsePartitionDesc() *PartitionDesc {
	d := &PartitionDesc{}
	d.Auto = p.acceptKw("AUTO")
	p.expectKw("PARTITION", "BY")
	switch {
	case p.acceptKw("RANGE"):
		d.Type = "RANGE"
	case p.acceptKw("LIST"):
		d.Type = "LIST"
	default:
		p.fail("expected RANGE or LIST")
	}
	p.expectOp("(")
	if !p.isOp(")") {
		d.Exprs = p.parseExprList()
	}
	p.expectOp(")")
	for _, e := range d.Exprs {
		collectColumns(e, &d.Columns)
	}
	if p.isOp("(") {
		p.i++
		if !p.isOp(")") {
			for {
				d.Items = append(d.Items, p.parsePartitionItem())
				if !p.acceptOp(",") {
					break
				}
			}
		}
		p.expectOp(")")
	}
	return d
}

// collectColumns appends the column names referenced by e.
func collectColumns(e Expr, out *[]string) {
	switch x := e.(type) {
	case *ColumnRef:
		*out = append(*out, x.Column)
	case *FuncCall:
		for _, a := range x.Args {
			collectColumns(a, out)
		}
	}
}

// parsePartitionItem parses one partition definition of CREATE TABLE or
// ALTER TABLE ADD PARTITION.
func (p *parser) parsePartitionItem() *PartitionDef {
	d := &PartitionDef{}
	if p.acceptKw("FROM") {
		d.Kind = PartitionBatch
		d.Lower = p.parseValueTuple()
		p.expectKw("TO")
		d.Upper = p.parseValueTuple()
		p.expectKw("INTERVAL")
		d.Interval = p.intValue()
		if p.tok().kind == tokIdent && intervalUnits[strings.ToUpper(p.tok().val)] {
			d.IntervalUnit = strings.ToUpper(p.advance().val)
		}
		return d
	}
	p.expectKw("PARTITION")
	d.IfNotExists = p.acceptKws("IF", "NOT", "EXISTS")
	d.Name = p.ident()
	if !p.acceptKw("VALUES") {
		d.Kind = PartitionBare
		p.partitionProps(d)
		return d
	}
	switch {
	case p.acceptKws("LESS", "THAN"):
		d.Kind = PartitionLessThan
		if p.acceptKw("MAXVALUE") {
			d.LessThan = []Expr{&MaxValue{}}
		} else {
			d.LessThan = p.parseValueTuple()
		}
	case p.acceptOp("["):
		d.Kind = PartitionFixed
		d.Lower = p.parseValueTuple()
		p.expectOp(",")
		d.Upper = p.parseValueTuple()
		p.expectOp(")")
	case p.acceptKw("IN"):
		d.Kind = PartitionIn
		p.expectOp("(")
		for {
			if p.isOp("(") {
				d.In = append(d.In, p.parseValueTuple())
			} else {
				d.In = append(d.In, []Expr{p.parsePartitionValue()})
			}
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
	default:
		p.fail("expected LESS THAN, [ or IN")
	}
	p.partitionProps(d)
	return d
}

// partitionProps parses an optional per-partition ("k" = "v", ...) list.
func (p *parser) partitionProps(d *PartitionDef) {
	if p.isOp("(") && (p.peekAt(1).kind == tokString || p.peekAt(1).kind == tokDQString) {
		d.Properties = p.propertyList()
	}
}

func (p *parser) parseValueTuple() []Expr {
	p.expectOp("(")
	var vals []Expr
	if p.acceptOp(")") {
		return vals
	}
	for {
		vals = append(vals, p.parsePartitionValue())
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return vals
}

func (p *parser) parsePartitionValue() Expr {
	if p.acceptKw("MAXVALUE") {
		return &MaxValue{}
	}
	return p.parseBinary(0)
}

func (p *parser) parseDistribution() *DistributionDesc {
	p.expectKw("DISTRIBUTED", "BY")
	d := &DistributionDesc{}
	switch {
	case p.acceptKw("HASH"):
		d.Columns = p.identList()
	case p.acceptKw("RANDOM"):
		d.Random = true
	default:
		p.fail("expected HASH or RANDOM")
	}
	if p.acceptKw("BUCKETS") {
		if p.acceptKw("AUTO") {
			d.AutoBuckets = true
		} else {
			d.Buckets = p.smallInt()
		}
	}
	return d
}

func (p *parser) parseRollupDef() *RollupDef {
	r := &RollupDef{Name: p.ident()}
	r.Columns = p.identList()
	if p.acceptKws("DUPLICATE", "KEY") {
		r.DupKeys = p.identList()
	}
	if p.acceptKw("FROM") {
		r.FromIndex = p.ident()
	}
	if p.acceptKw("PROPERTIES") {
		r.Properties = p.propertyList()
	}
	return r
}

func (p *parser) parseDrop() Stmt {
	p.expectKw("DROP")
	switch {
	case p.acceptKw("DATABASE"), p.acceptKw("SCHEMA"):
		s := &DropDatabaseStmt{}
		s.IfExists = p.acceptKws("IF", "EXISTS")
		first := p.ident()
		if p.acceptOp(".") {
			s.Name = ObjectName{Catalog: first, Name: p.anyName()}
		} else {
			s.Name = ObjectName{Name: first}
		}
		s.Force = p.acceptKw("FORCE")
		return s
	case p.acceptKw("TABLE"):
		s := &DropTableStmt{}
		s.IfExists = p.acceptKws("IF", "EXISTS")
		s.Names = p.objectNames()
		s.Force = p.acceptKw("FORCE")
		return s
	case p.acceptKw("VIEW"):
		s := &DropViewStmt{}
		s.IfExists = p.acceptKws("IF", "EXISTS")
		s.Names = p.objectNames()
		return s
	case p.acceptKws("MATERIALIZED", "VIEW"):
		s := &DropMaterializedViewStmt{}
		s.IfExists = p.acceptKws("IF", "EXISTS")
		s.Name = p.objectName()
		if p.acceptKw("ON") {
			t := p.objectName()
			s.Table = &t
		}
		return s
	}
	t := p.tok()
	if t.kind == tokIdent {
		p.unsupported("DROP " + strings.ToUpper(t.val))
	}
	p.fail("expected object type")
	return nil
}

func (p *parser) objectNames() []ObjectName {
	names := []ObjectName{p.objectName()}
	for p.acceptOp(",") {
		names = append(names, p.objectName())
	}
	return names
}

func (p *parser) parseTruncate() Stmt {
	p.expectKw("TRUNCATE")
	p.acceptKw("TABLE")
	s := &TruncateTableStmt{Table: p.objectName()}
	if p.acceptKw("PARTITION") || p.acceptKw("PARTITIONS") {
		if p.isOp("(") {
			s.Partitions = p.identList()
		} else {
			s.Partitions = []string{p.ident()}
		}
	}
	p.acceptKw("FORCE")
	return s
}

// ---- ALTER TABLE ----

func (p *parser) parseAlter() Stmt {
	p.expectKw("ALTER")
	if p.acceptKw("SYSTEM") {
		return p.parseAlterSystem()
	}
	if !p.acceptKw("TABLE") {
		t := p.tok()
		if t.kind == tokIdent {
			p.unsupported("ALTER " + strings.ToUpper(t.val))
		}
		p.fail("expected TABLE")
	}
	s := &AlterTableStmt{Table: p.objectName()}
	for {
		cmd := p.parseAlterCmd()
		s.Cmds = append(s.Cmds, cmd)
		if !p.acceptOp(",") {
			break
		}
		// ADD ROLLUP r1(...), r2(...) and DROP ROLLUP r1, r2 continue the
		// same command.
		for cmd.Kind == AlterAddRollup && p.isIdent() && p.isOpAt(1, "(") {
			cmd.Rollups = append(cmd.Rollups, p.parseRollupDef())
			if !p.acceptOp(",") {
				return s
			}
		}
		for cmd.Kind == AlterDropRollup && p.isIdent() && !p.isAlterVerb() {
			cmd.Names = append(cmd.Names, p.ident())
			if !p.acceptOp(",") {
				return s
			}
		}
	}
	return s
}

func (p *parser) isAlterVerb() bool {
	return p.isAnyKw("ADD", "DROP", "MODIFY", "RENAME", "ORDER", "SET", "REPLACE", "ENABLE")
}

func (p *parser) parseAlterCmd() *AlterCmd {
	switch {
	case p.acceptKw("ADD"):
		switch {
		case p.acceptKw("COLUMN"):
			cmd := &AlterCmd{Kind: AlterAddColumn}
			if p.acceptOp("(") {
				for {
					cmd.Columns = append(cmd.Columns, p.parseColumnDef())
					if !p.acceptOp(",") {
						break
					}
				}
				p.expectOp(")")
			} else {
				cmd.Columns = []*ColumnDef{p.parseColumnDef()}
				p.parseColumnPosition(cmd)
			}
			if p.acceptKw("TO") || p.acceptKw("IN") {
				cmd.Rollup = p.ident()
			}
			if p.acceptKw("PROPERTIES") {
				cmd.Properties = p.propertyList()
			}
			return cmd
		case p.acceptKw("ROLLUP"):
			return &AlterCmd{Kind: AlterAddRollup, Rollups: []*RollupDef{p.parseRollupDef()}}
		case p.isKw("PARTITION") || p.isKw("TEMPORARY") && p.isKwAt(1, "PARTITION"):
			cmd := &AlterCmd{Kind: AlterAddPartition}
			cmd.Temporary = p.acceptKw("TEMPORARY")
			cmd.Partition = p.parsePartitionItem()
			if p.isKw("DISTRIBUTED") {
				cmd.Distribution = p.parseDistribution()
			}
			return cmd
		case p.isKw("INDEX"):
			return &AlterCmd{Kind: AlterAddIndex, Index: p.parseIndexDef()}
		}
		p.fail("expected COLUMN, ROLLUP, PARTITION or INDEX")
	case p.acceptKw("DROP"):
		switch {
		case p.acceptKw("COLUMN"):
			cmd := &AlterCmd{Kind: AlterDropColumn, Name: p.ident()}
			if p.acceptKw("FROM") || p.acceptKw("IN") {
				cmd.Rollup = p.ident()
			}
			if p.acceptKw("PROPERTIES") {
				cmd.Properties = p.propertyList()
			}
			return cmd
		case p.acceptKw("ROLLUP"):
			return &AlterCmd{Kind: AlterDropRollup, Names: []string{p.ident()}}
		case p.isKw("PARTITION") || p.isKw("TEMPORARY") && p.isKwAt(1, "PARTITION"):
			cmd := &AlterCmd{Kind: AlterDropPartition}
			cmd.Temporary = p.acceptKw("TEMPORARY")
			p.expectKw("PARTITION")
			cmd.IfExists = p.acceptKws("IF", "EXISTS")
			cmd.Name = p.ident()
			cmd.Force = p.acceptKw("FORCE")
			return cmd
		case p.acceptKw("INDEX"):
			cmd := &AlterCmd{Kind: AlterDropIndex}
			cmd.IfExists = p.acceptKws("IF", "EXISTS")
			cmd.Name = p.ident()
			return cmd
		}
		p.fail("expected COLUMN, ROLLUP, PARTITION or INDEX")
	case p.acceptKw("MODIFY"):
		switch {
		case p.acceptKw("COMMENT"):
			return &AlterCmd{Kind: AlterModifyComment, Comment: p.stringLit()}
		case p.acceptKw("COLUMN"):
			if p.isIdent() && p.isKwAt(1, "COMMENT") {
				name := p.ident()
				p.expectKw("COMMENT")
				return &AlterCmd{Kind: AlterModifyColumnComment, Name: name, Comment: p.stringLit()}
			}
			cmd := &AlterCmd{Kind: AlterModifyColumn, Columns: []*ColumnDef{p.parseColumnDef()}}
			p.parseColumnPosition(cmd)
			if p.acceptKw("FROM") || p.acceptKw("IN") {
				cmd.Rollup = p.ident()
			}
			if p.acceptKw("PROPERTIES") {
				cmd.Properties = p.propertyList()
			}
			return cmd
		case p.acceptKw("PARTITION"):
			cmd := &AlterCmd{Kind: AlterModifyPartition}
			if p.acceptOp("(") {
				if p.acceptOp("*") {
					cmd.Names = []string{"*"}
				} else {
					for {
						cmd.Names = append(cmd.Names, p.ident())
						if !p.acceptOp(",") {
							break
						}
					}
				}
				p.expectOp(")")
			} else {
				cmd.Names = []string{p.ident()}
			}
			p.expectKw("SET")
			cmd.Properties = p.propertyList()
			return cmd
		case p.isKw("DISTRIBUTION"):
			p.unsupported("ALTER TABLE MODIFY DISTRIBUTION")
		}
		p.fail("expected COLUMN, COMMENT or PARTITION")
	case p.acceptKw("RENAME"):
		if p.acceptKw("COLUMN") {
			cmd := &AlterCmd{Kind: AlterRenameColumn, Name: p.ident()}
			p.acceptKw("TO")
			cmd.NewName = p.ident()
			return cmd
		}
		if p.isAnyKw("ROLLUP", "PARTITION") {
			p.unsupported("ALTER TABLE RENAME " + strings.ToUpper(p.tok().val))
		}
		p.acceptKw("TO")
		return &AlterCmd{Kind: AlterRenameTable, NewName: p.ident()}
	case p.acceptKws("ORDER", "BY"):
		cmd := &AlterCmd{Kind: AlterReorderColumns, Names: p.identList()}
		if p.acceptKw("FROM") || p.acceptKw("IN") {
			cmd.Rollup = p.ident()
		}
		return cmd
	case p.acceptKw("SET"):
		return &AlterCmd{Kind: AlterSetProperties, Properties: p.propertyList()}
	case p.isAnyKw("REPLACE", "ENABLE"):
		p.unsupported("ALTER TABLE " + strings.ToUpper(p.tok().val))
	}
	p.fail("expected ALTER TABLE clause")
	return nil
}

func (p *parser) parseColumnPosition(cmd *AlterCmd) {
	switch {
	case p.acceptKw("AFTER"):
		cmd.After = p.ident()
	case p.acceptKw("FIRST"):
		cmd.First = true
	}
}

// ---- ALTER SYSTEM ----

// parseAlterSystem parses what follows ALTER SYSTEM: {ADD | DROP | DROPP |
// DECOMMISSION} BACKEND "host:port" [, ...] and {ADD | DROP} {FOLLOWER |
// OBSERVER} "host:port".
func (p *parser) parseAlterSystem() Stmt {
	s := &AlterSystemStmt{}
	switch {
	case p.acceptKw("ADD"):
		s.Op = "ADD"
	case p.acceptKw("DROP"):
		s.Op = "DROP"
	case p.acceptKw("DROPP"):
		s.Op = "DROPP"
	case p.acceptKw("DECOMMISSION"):
		s.Op = "DECOMMISSION"
	default:
		p.fail("expected ADD, DROP, DROPP or DECOMMISSION")
	}
	switch {
	case p.acceptKw("BACKEND"):
		s.Node = "BACKEND"
	case s.Op != "DECOMMISSION" && p.acceptKw("FOLLOWER"):
		s.Node = "FOLLOWER"
	case s.Op != "DECOMMISSION" && p.acceptKw("OBSERVER"):
		s.Node = "OBSERVER"
	default:
		p.fail("expected BACKEND")
	}
	for {
		t := p.tok()
		if t.kind != tokString && t.kind != tokDQString {
			p.fail(`expected "host:port"`)
		}
		p.i++
		s.Hosts = append(s.Hosts, t.val)
		if !p.acceptOp(",") {
			return s
		}
	}
}
