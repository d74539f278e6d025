package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStreamLoadLabelsAndFiltering(t *testing.T) {
	s := startServer(t, "")
	s.MustMySQL(salesDDL)
	rows := genSales(3, 1, 500)
	path := writeCSV(t, rows, "\t")

	first := s.StreamLoad("demo", "sales", path, "label: dup_label")
	require.Equal(t, "Success", first["Status"], "%v", first)
	require.Greater(t, first["TxnId"].(float64), float64(0))

	t.Run("repeated label", func(t *testing.T) {
		resp := s.StreamLoad("demo", "sales", path, "label: dup_label")
		require.Equal(t, "Label Already Exists", resp["Status"])
		require.Equal(t, "FINISHED", resp["ExistingJobStatus"])
		require.EqualValues(t, -1, resp["TxnId"])
		require.Equal(t, fmt.Sprintf("errCode = 2, detailMessage = Label [dup_label] has already been used, relate to txn [%d]", int64(first["TxnId"].(float64))), resp["Message"])
		require.Equal(t, "500\n", s.MustMySQL("SELECT count(*) FROM demo.sales"))
	})

	bad := "2024-01-01\t9001\teast\t1\t5\t1.00\tok\n" +
		"2024-01-02\t9002\teast\t1\tnot_a_number\t1.00\tbad qty\n" +
		"2024-01-03\t9003\teast\t1\t5\t1.00\tok\textra_column\n" +
		"2024-01-04\t9004\teast\t1\t6\t2.00\tok\n"
	badPath := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(badPath, []byte(bad), 0o644))

	t.Run("over max_filter_ratio", func(t *testing.T) {
		resp := s.StreamLoad("demo", "sales", badPath, "label: bad_default_ratio")
		require.Equal(t, "Fail", resp["Status"], "%v", resp)
		require.EqualValues(t, 4, resp["NumberTotalRows"])
		require.EqualValues(t, 2, resp["NumberFilteredRows"])
		require.NotEmpty(t, resp["ErrorURL"])
		require.Equal(t, "500\n", s.MustMySQL("SELECT count(*) FROM demo.sales"), "nothing of a failed load is visible")

		res, err := http.Get(resp["ErrorURL"].(string))
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.Contains(t, string(body), "not_a_number")
		require.Contains(t, string(body), "extra_column")
	})

	t.Run("within max_filter_ratio", func(t *testing.T) {
		resp := s.StreamLoad("demo", "sales", badPath, "label: bad_ratio_1", "max_filter_ratio: 0.5")
		require.Equal(t, "Success", resp["Status"], "%v", resp)
		require.EqualValues(t, 2, resp["NumberLoadedRows"])
		require.EqualValues(t, 2, resp["NumberFilteredRows"])
		require.NotEmpty(t, resp["ErrorURL"])
		require.Equal(t, "502\n", s.MustMySQL("SELECT count(*) FROM demo.sales"))
		require.Equal(t, "9001\n9004\n", s.MustMySQL("SELECT id FROM demo.sales WHERE id > 9000 ORDER BY id"))
	})
}

// TestSQLErrors checks that bad statements return MySQL errors that name the
// problem, and that the server keeps serving.
func TestSQLErrors(t *testing.T) {
	s := startServer(t, "")
	s.MustMySQL(salesDDL)
	for _, tc := range []struct {
		sql, want string
	}{
		{"SELEC 1", "ERROR 1064"},
		{"SELECT * FORM demo.sales", "FORM"},
		{"SELECT * FROM demo.nope", "ERROR 1146"},
		{"SELECT nope FROM demo.sales", "ERROR 1054"},
		{"SELECT nope FROM demo.sales", "nope"},
		{"USE nodb", "ERROR 1049"},
		{"CREATE DATABASE demo", "ERROR 1007"},
		{"INSERT INTO demo.stores VALUES (1)", "ERROR 1136"},
		{"INSERT INTO demo.stores VALUES ('x', 'y')", "ERROR"},
		{"UPDATE demo.sales SET qty = 1 WHERE id = 1", "Only unique table could be updated."},
		{"SELECT sum(region, id) FROM demo.sales", "ERROR"},
	} {
		_, err := s.MySQL(tc.sql)
		require.Error(t, err, tc.sql)
		require.Contains(t, err.Error(), tc.want, tc.sql)
	}
	require.Equal(t, "1\n", s.MustMySQL("SELECT 1"))
	require.True(t, strings.HasPrefix(s.MustMySQL("SELECT @@version_comment"), "Strata"))
}
