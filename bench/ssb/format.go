package ssb

// digits2 holds "00".."99" for two-digits-at-a-time integer formatting.
const digits2 = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// appendUint appends the decimal form of v. It formats right to left into a
// stack buffer, two digits per step; it does not allocate.
func appendUint(dst []byte, v uint64) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 100 {
		q := v / 100
		r := v - q*100
		i -= 2
		buf[i] = digits2[r*2]
		buf[i+1] = digits2[r*2+1]
		v = q
	}
	if v >= 10 {
		i -= 2
		buf[i] = digits2[v*2]
		buf[i+1] = digits2[v*2+1]
	} else {
		i--
		buf[i] = byte('0' + v)
	}
	return append(dst, buf[i:]...)
}

// appendPadded appends v zero-padded to width digits (v must fit).
func appendPadded(dst []byte, v uint64, width int) []byte {
	var buf [20]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[:width]...)
}
