package session

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/strata-db/strata/be/sketch"
)

// BITMAP and HLL values go over the protocol as NULL, as in Doris, unless
// return_object_data_as_binary asks for their serialized bytes.
func TestSketchValuesDisplay(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e, 1)
	q := "SELECT to_bitmap(1), bitmap_to_string(to_bitmap(1)), hll_hash('a'), hll_cardinality(hll_hash('a'))"
	require.Equal(t, []string{"NULL\t1\tNULL\t1"}, query(t, s, q))
	query(t, s, "SET return_object_data_as_binary = true")
	h := sketch.NewHLL()
	h.Add(sketch.HashString("a"))
	want := string(sketch.BitmapOf(1).Serialize()) + "\t1\t" + string(h.Serialize()) + "\t1"
	require.Equal(t, []string{want}, query(t, s, q))
	query(t, s, "SET return_object_data_as_binary = false")
	require.Equal(t, []string{"NULL\t1\tNULL\t1"}, query(t, s, q))
}
