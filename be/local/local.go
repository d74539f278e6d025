// Package local connects the frontend to a tablet store in the same process:
// it publishes committed versions, pins tablets for the planner and opens
// delta writers for the load sink. Cluster mode puts RPC behind the same
// interfaces.
package local

import (
	"context"

	"github.com/strata-db/strata/be/keymodel"
	"github.com/strata-db/strata/be/sink"
	"github.com/strata-db/strata/be/tabletstore"
	"github.com/strata-db/strata/fe/catalog"
	"github.com/strata-db/strata/fe/planner"
	"github.com/strata-db/strata/fe/txn"
	"github.com/strata-db/strata/storage"
)

// Publisher publishes committed versions on the local backend.
type Publisher struct{ S *tabletstore.Store }

func (p Publisher) Publish(_ context.Context, txnID int64, versions map[int64]int64) error {
	return p.S.PublishTxn(txnID, versions)
}

// PublishMany publishes several transactions in one metadata commit.
func (p Publisher) PublishMany(_ context.Context, txns []txn.TxnTablets) error {
	batch := make([]tabletstore.TxnVersions, len(txns))
	for i, t := range txns {
		batch[i] = tabletstore.TxnVersions{TxnID: t.TxnID, Versions: t.Versions}
	}
	return p.S.PublishTxns(batch)
}

// Reader pins tablets for the planner.
type Reader struct{ S *tabletstore.Store }

func (r Reader) ReadTablet(tabletID, version int64) (planner.TabletData, error) {
	return r.read(r.S.Acquire, tabletID, version)
}

// ReadTabletKeepingSigns implements planner.SignKeepingReader.
func (r Reader) ReadTabletKeepingSigns(tabletID, version int64) (planner.TabletData, error) {
	return r.read(r.S.AcquireKeepingSigns, tabletID, version)
}

func (r Reader) read(acquire func(tabletID, version int64) (*tabletstore.Snapshot, error), tabletID, version int64) (planner.TabletData, error) {
	snap, err := acquire(tabletID, version)
	if err != nil {
		return planner.TabletData{}, err
	}
	segs, err := snap.Segments()
	if err != nil {
		snap.Release()
		return planner.TabletData{}, err
	}
	return planner.TabletData{Segments: segs, Deletes: snap.Deletes(), Release: snap.Release,
		Flat: snap.Flat(), FlatDeletes: snap.FlatDeletes()}, nil
}

// Writers opens delta writers for the sink.
type Writers struct{ S *tabletstore.Store }

func (t Writers) OpenWriter(tabletID, txnID int64, schema sink.TabletSchema, _ sink.Placement) (sink.TabletWriter, error) {
	ts := storeSchema(schema)
	if p := schema.Partial; p != nil {
		ts.Partial = &tabletstore.Partial{Columns: p.Columns, NewKeyError: p.NewKeyError, Unfillable: p.Unfillable}
	}
	return t.S.NewDeltaWriter(tabletID, txnID, ts)
}

// ModelOf translates a table's data model for the tablet store.
func ModelOf(schema sink.TabletSchema) tabletstore.Model {
	m := tabletstore.Model{SeqCol: schema.SeqCol, DeleteSignCol: schema.DeleteSignCol}
	switch schema.KeysType {
	case catalog.UniqueKeys:
		m.Kind, m.MergeOnWrite = keymodel.Unique, schema.MergeOnWrite
	case catalog.AggKeys:
		m.Kind, m.Aggs = keymodel.Aggregate, schema.Aggs
	}
	return m
}

func (t Writers) AbortTxn(txnID int64) error { return t.S.AbortTxn(txnID) }

// AddDelete records a DELETE's condition in a tablet.
func (t Writers) AddDelete(tabletID, txnID int64, schema sink.TabletSchema, pred storage.DeletePredicate, _ sink.Placement) error {
	return t.S.AddDelete(tabletID, txnID, storeSchema(schema), pred)
}

func storeSchema(schema sink.TabletSchema) tabletstore.Schema {
	return tabletstore.Schema{
		SchemaVersion: schema.SchemaVersion, Columns: schema.Columns, NumKeys: schema.NumKeys,
		Model: ModelOf(schema), Defaults: storeDefaults(schema),
	}
}

// storeDefaults puts the defaults of a schema's columns in the form
// rowsets record them. A column without one, or whose value has no such
// form, records none: a compaction that would need it refuses to merge
// instead.
func storeDefaults(schema sink.TabletSchema) []tabletstore.ColumnDefault {
	var out []tabletstore.ColumnDefault
	for i, l := range schema.Defaults {
		if l == nil || i >= len(schema.Columns) {
			continue
		}
		if d, ok := tabletstore.NewColumnDefault(schema.Columns[i].ID, l.Value); ok {
			out = append(out, d)
		}
	}
	return out
}
