package exec

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/types"
)

// likeMatcher matches one compiled LIKE pattern.
type likeMatcher struct {
	kind   int // 0 exact, 1 prefix, 2 suffix, 3 contains, 4 general, 5 any (%)
	lit    string
	re     *regexp.Regexp
	suffix string
}

// compileLike compiles a LIKE pattern with escape character esc.
// Fast paths: 'abc', 'abc%', '%abc', '%abc%', '%'.
func compileLike(pat string, esc byte) (*likeMatcher, error) {
	// Tokenize into literal runs and wildcards.
	var lit strings.Builder
	type tok struct {
		wild byte // 0 literal, '%' or '_'
		s    string
	}
	var toks []tok
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case c == esc && i+1 < len(pat):
			i++
			lit.WriteByte(pat[i])
		case c == '%' || c == '_':
			if lit.Len() > 0 {
				toks = append(toks, tok{s: lit.String()})
				lit.Reset()
			}
			if c == '%' && len(toks) > 0 && toks[len(toks)-1].wild == '%' {
				continue
			}
			toks = append(toks, tok{wild: c})
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		toks = append(toks, tok{s: lit.String()})
	}
	switch {
	case len(toks) == 0:
		return &likeMatcher{kind: 0}, nil
	case len(toks) == 1 && toks[0].wild == 0:
		return &likeMatcher{kind: 0, lit: toks[0].s}, nil
	case len(toks) == 1 && toks[0].wild == '%':
		return &likeMatcher{kind: 5}, nil
	case len(toks) == 2 && toks[0].wild == 0 && toks[1].wild == '%':
		return &likeMatcher{kind: 1, lit: toks[0].s}, nil
	case len(toks) == 2 && toks[0].wild == '%' && toks[1].wild == 0:
		return &likeMatcher{kind: 2, lit: toks[1].s}, nil
	case len(toks) == 3 && toks[0].wild == '%' && toks[1].wild == 0 && toks[2].wild == '%':
		return &likeMatcher{kind: 3, lit: toks[1].s}, nil
	}
	var re strings.Builder
	re.WriteString(`(?s)\A`)
	for _, t := range toks {
		switch t.wild {
		case '%':
			re.WriteString(".*")
		case '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(t.s))
		}
	}
	re.WriteString(`\z`)
	r, err := regexp.Compile(re.String())
	if err != nil {
		return nil, fmt.Errorf("LIKE pattern %q: %w", pat, err)
	}
	return &likeMatcher{kind: 4, re: r}, nil
}

func (m *likeMatcher) match(s string) bool {
	switch m.kind {
	case 0:
		return s == m.lit
	case 1:
		return strings.HasPrefix(s, m.lit)
	case 2:
		return strings.HasSuffix(s, m.lit)
	case 3:
		return strings.Contains(s, m.lit)
	case 5:
		return true
	}
	return m.re.MatchString(s)
}

// Like is arg [NOT] LIKE pattern [ESCAPE esc], or arg [NOT] REGEXP pattern.
type Like struct {
	Arg, Pattern Expr
	Not          bool
	Regexp       bool
	Escape       byte

	lm *likeMatcher   // constant LIKE pattern
	re *regexp.Regexp // constant REGEXP pattern
}

// NewLike returns arg [NOT] LIKE pattern with escape character esc ('\\' by
// default in SQL). A constant pattern is compiled once.
func NewLike(arg, pattern Expr, esc byte, not bool) (Expr, error) {
	if err := checkNotObject(arg, pattern); err != nil {
		return nil, err
	}
	l := &Like{Arg: Coerce(arg, types.String), Pattern: Coerce(pattern, types.String), Not: not, Escape: esc}
	if lit, ok := l.Pattern.(*Literal); ok && lit.Value != nil {
		m, err := compileLike(lit.Value.(string), esc)
		if err != nil {
			return nil, err
		}
		l.lm = m
	}
	return l, nil
}

// NewRegexp returns arg [NOT] REGEXP pattern (RE2 syntax, unanchored).
func NewRegexp(arg, pattern Expr, not bool) (Expr, error) {
	if err := checkNotObject(arg, pattern); err != nil {
		return nil, err
	}
	l := &Like{Arg: Coerce(arg, types.String), Pattern: Coerce(pattern, types.String), Not: not, Regexp: true}
	if lit, ok := l.Pattern.(*Literal); ok && lit.Value != nil {
		re, err := regexp.Compile(lit.Value.(string))
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression %q: %w", lit.Value, err)
		}
		l.re = re
	}
	return l, nil
}

func (l *Like) Type() types.Type { return types.Boolean }
func (l *Like) String() string {
	op := "LIKE"
	if l.Regexp {
		op = "REGEXP"
	}
	if l.Not {
		op = "NOT " + op
	}
	return fmt.Sprintf("(%s %s %s)", l.Arg, op, l.Pattern)
}

func (l *Like) eval(ctx *EvalContext, b *Batch, rows []int32, set func(i int32, v bool)) error {
	v, err := evalView(ctx, l.Arg, withSel(b, rows))
	if err != nil {
		return err
	}
	pv, err := evalView(ctx, l.Pattern, withSel(b, rows))
	if err != nil {
		return err
	}
	if v.constNull() || pv.constNull() {
		return nil
	}
	for _, r := range rows {
		i := int(r)
		if v.isNull(i) || pv.isNull(i) {
			continue
		}
		s := v.strv(i)
		var ok bool
		switch {
		case l.lm != nil:
			ok = l.lm.match(s)
		case l.re != nil:
			ok = l.re.MatchString(s)
		case l.Regexp:
			re, err := regexp.Compile(pv.strv(i))
			if err != nil {
				return fmt.Errorf("invalid regular expression %q: %w", pv.strv(i), err)
			}
			ok = re.MatchString(s)
		default:
			m, err := compileLike(pv.strv(i), l.Escape)
			if err != nil {
				return err
			}
			ok = m.match(s)
		}
		set(r, ok != l.Not)
	}
	return nil
}

func (l *Like) Eval(ctx *EvalContext, b *Batch) (arrow.Array, error) {
	o := newOut(types.Boolean, b.Len)
	if err := l.eval(ctx, b, rowsOf(b), func(i int32, v bool) { o.setBool(int(i), v) }); err != nil {
		return nil, err
	}
	return o.finish(), nil
}

func (l *Like) selectRows(ctx *EvalContext, b *Batch, rows, out []int32) ([]int32, error) {
	err := l.eval(ctx, b, rows, func(i int32, v bool) {
		if v {
			out = append(out, i)
		}
	})
	return out, err
}
