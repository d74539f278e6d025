package exec

import (
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/strata-db/strata/types"
)

// regexpCache compiles the patterns of one batch, keeping the last one:
// patterns are almost always constant.
type regexpCache struct {
	pat string
	re  *regexp.Regexp
}

func (c *regexpCache) compile(pat string) (*regexp.Regexp, error) {
	if c.re != nil && c.pat == pat {
		return c.re, nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		// MySQL fails the statement on a bad pattern rather than
		// returning NULL.
		return nil, fmt.Errorf("invalid regular expression %q: %w", pat, err)
	}
	c.pat, c.re = pat, re
	return re, nil
}

// regexpSubstr is MySQL's REGEXP_SUBSTR(s, pat[, pos[, occurrence]]): the
// occurrence-th match at or after character pos (both from 1); ok false
// (NULL) when there is none.
func regexpSubstr(re *regexp.Regexp, s string, pos, occurrence int64) (string, bool) {
	if pos < 1 || occurrence < 1 {
		return "", false
	}
	// pos counts characters; find its byte offset.
	off := 0
	for n := int64(1); n < pos; n++ {
		if off >= len(s) {
			return "", false
		}
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	if off > len(s) {
		return "", false
	}
	ms := re.FindAllStringIndex(s[off:], int(min(occurrence, 1<<20)))
	if int64(len(ms)) < occurrence {
		return "", false
	}
	m := ms[occurrence-1]
	return s[off+m[0] : off+m[1]], true
}

func init() {
	str, i64 := types.String, types.BigInt
	register([]string{"regexp_substr"}, funcDef{minArgs: 2, maxArgs: 4, resolve: sig(str, str, str, i64, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			var cache regexpCache
			for _, r := range rows {
				i := int(r)
				re, err := cache.compile(a[1].strv(i))
				if err != nil {
					return err
				}
				pos, occ := int64(1), int64(1)
				if len(a) > 2 {
					pos = a[2].int(i)
				}
				if len(a) > 3 {
					occ = a[3].int(i)
				}
				if m, ok := regexpSubstr(re, a[0].strv(i), pos, occ); ok {
					o.setStr(i, m)
				}
			}
			return nil
		}})
}
