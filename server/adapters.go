package server

import (
	"context"

	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/storage"
)

// tabletPublisher publishes committed versions on the local backend.
type tabletPublisher struct{ s *tabletstore.Store }

func (p tabletPublisher) Publish(_ context.Context, txnID int64, versions map[int64]int64) error {
	return p.s.PublishTxn(txnID, versions)
}

// tabletReader pins tablets for the planner.
type tabletReader struct{ s *tabletstore.Store }

func (r tabletReader) ReadTablet(tabletID, version int64) ([]*storage.Segment, func(), error) {
	snap, err := r.s.Acquire(tabletID, version)
	if err != nil {
		return nil, nil, err
	}
	segs, err := snap.Segments()
	if err != nil {
		snap.Release()
		return nil, nil, err
	}
	return segs, snap.Release, nil
}

// tabletWriters opens delta writers for the sink.
type tabletWriters struct{ s *tabletstore.Store }

func (t tabletWriters) OpenWriter(tabletID, txnID int64, schema sink.TabletSchema) (sink.TabletWriter, error) {
	return t.s.NewDeltaWriter(tabletID, txnID, tabletstore.Schema{
		SchemaVersion: schema.SchemaVersion, Columns: schema.Columns, NumKeys: schema.NumKeys,
	})
}

func (t tabletWriters) AbortTxn(txnID int64) error { return t.s.AbortTxn(txnID) }
