package service

import (
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strata-db/strata/be/exec"
	"github.com/strata-db/strata/rpc"
)

// A fragment run with Settings.Profile sends, after its last batch, one
// batch of no rows whose Flight app_metadata is
//
//	{"strata_profile": <exec.ProfileNode as JSON>}
//
// A coordinator that did not ask gets none, so the rows of the stream are
// unchanged for coordinators that predate profiles; one that asked of a
// backend that predates them gets no profile for that instance.
type profileTrailer struct {
	Profile *exec.ProfileNode `json:"strata_profile"`
}

// profileRequester is the planner's built fragment (planner.RunFragment).
type profileRequester interface {
	ProfileRequested() bool
}

// sendProfile sends op's profile when its fragment asked for one and the
// writer can carry it.
func sendProfile(op exec.Operator, w rpc.RecordWriter) error {
	pr, ok := op.(profileRequester)
	if !ok || !pr.ProfileRequested() {
		return nil
	}
	mw, ok := w.(rpc.MetadataWriter)
	if !ok {
		return nil
	}
	meta, err := json.Marshal(profileTrailer{Profile: exec.Profile(op)})
	if err != nil {
		return fmt.Errorf("encoding the fragment's profile: %w", err)
	}
	return mw.WriteMetadata(meta)
}

// read returns the stream's next batch, keeping the profile trailer when
// one comes instead of handing it out.
func (s *fragmentStream) read() (arrow.RecordBatch, error) {
	for {
		rec, err := s.rr.Read()
		if err != nil || rec.NumRows() > 0 {
			return rec, err
		}
		mr, ok := s.rr.(rpc.MetadataReader)
		if !ok {
			return rec, nil
		}
		meta := mr.Metadata()
		if len(meta) == 0 {
			return rec, nil
		}
		var t profileTrailer
		if json.Unmarshal(meta, &t) != nil || t.Profile == nil {
			return rec, nil
		}
		s.profile = t.Profile
	}
}

// FragmentProfile implements planner.FragmentProfiler.
func (s *fragmentStream) FragmentProfile() *exec.ProfileNode { return s.profile }
