package session

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// DELETE by condition on a duplicate table: every literal type, and a
// column added after the rows were written, which they read as its
// default.
func TestDeleteByCondition(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e, 1)
	query(t, s, "CREATE DATABASE d")
	query(t, s, "CREATE TABLE d.t (k INT, l LARGEINT, dt DATETIME, dc DECIMAL(6,2), b BOOLEAN, c CHAR(4), f DOUBLE) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
	query(t, s, "INSERT INTO d.t VALUES (1, 100, '2024-01-01 10:00:00', 1.50, true, 'ab', 1), (2, 200, '2024-01-02 00:00:00', 2.25, false, 'cd', 2), "+
		"(3, 300, '2024-01-03 00:00:00', 3.00, true, 'ef', 3), (4, 400, '2024-01-04 00:00:00', 4.75, false, 'gh', 4), (5, 500, '2024-01-05 00:00:00', 5.00, true, 'ij', 5)")
	keys := func() []string { return query(t, s, "SELECT k FROM d.t ORDER BY k") }
	for _, tc := range []struct {
		stmt string
		want []string
	}{
		{"DELETE FROM d.t WHERE l = 100", []string{"2", "3", "4", "5"}},
		{"DELETE FROM d.t WHERE dt = '2024-01-02 00:00:00'", []string{"3", "4", "5"}},
		{"DELETE FROM d.t WHERE dc >= 4.75 AND b = false", []string{"3", "5"}},
		{"DELETE FROM d.t WHERE c IN ('zz', 'ef')", []string{"5"}},
	} {
		query(t, s, tc.stmt)
		require.Equal(t, tc.want, keys(), tc.stmt)
	}
	_, err := s.Query(context.Background(), "DELETE FROM d.t WHERE f = 5")
	require.ErrorContains(t, err, "Column[f] type is float or double.")

	// A DATE condition with a time of day would delete the whole day where
	// a SELECT with the same WHERE matches nothing: it is refused.
	query(t, s, "CREATE TABLE d.dd (k INT, d DATE) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	query(t, s, "INSERT INTO d.dd VALUES (1, '2024-01-01'), (2, '2024-01-02')")
	require.Empty(t, query(t, s, "SELECT k FROM d.dd WHERE d = '2024-01-01 10:00:00'"))
	_, err = s.Query(context.Background(), "DELETE FROM d.dd WHERE d = '2024-01-01 10:00:00'")
	require.ErrorContains(t, err, "a DATE condition cannot have a time of day")
	query(t, s, "DELETE FROM d.dd WHERE d = '2024-01-01 00:00:00'")
	require.Equal(t, []string{"2"}, query(t, s, "SELECT k FROM d.dd ORDER BY k"))

	query(t, s, "CREATE TABLE d.a (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
	query(t, s, "INSERT INTO d.a VALUES (1, 1), (2, 2)")
	query(t, s, "ALTER TABLE d.a ADD COLUMN c INT DEFAULT \"5\"")
	query(t, s, "INSERT INTO d.a VALUES (3, 3, 6)")
	query(t, s, "DELETE FROM d.a WHERE c IS NULL")
	require.Equal(t, []string{"1\t1\t5", "2\t2\t5", "3\t3\t6"}, query(t, s, "SELECT * FROM d.a ORDER BY k"), "no row reads c as NULL")
	query(t, s, "DELETE FROM d.a WHERE c = 5")
	require.Equal(t, []string{"3\t3\t6"}, query(t, s, "SELECT * FROM d.a ORDER BY k"), "the rows written before c read it as 5")
}
