package ssb

// Value lists copied verbatim, in order, from dbgen's dists.dss. Every weight
// in the lists SSB uses is 1, so each is drawn uniformly.

// Nations in dists.dss order. The index is the nation key; phone numbers
// start with 10 + this index.
var nations = [25]string{
	"ALGERIA", "ARGENTINA", "BRAZIL", "CANADA", "EGYPT",
	"ETHIOPIA", "FRANCE", "GERMANY", "INDIA", "INDONESIA",
	"IRAN", "IRAQ", "JAPAN", "JORDAN", "KENYA",
	"MOROCCO", "MOZAMBIQUE", "PERU", "CHINA", "ROMANIA",
	"SAUDI ARABIA", "VIETNAM", "RUSSIA", "UNITED KINGDOM", "UNITED STATES",
}

// nationWeights are dists.dss' "nations" weights. They are not
// probabilities: the running sum of the weights up to and including a nation
// is the index of its region.
var nationWeights = [25]int{
	0, 1, 0, 0, 3,
	-4, 3, 0, -1, 0,
	2, 0, -2, 2, -4,
	0, 0, 1, 1, 1,
	1, -2, 1, 0, -2,
}

var regions = [5]string{"AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"}

// nationRegion maps a nation index to its region index (running sum of
// nationWeights), filled by init.
var nationRegion [25]uint8

func init() {
	sum := 0
	for i, w := range nationWeights {
		sum += w
		if sum < 0 || sum >= len(regions) {
			panic("BUG: nation weights do not map into the regions")
		}
		nationRegion[i] = uint8(sum)
	}
}

var orderPriorities = [5]string{"1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"}

var shipModes = [7]string{"REG AIR", "AIR", "RAIL", "TRUCK", "MAIL", "FOB", "SHIP"}

var marketSegments = [5]string{"AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"}

var colors = [92]string{
	"almond", "antique", "aquamarine", "azure", "beige", "bisque", "black", "blanched", "blue", "blush",
	"brown", "burlywood", "burnished", "chartreuse", "chiffon", "chocolate", "coral", "cornflower", "cornsilk", "cream",
	"cyan", "dark", "deep", "dim", "dodger", "drab", "firebrick", "floral", "forest", "frosted",
	"gainsboro", "ghost", "goldenrod", "green", "grey", "honeydew", "hot", "indian", "ivory", "khaki",
	"lace", "lavender", "lawn", "lemon", "light", "lime", "linen", "magenta", "maroon", "medium",
	"metallic", "midnight", "mint", "misty", "moccasin", "navajo", "navy", "olive", "orange", "orchid",
	"pale", "papaya", "peach", "peru", "pink", "plum", "powder", "puff", "purple", "red",
	"rose", "rosy", "royal", "saddle", "salmon", "sandy", "seashell", "sienna", "sky", "slate",
	"smoke", "snow", "spring", "steel", "tan", "thistle", "tomato", "turquoise", "violet", "wheat",
	"white", "yellow",
}

// Part types and containers are the cross products dists.dss spells out in
// full ("p_types", 150 entries; "p_cntr", 40 entries), in the same order.
var (
	typeSyllable1 = [6]string{"STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"}
	typeSyllable2 = [5]string{"ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"}
	typeSyllable3 = [5]string{"TIN", "NICKEL", "BRASS", "STEEL", "COPPER"}

	containerSyllable1 = [5]string{"SM", "LG", "MED", "JUMBO", "WRAP"}
	containerSyllable2 = [8]string{"CASE", "BOX", "BAG", "JAR", "PACK", "PKG", "CAN", "DRUM"}
)

var (
	partTypes  [150]string
	containers [40]string
)

func init() {
	n := 0
	for _, a := range typeSyllable1 {
		for _, b := range typeSyllable2 {
			for _, c := range typeSyllable3 {
				partTypes[n] = a + " " + b + " " + c
				n++
			}
		}
	}
	n = 0
	for _, a := range containerSyllable1 {
		for _, b := range containerSyllable2 {
			containers[n] = a + " " + b
			n++
		}
	}
}

// Nations returns the 25 nation names in dbgen order.
func Nations() []string { return append([]string(nil), nations[:]...) }

// Regions returns the 5 region names in dbgen order.
func Regions() []string { return append([]string(nil), regions[:]...) }

// NationRegion returns the region name of the nation with index i (0..24).
func NationRegion(i int) string { return regions[nationRegion[i]] }

// Colors returns the 92 colour names in dbgen order.
func Colors() []string { return append([]string(nil), colors[:]...) }

// PartTypes returns the 150 part types in dbgen order.
func PartTypes() []string { return append([]string(nil), partTypes[:]...) }

// Containers returns the 40 container names in dbgen order.
func Containers() []string { return append([]string(nil), containers[:]...) }
