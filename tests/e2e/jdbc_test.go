package e2e

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mariadbJDBC is where Debian's libmariadb-java puts MariaDB Connector/J.
const mariadbJDBC = "/usr/share/java/mariadb-java-client.jar"

// TestJDBC runs testdata/jdbc/JdbcConformance.java, which drives the
// server through MariaDB Connector/J as dashboards and ETL tools do:
// DatabaseMetaData, prepared statements of every type (client-side and
// server-side), batches, result types and NULLs, time zones and errors.
// The program counts its checks and exits non-zero on any failure.
func TestJDBC(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatal("java is not installed; scripts/test.sh installs it (apt-get install default-jdk-headless)")
	}
	if _, err := os.Stat(mariadbJDBC); err != nil {
		t.Fatalf("MariaDB Connector/J is not installed at %s; scripts/test.sh installs it (apt-get install libmariadb-java)", mariadbJDBC)
	}
	s := startServer(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, java, "-cp", mariadbJDBC, "testdata/jdbc/JdbcConformance.java",
		"127.0.0.1", strconv.Itoa(s.Query))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "JDBC conformance:\n%s\nserver log:\n%s", out, s.logs.String())
	m := regexp.MustCompile(`checks passed: (\d+)`).FindSubmatch(out)
	require.NotNil(t, m, "no check count in:\n%s", out)
	n, _ := strconv.Atoi(string(m[1]))
	// Every check ran: a section that stopped early would pass fewer.
	require.GreaterOrEqual(t, n, 150, "%s", out)
	t.Logf("JDBC conformance: %d checks passed", n)
}
