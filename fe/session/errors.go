package session

import (
	"errors"
	"fmt"

	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/sql"
	"github.com/strata-db/strata/mysqlproto"
)

// sqlError is an error with a MySQL error number; session code builds them
// with the helpers below and toMySQL maps every error to the protocol.
type sqlError = planner.Error

func ddlError(format string, args ...any) error {
	return &sqlError{Code: planner.ErrUnknown, Msg: fmt.Sprintf(format, args...)}
}

func ddlErrorCode(code uint16, format string, args ...any) error {
	return &sqlError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

func notSupported(what string) error {
	return &sqlError{Code: planner.ErrNotSupportedYet, Msg: what + " is not supported yet"}
}

func errUnknownVariable(name string) error {
	return &sqlError{Code: planner.ErrUnknownSysVar, Msg: fmt.Sprintf("Unknown system variable '%s'", name)}
}

func errNoDB() error { return &sqlError{Code: planner.ErrNoDB, Msg: "No database selected"} }

// toMySQL maps any error to the MySQL error packet the client gets.
func toMySQL(err error) error {
	var me *mysqlproto.Error
	if errors.As(err, &me) {
		return me
	}
	var pe *planner.Error
	if errors.As(err, &pe) {
		return mysqlproto.NewError(pe.Code, "%s", pe.Msg)
	}
	var se *sql.SyntaxError
	if errors.As(err, &se) {
		return mysqlproto.NewError(mysqlproto.ER_PARSE_ERROR, "%s", se.Error())
	}
	var ue *sql.UnsupportedError
	if errors.As(err, &ue) {
		return mysqlproto.NewError(mysqlproto.ER_NOT_SUPPORTED_YET, "%s is not supported yet", ue.What)
	}
	var ne *catalog.NameError
	if errors.As(err, &ne) {
		switch {
		case errors.Is(err, catalog.ErrDBExists):
			return mysqlproto.NewError(mysqlproto.ER_DB_CREATE_EXISTS, "%s", ne.Error())
		case errors.Is(err, catalog.ErrDBNotFound):
			if ne.Drop {
				return mysqlproto.NewError(mysqlproto.ER_DB_DROP_EXISTS, "%s", ne.Error())
			}
			return mysqlproto.NewError(mysqlproto.ER_BAD_DB_ERROR, "%s", ne.Error())
		case errors.Is(err, catalog.ErrTableExists):
			return mysqlproto.NewError(mysqlproto.ER_TABLE_EXISTS_ERROR, "%s", ne.Error())
		case errors.Is(err, catalog.ErrTableNotFound):
			return mysqlproto.NewError(mysqlproto.ER_BAD_TABLE_ERROR, "%s", ne.Error())
		}
	}
	return mysqlproto.NewError(mysqlproto.ER_UNKNOWN_ERROR, "%s", err.Error())
}
