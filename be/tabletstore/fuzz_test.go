package tabletstore

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// writeTB is write for a fuzz target's set-up.
func writeTB(tb testing.TB, s *Store, tablet, txn int64, keys []int64) {
	tb.Helper()
	w, err := s.NewDeltaWriter(tablet, txn, testSchema)
	require.NoError(tb, err)
	cols := batch(keys, make([]*string, len(keys)))
	require.NoError(tb, w.Write(cols))
	for _, c := range cols {
		c.Release()
	}
	require.NoError(tb, w.Close())
}

// FuzzRecoverMetadata opens a store whose metadata holds a corrupted
// rowset record, tablet record or delete bitmap. Recovery may refuse the
// store, but must not panic, and what it opens must be readable without
// panicking.
func FuzzRecoverMetadata(f *testing.F) {
	template := f.TempDir()
	s, err := Open(template, nil)
	require.NoError(f, err)
	writeTB(f, s, 1, 100, []int64{1, 2, 3})
	require.NoError(f, s.PublishTxn(100, map[int64]int64{1: 2}))
	require.NoError(f, s.Close())

	// The valid records, as seeds to mutate.
	var rowsetKey, rowsetVal, tabletVal []byte
	db, err := bolt.Open(filepath.Join(template, "meta.db"), 0o644, nil)
	require.NoError(f, err)
	require.NoError(f, db.View(func(tx *bolt.Tx) error {
		rowsetKey, rowsetVal = tx.Bucket(bucketRowsets).Cursor().First()
		rowsetKey, rowsetVal = append([]byte(nil), rowsetKey...), append([]byte(nil), rowsetVal...)
		if b := tx.Bucket(bucketTablets); b != nil {
			if _, v := b.Cursor().First(); v != nil {
				tabletVal = append([]byte(nil), v...)
			}
		}
		return nil
	}))
	require.NoError(f, db.Close())
	if tabletVal == nil {
		tabletVal = []byte(`{"format_version":6,"version":2}`)
	}
	bm := roaring.BitmapOf(0, 2)
	bmBytes, err := bm.ToBytes()
	require.NoError(f, err)

	f.Add(rowsetVal, tabletVal, []byte(nil))
	f.Add(rowsetVal, tabletVal, bmBytes)
	f.Add([]byte(`{"format_version":6,"segments":[{"rows":-1}],"start_version":5,"end_version":2}`), tabletVal, []byte(nil))
	f.Add([]byte(`{"format_version":1,"version":-9}`), []byte(`{"format_version":6,"version":0}`), []byte{0xff, 0xff})
	f.Add([]byte(`null`), []byte(`[]`), []byte{1, 2, 3})

	f.Fuzz(func(t *testing.T, rowset, tablet, bitmap []byte) {
		dir := t.TempDir()
		copyDir(t, template, dir)
		db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o644, nil)
		require.NoError(t, err)
		require.NoError(t, db.Update(func(tx *bolt.Tx) error {
			if len(rowset) > 0 {
				if err := tx.Bucket(bucketRowsets).Put(rowsetKey, rowset); err != nil {
					return err
				}
			}
			if len(tablet) > 0 {
				b, err := tx.CreateBucketIfNotExists(bucketTablets)
				if err != nil {
					return err
				}
				if err := b.Put(tabletKey(1), tablet); err != nil {
					return err
				}
			}
			if len(bitmap) > 0 {
				b, err := tx.CreateBucketIfNotExists(bucketDeleteBitmaps)
				if err != nil {
					return err
				}
				rid := int64(binary.BigEndian.Uint64(rowsetKey[8:]))
				if err := b.Put(markKey(1, rid, 0, 3), bitmap); err != nil {
					return err
				}
			}
			return nil
		}))
		require.NoError(t, db.Close())

		s, err := Open(dir, nil)
		if err != nil {
			return // refused: fine
		}
		defer s.Close()
		for v := int64(1); v <= 3; v++ {
			snap, err := s.Acquire(1, v)
			if err != nil {
				continue
			}
			segs, err := snap.Segments()
			if err == nil {
				for _, seg := range segs {
					for c := 1; c <= 2; c++ {
						col := seg.Column(uint32(c))
						if col == nil {
							continue
						}
						for p := 0; p < seg.NumPages(); p++ {
							if a, err := col.ReadPage(p, memory.DefaultAllocator); err == nil {
								a.Release()
							}
						}
					}
				}
			}
			snap.Release()
		}
	})
}
