package exec

import (
	"strings"
	"unicode/utf8"

	"github.com/strata-db/strata/types"
)

// strMap returns a kernel applying f to a string argument.
func strMap(f func(s string) string) kernel {
	return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
		for _, r := range rows {
			o.setStr(int(r), f(a[0].strv(int(r))))
		}
		return nil
	}
}

// trimKernel is TRIM, LTRIM and RTRIM: with one argument they strip
// spaces; with a second (MySQL's TRIM([BOTH|LEADING|TRAILING] rem FROM s),
// Doris's trim(s, rem)) they strip repeated occurrences of that whole
// string. An empty one strips nothing.
func trimKernel(leading, trailing bool) kernel {
	return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
		for _, r := range rows {
			i := int(r)
			s, rem := a[0].strv(i), " "
			if len(a) > 1 {
				rem = a[1].strv(i)
			}
			if rem != "" {
				for leading && strings.HasPrefix(s, rem) {
					s = s[len(rem):]
				}
				for trailing && strings.HasSuffix(s, rem) {
					s = s[:len(s)-len(rem)]
				}
			}
			o.setStr(i, s)
		}
		return nil
	}
}

// strInt returns a kernel computing an integer from a string argument.
func strInt(f func(s string) int64) kernel {
	return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
		for _, r := range rows {
			o.setInt(int(r), f(a[0].strv(int(r))))
		}
		return nil
	}
}

// utf8Substr is SUBSTRING(s, pos, n) in characters, MySQL rules: pos 1-based,
// negative pos counts from the end, pos 0 gives "".
func utf8Substr(s string, pos, n int64) string {
	if pos == 0 || n <= 0 {
		return ""
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		l := int64(len(s))
		if pos < 0 {
			pos = l + pos + 1
			if pos < 1 {
				return ""
			}
		}
		if pos > l {
			return ""
		}
		end := min(pos-1+n, l)
		return s[pos-1 : end]
	}
	rs := []rune(s)
	l := int64(len(rs))
	if pos < 0 {
		pos = l + pos + 1
		if pos < 1 {
			return ""
		}
	}
	if pos > l {
		return ""
	}
	end := min(pos-1+n, l)
	return string(rs[pos-1 : end])
}

func charLen(s string) int64 { return int64(utf8.RuneCountInString(s)) }

func padStr(s string, n int64, pad string, left bool) (string, bool) {
	if n < 0 {
		return "", false
	}
	l := charLen(s)
	if n <= l {
		return utf8Substr(s, 1, n), true
	}
	if pad == "" {
		return "", false
	}
	var sb strings.Builder
	need := n - l
	pr := []rune(pad)
	fill := make([]rune, 0, need)
	for int64(len(fill)) < need {
		fill = append(fill, pr[len(fill)%len(pr)])
	}
	if left {
		sb.WriteString(string(fill))
		sb.WriteString(s)
	} else {
		sb.WriteString(s)
		sb.WriteString(string(fill))
	}
	return sb.String(), true
}

func reverseStr(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}

// locateChars returns the 1-based character position of sub in s at or after
// character position from, 0 when absent.
func locateChars(sub, s string, from int64) int64 {
	if from < 1 {
		return 0
	}
	start := 0
	for k := int64(1); k < from; k++ {
		if start >= len(s) {
			return 0
		}
		_, w := utf8.DecodeRuneInString(s[start:])
		start += w
	}
	if start > len(s) {
		return 0
	}
	idx := strings.Index(s[start:], sub)
	if idx < 0 {
		return 0
	}
	return from + charLen(s[start:start+idx])
}

func init() {
	str := types.String
	i64 := types.BigInt
	register([]string{"concat"}, funcDef{minArgs: 1, maxArgs: -1, resolve: sig(str, str),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			var buf []byte
			for _, r := range rows {
				buf = buf[:0]
				for _, v := range a {
					buf = append(buf, v.strv(int(r))...)
				}
				o.setBytes(int(r), buf)
			}
			return nil
		}})
	register([]string{"concat_ws"}, funcDef{minArgs: 2, maxArgs: -1, resolve: sig(str, str), nullable: true,
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			var buf []byte
			for _, r := range rows {
				i := int(r)
				if a[0].isNull(i) {
					continue
				}
				sep := a[0].strv(i)
				buf = buf[:0]
				first := true
				for _, v := range a[1:] {
					if v.isNull(i) {
						continue
					}
					if !first {
						buf = append(buf, sep...)
					}
					first = false
					buf = append(buf, v.strv(i)...)
				}
				o.setBytes(i, buf)
			}
			return nil
		}})
	register([]string{"length", "octet_length"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(types.Int, str),
		eval: strInt(func(s string) int64 { return int64(len(s)) })})
	register([]string{"char_length", "character_length"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(types.Int, str),
		eval: strInt(charLen)})
	register([]string{"lower", "lcase"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(str, str), eval: strMap(strings.ToLower)})
	register([]string{"upper", "ucase"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(str, str), eval: strMap(strings.ToUpper)})
	register([]string{"trim"}, funcDef{minArgs: 1, maxArgs: 2, resolve: sig(str, str, str), eval: trimKernel(true, true)})
	register([]string{"ltrim"}, funcDef{minArgs: 1, maxArgs: 2, resolve: sig(str, str, str), eval: trimKernel(true, false)})
	register([]string{"rtrim"}, funcDef{minArgs: 1, maxArgs: 2, resolve: sig(str, str, str), eval: trimKernel(false, true)})
	register([]string{"reverse"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(str, str), eval: strMap(reverseStr)})
	register([]string{"substring", "substr", "mid"}, funcDef{minArgs: 2, maxArgs: 3, resolve: sig(str, str, i64, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				n := int64(1) << 62
				if len(a) == 3 {
					n = a[2].int(i)
				}
				o.setStr(i, utf8Substr(a[0].strv(i), a[1].int(i), n))
			}
			return nil
		}})
	register([]string{"left"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(str, str, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				o.setStr(int(r), utf8Substr(a[0].strv(int(r)), 1, a[1].int(int(r))))
			}
			return nil
		}})
	register([]string{"right"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(str, str, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				s, n := a[0].strv(int(r)), a[1].int(int(r))
				l := charLen(s)
				if n <= 0 {
					o.setStr(int(r), "")
				} else if n >= l {
					o.setStr(int(r), s)
				} else {
					o.setStr(int(r), utf8Substr(s, l-n+1, n))
				}
			}
			return nil
		}})
	register([]string{"replace"}, funcDef{minArgs: 3, maxArgs: 3, resolve: sig(str, str, str, str),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				old := a[1].strv(i)
				if old == "" {
					o.setStr(i, a[0].strv(i))
					continue
				}
				o.setStr(i, strings.ReplaceAll(a[0].strv(i), old, a[2].strv(i)))
			}
			return nil
		}})
	register([]string{"locate"}, funcDef{minArgs: 2, maxArgs: 3, resolve: sig(types.Int, str, str, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				from := int64(1)
				if len(a) == 3 {
					from = a[2].int(i)
				}
				o.setInt(i, locateChars(a[0].strv(i), a[1].strv(i), from))
			}
			return nil
		}})
	register([]string{"instr"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(types.Int, str, str),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				o.setInt(int(r), locateChars(a[1].strv(int(r)), a[0].strv(int(r)), 1))
			}
			return nil
		}})
	pad := func(left bool) kernel {
		return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				if s, ok := padStr(a[0].strv(i), a[1].int(i), a[2].strv(i), left); ok {
					o.setStr(i, s)
				}
			}
			return nil
		}
	}
	register([]string{"lpad"}, funcDef{minArgs: 3, maxArgs: 3, resolve: sig(str, str, i64, str), eval: pad(true)})
	register([]string{"rpad"}, funcDef{minArgs: 3, maxArgs: 3, resolve: sig(str, str, i64, str), eval: pad(false)})
	register([]string{"repeat"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(str, str, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				n := a[1].int(i)
				s := a[0].strv(i)
				if n <= 0 {
					o.setStr(i, "")
					continue
				}
				if int64(len(s))*n > types.MaxStringLength {
					continue // NULL, as Doris does past the string limit
				}
				o.setStr(i, strings.Repeat(s, int(n)))
			}
			return nil
		}})
	register([]string{"split_part"}, funcDef{minArgs: 3, maxArgs: 3, resolve: sig(str, str, str, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				s, sep, k := a[0].strv(i), a[1].strv(i), a[2].int(i)
				if sep == "" || k == 0 {
					continue
				}
				parts := strings.Split(s, sep)
				if k < 0 {
					k = int64(len(parts)) + k + 1
				}
				if k >= 1 && k <= int64(len(parts)) {
					o.setStr(i, parts[k-1])
				}
			}
			return nil
		}})
	register([]string{"starts_with"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(types.Boolean, str, str),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				o.setBool(int(r), strings.HasPrefix(a[0].strv(int(r)), a[1].strv(int(r))))
			}
			return nil
		}})
	register([]string{"ends_with"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(types.Boolean, str, str),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				o.setBool(int(r), strings.HasSuffix(a[0].strv(int(r)), a[1].strv(int(r))))
			}
			return nil
		}})
}
