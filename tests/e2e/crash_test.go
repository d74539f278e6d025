package e2e

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKill9DuringStreamLoad kills the server with SIGKILL while a stream load
// is sending its body, restarts it on the same data dir, and checks that the
// interrupted load is wholly absent or wholly present, that every earlier
// acknowledged load is intact, and that new loads are accepted.
func TestKill9DuringStreamLoad(t *testing.T) {
	s := startServer(t, "")
	s.MustMySQL(salesDDL)

	acked := 0
	for i := 0; i < 3; i++ {
		rows := genSales(uint64(10+i), int64(i*10_000+1), 10_000)
		resp := s.StreamLoad("demo", "sales", writeCSV(t, rows, "\t"), fmt.Sprintf("label: acked_%d", i))
		require.Equal(t, "Success", resp["Status"], "%v", resp)
		acked += len(rows)
	}

	for trial, delay := range []time.Duration{300 * time.Millisecond, 1200 * time.Millisecond} {
		// Stream a large body through curl's stdin in slices, so the kill lands
		// mid-body.
		rows := genSales(uint64(100+trial), int64(1_000_000*(trial+1)), 50_000)
		var body strings.Builder
		for _, r := range rows {
			q := `\N`
			if r.qty != nil {
				q = strconv.Itoa(int(*r.qty))
			}
			fmt.Fprintf(&body, "%s\t%d\t%s\t%d\t%s\t%s\t%s\n", r.date, r.id, r.region, r.store, q, centsString(r.cents), r.note)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, curlBinary(t), "-sS", "--location-trusted", "-u", "root:", "-T", "-",
			"-H", "Expect: 100-continue", "-H", fmt.Sprintf("label: crash_%d", trial),
			fmt.Sprintf("http://127.0.0.1:%d/api/demo/sales/_stream_load", s.HTTP))
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		go func() {
			data := body.String()
			for len(data) > 0 {
				n := min(64<<10, len(data))
				if _, err := io.WriteString(stdin, data[:n]); err != nil {
					return
				}
				data = data[n:]
				time.Sleep(20 * time.Millisecond)
			}
			stdin.Close()
		}()
		time.Sleep(delay)
		s.Kill9()
		cancel()
		_ = cmd.Wait()

		s.Restart()
		got, err := strconv.Atoi(strings.TrimSpace(s.MustMySQL("SELECT count(*) FROM demo.sales")))
		require.NoError(t, err)
		if got != acked && got != acked+len(rows) {
			t.Fatalf("after kill -9 in trial %d: %d rows visible, want %d (load absent) or %d (load present)", trial, got, acked, acked+len(rows))
		}
		acked = got
		// Earlier acknowledged loads are intact, row for row.
		require.Equal(t, "10000\n", s.MustMySQL("SELECT count(*) FROM demo.sales WHERE id BETWEEN 10001 AND 20000"))
	}

	// The server accepts new loads, and the labels of the acknowledged ones
	// are still taken.
	rows := genSales(99, 5_000_000, 1000)
	resp := s.StreamLoad("demo", "sales", writeCSV(t, rows, "\t"), "label: after_crash")
	require.Equal(t, "Success", resp["Status"], "%v", resp)
	require.Equal(t, fmt.Sprintf("%d\n", acked+1000), s.MustMySQL("SELECT count(*) FROM demo.sales"))
	resp = s.StreamLoad("demo", "sales", writeCSV(t, rows, "\t"), "label: acked_1")
	require.Equal(t, "Label Already Exists", resp["Status"], "%v", resp)
}
