package exec

import (
	"github.com/strata-db/strata/types"
)

// The whole-unit differences between two dates or datetimes, Doris's
// years_diff .. microseconds_diff: f(a, b) counts the complete units from
// b to a, as MySQL's TIMESTAMPDIFF(unit, b, a) does, so a month is only
// counted once its day and time of day are reached. The parser turns
// TIMESTAMPDIFF into these, and TIMESTAMPADD into date_add.

// microsOf returns row i of a DATE or DATETIME view as µs since the epoch.
func microsOf(v *view, i int) int64 {
	if v.t.Kind == types.KindDate {
		return v.int(i) * microsPerDay
	}
	return v.int(i)
}

// monthsBetween counts the complete months from b to a (negative when a
// is earlier).
func monthsBetween(a, b int64) int64 {
	ad, ar := splitMicros(a)
	bd, br := splitMicros(b)
	ay, am, aday := daysToCivil(ad)
	by, bm, bday := daysToCivil(bd)
	months := int64(ay-by)*12 + int64(am-bm)
	// The rest of the interval, as (day of month, time of day).
	aRest := int64(aday)*microsPerDay + ar
	bRest := int64(bday)*microsPerDay + br
	switch {
	case months > 0 && aRest < bRest:
		months--
	case months < 0 && aRest > bRest:
		months++
	}
	return months
}

func init() {
	temporal2 := func(args []types.Type) (types.Type, []types.Type, error) {
		ats := make([]types.Type, 2)
		for i, t := range args {
			if t.Kind.IsTemporal() {
				ats[i] = t
			} else {
				ats[i] = types.DateTime(6)
			}
		}
		return types.BigInt, ats, nil
	}
	byMonths := func(per int64) kernel {
		return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				o.setInt(i, monthsBetween(microsOf(a[0], i), microsOf(a[1], i))/per)
			}
			return nil
		}
	}
	byMicros := func(per int64) kernel {
		return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				// Truncated toward zero: only complete units count.
				o.setInt(i, (microsOf(a[0], i)-microsOf(a[1], i))/per)
			}
			return nil
		}
	}
	register([]string{"years_diff"}, funcDef{minArgs: 2, maxArgs: 2, resolve: temporal2, eval: byMonths(12)})
	register([]string{"quarters_diff"}, funcDef{minArgs: 2, maxArgs: 2, resolve: temporal2, eval: byMonths(3)})
	register([]string{"months_diff"}, funcDef{minArgs: 2, maxArgs: 2, resolve: temporal2, eval: byMonths(1)})
	register([]string{"weeks_diff"}, funcDef{minArgs: 2, maxArgs: 2, resolve: temporal2, eval: byMicros(7 * microsPerDay)})
	register([]string{"days_diff"}, funcDef{minArgs: 2, maxArgs: 2, resolve: temporal2, eval: byMicros(microsPerDay)})
	register([]string{"hours_diff"}, funcDef{minArgs: 2, maxArgs: 2, resolve: temporal2, eval: byMicros(3600 * microsPerSecond)})
	register([]string{"minutes_diff"}, funcDef{minArgs: 2, maxArgs: 2, resolve: temporal2, eval: byMicros(60 * microsPerSecond)})
	register([]string{"seconds_diff"}, funcDef{minArgs: 2, maxArgs: 2, resolve: temporal2, eval: byMicros(microsPerSecond)})
	register([]string{"milliseconds_diff"}, funcDef{minArgs: 2, maxArgs: 2, resolve: temporal2, eval: byMicros(1000)})
	register([]string{"microseconds_diff"}, funcDef{minArgs: 2, maxArgs: 2, resolve: temporal2, eval: byMicros(1)})

	// UTC_TIMESTAMP() and UTC_DATE(): now in UTC, whatever @@time_zone.
	register([]string{"utc_timestamp"}, funcDef{minArgs: 0, maxArgs: 0, volatile: true, resolve: sig(types.DateTime(0), types.BigInt),
		eval: func(ctx *EvalContext, _ []*view, o *outVec, rows []int32) error {
			us := timeToMicros(ctx.now().UTC())
			us -= us - floorDiv(us, microsPerSecond)*microsPerSecond
			for _, r := range rows {
				o.setInt(int(r), us)
			}
			return nil
		}})
	register([]string{"utc_date"}, funcDef{minArgs: 0, maxArgs: 0, volatile: true, resolve: sig(types.Date, types.Date),
		eval: func(ctx *EvalContext, _ []*view, o *outVec, rows []int32) error {
			t := ctx.now().UTC()
			days := civilToDays(t.Year(), int(t.Month()), t.Day())
			for _, r := range rows {
				o.setInt(int(r), days)
			}
			return nil
		}})
}
