package mysqlproto

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runCLI runs the mysql command-line client against addr.
func runCLI(t *testing.T, addr string, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("mysql")
	if err != nil {
		bin, err = exec.LookPath("mariadb")
	}
	if err != nil {
		t.Fatalf("the mysql command-line client is needed: install it with `apt-get install -y mariadb-client` (or mysql-client)")
	}
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	full := append([]string{"-h" + host, "-P" + port, "--protocol=TCP", "-uroot"}, args...)
	out, err := exec.CommandContext(ctx, bin, full...).CombinedOutput()
	return string(out), err
}

func TestCLI(t *testing.T) {
	addr, _, _ := startServer(t, Options{})

	out, err := runCLI(t, addr, "-e", "select types")
	require.NoError(t, err, out)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	require.Len(t, lines, 3, out)
	require.Equal(t, "b\tti\tsi\ti\tbi\tli\tf\td\tdec\tdt\tdtm\tdtm6\tc\tvc\ts", lines[0])
	require.Equal(t, strings.Join(typeText, "\t"), lines[1])
	require.Equal(t, strings.Repeat("NULL\t", len(typeText)-1), lines[2])

	out, err = runCLI(t, addr, "-e", `select types\G`)
	require.NoError(t, err, out)
	require.Contains(t, out, "*************************** 1. row ***************************")
	require.Contains(t, out, "dtm6: 2024-02-29 13:14:15.123456")
	require.Contains(t, out, "  li: 170141183460469231731687303715884105727")

	// -D sends the database in the handshake; USE sends COM_INIT_DB.
	out, err = runCLI(t, addr, "-D", "db1", "-e", "select database(); use test; select database(); insert into t")
	require.NoError(t, err, out)
	require.Equal(t, "DATABASE()\ndb1\nDATABASE()\ntest\n", out)

	// Errors are reported with number and state; the client exits non-zero.
	out, err = runCLI(t, addr, "-e", "select nope")
	require.Error(t, err)
	require.Contains(t, out, "ERROR 1146 (42S02)")

	out, err = runCLI(t, addr, "-unobody", "-e", "select 1")
	require.Error(t, err)
	require.Contains(t, out, "ERROR 1045 (28000): Access denied for user 'nobody'")

	// Several statements in one packet come back as several results.
	out, err = runCLI(t, addr, "-e", "select 1; select 1")
	require.NoError(t, err, out)
	require.Equal(t, "1\n1\n1\n1\n", out)
}
