package catalog

import (
	"fmt"
	"testing"
)

// BenchmarkSnapshotAfterLoad measures what a load's publish costs every FE:
// one table's versions value changes in a database of many tables and the
// snapshot is rebuilt.
//
//	go test -run '^$' -bench SnapshotAfterLoad -count 6 ./fe/catalog/ | benchstat -col /tables -
func BenchmarkSnapshotAfterLoad(b *testing.B) {
	for _, tables := range []int{10, 1000} {
		b.Run(fmt.Sprintf("tables=%d", tables), func(b *testing.B) {
			st := newState()
			st.putDB("db", &Database{ID: 1, Name: "db"})
			for i := range tables {
				t := newTable(fmt.Sprint("t", i), 8, "p1", "p2", "p3", "p4")
				if err := prepareTable(t, 1, int64(1+i*100), 0); err != nil {
					b.Fatal(err)
				}
				st.putTable(1, t.Name, t)
			}
			snap := st.snapshot(emptySnapshot, 1)
			target := snap.dbByID[1].tables["t0"]
			b.ReportAllocs()
			rev := int64(2)
			for b.Loop() {
				v := &TableVersions{Partitions: map[int64]PartitionVersion{target.Partitions[0].ID: {Visible: rev, Next: rev + 1}}}
				st.putVersions(1, target.ID, v)
				snap = st.snapshot(snap, rev)
				rev++
			}
		})
	}
}
