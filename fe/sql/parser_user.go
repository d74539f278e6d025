package sql

import "strings"

// parseAccountStmt parses the statements about users, roles and
// privileges, or returns nil (consuming nothing) when the statement at
// hand is not one of them.
func (p *parser) parseAccountStmt() Stmt {
	switch {
	case p.isKw("GRANT"), p.isKw("REVOKE"):
		return p.parseGrant()
	case p.isKw("CREATE") && p.isKwAt(1, "USER"):
		return p.parseCreateUser()
	case p.isKw("CREATE") && p.isKwAt(1, "ROLE"):
		p.i += 2
		s := &CreateRoleStmt{IfNotExists: p.acceptKws("IF", "NOT", "EXISTS")}
		s.Name = p.identOrString()
		return s
	case p.isKw("DROP") && p.isKwAt(1, "USER"):
		p.i += 2
		s := &DropUserStmt{IfExists: p.acceptKws("IF", "EXISTS")}
		s.User = p.userIdent()
		return s
	case p.isKw("DROP") && p.isKwAt(1, "ROLE"):
		p.i += 2
		s := &DropRoleStmt{IfExists: p.acceptKws("IF", "EXISTS")}
		s.Name = p.identOrString()
		return s
	case p.isKw("ALTER") && p.isKwAt(1, "USER"):
		p.i += 2
		s := &AlterUserStmt{IfExists: p.acceptKws("IF", "EXISTS")}
		s.User = p.userIdent()
		s.Password = p.identifiedBy()
		if s.Password == nil {
			p.fail("expected IDENTIFIED BY")
		}
		return s
	case p.isKw("SET") && p.isKwAt(1, "PASSWORD"):
		return p.parseSetPassword()
	}
	return nil
}

// userIdent parses 'user'@'host', user@host, 'user' (host '%') or
// CURRENT_USER[()].
func (p *parser) userIdent() UserIdent {
	if p.acceptKw("CURRENT_USER") {
		if p.acceptOp("(") {
			p.expectOp(")")
		}
		return UserIdent{Current: true}
	}
	u := UserIdent{User: p.identOrString(), Host: "%"}
	t := p.tok()
	switch {
	case t.kind == tokUserVar:
		// 'u'@'h' lexes as the string and the user variable @'h'.
		p.i++
		u.Host = t.val
	case t.kind == tokOp && t.val == "@":
		p.i++
		u.Host = p.identOrString()
	}
	// Doris writes a domain host as 'u'@('domain'); it is kept as written.
	if u.Host == "" {
		u.Host = "%"
	}
	return u
}

// identifiedBy parses [IDENTIFIED BY [PASSWORD] 'pw'], nil when absent.
func (p *parser) identifiedBy() *Password {
	if !p.acceptKws("IDENTIFIED", "BY") {
		return nil
	}
	if p.acceptKw("PASSWORD") {
		return &Password{Text: p.stringLit(), Hashed: true}
	}
	return &Password{Text: p.stringLit()}
}

func (p *parser) parseCreateUser() Stmt {
	p.expectKw("CREATE", "USER")
	s := &CreateUserStmt{IfNotExists: p.acceptKws("IF", "NOT", "EXISTS")}
	s.User = p.userIdent()
	if s.User.Current {
		p.fail("expected user name")
	}
	s.Password = p.identifiedBy()
	if p.acceptKws("DEFAULT", "ROLE") {
		s.DefaultRole = p.identOrString()
	}
	return s
}

// parseSetPassword parses SET PASSWORD [FOR user] = PASSWORD('pw') |
// '*HEX'.
func (p *parser) parseSetPassword() Stmt {
	p.expectKw("SET", "PASSWORD")
	s := &SetPasswordStmt{}
	if p.acceptKw("FOR") {
		u := p.userIdent()
		if !u.Current {
			s.User = &u
		}
	}
	p.expectOp("=")
	if p.isKw("PASSWORD") && p.isOpAt(1, "(") {
		p.i += 2
		s.Password = Password{Text: p.stringLit()}
		p.expectOp(")")
		return s
	}
	s.Password = Password{Text: p.stringLit(), Hashed: true}
	return s
}

// parseGrant parses GRANT and REVOKE, of privileges or of roles.
func (p *parser) parseGrant() Stmt {
	s := &GrantStmt{Revoke: p.isKw("REVOKE")}
	p.i++
	to := "TO"
	if s.Revoke {
		to = "FROM"
	}
	if t := p.tok(); t.kind == tokString || t.kind == tokDQString {
		// GRANT 'role', ... TO user.
		for {
			s.Roles = append(s.Roles, p.stringLit())
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectKw(to)
		s.ToUser = p.userIdent()
		return s
	}
	for {
		s.Privs = append(s.Privs, p.privName())
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectKw("ON")
	if p.isAnyKw("RESOURCE", "WORKLOAD", "CLUSTER", "COMPUTE", "STAGE", "STORAGE") {
		p.unsupported(strings.ToUpper(p.tok().val) + " privileges")
	}
	p.acceptKw("TABLE")
	s.Level = p.privLevel()
	p.expectKw(to)
	if p.acceptKw("ROLE") {
		s.ToRole = p.identOrString()
		return s
	}
	s.ToUser = p.userIdent()
	return s
}

// privName parses one privilege name: a word such as SELECT_PRIV, SELECT
// (reserved words are names here) or ALL [PRIVILEGES].
func (p *parser) privName() string {
	t := p.tok()
	if t.kind != tokIdent && t.kind != tokQuotedID {
		p.fail("expected privilege")
	}
	p.i++
	name := t.val
	if strings.EqualFold(name, "ALL") {
		p.acceptKw("PRIVILEGES")
	}
	if p.isOp("(") {
		p.unsupported("column privileges")
	}
	return name
}

// privLevel parses *, *.*, *.*.*, db.*, db.tbl, tbl and their forms with
// a leading catalog (internal.db.tbl).
func (p *parser) privLevel() PrivLevel {
	var parts []string
	for {
		if p.acceptOp("*") {
			parts = append(parts, "*")
		} else {
			parts = append(parts, p.anyName())
		}
		if len(parts) == 3 || !p.acceptOp(".") {
			break
		}
	}
	switch len(parts) {
	case 1:
		return PrivLevel{Table: parts[0]}
	case 2:
		if parts[0] == "*" && parts[1] != "*" {
			p.fail("expected *.* or db.table")
		}
		return PrivLevel{DB: parts[0], Table: parts[1]}
	}
	if parts[1] == "*" && parts[2] != "*" {
		p.fail("expected catalog.db.table")
	}
	return PrivLevel{Catalog: parts[0], DB: parts[1], Table: parts[2]}
}
