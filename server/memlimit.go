package server

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ParseMemLimit reads a memory limit as Doris's BE configuration writes
// them: a percentage of physical memory ("20%") or a byte count with an
// optional K, M, G or T suffix (powers of 1024; "512M", "4G", "0").
func ParseMemLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		p, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || p < 0 || p > 100 {
			return 0, fmt.Errorf("memory limit %q: a percentage must be between 0%% and 100%%", s)
		}
		return int64(float64(physicalMemory()) * p / 100), nil
	}
	mult := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		case 't', 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("memory limit %q: want a percentage (20%%) or a size (512M, 4G)", s)
	}
	return v * mult, nil
}

// physicalMemory is the machine's memory in bytes from /proc/meminfo, or
// 4 GiB where that cannot be read.
func physicalMemory() int64 {
	const fallback = 4 << 30
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return fallback
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 2 && fields[1] == "kB" {
			if kb, err := strconv.ParseInt(fields[0], 10, 64); err == nil && kb > 0 {
				return kb << 10
			}
		}
	}
	return fallback
}
