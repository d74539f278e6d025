package auth

import (
	"fmt"
	"strings"
)

// Priv is a set of Doris privileges.
type Priv uint16

// The privileges, as Doris names them (Node_priv ... Usage_priv).
const (
	// NodePriv allows changing the cluster's nodes (ALTER SYSTEM).
	NodePriv Priv = 1 << iota
	// AdminPriv allows everything but NodePriv.
	AdminPriv
	// GrantPriv allows managing users, roles and grants.
	GrantPriv
	SelectPriv
	LoadPriv
	AlterPriv
	CreatePriv
	DropPriv
	// UsagePriv is the privilege on resources; it is kept and shown but
	// nothing checks it.
	UsagePriv
)

// DataPrivs are the privileges on data objects, what GRANT ALL gives.
const DataPrivs = SelectPriv | LoadPriv | AlterPriv | CreatePriv | DropPriv

// AllPrivs is every privilege.
const AllPrivs = NodePriv | AdminPriv | GrantPriv | DataPrivs | UsagePriv

// PrivInfo describes one privilege for SHOW PRIVILEGES.
type PrivInfo struct {
	Priv    Priv
	Name    string // Doris's name, e.g. Select_priv
	Context string // where it applies
	Comment string
}

// Privileges lists every privilege in Doris's order.
var Privileges = []PrivInfo{
	{NodePriv, "Node_priv", "GLOBAL", "Privilege for cluster node operations"},
	{AdminPriv, "Admin_priv", "GLOBAL", "Privilege for admin user"},
	{GrantPriv, "Grant_priv", "GLOBAL,DATABASE,TABLE", "Privilege for granting privilege"},
	{SelectPriv, "Select_priv", "GLOBAL,DATABASE,TABLE", "Privilege for select data in tables"},
	{LoadPriv, "Load_priv", "GLOBAL,DATABASE,TABLE", "Privilege for loading data into tables"},
	{AlterPriv, "Alter_priv", "GLOBAL,DATABASE,TABLE", "Privilege for alter database or table"},
	{CreatePriv, "Create_priv", "GLOBAL,DATABASE,TABLE", "Privilege for creating database or table"},
	{DropPriv, "Drop_priv", "GLOBAL,DATABASE,TABLE", "Privilege for dropping database or table"},
	{UsagePriv, "Usage_priv", "RESOURCE", "Privilege for using resource"},
}

// ParsePriv resolves a privilege as GRANT names it: Doris's name in any
// case (SELECT_PRIV), the name without _priv (SELECT), or ALL, which is
// every data privilege.
func ParsePriv(name string) (Priv, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "all" || n == "all privileges" {
		return DataPrivs, nil
	}
	n = strings.TrimSuffix(n, "_priv")
	for _, p := range Privileges {
		if strings.TrimSuffix(strings.ToLower(p.Name), "_priv") == n {
			return p.Priv, nil
		}
	}
	return 0, fmt.Errorf("Unknown privilege type %s", name)
}

// Names lists the privileges of p by Doris's names.
func (p Priv) Names() []string {
	var out []string
	for _, info := range Privileges {
		if p&info.Priv != 0 {
			out = append(out, info.Name)
		}
	}
	return out
}

// String joins the names with commas, as SHOW GRANTS prints them.
func (p Priv) String() string { return strings.Join(p.Names(), ",") }

// Has reports whether p holds every privilege of want.
func (p Priv) Has(want Priv) bool { return p&want == want }

// Level is what a grant applies to: every database (DB ""), one
// database (Table ""), or one table.
type Level struct {
	DB, Table string
}

// Global reports whether the level is *.*.
func (l Level) Global() bool { return l.DB == "" }

// String is the level as GRANT writes it: *.*, db.* or db.tbl.
func (l Level) String() string {
	switch {
	case l.DB == "":
		return "*.*"
	case l.Table == "":
		return l.DB + ".*"
	}
	return l.DB + "." + l.Table
}

// Grants are the privileges held at each level. The zero value holds
// none; the maps are created on the first grant.
type Grants struct {
	Global Priv                       `json:"global,omitempty"`
	DBs    map[string]Priv            `json:"dbs,omitempty"`
	Tables map[string]map[string]Priv `json:"tables,omitempty"` // db -> table -> privileges
}

// At returns the privileges granted exactly at level l.
func (g *Grants) At(l Level) Priv {
	switch {
	case l.DB == "":
		return g.Global
	case l.Table == "":
		return g.DBs[l.DB]
	}
	return g.Tables[l.DB][l.Table]
}

// Add grants p at l.
func (g *Grants) Add(l Level, p Priv) {
	switch {
	case l.DB == "":
		g.Global |= p
	case l.Table == "":
		if g.DBs == nil {
			g.DBs = map[string]Priv{}
		}
		g.DBs[l.DB] |= p
	default:
		if g.Tables == nil {
			g.Tables = map[string]map[string]Priv{}
		}
		if g.Tables[l.DB] == nil {
			g.Tables[l.DB] = map[string]Priv{}
		}
		g.Tables[l.DB][l.Table] |= p
	}
}

// Remove revokes p at l, forgetting levels left with nothing.
func (g *Grants) Remove(l Level, p Priv) {
	switch {
	case l.DB == "":
		g.Global &^= p
	case l.Table == "":
		if v := g.DBs[l.DB] &^ p; v == 0 {
			delete(g.DBs, l.DB)
		} else {
			g.DBs[l.DB] = v
		}
	default:
		t := g.Tables[l.DB]
		if t == nil {
			return
		}
		if v := t[l.Table] &^ p; v == 0 {
			delete(t, l.Table)
		} else {
			t[l.Table] = v
		}
		if len(t) == 0 {
			delete(g.Tables, l.DB)
		}
	}
}

// merge adds every grant of o to g.
func (g *Grants) merge(o *Grants) {
	g.Global |= o.Global
	for db, p := range o.DBs {
		g.Add(Level{DB: db}, p)
	}
	for db, ts := range o.Tables {
		for t, p := range ts {
			g.Add(Level{DB: db, Table: t}, p)
		}
	}
}

// Effective is what one identity may do: its own grants and those of its
// roles, merged. The zero value may do nothing.
type Effective struct {
	Grants
}

// global is the privileges held on every object: ADMIN holds every one
// but NODE.
func (e *Effective) global() Priv {
	p := e.Global
	if p&AdminPriv != 0 {
		p |= AllPrivs &^ NodePriv
	}
	return p
}

// Table reports whether the identity holds every privilege of want on
// db.table, at any level.
func (e *Effective) Table(db, table string, want Priv) bool {
	have := e.global() | e.DBs[db] | e.Tables[db][table]
	return have.Has(want)
}

// DB reports whether the identity holds every privilege of want on
// database db (globally or on the database; table grants do not count).
func (e *Effective) DB(db string, want Priv) bool {
	return (e.global() | e.DBs[db]).Has(want)
}

// GlobalHas reports whether the identity holds every privilege of want
// globally.
func (e *Effective) GlobalHas(want Priv) bool { return e.global().Has(want) }

// GlobalAny reports whether the identity holds any privilege of want
// globally.
func (e *Effective) GlobalAny(want Priv) bool { return e.global()&want != 0 }

// CanSeeDB reports whether the identity holds any privilege on db or on
// one of its tables: what makes the database visible (SHOW DATABASES, USE).
func (e *Effective) CanSeeDB(db string) bool {
	if e.global()&(DataPrivs|AdminPriv|GrantPriv) != 0 || e.DBs[db] != 0 {
		return true
	}
	for _, p := range e.Tables[db] {
		if p != 0 {
			return true
		}
	}
	return false
}

// CanSeeTable reports whether the identity holds any privilege on
// db.table: what makes the table visible (SHOW TABLES, information_schema).
func (e *Effective) CanSeeTable(db, table string) bool {
	return e.global()&(DataPrivs|AdminPriv|GrantPriv) != 0 || e.DBs[db] != 0 || e.Tables[db][table] != 0
}
