package session

import (
	"strings"

	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
	"github.com/strata-db/strata/types"
)

// set runs SET. Character-set and transaction settings are accepted and
// recorded where a variable holds them: Strata speaks utf8mb4 only and every
// statement is its own transaction.
func (s *Session) set(st *sql.SetStmt) (*mysqlproto.Result, error) {
	for _, it := range st.Items {
		switch it.Kind {
		case sql.SetNames, sql.SetCharset:
			cs := it.Charset
			if cs == "" {
				cs = "utf8mb4"
			}
			s.vars["character_set_client"] = cs
			s.vars["character_set_connection"] = cs
			s.vars["character_set_results"] = cs
			if it.Collation != "" {
				s.vars["collation_connection"] = it.Collation
			}
		case sql.SetTransaction:
			if it.Isolation != "" {
				iso := strings.ReplaceAll(it.Isolation, " ", "-")
				s.vars["tx_isolation"] = iso
				s.vars["transaction_isolation"] = iso
			}
			if it.AccessMode != "" {
				ro := "0"
				if it.AccessMode == "READ ONLY" {
					ro = "1"
				}
				s.vars["tx_read_only"] = ro
				s.vars["transaction_read_only"] = ro
			}
		case sql.SetPassword:
			return nil, notSupported("SET PASSWORD")
		case sql.SetVariable:
			if err := s.setVariable(it); err != nil {
				return nil, err
			}
		}
	}
	return ok(0), nil
}

func (s *Session) setVariable(it *sql.SetItem) error {
	if it.User {
		if it.Value == nil {
			delete(s.userVars, strings.ToLower(it.Name))
			return nil
		}
		l, err := s.planner().EvalConstant(it.Value, nil)
		if err != nil {
			return err
		}
		s.userVars[strings.ToLower(it.Name)] = l.Value
		return nil
	}
	v, err := lookupVar(it.Name)
	if err != nil {
		return err
	}
	if v.readOnly {
		return ddlErrorCode(1238, "Variable '%s' is a read only variable", v.name)
	}
	var val string
	switch x := it.Value.(type) {
	case *sql.DefaultExpr:
		val = v.def
	case *sql.ColumnRef:
		// Bare words: SET autocommit = ON, SET time_zone = SYSTEM.
		val = x.Column
	default:
		l, err := s.planner().EvalConstant(it.Value, nil)
		if err != nil {
			return err
		}
		if l.IsNull() {
			if v.name == "character_set_results" {
				val = ""
				break
			}
			return ddlErrorCode(1231, "Variable '%s' can't be set to the value of 'NULL'", v.name)
		}
		val = unquoteLiteral(l.String(), l.Type())
	}
	val, err = normalizeVarValue(v, val)
	if err != nil {
		return ddlErrorCode(1231, "%s", err.Error())
	}
	if it.Scope == "GLOBAL" {
		setGlobal(v, val)
		return nil
	}
	s.vars[v.name] = val
	return nil
}

// unquoteLiteral undoes the quoting Literal.String applies to strings and dates.
func unquoteLiteral(s string, t types.Type) string {
	if (t.Kind.IsString() || t.Kind.IsTemporal()) && len(s) >= 2 && s[0] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}
