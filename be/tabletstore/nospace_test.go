package tabletstore

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/failpoint"
)

// TestWriteFailureLeavesNothing fails a delta writer's Close at each
// storage failpoint, with a full disk, and checks that the load's abort
// (Cancel, then AbortTxn, as the sink does) leaves no pending rowset, no
// record and no file behind, on the running store and after a reopen.
func TestWriteFailureLeavesNothing(t *testing.T) {
	for _, point := range []string{
		"tabletstore/segment-before-fsync",
		"tabletstore/before-meta-commit",
		"tabletstore/after-meta-commit",
	} {
		t.Run(filepath.Base(point), func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, nil)
			require.NoError(t, err)
			write(t, s, 1, 100, []int64{1, 2})
			require.NoError(t, s.PublishTxn(100, map[int64]int64{1: 2}))

			require.NoError(t, failpoint.Arm(point, failpoint.Spec{Action: failpoint.NoSpace}))
			t.Cleanup(failpoint.DisarmAll)
			w, err := s.NewDeltaWriter(1, 101, testSchema)
			require.NoError(t, err)
			cols := batch([]int64{3, 4}, []*string{nil, str("n")})
			require.NoError(t, w.Write(cols))
			releaseArrays(cols)
			err = w.Close()
			require.ErrorIs(t, err, syscall.ENOSPC)
			w.Cancel()
			require.NoError(t, s.AbortTxn(101))
			failpoint.DisarmAll()

			require.Empty(t, s.PendingTxns(), "the failed load's rowset is not left pending")
			files, err := filepath.Glob(filepath.Join(s.tabletDir(1), "*.seg"))
			require.NoError(t, err)
			require.Len(t, files, 1, "only the published rowset's segment stays: %v", files)

			write(t, s, 1, 102, []int64{5})
			require.NoError(t, s.PublishTxn(102, map[int64]int64{1: 3}))
			require.Equal(t, []int64{1, 2, 5}, readAll(t, s, 1, 3))
			require.NoError(t, s.Close())

			s, err = Open(dir, nil)
			require.NoError(t, err)
			defer s.Close()
			require.Empty(t, s.PendingTxns(), "no record of the failed load survives a reopen")
			require.Equal(t, []int64{1, 2, 5}, readAll(t, s, 1, 3))
		})
	}
}
