package ssb

import (
	"time"
)

// Date range of SSB (dbgen STARTDATE and the dates table's end).
var (
	startDate = time.Date(1992, time.January, 1, 0, 0, 0, 0, time.UTC)
)

const (
	// OrderDateDays is the number of possible order dates: 1992-01-01 to
	// 1998-08-02.
	OrderDateDays = 2406
	commitMinDays = 30
	commitMaxDays = 90
)

var monthNames = [12]string{"January", "February", "March", "April", "May", "June",
	"July", "August", "September", "October", "November", "December"}

var weekdayNames = [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// dayKeys[d] is the yyyymmdd key of 1992-01-01 + d days, and dayText[d] its
// eight ASCII digits, for every day of the dates table.
var (
	dayKeys [DateRows]int32
	dayText [DateRows][8]byte
)

func init() {
	for d := range DateRows {
		t := startDate.AddDate(0, 0, d)
		k := int32(t.Year()*10000 + int(t.Month())*100 + t.Day())
		dayKeys[d] = k
		b := appendUint(nil, uint64(k))
		copy(dayText[d][:], b)
	}
}

// DateKey returns the yyyymmdd key of the day d days after 1992-01-01
// (0 ≤ d < DateRows).
func DateKey(d int) int32 { return dayKeys[d] }

// Date is one row of the dates table.
type Date struct {
	DateKey         int32  // yyyymmdd
	Date            string // "January 1, 1992"
	DayOfWeek       string
	Month           string
	Year            int
	YearMonthNum    int    // yyyymm
	YearMonth       string // "Jan1992"
	DayNumInWeek    int    // dbgen's formula: (weekday+1)%7 + 1
	DayNumInMonth   int
	DayNumInYear    int
	MonthNumInYear  int
	WeekNumInYear   int // DayNumInYear/7 + 1, not the ISO week
	SellingSeason   string
	LastDayInWeekFl int
	LastDayInMonth  int
	HolidayFl       int
	WeekdayFl       int
}

// holidays are dbgen's (month, day) holiday pairs.
var holidays = [10][2]int{{12, 24}, {1, 1}, {2, 20}, {4, 20}, {5, 20}, {7, 20}, {8, 20}, {9, 20}, {10, 20}, {11, 20}}

// sellingSeason is dbgen's season by month (the day windows cover every day).
func sellingSeason(month int) string {
	switch {
	case month >= 11:
		return "Christmas"
	case month >= 5 && month <= 8:
		return "Summer"
	case month <= 3:
		return "Winter"
	case month == 4:
		return "Spring"
	default:
		return "Fall"
	}
}

// DateRow returns row d (0-based) of the dates table, 1992-01-01 + d days.
func DateRow(d int) Date {
	t := startDate.AddDate(0, 0, d)
	y, m, day := t.Date()
	r := Date{
		DateKey:        dayKeys[d],
		Month:          monthNames[m-1],
		Year:           y,
		YearMonthNum:   y*100 + int(m),
		DayNumInWeek:   (int(t.Weekday())+1)%7 + 1,
		DayNumInMonth:  day,
		DayNumInYear:   t.YearDay(),
		MonthNumInYear: int(m),
	}
	r.DayOfWeek = weekdayNames[r.DayNumInWeek-1]
	r.Date = r.Month + " " + itoa(day) + ", " + itoa(y)
	r.YearMonth = r.Month[:3] + itoa(y)
	r.WeekNumInYear = r.DayNumInYear/7 + 1
	r.SellingSeason = sellingSeason(int(m))
	if r.DayNumInWeek == 7 {
		r.LastDayInWeekFl = 1
	}
	if t.AddDate(0, 0, 1).Day() == 1 {
		r.LastDayInMonth = 1
	}
	for _, h := range holidays {
		if h[0] == int(m) && h[1] == day {
			r.HolidayFl = 1
		}
	}
	if r.DayNumInWeek != 1 && r.DayNumInWeek != 7 {
		r.WeekdayFl = 1
	}
	return r
}

func itoa(v int) string { return string(appendUint(nil, uint64(v))) }

// appendDate appends the dbgen line of one dates row ('|' after every field).
func appendDate(dst []byte, r Date) []byte {
	dst = appendUint(dst, uint64(r.DateKey))
	dst = append(dst, '|')
	dst = append(dst, r.Date...)
	dst = append(dst, '|')
	dst = append(dst, r.DayOfWeek...)
	dst = append(dst, '|')
	dst = append(dst, r.Month...)
	dst = append(dst, '|')
	for _, v := range [...]int{r.Year, r.YearMonthNum} {
		dst = appendUint(dst, uint64(v))
		dst = append(dst, '|')
	}
	dst = append(dst, r.YearMonth...)
	dst = append(dst, '|')
	for _, v := range [...]int{r.DayNumInWeek, r.DayNumInMonth, r.DayNumInYear, r.MonthNumInYear, r.WeekNumInYear} {
		dst = appendUint(dst, uint64(v))
		dst = append(dst, '|')
	}
	dst = append(dst, r.SellingSeason...)
	dst = append(dst, '|')
	for _, v := range [...]int{r.LastDayInWeekFl, r.LastDayInMonth, r.HolidayFl, r.WeekdayFl} {
		dst = appendUint(dst, uint64(v))
		dst = append(dst, '|')
	}
	return append(dst, '\n')
}

// WeekDateRange returns the first and last yyyymmdd keys of the days whose
// dbgen d_weeknuminyear is week in year, for running star semantics (Q1.3)
// against the flat table. ok is false when no such day exists.
func WeekDateRange(year, week int) (first, last int32, ok bool) {
	for d := range DateRows {
		r := DateRow(d)
		if r.Year == year && r.WeekNumInYear == week {
			if !ok {
				first, ok = r.DateKey, true
			}
			last = r.DateKey
		}
	}
	return first, last, ok
}
