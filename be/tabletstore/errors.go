package tabletstore

import (
	"errors"
	"fmt"
)

var (
	// ErrTooManyVersions is matched (errors.Is) by the error a load gets
	// when a tablet it writes has more visible rowsets than the limit. The
	// load may be retried once compaction has caught up.
	ErrTooManyVersions = errors.New("tabletstore: too many versions")

	// ErrVersionsCompacted is matched by the error of a read at a version
	// that a compaction merged away: the rowsets the compaction replaced
	// are no longer kept.
	ErrVersionsCompacted = errors.New("tabletstore: versions are already compacted")

	// ErrVersionMissing is matched by the error (a *VersionMissingError)
	// of a read at a version this replica does not hold yet: the tablet
	// lags, and another replica may serve the read.
	ErrVersionMissing = errors.New("tabletstore: version missing")

	// ErrCompactionConflict is matched by the error of a compaction whose
	// input is not (or no longer) a run of visible rowsets, or whose tablet
	// is being compacted already.
	ErrCompactionConflict = errors.New("tabletstore: compaction conflict")

	// ErrSchemaMismatch is matched by the error of a compaction whose
	// inputs were written with different columns or keys; it is skipped.
	ErrSchemaMismatch = errors.New("tabletstore: compaction inputs differ in schema")
)

// TooManyVersionsError is the error of a load into a tablet that has more
// visible rowsets than the limit (Doris: TOO_MANY_VERSION, -235). It is
// retryable: compaction lowers the count, and the load may then succeed.
type TooManyVersionsError struct {
	TabletID int64
	Count    int // visible rowsets when the writer was refused
	Limit    int
}

// Error keeps the wording of Doris's RowsetBuilder so that tools matching
// on it keep working, and says "too many versions" for people.
func (e *TooManyVersionsError) Error() string {
	return fmt.Sprintf("[E-235]failed to init rowset builder. version count: %d, exceed limit: %d, tablet: %d. "+
		"Please reduce the frequency of loading data or adjust the max_tablet_version_num to a larger value "+
		"(too many versions: the load can be retried once compaction has caught up)",
		e.Count, e.Limit, e.TabletID)
}

// Is makes errors.Is(err, ErrTooManyVersions) true.
func (e *TooManyVersionsError) Is(target error) bool { return target == ErrTooManyVersions }

// Temporary reports that retrying the load later may succeed.
func (e *TooManyVersionsError) Temporary() bool { return true }
