package planner

import (
	"strconv"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/types"
)

// bindVariable turns @@x and @x into constants: a query sees the values
// they had when it was planned.
func (p *Planner) bindVariable(v *sql.VarRef) (*ir, error) {
	if !v.System {
		val := p.sess.UserVariable(v.Name)
		if val == nil {
			return litIR(exec.NewLiteral(nil, types.Varchar(1))), nil
		}
		return paramLiteral(val)
	}
	val, numeric, err := p.sess.SystemVariable(v.Name, v.Scope)
	if err != nil {
		return nil, err
	}
	if numeric {
		if n, err := strconv.ParseInt(val, 10, 64); err == nil {
			return litIR(exec.NewLiteral(n, types.BigInt)), nil
		}
	}
	return stringLiteral(val), nil
}
