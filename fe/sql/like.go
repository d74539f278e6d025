package sql

// MatchLike reports whether s matches the LIKE pattern: % stands for any
// run of bytes, _ for one byte, and \ makes the byte after it literal.
// Bytes compare exactly; callers fold case first where they want to.
// It is the matcher of the SHOW ... LIKE clauses and of names (users'
// host patterns, metadata filters), and takes time proportional to
// len(pattern) × len(s) at worst, whatever the pattern.
func MatchLike(pattern, s string) bool {
	type tok struct {
		b   byte
		any bool // _
		run bool // %
	}
	toks := make([]tok, 0, len(pattern))
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '%':
			if len(toks) == 0 || !toks[len(toks)-1].run {
				toks = append(toks, tok{run: true})
			}
		case c == '_':
			toks = append(toks, tok{any: true})
		case c == '\\' && i+1 < len(pattern):
			i++
			toks = append(toks, tok{b: pattern[i]})
		default:
			toks = append(toks, tok{b: c})
		}
	}
	// Match left to right; on a mismatch go back to just after the last %
	// and let it take one more byte.
	ti, si := 0, 0
	star, starS := -1, 0
	for si < len(s) {
		switch {
		case ti < len(toks) && toks[ti].run:
			star, starS = ti, si
			ti++
		case ti < len(toks) && (toks[ti].any || toks[ti].b == s[si]):
			ti++
			si++
		case star >= 0:
			starS++
			ti, si = star+1, starS
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].run {
		ti++
	}
	return ti == len(toks)
}
