package session

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/fe/txn"
)

func TestInsertThenSelect(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e, 1)
	query(t, s, "CREATE DATABASE d")
	query(t, s, "USE d")
	query(t, s, "CREATE TABLE t (k INT NOT NULL, v VARCHAR(8)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 3")
	query(t, s, "INSERT INTO t VALUES (2, 'b'), (1, 'a'), (3, NULL)")
	require.Equal(t, []string{"1\ta", "2\tb", "3\tNULL"}, query(t, s, "SELECT k, v FROM t ORDER BY k"))
}

// SHOW PROCESSLIST reads the current database of every other connection
// while those connections change it.
func TestProcesslistWhileOthersChangeDatabase(t *testing.T) {
	e := newTestEngine(t)
	a := newTestSession(t, e, 1)
	b := newTestSession(t, e, 2)
	query(t, a, "CREATE DATABASE d1")
	query(t, a, "CREATE DATABASE d2")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			db := "d1"
			if i%2 == 1 {
				db = "d2"
			}
			require.NoError(t, b.UseDB(context.Background(), db))
		}
	}()
	for i := 0; i < 200; i++ {
		require.Len(t, query(t, a, "SHOW PROCESSLIST"), 2)
	}
	wg.Wait()
}

// INSERT ... SELECT is as strict as INSERT ... VALUES: a value that does not
// fit the target column fails the statement instead of being cut or nulled.
func TestInsertSelectIsStrict(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e, 1)
	query(t, s, "CREATE DATABASE d")
	query(t, s, "USE d")
	query(t, s, "CREATE TABLE src (k INT NOT NULL, big BIGINT, str VARCHAR(16)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	query(t, s, "CREATE TABLE dst (k INT NOT NULL, small TINYINT, short VARCHAR(3)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	query(t, s, "INSERT INTO src VALUES (1, 5, 'abc'), (2, 300, 'abc'), (3, 6, 'abcdef'), (4, NULL, NULL)")

	_, err := s.Query(context.Background(), "INSERT INTO dst (k, short) VALUES (1, 'abcdef')")
	require.ErrorContains(t, err, "Data too long")

	_, err = s.Query(context.Background(), "INSERT INTO dst SELECT k, 1, str FROM src WHERE k = 3")
	require.ErrorContains(t, err, "Data too long")
	_, err = s.Query(context.Background(), "INSERT INTO dst SELECT k, big, 'x' FROM src WHERE k = 2")
	require.Error(t, err)
	require.Empty(t, query(t, s, "SELECT * FROM dst"))

	// Values that fit, and NULLs that were NULL already, go in.
	query(t, s, "INSERT INTO dst SELECT k, big, str FROM src WHERE k IN (1, 4)")
	require.Equal(t, []string{"1\t5\tabc", "4\tNULL\tNULL"}, query(t, s, "SELECT * FROM dst ORDER BY k"))
}

type failingPublisher struct {
	txn.Publisher
	fail *atomic.Bool
}

func (p failingPublisher) Publish(ctx context.Context, txnID int64, versions map[int64]int64) error {
	if p.fail.Load() {
		return errors.New("backend unavailable")
	}
	return p.Publisher.Publish(ctx, txnID, versions)
}

// An INSERT whose publish failed is committed, not yet visible, and says so
// as Doris does.
func TestInsertReportsCommittedWhenPublishFails(t *testing.T) {
	var fail atomic.Bool
	e := newTestEngineWith(t, func(p txn.Publisher) txn.Publisher { return failingPublisher{p, &fail} })
	s := newTestSession(t, e, 1)
	query(t, s, "CREATE DATABASE d")
	query(t, s, "USE d")
	query(t, s, "CREATE TABLE t (k INT NOT NULL) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	rs, err := s.Query(context.Background(), "INSERT INTO t VALUES (1)")
	require.NoError(t, err)
	require.Contains(t, rs[0].Info, "'status':'VISIBLE'")
	fail.Store(true)
	rs, err = s.Query(context.Background(), "INSERT INTO t VALUES (2)")
	require.NoError(t, err)
	require.Contains(t, rs[0].Info, "'status':'COMMITTED'")
	require.Equal(t, []string{"1"}, query(t, s, "SELECT k FROM t"))
}
