package ssb

// OrdersPerChunk is the number of orders drawn from one random stream. It is
// part of the output definition: changing it changes the data.
const OrdersPerChunk = 1 << 13

// maxLinesPerOrder is dbgen's O_LCNT_MAX.
const maxLinesPerOrder = 7

// lineBatch holds the lineorder rows of one chunk, one slice per column.
// It is reset and refilled, never shrunk.
type lineBatch struct {
	orderKey   []int64
	lineNumber []uint8
	custKey    []int32
	partKey    []int32
	suppKey    []int32
	orderDay   []uint16 // days after 1992-01-01
	priority   []uint8
	quantity   []uint8
	extPrice   []int32
	totalPrice []int32
	discount   []uint8
	revenue    []int32
	supplyCost []int32
	tax        []uint8
	commitDay  []uint16
	shipMode   []uint8
}

func (b *lineBatch) len() int { return len(b.orderKey) }

func (b *lineBatch) reset() {
	b.orderKey = b.orderKey[:0]
	b.lineNumber = b.lineNumber[:0]
	b.custKey = b.custKey[:0]
	b.partKey = b.partKey[:0]
	b.suppKey = b.suppKey[:0]
	b.orderDay = b.orderDay[:0]
	b.priority = b.priority[:0]
	b.quantity = b.quantity[:0]
	b.extPrice = b.extPrice[:0]
	b.totalPrice = b.totalPrice[:0]
	b.discount = b.discount[:0]
	b.revenue = b.revenue[:0]
	b.supplyCost = b.supplyCost[:0]
	b.tax = b.tax[:0]
	b.commitDay = b.commitDay[:0]
	b.shipMode = b.shipMode[:0]
}

// fill generates the orders of chunk c (order indexes c·OrdersPerChunk+1 ..)
// into b, replacing its contents.
func (b *lineBatch) fill(s *Sizes, c int64) {
	b.reset()
	r := newRNG(seedOrders, s.SF, c)
	lo := c*OrdersPerChunk + 1
	hi := min(lo+OrdersPerChunk-1, s.Orders)
	custMax := s.Customers
	partMax := uint64(s.PartKeyMax)
	suppMax := uint64(s.Suppliers)
	for o := lo; o <= hi; o++ {
		key := OrderKey(o)
		day := uint16(r.intn(OrderDateDays))
		cust := int32(BumpCustKey(r.between(1, custMax), custMax))
		prio := uint8(r.intn(uint64(len(orderPriorities))))
		n := int(r.between(1, maxLinesPerOrder))
		var total int64
		for ln := 1; ln <= n; ln++ {
			part := int64(r.intn(partMax)) + 1
			supp := int32(r.intn(suppMax)) + 1
			qty := int64(r.between(1, 50))
			disc := int64(r.intn(11))
			tax := int64(r.intn(9))
			commit := day + uint16(r.between(commitMinDays, commitMaxDays))
			ship := uint8(r.intn(uint64(len(shipModes))))
			rp := RetailPrice(part)
			ext := rp * qty
			rev := ext * (100 - disc) / 100
			total += rev * (100 + tax) / 100

			b.orderKey = append(b.orderKey, key)
			b.lineNumber = append(b.lineNumber, uint8(ln))
			b.custKey = append(b.custKey, cust)
			b.partKey = append(b.partKey, int32(part))
			b.suppKey = append(b.suppKey, supp)
			b.orderDay = append(b.orderDay, day)
			b.priority = append(b.priority, prio)
			b.quantity = append(b.quantity, uint8(qty))
			b.extPrice = append(b.extPrice, int32(ext))
			b.discount = append(b.discount, uint8(disc))
			b.revenue = append(b.revenue, int32(rev))
			b.supplyCost = append(b.supplyCost, int32(6*rp/10))
			b.tax = append(b.tax, uint8(tax))
			b.commitDay = append(b.commitDay, commit)
			b.shipMode = append(b.shipMode, ship)
		}
		for range n {
			b.totalPrice = append(b.totalPrice, int32(total))
		}
	}
}

// smallInts holds the decimal text of 0..99.
var smallInts [100]string

func init() {
	for i := range smallInts {
		smallInts[i] = string(appendUint(nil, uint64(i)))
	}
}

// appendLineFields appends the 17 lineorder fields of row i, each followed
// by sep except the last, in the order given by keyFirst: false is dbgen's
// order, true moves LO_ORDERDATE and LO_ORDERKEY to the front.
func (b *lineBatch) appendLineFields(dst []byte, i int, sep []byte, keyFirst bool) []byte {
	if keyFirst {
		dst = append(dst, dayText[b.orderDay[i]][:]...)
		dst = append(dst, sep...)
		dst = appendUint(dst, uint64(b.orderKey[i]))
		dst = append(dst, sep...)
	} else {
		dst = appendUint(dst, uint64(b.orderKey[i]))
		dst = append(dst, sep...)
	}
	dst = append(dst, smallInts[b.lineNumber[i]]...)
	dst = append(dst, sep...)
	dst = appendUint(dst, uint64(b.custKey[i]))
	dst = append(dst, sep...)
	dst = appendUint(dst, uint64(b.partKey[i]))
	dst = append(dst, sep...)
	dst = appendUint(dst, uint64(b.suppKey[i]))
	dst = append(dst, sep...)
	if !keyFirst {
		dst = append(dst, dayText[b.orderDay[i]][:]...)
		dst = append(dst, sep...)
	}
	dst = append(dst, orderPriorities[b.priority[i]]...)
	dst = append(dst, sep...)
	dst = append(dst, '0') // lo_shippriority
	dst = append(dst, sep...)
	dst = append(dst, smallInts[b.quantity[i]]...)
	dst = append(dst, sep...)
	dst = appendUint(dst, uint64(b.extPrice[i]))
	dst = append(dst, sep...)
	dst = appendUint(dst, uint64(b.totalPrice[i]))
	dst = append(dst, sep...)
	dst = append(dst, smallInts[b.discount[i]]...)
	dst = append(dst, sep...)
	dst = appendUint(dst, uint64(b.revenue[i]))
	dst = append(dst, sep...)
	dst = appendUint(dst, uint64(b.supplyCost[i]))
	dst = append(dst, sep...)
	dst = append(dst, smallInts[b.tax[i]]...)
	dst = append(dst, sep...)
	dst = append(dst, dayText[b.commitDay[i]][:]...)
	dst = append(dst, sep...)
	return append(dst, shipModes[b.shipMode[i]]...)
}
