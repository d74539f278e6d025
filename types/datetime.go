package types

import (
	"fmt"
	"time"
)

// Dates are days since 1970-01-01 (Arrow Date32); datetimes are microseconds
// since 1970-01-01 00:00:00 in the session's wall-clock time, with no zone
// attached (Arrow Timestamp(µs) without a time zone), as in Doris.

// DaysFromCivil converts a proleptic Gregorian date to days since 1970-01-01.
func DaysFromCivil(y, m, d int) int32 {
	// Howard Hinnant's days_from_civil.
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 719468)
}

// CivilFromDays is the inverse of DaysFromCivil.
func CivilFromDays(z int32) (y, m, d int) {
	zz := int(z) + 719468
	era := zz / 146097
	if zz < 0 && zz%146097 != 0 {
		era = (zz - 146096) / 146097
	}
	doe := zz - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func daysInMonth(y, m int) int {
	switch m {
	case 1, 3, 5, 7, 8, 10, 12:
		return 31
	case 4, 6, 9, 11:
		return 30
	}
	if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		return 29
	}
	return 28
}

// ValidDate reports whether y-m-d is a real calendar day in years 0..9999.
func ValidDate(y, m, d int) bool {
	return y >= 0 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m)
}

// ParseDate parses `YYYY-MM-DD` (one- or two-digit month and day allowed),
// `YYYYMMDD`, or a datetime whose time part is dropped.
func ParseDate(s string) (int32, error) {
	y, m, d, rest, ok := parseDatePart(s)
	if !ok || !ValidDate(y, m, d) {
		return 0, fmt.Errorf("'%s' is not a valid DATE", s)
	}
	if rest != "" {
		if _, ok := parseTimePart(rest); !ok {
			return 0, fmt.Errorf("'%s' is not a valid DATE", s)
		}
	}
	return DaysFromCivil(y, m, d), nil
}

// ParseDateTime parses `YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]`, with `T` accepted
// for the space, or `YYYYMMDD[HHMMSS]`. Fractions beyond microseconds are
// truncated.
func ParseDateTime(s string) (int64, error) {
	y, m, d, rest, ok := parseDatePart(s)
	if !ok || !ValidDate(y, m, d) {
		return 0, fmt.Errorf("'%s' is not a valid DATETIME", s)
	}
	var us int64
	if rest != "" {
		us, ok = parseTimePart(rest)
		if !ok {
			return 0, fmt.Errorf("'%s' is not a valid DATETIME", s)
		}
	}
	return int64(DaysFromCivil(y, m, d))*MicrosPerDay + us, nil
}

// MicrosPerDay is the number of microseconds in a day.
const MicrosPerDay = 86400 * 1000000

func parseDatePart(s string) (y, m, d int, rest string, ok bool) {
	// Compact form: YYYYMMDD[HHMMSS].
	if len(s) == 8 || len(s) == 14 {
		allDigits := true
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				allDigits = false
				break
			}
		}
		if allDigits {
			y = atoi(s[0:4])
			m = atoi(s[4:6])
			d = atoi(s[6:8])
			if len(s) == 14 {
				rest = s[8:10] + ":" + s[10:12] + ":" + s[12:14]
			}
			return y, m, d, rest, true
		}
	}
	i := 0
	var n int
	if y, n = digits(s, i, 4); n == 0 {
		return
	}
	i += n
	if i >= len(s) || (s[i] != '-' && s[i] != '/') {
		return
	}
	i++
	if m, n = digits(s, i, 2); n == 0 {
		return
	}
	i += n
	if i >= len(s) || (s[i] != '-' && s[i] != '/') {
		return
	}
	i++
	if d, n = digits(s, i, 2); n == 0 {
		return
	}
	i += n
	if i < len(s) {
		if s[i] != ' ' && s[i] != 'T' {
			return
		}
		rest = s[i+1:]
		if rest == "" {
			return
		}
	}
	return y, m, d, rest, true
}

func parseTimePart(s string) (int64, bool) {
	i := 0
	h, n := digits(s, i, 2)
	if n == 0 {
		return 0, false
	}
	i += n
	var mi, sec, frac int
	if i < len(s) && s[i] == ':' {
		if mi, n = digits(s, i+1, 2); n == 0 {
			return 0, false
		}
		i += 1 + n
		if i < len(s) && s[i] == ':' {
			if sec, n = digits(s, i+1, 2); n == 0 {
				return 0, false
			}
			i += 1 + n
			if i < len(s) && s[i] == '.' {
				i++
				start := i
				scale := 100000
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					if i-start < 6 {
						frac += int(s[i]-'0') * scale
						scale /= 10
					}
					i++
				}
				if i == start {
					return 0, false
				}
			}
		}
	}
	if i != len(s) || h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	return (int64(h)*3600+int64(mi)*60+int64(sec))*1000000 + int64(frac), true
}

// digits reads 1..max decimal digits at s[i:].
func digits(s string, i, max int) (v, n int) {
	for n < max && i+n < len(s) && s[i+n] >= '0' && s[i+n] <= '9' {
		v = v*10 + int(s[i+n]-'0')
		n++
	}
	return v, n
}

func atoi(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

// AppendDate appends days as YYYY-MM-DD.
func AppendDate(dst []byte, days int32) []byte {
	y, m, d := CivilFromDays(days)
	dst = append4(dst, y)
	dst = append(dst, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return dst
}

// AppendDateTime appends µs as YYYY-MM-DD HH:MM:SS, plus prec (0..6)
// fractional digits.
func AppendDateTime(dst []byte, us int64, prec int) []byte {
	days := us / MicrosPerDay
	rem := us % MicrosPerDay
	if rem < 0 {
		rem += MicrosPerDay
		days--
	}
	dst = AppendDate(dst, int32(days))
	secs := rem / 1000000
	h, mi, s := secs/3600, secs/60%60, secs%60
	dst = append(dst, ' ', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10))
	if prec > 0 {
		frac := rem % 1000000
		var buf [6]byte
		for i := 5; i >= 0; i-- {
			buf[i] = byte('0' + frac%10)
			frac /= 10
		}
		dst = append(dst, '.')
		dst = append(dst, buf[:prec]...)
	}
	return dst
}

func append4(dst []byte, v int) []byte {
	if v < 0 || v > 9999 {
		return fmt.Appendf(dst, "%04d", v)
	}
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// DateToTime converts days to a UTC midnight time.Time.
func DateToTime(days int32) time.Time {
	return time.Unix(int64(days)*86400, 0).UTC()
}

// DateTimeToTime converts µs to a time.Time in UTC whose wall clock is the
// stored value.
func DateTimeToTime(us int64) time.Time {
	return time.UnixMicro(us).UTC()
}
