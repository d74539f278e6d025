package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/strata-db/strata/bench/ssb"
)

// FuzzCheckResult feeds arbitrary server answers to the checker: it must
// report, never panic.
func FuzzCheckResult(f *testing.F) {
	f.Add("Q1.1", "446031203850")
	f.Add("Q2.1", "10|1992|MFGR#121\n20|1992|MFGR#1210")
	f.Add("Q3.1", "CHINA|INDIA|1992|30\nINDIA|CHINA|1992|x")
	f.Add("Q4.3", "1997|UNITED ST1|MFGR#141|-5\n\n|")
	want := &ssb.Answer{Rows: [][]string{{"1", "1992", "MFGR#121"}}}
	f.Fuzz(func(t *testing.T, id, body string) {
		q, ok := ssb.QueryByID(id)
		if !ok {
			q, _ = ssb.QueryByID("Q2.1")
		}
		r := &result{columns: make([]string, q.Columns)}
		for _, line := range strings.Split(body, "\n") {
			r.rows = append(r.rows, strings.Split(line, "|"))
		}
		checkResult(q, 1, r, nil)
		if q.ID[:2] == "Q2" {
			checkResult(q, 0.5, r, want)
		}
	})
}

// FuzzLoadResult checks that any stream-load response body parses or fails
// cleanly.
func FuzzLoadResult(f *testing.F) {
	f.Add(`{"TxnId":1,"Label":"l","Status":"Success","Message":"OK","NumberLoadedRows":3}`)
	f.Add(`{"status":"FAILED","msg":"There is no 100-continue header"}`)
	f.Add(`{"Status":null}`)
	f.Fuzz(func(t *testing.T, body string) {
		var r loadResult
		if json.Unmarshal([]byte(body), &r) == nil {
			_ = r.OK()
		}
	})
}
