package types

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"
)

func TestObjectKinds(t *testing.T) {
	for _, tc := range []struct {
		t    Type
		name string
	}{{Bitmap, "BITMAP"}, {HLL, "HLL"}} {
		require.True(t, tc.t.Kind.IsValid())
		require.True(t, tc.t.Kind.IsObject())
		require.False(t, tc.t.Kind.IsString())
		require.False(t, tc.t.Kind.IsNumeric())
		require.Equal(t, tc.name, tc.t.String())
		require.Equal(t, tc.name, tc.t.SQLName())
		require.Equal(t, tc.name, tc.t.Kind.String())
		require.Equal(t, arrow.BinaryTypes.String, tc.t.Arrow())
		require.False(t, tc.t.CanBeKey())
		require.NoError(t, tc.t.Validate())
	}
	require.Equal(t, "bitmap", Bitmap.MySQLDataType())
	require.Equal(t, "hll", HLL.MySQLDataType())
	require.False(t, String.Kind.IsObject())
	require.True(t, Varchar(3).CanBeKey())
}
