package main

import (
	"context"
	"io"
	"net/http"

	"github.com/strata-db/strata/bench/strataload"
)

// The stream-load client lives in bench/strataload, shared with the
// bench/peers runner; these names keep the command's code short.

var labelRE = strataload.LabelRE

type loadResult = strataload.Result

func loadLabel(sf float64, runID string, i int) string { return strataload.Label(sf, runID, i) }

func loadPlan(totalChunks, rowsPerLoad int64) [][2]int64 {
	return strataload.Plan(totalChunks, rowsPerLoad)
}

// streamLoader sends stream loads to one table.
type streamLoader struct{ l *strataload.Loader }

func newStreamLoader(hostport, db, table, user, password string, header http.Header) *streamLoader {
	return &streamLoader{strataload.New(hostport, db, table, user, password, header)}
}

func (s *streamLoader) load(ctx context.Context, label string, produce func(w io.Writer) error) (*loadResult, error) {
	return s.l.Load(ctx, label, produce)
}
