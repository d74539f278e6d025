package sketch

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// smhasherVerification is SMHasher's VerificationTest: hash the keys
// {}, {0}, {0, 1}, ... {0..254} with seeds 256, 255, ... 2, then hash the
// concatenated results with seed 0; the first four bytes are the code.
func smhasherVerification(width int, hash func(key []byte, seed uint64) []byte) uint32 {
	key := make([]byte, 256)
	var all []byte
	for i := 0; i < 256; i++ {
		key[i] = byte(i)
		all = append(all, hash(key[:i], uint64(256-i))[:width]...)
	}
	return binary.LittleEndian.Uint32(hash(all, 0))
}

func TestMurmurVerificationCodes(t *testing.T) {
	// The codes SMHasher publishes for the reference implementations.
	x86 := smhasherVerification(4, func(k []byte, seed uint64) []byte {
		return binary.LittleEndian.AppendUint32(nil, Murmur3x86_32(k, uint32(seed)))
	})
	require.Equal(t, uint32(0xB0F57EE3), x86)
	m64 := smhasherVerification(8, func(k []byte, seed uint64) []byte {
		return binary.LittleEndian.AppendUint64(nil, MurmurHash64A(k, seed))
	})
	require.Equal(t, uint32(0x1F0D3804), m64)
}

func TestDorisHashValues(t *testing.T) {
	// Values Doris's documentation shows.
	require.Equal(t, uint32(3409700625), Murmur3x86_32([]byte("abc"), Murmur3Seed32)) // bitmap_hash('abc')
	require.Equal(t, uint64(15231136565543391023), Murmur3x64_64([]byte("hello"), 0)) // bitmap_hash64('hello')
	require.Equal(t, uint32(0), Murmur3x86_32(nil, 0))
	require.Equal(t, uint32(0x514E28B7), Murmur3x86_32(nil, 1))
	require.Equal(t, HashBytes([]byte("doris")), HashString("doris"))
	for n := 0; n < 20; n++ { // every tail length
		s := "abcdefghijklmnopqrstuvwxyz"[:n]
		require.Equal(t, MurmurHash64A([]byte(s), MurmurSeed64A), HashString(s))
	}
}
