package sources

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"unicode/utf8"
)

// csvScanner splits RFC 4180 text into records without copying fields: a
// record's fields are spans of the read buffer (quoted fields unescaped in
// place), or of a scratch buffer for a record that spans lines, and stay
// valid until the next call to record.
//
// It follows encoding/csv with its default settings: records end at LF or
// CRLF; a CR before the LF that ends a record and a CR at the very end of the
// input are dropped; blank lines between records are skipped; a field is
// quoted only when its first byte is a quote. It differs in three ways: a
// quoted field keeps its bytes exactly as RFC 4180 says (encoding/csv turns
// CRLF inside one into LF), so that every value the CSV sink writes reads
// back the same; it rejects invalid UTF-8 and NUL bytes; and it bounds a
// record's size so that a stray quote cannot make it buffer a whole file.
type csvScanner struct {
	r     io.Reader
	buf   []byte
	pos   int   // start of unconsumed data in buf
	end   int   // end of buffered data in buf
	read  int64 // bytes read from r so far
	eof   bool  // r reported io.EOF
	rerr  error // a read error other than io.EOF
	comma byte
	line  int64 // lines consumed before pos
	max   int   // the largest buffer a record may need

	spans   []span // the fields of the last record
	quoted  bool   // whether spans index scratch rather than buf (multi-line records)
	scratch []byte
}

// span locates a field in the scanner's base buffer. Fields are kept as
// offsets rather than slices so that recording one stores no pointer.
type span struct{ start, end int32 }

// Sizes of the scanner's read buffer. A record longer than maxCSVRecord is
// an error: no legitimate table needs one, and the bound keeps memory flat.
const (
	csvBufSize   = 1 << 20
	maxCSVRecord = 64 << 20
)

// scanFault is a malformed record. It names the line and field index where
// the fault was found and never holds any of the input.
type scanFault struct {
	line   int64
	field  int // 0-based field index; -1 when the fault is not in one field
	reason string
}

func (f *scanFault) Error() string { return f.reason }

// Fixed reasons for malformed input.
const (
	reasonBareQuote   = "bare quote in unquoted field"
	reasonExtraQuote  = "extraneous or missing quote in quoted field"
	reasonUnterm      = "quoted field is not terminated"
	reasonUTF8        = "field is not valid UTF-8"
	reasonNUL         = "field contains a NUL byte"
	reasonRecordLimit = "record is longer than 64 MiB"
)

var errRecordLimit = errors.New(reasonRecordLimit)

func newCSVScanner(r io.Reader, comma byte, size int) *csvScanner {
	return &csvScanner{r: r, buf: make([]byte, size), comma: comma, max: maxCSVRecord}
}

// consumed is the number of input bytes consumed by the records returned.
func (s *csvScanner) consumed() int64 { return s.read - int64(s.end-s.pos) }

// skipBOM drops a UTF-8 byte order mark at the start of the input.
func (s *csvScanner) skipBOM() error {
	for s.end-s.pos < 3 && !s.eof {
		if err := s.fill(); err != nil {
			return err
		}
	}
	if bytes.HasPrefix(s.buf[s.pos:s.end], []byte("\xEF\xBB\xBF")) {
		s.pos += 3
	}
	return nil
}

// fill reads more input after the unconsumed data, moving that data to the
// front of the buffer and growing the buffer when it is full. It reads until
// the unconsumed data at least doubles (or 64 KiB are buffered), so that a
// long record read from a pipe in small pieces is parsed O(log n) times, not
// once per piece.
func (s *csvScanner) fill() error {
	if s.rerr != nil {
		return s.rerr
	}
	if s.pos > 0 {
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.pos = 0
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= s.max {
			return errRecordLimit
		}
		grown := make([]byte, min(2*len(s.buf), s.max))
		copy(grown, s.buf[:s.end])
		s.buf = grown
	}

	want := min(len(s.buf), max(2*s.end, 64<<10))
	for idle := 0; s.end < want && !s.eof; {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		s.read += int64(n)
		switch {
		case err == io.EOF:
			s.eof = true
		case err != nil:
			s.rerr = err
			return err
		case n == 0:
			if idle++; idle == 100 {
				s.rerr = io.ErrNoProgress
				return s.rerr
			}
		}
	}
	return nil
}

// record returns the next record's fields as spans of base, and the line
// it starts on, or io.EOF after the last record. Both stay valid until the
// next call. A malformed record is a *scanFault; a read error is returned
// as it is.
func (s *csvScanner) record() (base []byte, fields []span, line int64, err error) {
	for {
		fields, line, more, err := s.parse()
		if err != nil || !more {
			if s.quoted {
				return s.scratch, fields, line, err
			}
			return s.buf, fields, line, err
		}
		if err := s.fill(); err != nil {
			if err == errRecordLimit {
				err = &scanFault{line: s.line + 1, field: -1, reason: reasonRecordLimit}
			}
			return nil, nil, s.line + 1, err
		}
	}
}

// parse parses one record from the buffered data. It reports more when the
// record may continue past the data buffered so far; the caller then fills
// the buffer and calls parse again, which starts the record over.
func (s *csvScanner) parse() (fields []span, line int64, more bool, err error) {
	p, ok := s.skipBlank()
	if !ok {
		if s.eof {
			return nil, 0, false, io.EOF
		}
		return nil, 0, true, nil
	}

	// Fast path: a complete line without quotes is one record.
	rest := s.buf[p:s.end]
	next, end := s.end, s.end
	if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
		next, end = p+nl+1, p+nl
	} else if !s.eof {
		return nil, 0, true, nil
	}
	if q := bytes.IndexByte(s.buf[p:end], '"'); q >= 0 {
		// An even number of quotes means the line ends outside any quoted
		// field, so the record is this line alone (or the line is
		// malformed, which parseLine reports as parseQuoted would).
		if bytes.Count(s.buf[p+q:end], []byte{'"'})%2 == 0 {
			return s.parseLine(p, end, next)
		}
		return s.parseQuoted(p)
	}
	if end > p && s.buf[end-1] == '\r' {
		end--
	}

	n := s.split(p, end)
	f := s.spans[:n+1]
	s.quoted = false
	s.line++
	s.pos = next

	// Comma is ASCII, so the line is valid UTF-8 exactly when every field is.
	whole := s.buf[p:next]
	if !utf8.Valid(whole) || bytes.IndexByte(whole, 0) >= 0 {
		if fault := checkFields(s.buf, f, s.line); fault != nil {
			return nil, s.line, false, fault
		}
	}
	return f, s.line, false, nil
}

// split records the fields of the unquoted line buf[p:end] in spans and
// returns their number minus one. It looks at eight bytes at a time (SWAR)
// and writes no pointer, so it never runs a write barrier.
func (s *csvScanner) split(p, end int) int {
	const lo, hi7, hi = 0x0101010101010101, 0x7F7F7F7F7F7F7F7F, 0x8080808080808080
	if need := end - p + 1; cap(s.spans) < need {
		s.spans = make([]span, max(need, 2*cap(s.spans)))
	}
	spans := s.spans[:cap(s.spans)]
	comma := lo * uint64(s.comma)
	n, from := 0, p
	j := p
	for ; j+8 <= end; j += 8 {
		y := binary.LittleEndian.Uint64(s.buf[j:]) ^ comma
		m := ^(((y & hi7) + hi7) | y) & hi // high bit set exactly in comma bytes
		for m != 0 {
			at := j + bits.TrailingZeros64(m)>>3
			spans[n] = span{int32(from), int32(at)}
			n++
			from = at + 1
			m &= m - 1
		}
	}
	for ; j < end; j++ {
		if s.buf[j] == s.comma {
			spans[n] = span{int32(from), int32(j)}
			n++
			from = j + 1
		}
	}
	spans[n] = span{int32(from), int32(end)}
	return n
}

// skipBlank moves past blank lines and reports the start of the next record,
// or false when no record starts in the buffered data.
func (s *csvScanner) skipBlank() (int, bool) {
	p := s.pos
	for p < s.end {
		switch s.buf[p] {
		case '\n':
			p++
			s.line++
			continue
		case '\r':
			switch {
			case p+1 < s.end && s.buf[p+1] == '\n':
				p += 2
				s.line++
				continue
			case p+1 < s.end:
				s.pos = p
				return p, true
			case s.eof:
				p++ // a CR at the very end of the input is dropped
				continue
			}
			s.pos = p
			return p, false
		}
		s.pos = p
		return p, true
	}
	s.pos = p
	return p, false
}

// parseLine parses buf[p:end], a whole line that holds quotes and is a
// whole record, and consumes it up to next. It unescapes quoted fields in
// place (the line is never parsed again), so a quoted field without "" is
// not copied at all.
func (s *csvScanner) parseLine(p, end, next int) (fields []span, line int64, more bool, err error) {
	buf := s.buf[:end]
	s.line++
	s.pos = next
	ln := s.line

	// Removing quotes never joins bytes of different fields or parts of
	// one field, so the line is valid UTF-8 exactly when every field is.
	if !utf8.Valid(buf[p:]) || bytes.IndexByte(buf[p:], 0) >= 0 {
		return s.parseLineChecked(p, end, ln)
	}

	f := s.spans[:0]
	for {
		if p < end && buf[p] == '"' {
			from, w := p+1, p+1 // the content is compacted to start at from
			r := p + 1
			for {
				i := bytes.IndexByte(buf[r:], '"')
				if i < 0 {
					return nil, ln, false, &scanFault{line: ln, field: len(f), reason: reasonUnterm}
				}
				if w != r {
					copy(buf[w:], buf[r:r+i])
				}
				w += i
				r += i + 1
				if r < end && buf[r] == '"' {
					buf[w] = '"'
					w++
					r++
					continue
				}
				break
			}
			f = append(f, span{int32(from), int32(w)})
			switch {
			case r == end, r == end-1 && buf[r] == '\r':
				s.spans, s.quoted = f, false
				return f, ln, false, nil
			case buf[r] == s.comma:
				p = r + 1
				continue
			}
			return nil, ln, false, &scanFault{line: ln, field: len(f) - 1, reason: reasonExtraQuote}
		}

		j := p
		for j < end && buf[j] != s.comma && buf[j] != '"' {
			j++
		}
		switch {
		case j == end:
			f = append(f, span{int32(p), int32(len(trimCR(buf[p:j])) + p)})
			s.spans, s.quoted = f, false
			return f, ln, false, nil
		case buf[j] == '"':
			return nil, ln, false, &scanFault{line: ln, field: len(f), reason: reasonBareQuote}
		}
		f = append(f, span{int32(p), int32(j)})
		p = j + 1
	}
}

// parseLineChecked handles a line holding invalid UTF-8 or a NUL byte:
// it reports the first malformed field, or the first invalid one.
func (s *csvScanner) parseLineChecked(p, end int, ln int64) ([]span, int64, bool, error) {
	s.line-- // parseQuoted counts the line again
	f, _, more, err := s.parseQuoted(p)
	if err == nil && !more {
		// Not reached: parseQuoted checks the fields it returns.
		return f, ln, false, nil
	}
	if more {
		return nil, ln, false, &scanFault{line: ln, field: -1, reason: reasonUnterm}
	}
	return nil, ln, false, err
}

// parseQuoted parses a record that holds a quote and may span lines. It
// copies every field of the record into the scratch buffer.
func (s *csvScanner) parseQuoted(p int) (fields []span, line int64, more bool, err error) {
	buf := s.buf[:s.end]
	start := s.line + 1
	ln := start
	f := s.spans[:0]
	sc := s.scratch[:0]

	for {
		from := int32(len(sc))
		if p < len(buf) && buf[p] == '"' {
			opened := ln
			q := p + 1
			for {
				i := bytes.IndexByte(buf[q:], '"')
				if i < 0 {
					if !s.eof {
						return nil, 0, true, nil
					}
					return nil, start, false, &scanFault{line: opened, field: len(f), reason: reasonUnterm}
				}
				c := q + i
				if c+1 == len(buf) && !s.eof {
					return nil, 0, true, nil
				}
				sc, ln = appendQuoted(sc, buf[q:c], ln)

				if c+1 == len(buf) {
					f, sc = endField(f, sc, from)
					return s.finish(f, sc, start, ln, len(buf))
				}
				switch b := buf[c+1]; {
				case b == '"':
					sc = append(sc, '"')
					q = c + 2
					continue
				case b == s.comma:
					f, sc = endField(f, sc, from)
					p = c + 2
				case b == '\n':
					f, sc = endField(f, sc, from)
					return s.finish(f, sc, start, ln, c+2)
				case b == '\r' && c+2 < len(buf) && buf[c+2] == '\n':
					f, sc = endField(f, sc, from)
					return s.finish(f, sc, start, ln, c+3)
				case b == '\r' && c+2 == len(buf):
					if !s.eof {
						return nil, 0, true, nil
					}
					f, sc = endField(f, sc, from)
					return s.finish(f, sc, start, ln, c+2)
				default:
					return nil, start, false, &scanFault{line: ln, field: len(f), reason: reasonExtraQuote}
				}
				break
			}
			continue
		}

		j := p
		for j < len(buf) {
			if b := buf[j]; b == s.comma || b == '\n' || b == '"' {
				break
			}
			j++
		}
		if j == len(buf) {
			if !s.eof {
				return nil, 0, true, nil
			}
			sc = append(sc, trimCR(buf[p:j])...)
			f, sc = endField(f, sc, from)
			return s.finish(f, sc, start, ln, j)
		}
		switch buf[j] {
		case '"':
			return nil, start, false, &scanFault{line: ln, field: len(f), reason: reasonBareQuote}
		case '\n':
			sc = append(sc, trimCR(buf[p:j])...)
			f, sc = endField(f, sc, from)
			return s.finish(f, sc, start, ln, j+1)
		}
		sc = append(sc, buf[p:j]...)
		f, sc = endField(f, sc, from)
		p = j + 1
	}
}

// endField records the field that starts at from in the scratch buffer and
// appends an ASCII separator after it, so that the whole buffer is valid
// UTF-8 exactly when every field is.
func endField(f []span, sc []byte, from int32) ([]span, []byte) {
	return append(f, span{from, int32(len(sc))}), append(sc, ',')
}

// finish consumes a record parsed by parseQuoted up to next and checks its
// fields.
func (s *csvScanner) finish(f []span, sc []byte, start, ln int64, next int) (
	[]span, int64, bool, error) {
	s.spans, s.scratch, s.quoted = f, sc, true
	s.pos, s.line = next, ln
	if !utf8.Valid(sc) || bytes.IndexByte(sc, 0) >= 0 {
		if fault := checkFields(sc, f, start); fault != nil {
			return nil, start, false, fault
		}
	}
	return f, start, false, nil
}

// appendQuoted appends the content of a quoted field up to a quote, as it
// is, and counts the lines it spans.
func appendQuoted(dst, seg []byte, line int64) ([]byte, int64) {
	if bytes.IndexByte(seg, '\n') >= 0 {
		line += int64(bytes.Count(seg, []byte{'\n'}))
	}
	return append(dst, seg...), line
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// checkFields reports the first field that is not valid UTF-8 or holds a NUL
// byte. A field of a record that spans lines is reported at the record's
// first line.
func checkFields(base []byte, f []span, line int64) *scanFault {
	for i, sp := range f {
		b := base[sp.start:sp.end]
		if !utf8.Valid(b) {
			return &scanFault{line: line, field: i, reason: reasonUTF8}
		}
		if bytes.IndexByte(b, 0) >= 0 {
			return &scanFault{line: line, field: i, reason: reasonNUL}
		}
	}
	return nil
}
