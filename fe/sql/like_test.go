package sql

import (
	"strings"
	"testing"
)

func TestMatchLike(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"%", "", true},
		{"%", "anything", true},
		{"a%", "abc", true},
		{"a%", "bac", false},
		{"%c", "abc", true},
		{"%b%", "abc", true},
		{"a_c", "abc", true},
		{"a_c", "ac", false},
		{"a%%c", "ac", true},
		{"%a%b%c", "xaybzc", true},
		{"%a%b%c", "xaybz", false},
		{"lower\\_case\\_%", "lower_case_table_names", true},
		{"lower\\_case\\_%", "lowerXcase_table_names", false},
		{"100\\%", "100%", true},
		{"100\\%", "1000", false},
		{"trailing\\", "trailing\\", true},
		{"192.168.%", "192.168.1.7", true},
		{"192.168._.7", "192.168.1.7", true},
		{"192.168._.7", "192.168.10.7", false},
		{"Abc", "abc", false},
	}
	for _, c := range cases {
		if got := MatchLike(c.pattern, c.s); got != c.want {
			t.Errorf("MatchLike(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
	// A pattern that makes naive backtracking exponential stays quick.
	s := strings.Repeat("a", 5000)
	if MatchLike(strings.Repeat("%a", 40)+"%b", s) {
		t.Error("matched a string without b")
	}
}

func FuzzMatchLike(f *testing.F) {
	f.Add("%a_b\\%", "xxab%")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if MatchLike(pattern, s) && !strings.ContainsAny(pattern, "%_\\") && pattern != s {
			t.Fatalf("literal pattern %q matched %q", pattern, s)
		}
	})
}
