package exec

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/types"
)

// dayOf returns days since epoch and µs into the day of row i of a DATE or
// DATETIME view.
func dayOf(v *view, i int) (days, rem int64) {
	if v.t.Kind == types.KindDate {
		return v.int(i), 0
	}
	return splitMicros(v.int(i))
}

// datePart returns a kernel computing an integer from (y, m, d, days, µs in day).
func datePart(f func(y, m, d int, days, rem int64) int64) kernel {
	return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
		v := a[0]
		for _, r := range rows {
			days, rem := dayOf(v, int(r))
			y, m, d := daysToCivil(days)
			o.setInt(int(r), f(y, m, d, days, rem))
		}
		return nil
	}
}

// weekday returns 0 = Monday .. 6 = Sunday.
func weekday(days int64) int {
	w := (days + 3) % 7 // 1970-01-01 was a Thursday
	if w < 0 {
		w += 7
	}
	return int(w)
}

// mysqlDaynr is MySQL's day number (days since year 0).
func mysqlDaynr(days int64) int64 { return days + 719528 }

func daysInYear(y int) int64 {
	if isLeap(y) {
		return 366
	}
	return 365
}

// week mode bits, as MySQL defines them.
const (
	weekMondayFirst  = 1
	weekYear         = 2
	weekFirstWeekday = 4
)

func weekMode(mode int) int {
	b := mode & 7
	if b&weekMondayFirst == 0 {
		b ^= weekFirstWeekday
	}
	return b
}

// calcWeek is MySQL's calc_week: the week number and the year it belongs to.
func calcWeek(days int64, behavior int) (year, week int) {
	y, m, d := daysToCivil(days)
	daynr := mysqlDaynr(days)
	mondayFirst := behavior&weekMondayFirst != 0
	wYear := behavior&weekYear != 0
	firstWeekday := behavior&weekFirstWeekday != 0
	firstDaynr := mysqlDaynr(civilToDays(y, 1, 1))
	calcWeekday := func(dn int64, sundayFirst bool) int64 {
		s := int64(0)
		if sundayFirst {
			s = 1
		}
		return (dn + 5 + s) % 7
	}
	wd := calcWeekday(firstDaynr, !mondayFirst)
	year = y
	if m == 1 && int64(d) <= 7-wd {
		if !wYear && (firstWeekday && wd != 0 || !firstWeekday && wd >= 4) {
			return year, 0
		}
		wYear = true
		year--
		dy := daysInYear(year)
		firstDaynr -= dy
		wd = (wd + 53*7 - dy) % 7
	}
	var n int64
	if firstWeekday && wd != 0 || !firstWeekday && wd >= 4 {
		n = daynr - (firstDaynr + (7 - wd))
	} else {
		n = daynr - (firstDaynr - wd)
	}
	if wYear && n >= 52*7 {
		wd = (wd + daysInYear(year)) % 7
		if !firstWeekday && wd < 4 || firstWeekday && wd == 0 {
			return year + 1, 1
		}
	}
	return year, int(n/7 + 1)
}

var monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
var dayNames = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

// dateFormat renders a DATETIME (µs) with MySQL % specifiers.
func dateFormat(us int64, f string) string {
	days, rem := splitMicros(us)
	y, m, d := daysToCivil(days)
	secs := rem / microsPerSecond
	h, mi, s := int(secs/3600), int(secs/60%60), int(secs%60)
	frac := rem % microsPerSecond
	var b []byte
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' || i+1 == len(f) {
			b = append(b, c)
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			b = append(b, fmt.Sprintf("%04d", y)...)
		case 'y':
			b = append(b, fmt.Sprintf("%02d", y%100)...)
		case 'm':
			b = append(b, fmt.Sprintf("%02d", m)...)
		case 'c':
			b = strconv.AppendInt(b, int64(m), 10)
		case 'd':
			b = append(b, fmt.Sprintf("%02d", d)...)
		case 'e':
			b = strconv.AppendInt(b, int64(d), 10)
		case 'H':
			b = append(b, fmt.Sprintf("%02d", h)...)
		case 'k':
			b = strconv.AppendInt(b, int64(h), 10)
		case 'h', 'I':
			b = append(b, fmt.Sprintf("%02d", (h+11)%12+1)...)
		case 'l':
			b = strconv.AppendInt(b, int64((h+11)%12+1), 10)
		case 'i':
			b = append(b, fmt.Sprintf("%02d", mi)...)
		case 's', 'S':
			b = append(b, fmt.Sprintf("%02d", s)...)
		case 'f':
			b = append(b, fmt.Sprintf("%06d", frac)...)
		case 'p':
			if h < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'T':
			b = append(b, fmt.Sprintf("%02d:%02d:%02d", h, mi, s)...)
		case 'r':
			ap := "AM"
			if h >= 12 {
				ap = "PM"
			}
			b = append(b, fmt.Sprintf("%02d:%02d:%02d %s", (h+11)%12+1, mi, s, ap)...)
		case 'W':
			b = append(b, dayNames[weekday(days)]...)
		case 'a':
			b = append(b, dayNames[weekday(days)][:3]...)
		case 'w':
			b = strconv.AppendInt(b, int64((weekday(days)+1)%7), 10)
		case 'M':
			b = append(b, monthNames[m-1]...)
		case 'b':
			b = append(b, monthNames[m-1][:3]...)
		case 'j':
			b = append(b, fmt.Sprintf("%03d", days-civilToDays(y, 1, 1)+1)...)
		case 'D':
			suf := "th"
			if d/10 != 1 {
				switch d % 10 {
				case 1:
					suf = "st"
				case 2:
					suf = "nd"
				case 3:
					suf = "rd"
				}
			}
			b = append(b, strconv.Itoa(d)+suf...)
		case 'U':
			_, w := calcWeek(days, weekMode(0))
			b = append(b, fmt.Sprintf("%02d", w)...)
		case 'u':
			_, w := calcWeek(days, weekMode(1))
			b = append(b, fmt.Sprintf("%02d", w)...)
		case 'V':
			_, w := calcWeek(days, weekMode(2)|weekYear)
			b = append(b, fmt.Sprintf("%02d", w)...)
		case 'v':
			_, w := calcWeek(days, weekMode(3)|weekYear)
			b = append(b, fmt.Sprintf("%02d", w)...)
		case 'X':
			yy, _ := calcWeek(days, weekMode(2)|weekYear)
			b = append(b, fmt.Sprintf("%04d", yy)...)
		case 'x':
			yy, _ := calcWeek(days, weekMode(3)|weekYear)
			b = append(b, fmt.Sprintf("%04d", yy)...)
		default:
			b = append(b, f[i])
		}
	}
	return string(b)
}

// strToDate parses s with MySQL % specifiers into µs.
func strToDate(s, f string) (int64, bool) {
	y, m, d, h, mi, sec := 0, 1, 1, 0, 0, 0
	var frac int64
	pm := -1
	j := 0
	num := func(maxDigits int) (int, bool) {
		start := j
		for j < len(s) && j-start < maxDigits && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == start {
			return 0, false
		}
		return atoi(s[start:j]), true
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' || i+1 == len(f) {
			if c == ' ' {
				for j < len(s) && s[j] == ' ' {
					j++
				}
				continue
			}
			if j >= len(s) || s[j] != c {
				return 0, false
			}
			j++
			continue
		}
		i++
		var ok bool
		switch f[i] {
		case 'Y':
			y, ok = num(4)
		case 'y':
			y, ok = num(2)
			if y < 70 {
				y += 2000
			} else {
				y += 1900
			}
		case 'm', 'c':
			m, ok = num(2)
		case 'd', 'e':
			d, ok = num(2)
		case 'H', 'k', 'h', 'I', 'l':
			h, ok = num(2)
		case 'i':
			mi, ok = num(2)
		case 's', 'S':
			sec, ok = num(2)
		case 'f':
			start := j
			var fv int
			fv, ok = num(6)
			frac = int64(fv)
			for k := j - start; k < 6; k++ {
				frac *= 10
			}
		case 'p':
			if j+2 <= len(s) {
				switch strings.ToUpper(s[j : j+2]) {
				case "AM":
					pm, ok = 0, true
				case "PM":
					pm, ok = 1, true
				}
				j += 2
			}
		case 'T':
			h, ok = num(2)
			if ok && j < len(s) && s[j] == ':' {
				j++
				mi, ok = num(2)
				if ok && j < len(s) && s[j] == ':' {
					j++
					sec, ok = num(2)
				}
			}
		case 'M', 'b':
			ok = false
			for k, name := range monthNames {
				for _, cand := range []string{name, name[:3]} {
					if len(s)-j >= len(cand) && strings.EqualFold(s[j:j+len(cand)], cand) {
						m, ok = k+1, true
						j += len(cand)
						break
					}
				}
				if ok {
					break
				}
			}
		case '%':
			ok = j < len(s) && s[j] == '%'
			j++
		default:
			return 0, false
		}
		if !ok {
			return 0, false
		}
	}
	if pm == 1 && h < 12 {
		h += 12
	} else if pm == 0 && h == 12 {
		h = 0
	}
	if !validDate(y, m, d) || h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	return civilToDays(y, m, d)*microsPerDay + int64(h*3600+mi*60+sec)*microsPerSecond + frac, true
}

// IntervalUnit is the unit of an INTERVAL.
type IntervalUnit uint8

const (
	UnitMicrosecond IntervalUnit = iota + 1
	UnitSecond
	UnitMinute
	UnitHour
	UnitDay
	UnitWeek
	UnitMonth
	UnitQuarter
	UnitYear
)

// ParseIntervalUnit reads an INTERVAL unit name (YEAR, MONTH, ...).
func ParseIntervalUnit(s string) (IntervalUnit, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "MICROSECOND":
		return UnitMicrosecond, nil
	case "SECOND":
		return UnitSecond, nil
	case "MINUTE":
		return UnitMinute, nil
	case "HOUR":
		return UnitHour, nil
	case "DAY":
		return UnitDay, nil
	case "WEEK":
		return UnitWeek, nil
	case "MONTH":
		return UnitMonth, nil
	case "QUARTER":
		return UnitQuarter, nil
	case "YEAR":
		return UnitYear, nil
	}
	return 0, fmt.Errorf("unknown interval unit %q", s)
}

// addInterval adds n units to a DATETIME (µs); ok is false outside 0000..9999.
func addInterval(us int64, n int64, u IntervalUnit) (int64, bool) {
	switch u {
	case UnitMicrosecond:
		us += n
	case UnitSecond:
		us += n * microsPerSecond
	case UnitMinute:
		us += n * 60 * microsPerSecond
	case UnitHour:
		us += n * 3600 * microsPerSecond
	case UnitDay:
		us += n * microsPerDay
	case UnitWeek:
		us += n * 7 * microsPerDay
	case UnitMonth, UnitQuarter, UnitYear:
		months := n
		if u == UnitQuarter {
			months *= 3
		} else if u == UnitYear {
			months *= 12
		}
		days, rem := splitMicros(us)
		y, m, d := daysToCivil(days)
		total := int64(y)*12 + int64(m-1) + months
		if total < 0 {
			return 0, false
		}
		ny, nm := int(total/12), int(total%12)+1
		if nd := daysInMonth(ny, nm); d > nd {
			d = nd
		}
		us = civilToDays(ny, nm, d)*microsPerDay + rem
	}
	days, _ := splitMicros(us)
	y, _, _ := daysToCivil(days)
	return us, y >= 0 && y <= 9999
}

// DateAdd is DATE_ADD/DATE_SUB(d, INTERVAL n unit) and d ± INTERVAL n unit.
type DateAdd struct {
	Arg, N Expr
	Unit   IntervalUnit
	Sub    bool
	T      types.Type
}

// NewDateAdd returns arg + INTERVAL n unit (arg - ... when sub). A DATE stays
// a DATE for day-or-larger units; otherwise the result is DATETIME.
func NewDateAdd(arg, n Expr, unit IntervalUnit, sub bool) (Expr, error) {
	at := arg.Type()
	switch {
	case at.Kind.IsTemporal():
	case at.Kind.IsString():
		arg = Coerce(arg, types.DateTime(6))
		at = arg.Type()
	default:
		return nil, fmt.Errorf("date arithmetic on %v", at)
	}
	t := at
	if at.Kind == types.KindDate && unit < UnitDay {
		t = types.DateTime(0)
		if unit == UnitMicrosecond {
			t = types.DateTime(6)
		}
	}
	return &DateAdd{Arg: arg, N: coerceArg(n, types.BigInt), Unit: unit, Sub: sub, T: t}, nil
}

func (d *DateAdd) Type() types.Type { return d.T }
func (d *DateAdd) String() string {
	op := "+"
	if d.Sub {
		op = "-"
	}
	return fmt.Sprintf("(%s %s INTERVAL %s %s)", d.Arg, op, d.N, [...]string{"", "MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}[d.Unit])
}

func (d *DateAdd) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	v, err := evalView(ctx, d.Arg, b)
	if err != nil {
		return nil, err
	}
	nv, err := evalView(ctx, d.N, b)
	if err != nil {
		return nil, err
	}
	o := newOut(d.T, b.Len)
	for _, r := range rowsOf(b) {
		i := int(r)
		if v.isNull(i) || nv.isNull(i) {
			continue
		}
		us := v.int(i)
		if v.t.Kind == types.KindDate {
			us *= microsPerDay
		}
		n := nv.int(i)
		if d.Sub {
			n = -n
		}
		res, ok := addInterval(us, n, d.Unit)
		if !ok {
			continue
		}
		if d.T.Kind == types.KindDate {
			o.setInt(i, floorDiv(res, microsPerDay))
		} else {
			o.setInt(i, res)
		}
	}
	return o.finish(), nil
}

func init() {
	i32 := types.Int
	i64 := types.BigInt
	str := types.String
	dt := types.DateTime(0)
	reg := func(names []string, ret types.Type, f func(y, m, d int, days, rem int64) int64) {
		register(names, funcDef{minArgs: 1, maxArgs: 1, resolve: temporalArg1(ret), eval: datePart(f)})
	}
	reg([]string{"year"}, types.SmallInt, func(y, _, _ int, _, _ int64) int64 { return int64(y) })
	reg([]string{"month"}, types.TinyInt, func(_, m, _ int, _, _ int64) int64 { return int64(m) })
	reg([]string{"day", "dayofmonth"}, types.TinyInt, func(_, _, d int, _, _ int64) int64 { return int64(d) })
	reg([]string{"quarter"}, types.TinyInt, func(_, m, _ int, _, _ int64) int64 { return int64((m-1)/3 + 1) })
	reg([]string{"hour"}, types.TinyInt, func(_, _, _ int, _, rem int64) int64 { return rem / microsPerSecond / 3600 })
	reg([]string{"minute"}, types.TinyInt, func(_, _, _ int, _, rem int64) int64 { return rem / microsPerSecond / 60 % 60 })
	reg([]string{"second"}, types.TinyInt, func(_, _, _ int, _, rem int64) int64 { return rem / microsPerSecond % 60 })
	reg([]string{"dayofweek"}, types.TinyInt, func(_, _, _ int, days, _ int64) int64 { return int64((weekday(days)+1)%7 + 1) })
	reg([]string{"weekday"}, types.TinyInt, func(_, _, _ int, days, _ int64) int64 { return int64(weekday(days)) })
	reg([]string{"dayofyear"}, types.SmallInt, func(y, _, _ int, days, _ int64) int64 { return days - civilToDays(y, 1, 1) + 1 })
	reg([]string{"weekofyear"}, types.TinyInt, func(_, _, _ int, days, _ int64) int64 {
		_, w := calcWeek(days, weekMode(3))
		return int64(w)
	})
	reg([]string{"to_days"}, i32, func(_, _, _ int, days, _ int64) int64 { return mysqlDaynr(days) })
	register([]string{"week"}, funcDef{minArgs: 1, maxArgs: 2, resolve: temporalArg1(types.TinyInt, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				days, _ := dayOf(a[0], int(r))
				mode := 0
				if len(a) > 1 {
					mode = int(a[1].int(int(r)))
				}
				_, w := calcWeek(days, weekMode(mode))
				o.setInt(int(r), int64(w))
			}
			return nil
		}})
	register([]string{"yearweek"}, funcDef{minArgs: 1, maxArgs: 2, resolve: temporalArg1(i32, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				days, _ := dayOf(a[0], int(r))
				mode := 0
				if len(a) > 1 {
					mode = int(a[1].int(int(r)))
				}
				y, w := calcWeek(days, weekMode(mode)|weekYear)
				o.setInt(int(r), int64(y*100+w))
			}
			return nil
		}})
	toDate := funcDef{minArgs: 1, maxArgs: 1, resolve: temporalArg1(types.Date),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				days, _ := dayOf(a[0], int(r))
				o.setInt(int(r), days)
			}
			return nil
		}}
	register([]string{"date", "to_date"}, toDate)
	register([]string{"last_day"}, funcDef{minArgs: 1, maxArgs: 1, resolve: temporalArg1(types.Date),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				days, _ := dayOf(a[0], int(r))
				y, m, _ := daysToCivil(days)
				o.setInt(int(r), civilToDays(y, m, daysInMonth(y, m)))
			}
			return nil
		}})
	register([]string{"from_days"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(types.Date, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				n := a[0].int(int(r)) - 719528
				if y, _, _ := daysToCivil(n); y >= 0 && y <= 9999 && a[0].int(int(r)) >= 366 {
					o.setInt(int(r), n)
				}
			}
			return nil
		}})
	register([]string{"makedate"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(types.Date, i64, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				y, doy := a[0].int(int(r)), a[1].int(int(r))
				if y < 0 || y > 9999 || doy <= 0 {
					continue
				}
				days := civilToDays(int(y), 1, 1) + doy - 1
				if yy, _, _ := daysToCivil(days); yy <= 9999 {
					o.setInt(int(r), days)
				}
			}
			return nil
		}})
	register([]string{"datediff"}, funcDef{minArgs: 2, maxArgs: 2,
		resolve: func(args []types.Type) (types.Type, []types.Type, error) {
			ats := make([]types.Type, 2)
			for i, t := range args {
				if t.Kind.IsTemporal() {
					ats[i] = t
				} else {
					ats[i] = types.DateTime(6)
				}
			}
			return i32, ats, nil
		},
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				d1, _ := dayOf(a[0], int(r))
				d2, _ := dayOf(a[1], int(r))
				o.setInt(int(r), d1-d2)
			}
			return nil
		}})
	dateAddFn := func(sub bool) funcDef {
		return funcDef{minArgs: 2, maxArgs: 3,
			resolve: func(args []types.Type) (types.Type, []types.Type, error) {
				t := args[0]
				if !t.Kind.IsTemporal() {
					t = types.DateTime(6)
				}
				if len(args) == 3 {
					// unit is only known from the literal; DATETIME is the safe answer
					if t.Kind == types.KindDate {
						return t, make([]types.Type, 3), nil
					}
				}
				return t, make([]types.Type, len(args)), nil
			},
			build: func(a []Expr) (Expr, error) {
				unit := UnitDay
				if len(a) == 3 {
					l, ok := a[2].(*Literal)
					if !ok || l.Value == nil || !l.T.Kind.IsString() {
						return nil, fmt.Errorf("interval unit must be a constant string")
					}
					u, err := ParseIntervalUnit(l.Value.(string))
					if err != nil {
						return nil, err
					}
					unit = u
				}
				return NewDateAdd(a[0], a[1], unit, sub)
			}}
	}
	register([]string{"date_add", "adddate", "days_add"}, dateAddFn(false))
	register([]string{"date_sub", "subdate", "days_sub"}, dateAddFn(true))
	register([]string{"date_trunc"}, funcDef{minArgs: 2, maxArgs: 2,
		resolve: func(args []types.Type) (types.Type, []types.Type, error) {
			// Doris accepts both date_trunc(dt, 'unit') and date_trunc('unit', dt).
			if args[0].Kind.IsString() && !args[1].Kind.IsString() {
				t := args[1]
				if !t.Kind.IsTemporal() {
					t = types.DateTime(6)
				}
				return t, []types.Type{str, t}, nil
			}
			t := args[0]
			if !t.Kind.IsTemporal() {
				t = types.DateTime(6)
			}
			return t, []types.Type{t, str}, nil
		},
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			dv, uv := a[0], a[1]
			if dv.p == pStr {
				dv, uv = uv, dv
			}
			for _, r := range rows {
				i := int(r)
				days, rem := dayOf(dv, i)
				y, m, _ := daysToCivil(days)
				var res int64
				switch strings.ToLower(uv.strv(i)) {
				case "year":
					res = civilToDays(y, 1, 1) * microsPerDay
				case "quarter":
					res = civilToDays(y, (m-1)/3*3+1, 1) * microsPerDay
				case "month":
					res = civilToDays(y, m, 1) * microsPerDay
				case "week":
					res = (days - int64(weekday(days))) * microsPerDay
				case "day":
					res = days * microsPerDay
				case "hour":
					res = days*microsPerDay + rem/(3600*microsPerSecond)*3600*microsPerSecond
				case "minute":
					res = days*microsPerDay + rem/(60*microsPerSecond)*60*microsPerSecond
				case "second":
					res = days*microsPerDay + rem/microsPerSecond*microsPerSecond
				default:
					return fmt.Errorf("unknown unit %q", uv.strv(i))
				}
				if o.t.Kind == types.KindDate {
					o.setInt(i, floorDiv(res, microsPerDay))
				} else {
					o.setInt(i, res)
				}
			}
			return nil
		}})
	register([]string{"date_format"}, funcDef{minArgs: 2, maxArgs: 2, resolve: temporalArg1(str, str),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				us := a[0].int(int(r))
				if a[0].t.Kind == types.KindDate {
					us *= microsPerDay
				}
				o.setStr(int(r), dateFormat(us, a[1].strv(int(r))))
			}
			return nil
		}})
	register([]string{"str_to_date"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(types.DateTime(6), str, str),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				if us, ok := strToDate(a[0].strv(int(r)), a[1].strv(int(r))); ok {
					o.setInt(int(r), us)
				}
			}
			return nil
		}})
	register([]string{"from_unixtime"}, funcDef{minArgs: 1, maxArgs: 2, resolve: sig(str, i64, str),
		eval: func(ctx *EvalContext, a []*view, o *outVec, rows []int32) error {
			loc := ctx.loc()
			for _, r := range rows {
				sec := a[0].int(int(r))
				if sec < 0 || sec > 32536771199 {
					continue
				}
				us := timeToMicros(time.Unix(sec, 0).In(loc))
				f := "%Y-%m-%d %H:%i:%s"
				if len(a) > 1 {
					f = a[1].strv(int(r))
				}
				o.setStr(int(r), dateFormat(us, f))
			}
			return nil
		}})
	register([]string{"unix_timestamp"}, funcDef{minArgs: 0, maxArgs: 1, volatile: true,
		resolve: func(args []types.Type) (types.Type, []types.Type, error) {
			if len(args) == 0 {
				return i64, nil, nil
			}
			return temporalArg1(i64)(args)
		},
		eval: func(ctx *EvalContext, a []*view, o *outVec, rows []int32) error {
			loc := ctx.loc()
			for _, r := range rows {
				if len(a) == 0 {
					o.setInt(int(r), ctx.now().Unix())
					continue
				}
				us := a[0].int(int(r))
				if a[0].t.Kind == types.KindDate {
					us *= microsPerDay
				}
				wall := microsToTime(us)
				t := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc)
				if s := t.Unix(); s >= 0 {
					o.setInt(int(r), s)
				} else {
					o.setInt(int(r), 0)
				}
			}
			return nil
		}})
	register([]string{"now", "current_timestamp", "localtime", "localtimestamp", "sysdate"}, funcDef{minArgs: 0, maxArgs: 1, volatile: true,
		resolve: func(args []types.Type) (types.Type, []types.Type, error) {
			return dt, []types.Type{i64}, nil
		},
		eval: func(ctx *EvalContext, _ []*view, o *outVec, rows []int32) error {
			us := roundMicros(timeToMicros(ctx.now().In(ctx.loc())), 0)
			us -= us % microsPerSecond
			for _, r := range rows {
				o.setInt(int(r), us)
			}
			return nil
		}})
	register([]string{"curdate", "current_date"}, funcDef{minArgs: 0, maxArgs: 0, volatile: true, resolve: sig(types.Date, types.Date),
		eval: func(ctx *EvalContext, _ []*view, o *outVec, rows []int32) error {
			t := ctx.now().In(ctx.loc())
			days := civilToDays(t.Year(), int(t.Month()), t.Day())
			for _, r := range rows {
				o.setInt(int(r), days)
			}
			return nil
		}})
}
