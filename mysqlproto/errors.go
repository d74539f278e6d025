package mysqlproto

import (
	"context"
	"errors"
	"fmt"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// Error is an error with a MySQL error number and SQLSTATE. Any package may
// return one (wrapped or not); the protocol layer sends it as is. Every other
// error is sent as ER_UNKNOWN_ERROR (1105, HY000) with its message.
type Error struct {
	Code    uint16
	State   string
	Message string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// NewError returns an [Error] with the given code, the SQLSTATE MySQL uses for
// that code (HY000 when the code is not in our table) and a formatted message.
func NewError(code uint16, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, State: StateOf(code), Message: msg}
}

// MySQL error numbers used by Strata.
const (
	ER_CON_COUNT_ERROR          uint16 = 1040
	ER_HANDSHAKE_ERROR          uint16 = 1043
	ER_DBACCESS_DENIED_ERROR    uint16 = 1044
	ER_ACCESS_DENIED_ERROR      uint16 = 1045
	ER_NO_DB_ERROR              uint16 = 1046
	ER_UNKNOWN_COM_ERROR        uint16 = 1047
	ER_BAD_NULL_ERROR           uint16 = 1048
	ER_BAD_DB_ERROR             uint16 = 1049
	ER_TABLE_EXISTS_ERROR       uint16 = 1050
	ER_BAD_TABLE_ERROR          uint16 = 1051
	ER_NON_UNIQ_ERROR           uint16 = 1052
	ER_BAD_FIELD_ERROR          uint16 = 1054
	ER_WRONG_FIELD_WITH_GROUP   uint16 = 1055
	ER_DUP_FIELDNAME            uint16 = 1060
	ER_DUP_KEYNAME              uint16 = 1061
	ER_DUP_ENTRY                uint16 = 1062
	ER_PARSE_ERROR              uint16 = 1064
	ER_EMPTY_QUERY              uint16 = 1065
	ER_NONUNIQ_TABLE            uint16 = 1066
	ER_INVALID_DEFAULT          uint16 = 1067
	ER_DB_CREATE_EXISTS         uint16 = 1007
	ER_DB_DROP_EXISTS           uint16 = 1008
	ER_WRONG_VALUE_COUNT        uint16 = 1058
	ER_TOO_BIG_FIELDLENGTH      uint16 = 1074
	ER_NO_SUCH_TABLE            uint16 = 1146
	ER_WRONG_VALUE_COUNT_ON_ROW uint16 = 1136
	ER_NET_PACKET_TOO_LARGE     uint16 = 1153
	ER_NET_READ_ERROR           uint16 = 1158
	ER_UNKNOWN_ERROR            uint16 = 1105
	ER_UNKNOWN_SYSTEM_VARIABLE  uint16 = 1193
	ER_WRONG_ARGUMENTS          uint16 = 1210
	ER_NOT_SUPPORTED_YET        uint16 = 1235
	ER_UNKNOWN_STMT_HANDLER     uint16 = 1243
	ER_ILLEGAL_MIX_OF_COLLATION uint16 = 1267
	ER_DIVISION_BY_ZERO         uint16 = 1365
	ER_QUERY_INTERRUPTED        uint16 = 1317
	ER_SP_DOES_NOT_EXIST        uint16 = 1305
	ER_TRUNCATED_WRONG_VALUE    uint16 = 1292
	ER_DATA_TOO_LONG            uint16 = 1406
	ER_WRONG_TYPE_FOR_VAR       uint16 = 1232
	ER_WRONG_VALUE_FOR_VAR      uint16 = 1231
	ER_GLOBAL_VARIABLE          uint16 = 1229
	ER_LOCAL_VARIABLE           uint16 = 1228
	ER_INCORRECT_GLOBAL_LOCAL   uint16 = 1238
	ER_FUNCTION_NOT_DEFINED     uint16 = 1128
	ER_SPECIFIC_ACCESS_DENIED   uint16 = 1227
	ER_TABLEACCESS_DENIED_ERROR uint16 = 1142
	ER_NO_SUCH_THREAD           uint16 = 1094
	ER_OUT_OF_RANGE             uint16 = 1264
	ER_UNKNOWN_TABLE            uint16 = 1109
	ER_INVALID_GROUP_FUNC_USE   uint16 = 1111
)

// states maps error numbers to SQLSTATE where it is not HY000.
var states = map[uint16]string{
	ER_CON_COUNT_ERROR:          "08004",
	ER_HANDSHAKE_ERROR:          "08S01",
	ER_DBACCESS_DENIED_ERROR:    "42000",
	ER_ACCESS_DENIED_ERROR:      "28000",
	ER_NO_DB_ERROR:              "3D000",
	ER_UNKNOWN_COM_ERROR:        "08S01",
	ER_BAD_NULL_ERROR:           "23000",
	ER_BAD_DB_ERROR:             "42000",
	ER_TABLE_EXISTS_ERROR:       "42S01",
	ER_BAD_TABLE_ERROR:          "42S02",
	ER_NON_UNIQ_ERROR:           "23000",
	ER_BAD_FIELD_ERROR:          "42S22",
	ER_WRONG_FIELD_WITH_GROUP:   "42000",
	ER_DUP_FIELDNAME:            "42S21",
	ER_DUP_KEYNAME:              "42000",
	ER_DUP_ENTRY:                "23000",
	ER_PARSE_ERROR:              "42000",
	ER_EMPTY_QUERY:              "42000",
	ER_NONUNIQ_TABLE:            "42000",
	ER_INVALID_DEFAULT:          "42000",
	ER_WRONG_VALUE_COUNT:        "21S01",
	ER_TOO_BIG_FIELDLENGTH:      "42000",
	ER_NO_SUCH_TABLE:            "42S02",
	ER_WRONG_VALUE_COUNT_ON_ROW: "21S01",
	ER_NET_PACKET_TOO_LARGE:     "08S01",
	ER_NET_READ_ERROR:           "08S01",
	ER_NOT_SUPPORTED_YET:        "42000",
	ER_ILLEGAL_MIX_OF_COLLATION: "HY000",
	ER_QUERY_INTERRUPTED:        "70100",
	ER_SP_DOES_NOT_EXIST:        "42000",
	ER_TRUNCATED_WRONG_VALUE:    "22007",
	ER_DATA_TOO_LONG:            "22001",
	ER_WRONG_TYPE_FOR_VAR:       "42000",
	ER_WRONG_VALUE_FOR_VAR:      "42000",
	ER_FUNCTION_NOT_DEFINED:     "HY000",
	ER_SPECIFIC_ACCESS_DENIED:   "42000",
	ER_TABLEACCESS_DENIED_ERROR: "42000",
	ER_OUT_OF_RANGE:             "22003",
	ER_DIVISION_BY_ZERO:         "22012",
	ER_UNKNOWN_TABLE:            "42S02",
	ER_INVALID_GROUP_FUNC_USE:   "HY000",
}

// StateOf returns the SQLSTATE MySQL sends with an error number, HY000 when
// the number has no specific state.
func StateOf(code uint16) string {
	if s, ok := states[code]; ok {
		return s
	}
	return "HY000"
}

// toError is the one mapping from a Go error to the error packet sent to the
// client: an [*Error] anywhere in the chain is used as is, go-mysql's
// *mysql.MyError is converted, a cancelled context becomes
// ER_QUERY_INTERRUPTED, and anything else is ER_UNKNOWN_ERROR with the error's
// message.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.State == "" {
			return &Error{Code: e.Code, State: StateOf(e.Code), Message: e.Message}
		}
		return e
	}
	var me *gomysql.MyError
	if errors.As(err, &me) {
		return &Error{Code: me.Code, State: me.State, Message: me.Message}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return NewError(ER_QUERY_INTERRUPTED, "Query execution was interrupted")
	}
	if err == nil {
		return NewError(ER_UNKNOWN_ERROR, "unknown error")
	}
	return &Error{Code: ER_UNKNOWN_ERROR, State: "HY000", Message: err.Error()}
}
