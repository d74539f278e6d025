package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// flinkJob plays a Flink job with a two-phase Doris sink on one subtask:
// each checkpoint's records go into one load labelled
// {prefix}_{db}_{table}_{subtask}_{checkpoint}, precommitted at the barrier
// and committed when the checkpoint completes. Checkpoint state is the list
// of committables of the last completed checkpoint.
type flinkJob struct {
	t      *testing.T
	c      *connector
	prefix string
	rows   int // records per checkpoint
}

func (j *flinkJob) label(chk int) string { return fmt.Sprintf("%s_db_d_0_%d", j.prefix, chk) }

// records are the checkpoint's records; a replay after a restore produces
// the same ones (the source rewinds to the checkpoint's offsets).
func (j *flinkJob) records(chk int) []byte { return jsonRows(chk*10_000, j.rows) }

// barrier precommits the checkpoint's load and returns its committable.
func (j *flinkJob) barrier(chk int) int64 {
	j.t.Helper()
	res := j.c.precommit("db", "d", j.label(chk), j.records(chk))
	requireSuccess(j.t, res)
	return res.num("TxnId")
}

// complete commits a committable the way the committer does: success, or
// the "already committed/visible" reply.
func (j *flinkJob) complete(id int64) {
	j.t.Helper()
	rep := j.c.commit("db", id)
	require.True(j.t, rep["status"] == "Success" || commitOK.MatchString(rep["msg"]), "commit %d: %v", id, rep)
}

// restore runs the writer's start-up: probe labels from the checkpoint
// after the restored one, aborting leftovers, until a probe succeeds
// (whose empty txn is aborted too). It returns how many leftovers it
// aborted.
func (j *flinkJob) restore(restored int) int {
	j.t.Helper()
	aborted := 0
	for chk := restored + 1; ; chk++ {
		res := j.c.probe("db", "d", j.label(chk))
		require.Equal(j.t, "true", res.str("TwoPhaseCommit"))
		switch res.str("Status") {
		case "Label Already Exists":
			require.Contains(j.t, []string{"PRECOMMITTED", "RUNNING"}, res.str("ExistingJobStatus"), "the job must not find a finished label: %v", res)
			m := labelExistsText.FindStringSubmatch(res.str("Message"))
			require.NotNil(j.t, m)
			id, _ := strconv.ParseInt(m[2], 10, 64)
			rep := j.c.abort("db", id)
			require.True(j.t, rep["status"] == "Success" || abortByIDOK.MatchString(rep["msg"]), "%v", rep)
			aborted++
		default:
			requireSuccess(j.t, res)
			require.Equal(j.t, "Success", j.c.abort("db", res.num("TxnId"))["status"])
			return aborted
		}
	}
}

// requireExactlyOnce checks that checkpoints 1..upTo are each present once
// and nothing else is.
func (j *flinkJob) requireExactlyOnce(s *Server, upTo int) {
	j.t.Helper()
	var wantRows, wantSum int
	for chk := 1; chk <= upTo; chk++ {
		for i := 0; i < j.rows; i++ {
			wantRows++
			wantSum += chk*10_000 + i
		}
	}
	out := s.MustMySQL("SELECT count(*), count(DISTINCT id), coalesce(sum(id), 0) FROM db.d")
	require.Equal(j.t, fmt.Sprintf("%d\t%d\t%d\n", wantRows, wantRows, wantSum), out)
}

// TestFlinkJobAcrossRestart runs a two-phase sink across kill -9 restarts of
// the server: a precommitted checkpoint survives the crash and commits
// once; a restored job re-probes its labels, aborts what a failed
// checkpoint and an interrupted load left, and replays them; nothing is
// lost or loaded twice.
func TestFlinkJobAcrossRestart(t *testing.T) {
	s := startServer(t, "")
	s.MustMySQL(conformanceDDL)
	c := newConnector(t, s)
	job := &flinkJob{t: t, c: c, prefix: "job", rows: 500}

	// Fresh start, then three checkpoints.
	require.Equal(t, 0, job.restore(0))
	for chk := 1; chk <= 3; chk++ {
		job.complete(job.barrier(chk))
	}
	job.requireExactlyOnce(s, 3)

	// Checkpoint 4 is precommitted; the server dies before the checkpoint's
	// completion reaches the committer.
	chk4 := job.barrier(4)
	s.Kill9()
	s.Restart()
	job.requireExactlyOnce(s, 3)
	// Flink restores checkpoint 4 and the committer commits its committable.
	job.complete(chk4)
	job.requireExactlyOnce(s, 4)
	job.complete(chk4) // committed again by a second restore: accepted
	job.requireExactlyOnce(s, 4)

	// Checkpoint 5 is precommitted but never completes; checkpoint 6's load
	// is in flight when the server dies.
	job.barrier(5)
	pr, pw := io.Pipe()
	inflight := make(chan struct{})
	go func() {
		defer close(inflight)
		req, _ := http.NewRequest(http.MethodPut, c.beURL("/api/db/d/_stream_load"), pr)
		req.ContentLength = -1
		req.SetBasicAuth("root", "")
		req.Header.Set("Expect", "100-continue")
		req.Header.Set("label", job.label(6))
		req.Header.Set("two_phase_commit", "true")
		req.Header.Set("format", "json")
		resp, err := c.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	_, err := pw.Write(job.records(6))
	require.NoError(t, err)
	// The load has begun once its label is taken.
	require.Eventually(t, func() bool {
		res := c.probe("db", "d", job.label(6))
		return res.str("Status") == "Label Already Exists" && res.str("ExistingJobStatus") == "RUNNING"
	}, 30*time.Second, 50*time.Millisecond)
	s.Kill9()
	pw.CloseWithError(io.ErrUnexpectedEOF)
	<-inflight
	s.Restart()
	job.requireExactlyOnce(s, 4)

	// The job restores checkpoint 4: its writer aborts checkpoint 5's
	// precommitted load; checkpoint 6's died with the server (recovery
	// aborted it, freeing its label), so the probe of 6 succeeds.
	require.Equal(t, 1, job.restore(4))
	job.requireExactlyOnce(s, 4)
	// The source rewinds and the job runs checkpoints 5 and 6 again.
	for chk := 5; chk <= 6; chk++ {
		job.complete(job.barrier(chk))
	}
	job.requireExactlyOnce(s, 6)

	// A precommit that the job aborts (a failed checkpoint) never shows.
	id := job.barrier(7)
	require.Equal(t, "Success", c.abort("db", id)["status"])
	s.Kill9()
	s.Restart()
	job.requireExactlyOnce(s, 6)
	// ... and its label is reused by the retry.
	job.complete(job.barrier(7))
	job.requireExactlyOnce(s, 7)
}
