package mysqlproto

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// stmt is a prepared statement of one connection.
type stmt struct {
	p          *Prepared
	paramTypes []byte         // 2 bytes per parameter, from the last execute that bound them
	longData   map[int][]byte // COM_STMT_SEND_LONG_DATA, by parameter index
}

// parseExecuteParams decodes the parameter block of COM_STMT_EXECUTE (what
// follows statement id, flags and iteration count): the NULL bitmap, the
// new-params-bound flag, the parameter types (or prevTypes when the flag is
// 0) and the values. Parameters with long data take it instead of an inline
// value. It returns the values and the types in force. Strings are copied.
func parseExecuteParams(data []byte, n int, prevTypes []byte, longData map[int][]byte) ([]any, []byte, error) {
	if n == 0 {
		return nil, prevTypes, nil
	}
	bm := (n + 7) / 8
	if len(data) < bm+1 {
		return nil, nil, fmt.Errorf("parameter block of %d bytes for %d parameters: %w", len(data), n, errMalformed)
	}
	nulls := data[:bm]
	pos := bm
	typesIn := prevTypes
	if data[pos] == 1 {
		pos++
		if len(data)-pos < 2*n {
			return nil, nil, fmt.Errorf("parameter types: %w", errMalformed)
		}
		typesIn = append([]byte(nil), data[pos:pos+2*n]...)
		pos += 2 * n
	} else {
		pos++
	}
	if len(typesIn) != 2*n {
		return nil, nil, fmt.Errorf("parameter types were never sent: %w", errMalformed)
	}
	args := make([]any, n)
	for i := range n {
		if nulls[i/8]&(1<<(i%8)) != 0 {
			continue
		}
		if ld, ok := longData[i]; ok {
			args[i] = string(ld)
			continue
		}
		v, k, err := decodeParam(data[pos:], typesIn[2*i], typesIn[2*i+1]&0x80 != 0)
		if err != nil {
			return nil, nil, fmt.Errorf("parameter %d: %w", i+1, err)
		}
		args[i] = v
		pos += k
	}
	return args, typesIn, nil
}

// decodeParam decodes one binary-protocol value of type t.
func decodeParam(b []byte, t byte, unsigned bool) (any, int, error) {
	need := func(k int) error {
		if len(b) < k {
			return errMalformed
		}
		return nil
	}
	switch t {
	case gomysql.MYSQL_TYPE_NULL:
		return nil, 0, nil
	case gomysql.MYSQL_TYPE_TINY:
		if err := need(1); err != nil {
			return nil, 0, err
		}
		if unsigned {
			return uint64(b[0]), 1, nil
		}
		return int64(int8(b[0])), 1, nil
	case gomysql.MYSQL_TYPE_SHORT, gomysql.MYSQL_TYPE_YEAR:
		if err := need(2); err != nil {
			return nil, 0, err
		}
		v := binary.LittleEndian.Uint16(b)
		if unsigned {
			return uint64(v), 2, nil
		}
		return int64(int16(v)), 2, nil
	case gomysql.MYSQL_TYPE_LONG, gomysql.MYSQL_TYPE_INT24:
		if err := need(4); err != nil {
			return nil, 0, err
		}
		v := binary.LittleEndian.Uint32(b)
		if unsigned {
			return uint64(v), 4, nil
		}
		return int64(int32(v)), 4, nil
	case gomysql.MYSQL_TYPE_LONGLONG:
		if err := need(8); err != nil {
			return nil, 0, err
		}
		v := binary.LittleEndian.Uint64(b)
		if unsigned {
			return v, 8, nil
		}
		return int64(v), 8, nil
	case gomysql.MYSQL_TYPE_FLOAT:
		if err := need(4); err != nil {
			return nil, 0, err
		}
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 4, nil
	case gomysql.MYSQL_TYPE_DOUBLE:
		if err := need(8); err != nil {
			return nil, 0, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), 8, nil
	case gomysql.MYSQL_TYPE_DATE, gomysql.MYSQL_TYPE_DATETIME, gomysql.MYSQL_TYPE_TIMESTAMP, gomysql.MYSQL_TYPE_NEWDATE:
		return decodeDateTime(b)
	case gomysql.MYSQL_TYPE_TIME:
		return decodeTime(b)
	case gomysql.MYSQL_TYPE_DECIMAL, gomysql.MYSQL_TYPE_NEWDECIMAL, gomysql.MYSQL_TYPE_VARCHAR,
		gomysql.MYSQL_TYPE_VAR_STRING, gomysql.MYSQL_TYPE_STRING, gomysql.MYSQL_TYPE_ENUM, gomysql.MYSQL_TYPE_SET,
		gomysql.MYSQL_TYPE_TINY_BLOB, gomysql.MYSQL_TYPE_MEDIUM_BLOB, gomysql.MYSQL_TYPE_LONG_BLOB,
		gomysql.MYSQL_TYPE_BLOB, gomysql.MYSQL_TYPE_JSON, gomysql.MYSQL_TYPE_BIT, gomysql.MYSQL_TYPE_GEOMETRY:
		s, k, err := readLenencString(b)
		if err != nil {
			return nil, 0, err
		}
		return string(s), k, nil
	}
	return nil, 0, fmt.Errorf("unsupported parameter type %d", t)
}

// decodeDateTime decodes a binary DATE/DATETIME/TIMESTAMP value: a length
// byte (0, 4, 7 or 11), year(2) month day [hour minute second [micros(4)]].
// The zero date is returned as the string "0000-00-00 00:00:00".
func decodeDateTime(b []byte) (any, int, error) {
	if len(b) < 1 {
		return nil, 0, errMalformed
	}
	l := int(b[0])
	if l != 0 && l != 4 && l != 7 && l != 11 || len(b) < 1+l {
		return nil, 0, errMalformed
	}
	if l == 0 {
		return "0000-00-00 00:00:00", 1, nil
	}
	v := b[1 : 1+l]
	y, mo, d := int(binary.LittleEndian.Uint16(v)), int(v[2]), int(v[3])
	var hh, mi, ss, us int
	if l >= 7 {
		hh, mi, ss = int(v[4]), int(v[5]), int(v[6])
	}
	if l == 11 {
		us = int(binary.LittleEndian.Uint32(v[7:]))
	}
	if y == 0 && mo == 0 && d == 0 {
		return "0000-00-00 00:00:00", 1 + l, nil
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 59 || us > 999999 {
		return nil, 0, fmt.Errorf("invalid date %04d-%02d-%02d %02d:%02d:%02d", y, mo, d, hh, mi, ss)
	}
	return time.Date(y, time.Month(mo), d, hh, mi, ss, us*1000, time.UTC), 1 + l, nil
}

// decodeTime decodes a binary TIME value (length 0, 8 or 12: negative(1)
// days(4) hour minute second [micros(4)]) as "[-]HH:MM:SS[.ffffff]".
func decodeTime(b []byte) (any, int, error) {
	if len(b) < 1 {
		return nil, 0, errMalformed
	}
	l := int(b[0])
	if l != 0 && l != 8 && l != 12 || len(b) < 1+l {
		return nil, 0, errMalformed
	}
	if l == 0 {
		return "00:00:00", 1, nil
	}
	v := b[1 : 1+l]
	days := uint64(binary.LittleEndian.Uint32(v[1:]))
	h := days*24 + uint64(v[5])
	out := make([]byte, 0, 20)
	if v[0] == 1 {
		out = append(out, '-')
	}
	if h < 10 {
		out = append(out, '0')
	}
	out = strconv.AppendUint(out, h, 10)
	out = append(out, ':')
	out = append2(out, int(v[6]))
	out = append(out, ':')
	out = append2(out, int(v[7]))
	if l == 12 {
		us := int(binary.LittleEndian.Uint32(v[8:]) % 1000000)
		out = appendFraction(append(out, '.'), us, 6)
	}
	return string(out), 1 + l, nil
}
