package exec

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/strata-db/strata/be/sketch"
	"github.com/strata-db/strata/types"
)

// The BITMAP and HLL functions. A value of either type is its serialized
// sketch (be/sketch) in a string column; kernels decode the rows they read
// and encode the sketches they produce. NULL handling follows Doris's
// backend function by function:
//
//   - to_bitmap, bitmap_hash, bitmap_hash64 and hll_hash never return NULL:
//     a NULL (or, for to_bitmap, a negative number or a string that is not
//     an unsigned integer) gives an empty sketch;
//   - bitmap_count, hll_cardinality and the *_count functions return 0 for
//     a NULL argument (bitmap_or_count skips NULLs);
//   - bitmap_or skips NULL arguments and is NULL only when all are;
//   - bitmap_from_string of a malformed list, and bitmap_min/bitmap_max of
//     an empty bitmap, are NULL;
//   - the others are NULL when an argument is.

// OnlyMetricTypeMsg is Doris's error text for a BITMAP or HLL value used
// where values are compared, sorted, grouped or distinguished.
const OnlyMetricTypeMsg = "Doris hll, bitmap, array, map, struct, jsonb, variant column must use with " +
	"specific function, and don't support filter, group by or order by. please run 'help hll' or " +
	"'help bitmap' or 'help array' or 'help map' or 'help struct' or 'help jsonb' or 'help variant' " +
	"in your mysql client."

// ErrOnlyMetricType is returned (wrapped or not) by the constructors of
// comparisons, IN, BETWEEN, LIKE and arithmetic over BITMAP or HLL values,
// and by [NewHashAgg] for BITMAP or HLL group keys.
var ErrOnlyMetricType = errors.New(OnlyMetricTypeMsg)

// checkNotObject returns ErrOnlyMetricType when an expression is BITMAP or
// HLL.
func checkNotObject(es ...Expr) error {
	for _, e := range es {
		if e != nil && e.Type().Kind.IsObject() {
			return ErrOnlyMetricType
		}
	}
	return nil
}

// checkSketch reports whether s is a valid serialized sketch of type t.
func checkSketch(s string, t types.Type) error {
	var err error
	switch t.Kind {
	case types.KindBitmap:
		_, err = sketch.DeserializeBitmap([]byte(s))
	case types.KindHLL:
		_, err = sketch.DeserializeHLL([]byte(s))
	}
	return err
}

// sketchLiteralText renders a BITMAP or HLL constant as SQL that builds it.
func sketchLiteralText(s string, t types.Type) string {
	if t.Kind == types.KindBitmap {
		if b, err := sketch.DeserializeBitmap([]byte(s)); err == nil {
			return "bitmap_from_string('" + b.ToString() + "')"
		}
	}
	return "hll_from_base64('" + base64.StdEncoding.EncodeToString([]byte(s)) + "')"
}

func decodeBitmap(s string) (*sketch.Bitmap, error) {
	b, err := sketch.DeserializeBitmap([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decoding a BITMAP value: %w", err)
	}
	return b, nil
}

func decodeHLL(s string) (*sketch.HLL, error) {
	h, err := sketch.DeserializeHLL([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decoding an HLL value: %w", err)
	}
	return h, nil
}

var (
	emptyBitmapValue = string(sketch.NewBitmap().Serialize())
	emptyHLLValue    = string(sketch.NewHLL().Serialize())
)

// bitmapReduce returns a kernel folding its BITMAP arguments left to right
// with op; with skipNulls, NULL arguments are left out (and a row with no
// other argument is NULL); count writes the cardinality instead of the
// bitmap, 0 for a NULL row.
func bitmapReduce(op func(acc, x *sketch.Bitmap), skipNulls, count bool) kernel {
	return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
		var buf []byte
		for _, r := range rows {
			i := int(r)
			var acc *sketch.Bitmap
			null := false
			for _, v := range a {
				if v.isNull(i) {
					if skipNulls {
						continue
					}
					null = true
					break
				}
				b, err := decodeBitmap(v.strv(i))
				if err != nil {
					return err
				}
				if acc == nil {
					acc = b
				} else {
					op(acc, b)
				}
			}
			switch {
			case count && (null || acc == nil):
				o.setInt(i, 0)
			case count:
				o.setInt(i, int64(acc.Cardinality()))
			case null || acc == nil:
			default:
				buf = acc.AppendBinary(buf[:0])
				o.setBytes(i, buf)
			}
		}
		return nil
	}
}

// bitmapPredicate returns a kernel computing a boolean from two bitmaps.
func bitmapPredicate(f func(a, b *sketch.Bitmap) bool) kernel {
	return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
		for _, r := range rows {
			i := int(r)
			x, err := decodeBitmap(a[0].strv(i))
			if err != nil {
				return err
			}
			y, err := decodeBitmap(a[1].strv(i))
			if err != nil {
				return err
			}
			o.setBool(i, f(x, y))
		}
		return nil
	}
}

// bitmapUnary returns a kernel computing a value from one bitmap; set
// leaves the row NULL by not writing it.
func bitmapUnary(f func(b *sketch.Bitmap, o *outVec, i int)) kernel {
	return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
		for _, r := range rows {
			i := int(r)
			b, err := decodeBitmap(a[0].strv(i))
			if err != nil {
				return err
			}
			f(b, o, i)
		}
		return nil
	}
}

// hashToBitmap returns a kernel putting the hash of each string argument
// in a bitmap; NULL gives the empty bitmap.
func hashToBitmap(hash func(s string) uint64) kernel {
	return func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
		var buf []byte
		for _, r := range rows {
			i := int(r)
			if a[0].isNull(i) {
				o.setStr(i, emptyBitmapValue)
				continue
			}
			buf = sketch.BitmapOf(hash(a[0].strv(i))).AppendBinary(buf[:0])
			o.setBytes(i, buf)
		}
		return nil
	}
}

// resolveToBitmap types to_bitmap's argument: strings are parsed, anything
// else is converted to BIGINT.
func resolveToBitmap(args []types.Type) (types.Type, []types.Type, error) {
	if args[0].Kind.IsString() {
		return types.Bitmap, []types.Type{types.String}, nil
	}
	if args[0].Kind.IsObject() {
		return types.Type{}, nil, fmt.Errorf("does not accept %v", args[0])
	}
	return types.Bitmap, []types.Type{types.BigInt}, nil
}

func init() {
	bm, hll := types.Bitmap, types.HLL
	str, i64, boo := types.String, types.BigInt, types.Boolean

	register([]string{"bitmap_empty"}, funcDef{minArgs: 0, maxArgs: 0, resolve: sig(bm),
		eval: func(_ *EvalContext, _ []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				o.setStr(int(r), emptyBitmapValue)
			}
			return nil
		}})
	register([]string{"to_bitmap"}, funcDef{minArgs: 1, maxArgs: 1, resolve: resolveToBitmap, nullable: true,
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			var buf []byte
			v := a[0]
			for _, r := range rows {
				i := int(r)
				var x uint64
				ok := false
				switch {
				case v.isNull(i):
				case v.p == pStr:
					x, ok = sketch.ParseUint64(v.strv(i))
				default:
					if n := v.int(i); n >= 0 {
						x, ok = uint64(n), true
					}
				}
				if !ok {
					o.setStr(i, emptyBitmapValue)
					continue
				}
				buf = sketch.BitmapOf(x).AppendBinary(buf[:0])
				o.setBytes(i, buf)
			}
			return nil
		}})
	register([]string{"bitmap_from_string"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(bm, str),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			var buf []byte
			for _, r := range rows {
				i := int(r)
				b, err := sketch.BitmapFromString(a[0].strv(i))
				if err != nil {
					continue // NULL, as in Doris
				}
				buf = b.AppendBinary(buf[:0])
				o.setBytes(i, buf)
			}
			return nil
		}})
	register([]string{"bitmap_to_string"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(str, bm),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			var buf []byte
			for _, r := range rows {
				i := int(r)
				b, err := decodeBitmap(a[0].strv(i))
				if err != nil {
					return err
				}
				buf = b.AppendString(buf[:0])
				o.setBytes(i, buf)
			}
			return nil
		}})
	register([]string{"bitmap_count"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(i64, bm), nullable: true,
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				if a[0].isNull(i) {
					o.setInt(i, 0)
					continue
				}
				b, err := decodeBitmap(a[0].strv(i))
				if err != nil {
					return err
				}
				o.setInt(i, int64(b.Cardinality()))
			}
			return nil
		}})
	register([]string{"bitmap_hash"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(bm, str), nullable: true,
		eval: hashToBitmap(func(s string) uint64 {
			return uint64(sketch.Murmur3x86_32([]byte(s), sketch.Murmur3Seed32))
		})})
	register([]string{"bitmap_hash64"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(bm, str), nullable: true,
		eval: hashToBitmap(func(s string) uint64 { return sketch.Murmur3x64_64([]byte(s), 0) })})
	register([]string{"bitmap_contains"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(boo, bm, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				b, err := decodeBitmap(a[0].strv(i))
				if err != nil {
					return err
				}
				// A BIGINT is looked up as its 64 bits, as Doris does.
				o.setBool(i, b.Contains(uint64(a[1].int(i))))
			}
			return nil
		}})
	register([]string{"bitmap_remove"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(bm, bm, i64),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			var buf []byte
			for _, r := range rows {
				i := int(r)
				b, err := decodeBitmap(a[0].strv(i))
				if err != nil {
					return err
				}
				b.AndNot(sketch.BitmapOf(uint64(a[1].int(i))))
				buf = b.AppendBinary(buf[:0])
				o.setBytes(i, buf)
			}
			return nil
		}})
	register([]string{"bitmap_has_any"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(boo, bm, bm),
		eval: bitmapPredicate((*sketch.Bitmap).Intersects)})
	register([]string{"bitmap_has_all"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(boo, bm, bm),
		eval: bitmapPredicate(func(a, b *sketch.Bitmap) bool {
			return a.AndCardinality(b) == b.Cardinality()
		})})
	register([]string{"bitmap_and"}, funcDef{minArgs: 2, maxArgs: -1, resolve: sig(bm, bm),
		eval: bitmapReduce((*sketch.Bitmap).And, false, false)})
	register([]string{"bitmap_xor"}, funcDef{minArgs: 2, maxArgs: -1, resolve: sig(bm, bm),
		eval: bitmapReduce((*sketch.Bitmap).Xor, false, false)})
	register([]string{"bitmap_or"}, funcDef{minArgs: 2, maxArgs: -1, resolve: sig(bm, bm), nullable: true,
		eval: bitmapReduce((*sketch.Bitmap).Or, true, false)})
	register([]string{"bitmap_not", "bitmap_and_not", "bitmap_andnot"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(bm, bm, bm),
		eval: bitmapReduce((*sketch.Bitmap).AndNot, false, false)})
	register([]string{"bitmap_and_count"}, funcDef{minArgs: 2, maxArgs: -1, resolve: sig(i64, bm), nullable: true,
		eval: bitmapReduce((*sketch.Bitmap).And, false, true)})
	register([]string{"bitmap_xor_count"}, funcDef{minArgs: 2, maxArgs: -1, resolve: sig(i64, bm), nullable: true,
		eval: bitmapReduce((*sketch.Bitmap).Xor, false, true)})
	register([]string{"bitmap_or_count"}, funcDef{minArgs: 2, maxArgs: -1, resolve: sig(i64, bm), nullable: true,
		eval: bitmapReduce((*sketch.Bitmap).Or, true, true)})
	register([]string{"bitmap_and_not_count", "bitmap_andnot_count"}, funcDef{minArgs: 2, maxArgs: 2, resolve: sig(i64, bm, bm), nullable: true,
		eval: bitmapReduce((*sketch.Bitmap).AndNot, false, true)})
	// bitmap_min and bitmap_max return BIGINT, as in Doris: values past
	// 2^63-1 come out negative (their 64 bits as a signed number).
	register([]string{"bitmap_min"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(i64, bm),
		eval: bitmapUnary(func(b *sketch.Bitmap, o *outVec, i int) {
			if v, ok := b.Min(); ok {
				o.setInt(i, int64(v))
			}
		})})
	register([]string{"bitmap_max"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(i64, bm),
		eval: bitmapUnary(func(b *sketch.Bitmap, o *outVec, i int) {
			if v, ok := b.Max(); ok {
				o.setInt(i, int64(v))
			}
		})})

	register([]string{"hll_empty"}, funcDef{minArgs: 0, maxArgs: 0, resolve: sig(hll),
		eval: func(_ *EvalContext, _ []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				o.setStr(int(r), emptyHLLValue)
			}
			return nil
		}})
	register([]string{"hll_hash"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(hll, str), nullable: true,
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			var buf []byte
			for _, r := range rows {
				i := int(r)
				if a[0].isNull(i) {
					o.setStr(i, emptyHLLValue)
					continue
				}
				h := sketch.NewHLL()
				h.Add(sketch.HashString(a[0].strv(i)))
				buf = h.AppendBinary(buf[:0])
				o.setBytes(i, buf)
			}
			return nil
		}})
	register([]string{"hll_cardinality"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(i64, hll), nullable: true,
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				if a[0].isNull(i) {
					o.setInt(i, 0)
					continue
				}
				h, err := decodeHLL(a[0].strv(i))
				if err != nil {
					return err
				}
				o.setInt(i, h.Estimate())
			}
			return nil
		}})
	register([]string{"hll_to_base64"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(str, hll),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				o.setStr(int(r), base64.StdEncoding.EncodeToString([]byte(a[0].strv(int(r)))))
			}
			return nil
		}})
	register([]string{"hll_from_base64"}, funcDef{minArgs: 1, maxArgs: 1, resolve: sig(hll, str),
		eval: func(_ *EvalContext, a []*view, o *outVec, rows []int32) error {
			for _, r := range rows {
				i := int(r)
				s := a[0].strv(i)
				raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
				if err != nil {
					continue // NULL, as Doris returns for text that is not base64
				}
				if _, err := decodeHLL(string(raw)); err != nil {
					return fmt.Errorf("hll_from_base64 decode failed: base64: %s", s)
				}
				o.setBytes(i, raw)
			}
			return nil
		}})
}
