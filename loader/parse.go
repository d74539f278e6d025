package loader

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/strata-db/strata/fe/catalog"
)

// MaxRowBytes bounds one line (CSV, JSON by line) or one element of a JSON
// array; a longer row fails the load, since memory must stay bounded.
const MaxRowBytes = 64 << 20

// RowSource parses a load body into a BatchBuilder.
type RowSource interface {
	// Fill parses rows into bb until bb holds maxRows rows (or about
	// maxBytes bytes) or the input ends, which it reports as io.EOF. Rows
	// that cannot be converted are counted and handed to the error callback;
	// other errors (I/O, a malformed JSON array) end the load.
	Fill(bb *BatchBuilder, maxRows, maxBytes int) error
	// Stats returns the rows read and the rows filtered so far.
	Stats() (total, filtered int64)
}

// RowErrorFunc receives each filtered row: its raw text (only valid during
// the call) and the reason.
type RowErrorFunc func(raw []byte, err error)

type rowStats struct {
	total, filtered int64
	onError         RowErrorFunc
}

func (s *rowStats) Stats() (int64, int64) { return s.total, s.filtered }

func (s *rowStats) rowError(bb *BatchBuilder, raw []byte, err error) {
	bb.DiscardRow()
	s.filtered++
	if s.onError != nil {
		s.onError(raw, err)
	}
}

// lineReader splits a stream into lines on a delimiter of one or more
// bytes, through a buffer that grows only to hold the longest line.
// Lines it returns are valid until the next call.
type lineReader struct {
	r     io.Reader
	buf   []byte
	pos   int // start of the unread data
	end   int // end of the buffered data
	eof   bool
	delim []byte

	// When enclose is set, a delimiter inside an enclosed field does not
	// end the line.
	enclose, escape byte
	sep             []byte
}

func newLineReader(r io.Reader, delim []byte) *lineReader {
	return &lineReader{r: r, buf: make([]byte, 256<<10), delim: delim}
}

// next returns the next line without its delimiter; io.EOF after the last.
func (l *lineReader) next() ([]byte, error) {
	searched := 0 // bytes after pos known to hold no delimiter start
	for {
		data := l.buf[l.pos:l.end]
		var i int
		if l.enclose != 0 {
			i = l.indexEnclosed(data)
		} else if len(l.delim) == 1 {
			i = bytes.IndexByte(data[searched:], l.delim[0])
			if i >= 0 {
				i += searched
			}
		} else {
			i = bytes.Index(data[searched:], l.delim)
			if i >= 0 {
				i += searched
			}
		}
		if i >= 0 {
			l.pos += i + len(l.delim)
			return data[:i], nil
		}
		if l.eof {
			if len(data) == 0 {
				return nil, io.EOF
			}
			l.pos = l.end
			return data, nil
		}
		searched = max(0, len(data)-len(l.delim)+1)
		if err := l.fill(); err != nil {
			return nil, err
		}
	}
}

// fill reads more data, compacting or growing the buffer first.
func (l *lineReader) fill() error {
	if l.pos > 0 {
		n := copy(l.buf, l.buf[l.pos:l.end])
		l.pos, l.end = 0, n
	}
	if l.end == len(l.buf) {
		if len(l.buf) >= MaxRowBytes {
			return fmt.Errorf("a row is longer than %d bytes; check line_delimiter", MaxRowBytes)
		}
		nb := make([]byte, 2*len(l.buf))
		copy(nb, l.buf[:l.end])
		l.buf = nb
	}
	for {
		n, err := l.r.Read(l.buf[l.end:])
		l.end += n
		if errors.Is(err, io.EOF) {
			l.eof = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading body: %w", err)
		}
		if n > 0 {
			return nil
		}
	}
}

// indexEnclosed finds the first delimiter in data that is not inside an
// enclosed field, or -1.
func (l *lineReader) indexEnclosed(data []byte) int {
	atStart, in := true, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if in {
			switch {
			case c == l.escape && l.escape != l.enclose:
				i++
			case c == l.enclose:
				if l.escape == l.enclose && i+1 < len(data) && data[i+1] == l.enclose {
					i++
				} else {
					in = false
				}
			}
			continue
		}
		if atStart && c == l.enclose {
			in, atStart = true, false
			continue
		}
		atStart = false
		if c == l.delim[0] && bytes.HasPrefix(data[i:], l.delim) {
			return i
		}
		if c == l.sep[0] && bytes.HasPrefix(data[i:], l.sep) {
			atStart = true
			i += len(l.sep) - 1
		}
	}
	return -1
}

// csvSource parses CSV (and csv_with_names[_and_types]).
type csvSource struct {
	rowStats
	lr       *lineReader
	opts     *LoadOptions
	mapping  []int // field index -> column index, -1 to skip the field
	isString []bool
	toSkip   int
	fields   [][]byte
	scratch  []byte
}

// NewCSVSource returns a RowSource reading CSV from r. mapping gives the
// column of each field (-1: ignore the field); a row with another number of
// fields is filtered.
func NewCSVSource(r io.Reader, opts *LoadOptions, mapping []int, cols []catalog.Column, onError RowErrorFunc) RowSource {
	lr := newLineReader(r, opts.LineDelimiter)
	if opts.Enclose != 0 {
		lr.enclose, lr.escape, lr.sep = opts.Enclose, opts.Escape, opts.ColumnSeparator
	}
	s := &csvSource{rowStats: rowStats{onError: onError}, lr: lr, opts: opts, mapping: mapping, toSkip: opts.SkipLines}
	s.isString = make([]bool, len(cols))
	for i, c := range cols {
		s.isString[i] = c.Type.Kind.IsString()
	}
	return s
}

func (s *csvSource) Fill(bb *BatchBuilder, maxRows, maxBytes int) error {
	checkEvery := 0
	for bb.Len() < maxRows {
		line, err := s.lr.next()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			continue
		}
		if s.toSkip > 0 {
			s.toSkip--
			continue
		}
		s.total++
		if s.opts.Enclose != 0 {
			s.fields = s.splitEnclosed(line)
		} else {
			s.fields = splitFields(line, s.opts.ColumnSeparator, s.fields[:0])
		}
		if len(s.fields) != len(s.mapping) {
			rel := "more"
			if len(s.fields) < len(s.mapping) {
				rel = "less"
			}
			s.rowError(bb, line, fmt.Errorf("actual column number in csv file is %s than schema column number. actual number: %d, schema column number: %d",
				rel, len(s.fields), len(s.mapping)))
			continue
		}
		if err := s.convertRow(bb); err != nil {
			s.rowError(bb, line, err)
			continue
		}
		if checkEvery++; checkEvery == 256 {
			checkEvery = 0
			if bb.ByteSize() >= maxBytes {
				return nil
			}
		}
	}
	return nil
}

func (s *csvSource) convertRow(bb *BatchBuilder) error {
	for i, f := range s.fields {
		col := s.mapping[i]
		if col < 0 {
			continue
		}
		if s.opts.TrimDoubleQuotes && len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
			f = f[1 : len(f)-1]
		}
		var err error
		if (len(f) == 2 && f[0] == '\\' && f[1] == 'N') || (len(f) == 0 && s.opts.EmptyFieldAsNull && s.isString[col]) {
			err = bb.SetNull(col)
		} else {
			err = bb.Set(col, f)
		}
		if err != nil {
			return err
		}
	}
	return bb.EndRow()
}

// splitFields appends the fields of line separated by sep to dst.
func splitFields(line, sep []byte, dst [][]byte) [][]byte {
	if len(sep) == 1 {
		c := sep[0]
		for {
			i := bytes.IndexByte(line, c)
			if i < 0 {
				return append(dst, line)
			}
			dst = append(dst, line[:i])
			line = line[i+1:]
		}
	}
	for {
		i := bytes.Index(line, sep)
		if i < 0 {
			return append(dst, line)
		}
		dst = append(dst, line[:i])
		line = line[i+len(sep):]
	}
}

// splitEnclosed splits a line whose fields may be enclosed. The content of
// an enclosed field is unescaped into s.scratch, which is sized up front so
// that earlier fields stay valid.
func (s *csvSource) splitEnclosed(line []byte) [][]byte {
	enc, esc, sep := s.opts.Enclose, s.opts.Escape, s.opts.ColumnSeparator
	if cap(s.scratch) < len(line) {
		s.scratch = make([]byte, 0, len(line))
	}
	scratch := s.scratch[:0]
	fields := s.fields[:0]
	i := 0
	for {
		if i < len(line) && line[i] == enc {
			// Enclosed field: copy content up to the closing enclose.
			start := len(scratch)
			i++
			for i < len(line) {
				c := line[i]
				if c == esc && esc != enc && i+1 < len(line) {
					scratch = append(scratch, line[i+1])
					i += 2
					continue
				}
				if c == enc {
					if esc == enc && i+1 < len(line) && line[i+1] == enc {
						scratch = append(scratch, enc)
						i += 2
						continue
					}
					i++
					break
				}
				scratch = append(scratch, c)
				i++
			}
			// Bytes between the closing enclose and the separator are kept.
			j := bytes.Index(line[i:], sep)
			if j < 0 {
				scratch = append(scratch, line[i:]...)
				return append(fields, scratch[start:])
			}
			scratch = append(scratch, line[i:i+j]...)
			fields = append(fields, scratch[start:len(scratch):len(scratch)])
			i += j + len(sep)
			continue
		}
		j := bytes.Index(line[i:], sep)
		if j < 0 {
			return append(fields, line[i:])
		}
		fields = append(fields, line[i:i+j])
		i += j + len(sep)
	}
}

// jsonSource parses JSON objects, one per line or as the elements of a
// top-level array.
type jsonSource struct {
	rowStats
	lr     *lineReader   // read_json_by_line
	dec    *json.Decoder // strip_outer_array
	colIdx map[string]int
	keyBuf []byte
	valBuf []byte
	raw    json.RawMessage
	opened bool
}

// NewJSONSource returns a RowSource reading JSON from r. colIdx maps
// lower-case key names to columns; other keys are ignored.
func NewJSONSource(r io.Reader, opts *LoadOptions, colIdx map[string]int, onError RowErrorFunc) RowSource {
	s := &jsonSource{rowStats: rowStats{onError: onError}, colIdx: colIdx}
	if opts.ReadJSONByLine {
		s.lr = newLineReader(r, opts.LineDelimiter)
	} else {
		s.dec = json.NewDecoder(r)
	}
	return s
}

func (s *jsonSource) Fill(bb *BatchBuilder, maxRows, maxBytes int) error {
	for bb.Len() < maxRows && bb.ByteSize() < maxBytes {
		var text []byte
		if s.lr != nil {
			line, err := s.lr.next()
			if err != nil {
				return err
			}
			text = trimSpace(line)
			if len(text) == 0 {
				continue
			}
		} else {
			if !s.opened {
				tok, err := s.dec.Token()
				if errors.Is(err, io.EOF) {
					return io.EOF
				}
				if err != nil {
					return fmt.Errorf("parsing JSON body: %w", err)
				}
				if d, ok := tok.(json.Delim); !ok || d != '[' {
					return errors.New("JSON data is not an array-object, strip_outer_array must be TRUE")
				}
				s.opened = true
			}
			if !s.dec.More() {
				if _, err := s.dec.Token(); err != nil {
					return fmt.Errorf("parsing JSON body: %w", err)
				}
				if _, err := s.dec.Token(); !errors.Is(err, io.EOF) {
					return errors.New("parsing JSON body: data after the top-level array")
				}
				return io.EOF
			}
			if err := s.dec.Decode(&s.raw); err != nil {
				return fmt.Errorf("parsing JSON body: %w", err)
			}
			text = s.raw
		}
		s.parseText(bb, text)
	}
	return nil
}

// parseText parses one object, or an array of objects, as rows.
func (s *jsonSource) parseText(bb *BatchBuilder, text []byte) {
	sc := jsonScanner{b: text}
	if text[0] != '[' {
		s.total++
		if err := s.parseObject(bb, &sc); err != nil {
			s.rowError(bb, text, err)
			return
		}
		sc.ws()
		if sc.i != len(sc.b) {
			s.rowError(bb, text, errors.New("invalid JSON: data after the object"))
			return
		}
		if err := bb.EndRow(); err != nil {
			s.rowError(bb, text, err)
		}
		return
	}
	sc.i++
	sc.ws()
	if sc.peek() == ']' {
		return
	}
	for {
		sc.ws()
		start := sc.i
		s.total++
		err := s.parseObject(bb, &sc)
		if err == nil {
			err = bb.EndRow()
		}
		if err != nil {
			s.rowError(bb, text[start:min(sc.i, len(text))], err)
			if sc.err != nil {
				return
			}
		}
		sc.ws()
		switch sc.peek() {
		case ',':
			sc.i++
			continue
		case ']':
			return
		}
		s.total++
		s.rowError(bb, text, errors.New("invalid JSON array"))
		return
	}
}

var errNotObject = errors.New("invalid JSON: a row must be a JSON object")

// parseObject sets the values of the object at sc in the current row of
// bb; the caller ends the row. On error the caller discards the row; sc.err is set when the text itself is malformed.
func (s *jsonSource) parseObject(bb *BatchBuilder, sc *jsonScanner) error {
	sc.ws()
	if sc.peek() != '{' {
		sc.err = errNotObject
		return errNotObject
	}
	sc.i++
	sc.ws()
	if sc.peek() == '}' {
		sc.i++
		return nil
	}
	var rowErr error
	for {
		sc.ws()
		key, ok := sc.str(&s.keyBuf)
		if !ok {
			return sc.fail("invalid JSON: expected a key")
		}
		sc.ws()
		if sc.peek() != ':' {
			return sc.fail("invalid JSON: expected ':'")
		}
		sc.i++
		sc.ws()
		col := s.lookup(key)
		var err error
		switch c := sc.peek(); {
		case c == '"':
			v, ok := sc.str(&s.valBuf)
			if !ok {
				return sc.fail("invalid JSON string")
			}
			if col >= 0 {
				err = bb.Set(col, v)
			}
		case c == 'n':
			if !sc.lit("null") {
				return sc.fail("invalid JSON literal")
			}
			if col >= 0 {
				err = bb.SetNull(col)
			}
		case c == 't' || c == 'f':
			start := sc.i
			if !sc.lit("true") && !sc.lit("false") {
				return sc.fail("invalid JSON literal")
			}
			if col >= 0 {
				err = bb.Set(col, sc.b[start:sc.i])
			}
		case c == '{' || c == '[':
			start := sc.i
			if !sc.skipComposite() {
				return sc.fail("invalid JSON value")
			}
			if col >= 0 {
				err = bb.Set(col, sc.b[start:sc.i])
			}
		case c == '-' || (c >= '0' && c <= '9'):
			start := sc.i
			sc.number()
			if col >= 0 {
				err = bb.Set(col, sc.b[start:sc.i])
			}
		default:
			return sc.fail("invalid JSON value")
		}
		if err != nil && rowErr == nil {
			rowErr = err
		}
		sc.ws()
		switch sc.peek() {
		case ',':
			sc.i++
			continue
		case '}':
			sc.i++
			return rowErr
		}
		return sc.fail("invalid JSON: expected ',' or '}'")
	}
}

func (s *jsonSource) lookup(key []byte) int {
	if i, ok := s.colIdx[string(key)]; ok {
		return i
	}
	upper := false
	for _, c := range key {
		if 'A' <= c && c <= 'Z' {
			upper = true
			break
		}
	}
	if !upper {
		return -1
	}
	s.keyBuf = append(s.keyBuf[:0], key...)
	for i, c := range s.keyBuf {
		if 'A' <= c && c <= 'Z' {
			s.keyBuf[i] = c + 'a' - 'A'
		}
	}
	if i, ok := s.colIdx[string(s.keyBuf)]; ok {
		return i
	}
	return -1
}

// jsonScanner is a cursor over one JSON text.
type jsonScanner struct {
	b   []byte
	i   int
	err error
}

func (sc *jsonScanner) fail(msg string) error {
	sc.err = errors.New(msg)
	return sc.err
}

func (sc *jsonScanner) peek() byte {
	if sc.i < len(sc.b) {
		return sc.b[sc.i]
	}
	return 0
}

func (sc *jsonScanner) ws() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

func (sc *jsonScanner) lit(w string) bool {
	if strings.HasPrefix(bytesToString(sc.b[sc.i:]), w) {
		sc.i += len(w)
		return true
	}
	return false
}

func (sc *jsonScanner) number() {
	for sc.i < len(sc.b) {
		switch c := sc.b[sc.i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			sc.i++
		default:
			return
		}
	}
}

// str reads a string at the cursor. Without escapes it returns a slice of
// the input; otherwise the unescaped text in *buf.
func (sc *jsonScanner) str(buf *[]byte) ([]byte, bool) {
	if sc.peek() != '"' {
		return nil, false
	}
	sc.i++
	start := sc.i
	for sc.i < len(sc.b) {
		c := sc.b[sc.i]
		if c == '"' {
			sc.i++
			return sc.b[start : sc.i-1], true
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, false
		}
		sc.i++
	}
	out := append((*buf)[:0], sc.b[start:sc.i]...)
	for sc.i < len(sc.b) {
		c := sc.b[sc.i]
		switch {
		case c == '"':
			sc.i++
			*buf = out
			return out, true
		case c < 0x20:
			return nil, false
		case c != '\\':
			out = append(out, c)
			sc.i++
			continue
		}
		if sc.i+1 >= len(sc.b) {
			return nil, false
		}
		e := sc.b[sc.i+1]
		sc.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := sc.hex4()
			if !ok {
				return nil, false
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if sc.i+1 < len(sc.b) && sc.b[sc.i] == '\\' && sc.b[sc.i+1] == 'u' {
					sc.i += 2
					if r2, ok = sc.hex4(); !ok {
						return nil, false
					}
				}
				r = utf16.DecodeRune(r, r2)
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, false
		}
	}
	return nil, false
}

func (sc *jsonScanner) hex4() (rune, bool) {
	if sc.i+4 > len(sc.b) {
		return 0, false
	}
	var r rune
	for _, c := range sc.b[sc.i : sc.i+4] {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	sc.i += 4
	return r, true
}

// skipComposite skips a balanced object or array, strings included.
func (sc *jsonScanner) skipComposite() bool {
	depth := 0
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				sc.i++
				return true
			}
		case '"':
			var tmp []byte
			if _, ok := sc.str(&tmp); !ok {
				return false
			}
			continue
		}
		sc.i++
	}
	return false
}
