package sql

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that no input makes the parser panic, and that the
// canonical text of a parsed query parses again to the same text.
//
//	go test ./fe/sql -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	for _, tc := range corpus {
		f.Add(tc.sql)
	}
	for _, file := range []string{"testdata/sqlmd_examples.sql", "testdata/ssb_star.sql", "testdata/ssb_flat.sql"} {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(string(data))
		}
	}
	for _, s := range []string{"", ";", "'", "`", "/*", "/*!", "*/", "@@", "SELECT ((((", "a >> b", "ARRAY<ARRAY<INT>>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := ParseMulti(sql)
		if err != nil {
			return
		}
		for _, s := range stmts {
			q, ok := s.(*SelectStmt)
			if !ok {
				continue
			}
			text := q.String()
			again, err := Parse(text)
			var se *SyntaxError
			if errors.As(err, &se) && se.Detail == "statement nested too deeply" {
				// The canonical text adds parentheses, so it may nest
				// deeper than the input did.
				continue
			}
			if err != nil {
				t.Fatalf("canonical text %q of %q does not parse: %v", text, s.Text(), err)
			}
			if again.String() != text {
				t.Fatalf("canonical text changed: %q -> %q", text, again.String())
			}
		}
	})
}
