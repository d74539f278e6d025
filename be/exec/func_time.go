package exec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	// Zone names in CONVERT_TZ and time_zone must resolve on hosts
	// without a zoneinfo database.
	_ "time/tzdata"

	"github.com/strata-db/strata/types"
)

// MySQL's TIME functions. Strata has no TIME type: a time value travels as
// its MySQL text, [-]HH:MM:SS[.ffffff], which is what TIMEDIFF returns and
// what TIME_FORMAT reads (as well as DATETIME values and strings).

// maxTimeMicros is MySQL's TIME range, 838:59:59.
const maxTimeMicros = (838*3600 + 59*60 + 59) * microsPerSecond

// parseTimeValue parses a MySQL time string: [-][D ]H:MM[:SS[.ffffff]],
// or [-]HHMMSS[.ffffff] digits. It returns signed µs.
func parseTimeValue(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var days int64
	if i := strings.IndexByte(s, ' '); i > 0 {
		d, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || d < 0 || d > 34 {
			return 0, false
		}
		days, s = d, strings.TrimSpace(s[i+1:])
	}
	var frac int64
	if i := strings.IndexByte(s, '.'); i >= 0 {
		f := s[i+1:]
		s = s[:i]
		if f == "" || len(f) > 9 {
			return 0, false
		}
		for k := 0; k < 6; k++ {
			frac *= 10
			if k < len(f) {
				if f[k] < '0' || f[k] > '9' {
					return 0, false
				}
				frac += int64(f[k] - '0')
			}
		}
	}
	var h, m, sec int64
	if strings.IndexByte(s, ':') >= 0 {
		parts := strings.Split(s, ":")
		if len(parts) > 3 {
			return 0, false
		}
		vals := [3]int64{}
		for k, p := range parts {
			v, err := strconv.ParseInt(p, 10, 64)
			if err != nil || v < 0 || p == "" {
				return 0, false
			}
			vals[k] = v
		}
		h, m, sec = vals[0], vals[1], vals[2]
	} else {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		h, m, sec = n/10000, n/100%100, n%100
	}
	if m > 59 || sec > 59 {
		return 0, false
	}
	us := ((days*24+h)*3600+m*60+sec)*microsPerSecond + frac
	if neg {
		us = -us
	}
	return us, true
}

// formatTimeValue renders signed µs as MySQL TIME text, clamped to
// ±838:59:59; the fraction is shown when there is one.
func formatTimeValue(us int64) string {
	neg := us < 0
	if neg {
		us = -us
	}
	us = min(us, maxTimeMicros)
	secs, frac := us/microsPerSecond, us%microsPerSecond
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	fmt.Fprintf(&b, "%02d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	if frac != 0 {
		fmt.Fprintf(&b, ".%06d", frac)
	}
	return b.String()
}

// timeFormat is TIME_FORMAT: the time specifiers of DATE_FORMAT over a
// signed duration. Date specifiers make the result NULL (ok false), as
// MySQL's do for TIME values.
func timeFormat(us int64, f string) (string, bool) {
	var b strings.Builder
	if us < 0 {
		b.WriteByte('-')
		us = -us
	}
	secs, frac := us/microsPerSecond, us%microsPerSecond
	h, mi, s := secs/3600, secs/60%60, secs%60
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	ampm := "AM"
	if h%24 >= 12 {
		ampm = "PM"
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' || i+1 == len(f) {
			b.WriteByte(c)
			continue
		}
		i++
		switch f[i] {
		case 'H':
			fmt.Fprintf(&b, "%02d", h)
		case 'k':
			fmt.Fprintf(&b, "%d", h)
		case 'h', 'I':
			fmt.Fprintf(&b, "%02d", h12)
		case 'l':
			fmt.Fprintf(&b, "%d", h12)
		case 'i':
			fmt.Fprintf(&b, "%02d", mi)
		case 'S', 's':
			fmt.Fprintf(&b, "%02d", s)
		case 'f':
			fmt.Fprintf(&b, "%06d", frac)
		case 'p':
			b.WriteString(ampm)
		case 'r':
			fmt.Fprintf(&b, "%02d:%02d:%02d %s", h12, mi, s, ampm)
		case 'T':
			fmt.Fprintf(&b, "%02d:%02d:%02d", h, mi, s)
		case 'Y', 'y', 'm', 'c', 'd', 'e', 'j', 'M', 'b', 'W', 'a', 'D', 'U', 'u', 'V', 'v', 'X', 'x', 'w':
			return "", false
		default:
			b.WriteByte(f[i])
		}
	}
	return b.String(), true
}

// timeArg reads row i of a TIME_FORMAT or TIMEDIFF argument as µs and
// whether it is a datetime (not a time of day or duration).
func timeArg(v *view, i int) (us int64, isDateTime, ok bool) {
	switch v.t.Kind {
	case types.KindDate:
		return v.int(i) * microsPerDay, true, true
	case types.KindDateTime:
		return v.int(i), true, true
	}
	s := strings.TrimSpace(v.strv(i))
	// A date part makes it a datetime: digits then '-' or '/'.
	if k := strings.IndexAny(s, "-/"); k > 0 {
		us, ok := parseDateTime(s)
		return us, true, ok
	}
	us, ok = parseTimeValue(s)
	return us, false, ok
}

// timeOrString keeps DATE and DATETIME arguments and reads anything else as
// text.
func timeOrString(t types.Type) types.Type {
	if t.Kind.IsTemporal() {
		return t
	}
	return types.String
}

// tzCache resolves CONVERT_TZ zone arguments, remembering the last few.
type tzCache map[string]*time.Location

// lookup resolves a MySQL time zone: SYSTEM, an offset [+-]HH:MM within
// -13:59..+14:00, or a zone name. nil when it cannot be resolved.
func (c tzCache) lookup(name string) *time.Location {
	if loc, ok := c[name]; ok {
		return loc
	}
	loc := resolveZone(name)
	if len(c) < 16 {
		c[name] = loc
	}
	return loc
}

func resolveZone(name string) *time.Location {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return nil
	case strings.EqualFold(name, "SYSTEM"):
		return time.Local
	case strings.EqualFold(name, "UTC"):
		return time.UTC
	case name[0] == '+' || name[0] == '-':
		hm := strings.Split(name[1:], ":")
		if len(hm) != 2 || len(hm[0]) == 0 || len(hm[0]) > 2 || len(hm[1]) != 2 {
			return nil
		}
		h, err1 := strconv.Atoi(hm[0])
		m, err2 := strconv.Atoi(hm[1])
		if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 {
			return nil
		}
		off := h*3600 + m*60
		if name[0] == '-' {
			off = -off
		}
		if off < -(13*3600+59*60) || off > 14*3600 {
			return nil
		}
		return time.FixedZone(name, off)
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return nil
}

// convertTZ moves a DATETIME wall clock from one zone to another.
func convertTZ(us int64, from, to *time.Location) int64 {
	w := microsToTime(us)
	t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), from)
	return timeToMicros(t.In(to))
}

func init() {
	str := types.String
	register([]string{"time_format"}, funcDef{minArgs: 2, maxArgs: 2,
		resolve: func(args []types.Type) (types.Type, []types.Type, error) {
			return str, []types.Type{timeOrString(args[0]), str}, nil
		},
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				us, isDT, ok := timeArg(a[0], i)
				if !ok {
					continue
				}
				if isDT {
					_, us = splitMicros(us)
				}
				if s, ok := timeFormat(us, a[1].strv(i)); ok {
					o.setStr(i, s)
				}
			}
			return nil
		}})
	register([]string{"timediff"}, funcDef{minArgs: 2, maxArgs: 2,
		resolve: func(args []types.Type) (types.Type, []types.Type, error) {
			return str, []types.Type{timeOrString(args[0]), timeOrString(args[1])}, nil
		},
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				x, xdt, ok1 := timeArg(a[0], i)
				y, ydt, ok2 := timeArg(a[1], i)
				// MySQL: NULL unless both are datetimes or both times.
				if !ok1 || !ok2 || xdt != ydt {
					continue
				}
				o.setStr(i, formatTimeValue(x-y))
			}
			return nil
		}})
	register([]string{"convert_tz"}, funcDef{minArgs: 3, maxArgs: 3,
		resolve: func(args []types.Type) (types.Type, []types.Type, error) {
			t := args[0]
			switch {
			case t.Kind == types.KindDateTime:
			case t.Kind == types.KindDate, t.Kind.IsString() || t.Kind.IsNumeric():
				t = types.DateTime(0)
			default:
				return t, nil, fmt.Errorf("expects a datetime, got %v", t)
			}
			return t, []types.Type{t, str, str}, nil
		},
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			zones := tzCache{}
			for _, r := range rows {
				i := int(r)
				from, to := zones.lookup(a[1].strv(i)), zones.lookup(a[2].strv(i))
				// An unknown zone makes the result NULL, as in MySQL.
				if from == nil || to == nil {
					continue
				}
				o.setInt(i, convertTZ(a[0].int(i), from, to))
			}
			return nil
		}})
}
