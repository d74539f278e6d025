package server

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseMemLimit(t *testing.T) {
	mem := physicalMemory()
	require.Positive(t, mem)
	for in, want := range map[string]int64{
		"0": 0, "512M": 512 << 20, "4G": 4 << 30, "2k": 2048, "1T": 1 << 40, "123": 123,
		"20%": int64(float64(mem) * 20 / 100), "0%": 0, "100%": mem, " 8g ": 8 << 30,
	} {
		got, err := ParseMemLimit(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "%", "-1", "-5%", "101%", "12X", "G", "1.5G", "99999999999T"} {
		_, err := ParseMemLimit(bad)
		require.Error(t, err, bad)
	}
}
