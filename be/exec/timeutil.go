package exec

import (
	"strconv"
	"strings"
	"time"
)

const (
	microsPerSecond = int64(1_000_000)
	microsPerDay    = 86_400 * microsPerSecond
)

// civilToDays returns days since 1970-01-01 of a proleptic Gregorian date
// (H. Hinnant's days_from_civil).
func civilToDays(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}

// daysToCivil is the inverse of civilToDays.
func daysToCivil(days int64) (y, m, d int) {
	z := days + 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		yy++
	}
	return int(yy), m, d
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func validDate(y, m, d int) bool {
	return y >= 0 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m)
}

// floorDiv is integer division rounding toward negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// splitMicros splits a DATETIME into days since epoch and µs into the day.
func splitMicros(us int64) (days, rem int64) {
	days = floorDiv(us, microsPerDay)
	return days, us - days*microsPerDay
}

// timeToMicros reads the wall clock of t as a DATETIME value.
func timeToMicros(t time.Time) int64 {
	days := civilToDays(t.Year(), int(t.Month()), t.Day())
	return days*microsPerDay + int64(t.Hour())*3600*microsPerSecond + int64(t.Minute())*60*microsPerSecond +
		int64(t.Second())*microsPerSecond + int64(t.Nanosecond()/1000)
}

// microsToTime returns the DATETIME as a UTC time.Time with the same wall clock.
func microsToTime(us int64) time.Time {
	return time.UnixMicro(us).UTC()
}

func formatDate(days int32) string {
	y, m, d := daysToCivil(int64(days))
	var b [10]byte
	put4(b[0:], y)
	b[4] = '-'
	put2(b[5:], m)
	b[7] = '-'
	put2(b[8:], d)
	return string(b[:])
}

func formatDateTime(us int64, prec int) string {
	days, rem := splitMicros(us)
	y, m, d := daysToCivil(days)
	secs := rem / microsPerSecond
	frac := rem % microsPerSecond
	var b [26]byte
	put4(b[0:], y)
	b[4] = '-'
	put2(b[5:], m)
	b[7] = '-'
	put2(b[8:], d)
	b[10] = ' '
	put2(b[11:], int(secs/3600))
	b[13] = ':'
	put2(b[14:], int(secs/60%60))
	b[16] = ':'
	put2(b[17:], int(secs%60))
	n := 19
	if prec > 0 {
		b[19] = '.'
		f := frac
		for i := 5; i >= 0; i-- {
			b[20+i] = byte('0' + f%10)
			f /= 10
		}
		n = 20 + prec
	}
	return string(b[:n])
}

func put2(b []byte, v int) { b[0] = byte('0' + v/10%10); b[1] = byte('0' + v%10) }
func put4(b []byte, v int) {
	b[0] = byte('0' + v/1000%10)
	b[1] = byte('0' + v/100%10)
	b[2] = byte('0' + v/10%10)
	b[3] = byte('0' + v%10)
}

// parseDateTime parses the date and datetime forms Doris accepts in casts:
// YYYY-MM-DD, YYYY-M-D, YYYY/MM/DD, YYYYMMDD, YYYYMMDDHHMMSS, each optionally
// followed by [ T]HH:MM[:SS[.ffffff]]. It returns µs since epoch.
func parseDateTime(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	allDigits := true
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			allDigits = false
			break
		}
	}
	var y, mo, d, h, mi, sec int
	var frac int64
	if allDigits {
		switch len(s) {
		case 8, 14, 6, 12:
			if len(s) == 6 || len(s) == 12 { // YYMMDD
				yy := atoi(s[0:2])
				if yy < 70 {
					yy += 2000
				} else {
					yy += 1900
				}
				s = strconv.Itoa(yy) + s[2:]
			}
			y, mo, d = atoi(s[0:4]), atoi(s[4:6]), atoi(s[6:8])
			if len(s) == 14 {
				h, mi, sec = atoi(s[8:10]), atoi(s[10:12]), atoi(s[12:14])
			}
		default:
			return 0, false
		}
	} else {
		// date part: three numbers separated by - / or .
		i := 0
		nums := [3]int{}
		for k := 0; k < 3; k++ {
			start := i
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			if i == start || i-start > 4 {
				return 0, false
			}
			nums[k] = atoi(s[start:i])
			if k < 2 {
				if i >= len(s) || (s[i] != '-' && s[i] != '/' && s[i] != '.') {
					return 0, false
				}
				i++
			}
		}
		y, mo, d = nums[0], nums[1], nums[2]
		if i < len(s) {
			if s[i] != ' ' && s[i] != 'T' {
				return 0, false
			}
			for i < len(s) && (s[i] == ' ' || s[i] == 'T') {
				i++
			}
			tn := [3]int{}
			k := 0
			for ; k < 3 && i < len(s); k++ {
				start := i
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					i++
				}
				if i == start || i-start > 2 {
					return 0, false
				}
				tn[k] = atoi(s[start:i])
				if k < 2 && i < len(s) {
					if s[i] != ':' {
						return 0, false
					}
					i++
				}
			}
			h, mi, sec = tn[0], tn[1], tn[2]
			if i < len(s) && s[i] == '.' {
				i++
				start := i
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					i++
				}
				digits := s[start:i]
				if len(digits) > 6 {
					// round at the 7th digit
					up := digits[6] >= '5'
					digits = digits[:6]
					frac = int64(atoi(digits))
					if up {
						frac++
					}
				} else {
					frac = int64(atoi(digits))
					for j := len(digits); j < 6; j++ {
						frac *= 10
					}
				}
			}
			if i != len(s) {
				return 0, false
			}
		}
	}
	if !validDate(y, mo, d) || h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	us := civilToDays(y, mo, d)*microsPerDay + int64(h*3600+mi*60+sec)*microsPerSecond + frac
	if us >= maxDateTimeMicros {
		return 0, false // rounding carried past 9999-12-31 23:59:59.999999
	}
	return us, true
}

// maxDateTimeMicros is 10000-01-01 00:00:00, one past the last DATETIME.
var maxDateTimeMicros = civilToDays(10000, 1, 1) * microsPerDay

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// roundMicros rounds a DATETIME to prec fractional digits.
func roundMicros(us int64, prec int) int64 {
	if prec >= 6 {
		return us
	}
	unit := int64(1)
	for i := prec; i < 6; i++ {
		unit *= 10
	}
	q := floorDiv(us, unit)
	r := us - q*unit
	if r*2 >= unit {
		q++
	}
	return q * unit
}
