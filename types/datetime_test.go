package types

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCivilRoundTrip(t *testing.T) {
	for z := int32(-800000); z < 3000000; z += 97 {
		y, m, d := CivilFromDays(z)
		require.Equal(t, z, DaysFromCivil(y, m, d), "days %d -> %d-%d-%d", z, y, m, d)
		want := time.Unix(int64(z)*86400, 0).UTC()
		if y >= 1 {
			require.Equal(t, want.Year(), y)
			require.Equal(t, int(want.Month()), m)
			require.Equal(t, want.Day(), d)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		err  bool
	}{
		{in: "2024-02-29", want: "2024-02-29"},
		{in: "2023-02-29", err: true},
		{in: "1992-1-2", want: "1992-01-02"},
		{in: "19980802", want: "1998-08-02"},
		{in: "2024-03-01 10:11:12", want: "2024-03-01"},
		{in: "2024-03-01 25:00:00", err: true},
		{in: "2024-13-01", err: true},
		{in: "abc", err: true},
		{in: "", err: true},
		{in: "2024-03-01 ", err: true},
	} {
		d, err := ParseDate(tc.in)
		if tc.err {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, string(AppendDate(nil, d)))
	}
}

func TestParseDateTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		prec int
		want string
		err  bool
	}{
		{in: "2024-03-01 10:11:12", want: "2024-03-01 10:11:12"},
		{in: "2024-03-01T10:11:12.123456", prec: 6, want: "2024-03-01 10:11:12.123456"},
		{in: "2024-03-01 10:11:12.5", prec: 3, want: "2024-03-01 10:11:12.500"},
		{in: "2024-03-01 10:11:12.1234567", prec: 6, want: "2024-03-01 10:11:12.123456"},
		{in: "2024-03-01", want: "2024-03-01 00:00:00"},
		{in: "20240301101112", want: "2024-03-01 10:11:12"},
		{in: "1969-12-31 23:59:59", want: "1969-12-31 23:59:59"},
		{in: "2024-03-01 10:61:00", err: true},
		{in: "2024-03-01 10:11:12.", err: true},
	} {
		us, err := ParseDateTime(tc.in)
		if tc.err {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, string(AppendDateTime(nil, us, tc.prec)))
	}
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{"2024-03-01 10:11:12.123", "19980802", "1-1-1", "9999-12-31 23:59:59.999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if us, err := ParseDateTime(s); err == nil {
			back, err := ParseDateTime(string(AppendDateTime(nil, us, 6)))
			require.NoError(t, err)
			require.Equal(t, us, back)
		}
		_, _ = ParseDate(s)
	})
}
