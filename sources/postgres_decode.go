package sources

import (
	"encoding/binary"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/deid/deid/internal/pgconn"
)

// pgDecode appends one value in PostgreSQL's wire format (binary, or text
// for pgColumn.text) to a builder; nil is NULL. It returns a fixed reason
// when the value cannot be represented, never the value.
type pgDecode func(v []byte) (reason string)

const reasonMalformed = "malformed value from the server"

// pgDecoders binds a decoder to each field builder of b.
func pgDecoders(cols []pgColumn, b *array.RecordBuilder) []pgDecode {
	decs := make([]pgDecode, len(cols))
	for i, c := range cols {
		decs[i] = pgDecoder(c, b.Field(i))
	}
	return decs
}

func pgDecoder(c pgColumn, fb array.Builder) pgDecode {
	switch c.typ.Kind {
	case pgconn.KindInt2:
		return pgFixed(fb.(*array.Int16Builder), 2, func(v []byte) int16 {
			return int16(binary.BigEndian.Uint16(v))
		})
	case pgconn.KindInt4:
		return pgFixed(fb.(*array.Int32Builder), 4, func(v []byte) int32 {
			return int32(binary.BigEndian.Uint32(v))
		})
	case pgconn.KindInt8:
		return pgFixed(fb.(*array.Int64Builder), 8, func(v []byte) int64 {
			return int64(binary.BigEndian.Uint64(v))
		})
	case pgconn.KindFloat4:
		return pgFixed(fb.(*array.Float32Builder), 4, func(v []byte) float32 {
			return math.Float32frombits(binary.BigEndian.Uint32(v))
		})
	case pgconn.KindFloat8:
		return pgFixed(fb.(*array.Float64Builder), 8, func(v []byte) float64 {
			return math.Float64frombits(binary.BigEndian.Uint64(v))
		})
	case pgconn.KindNumeric:
		if c.text {
			return pgBytesDecoder(fb.(*array.StringBuilder).BinaryBuilder, 0)
		}
		return pgNumericDecoder(fb.(*array.Decimal128Builder), c.typ.Scale)
	case pgconn.KindDate:
		return pgDateDecoder(fb.(*array.Date32Builder))
	case pgconn.KindTimestamp, pgconn.KindTimestamptz:
		return pgTimestampDecoder(fb.(*array.TimestampBuilder))
	case pgconn.KindBool:
		return pgFixed(fb.(*array.BooleanBuilder), 1, func(v []byte) bool { return v[0] != 0 })
	case pgconn.KindUUID:
		return pgUUIDDecoder(fb.(*array.StringBuilder))
	case pgconn.KindBytea:
		return pgBytesDecoder(fb.(*array.BinaryBuilder), 0)
	case pgconn.KindJSONB:
		// Binary jsonb is a version byte, 1, then the text.
		return pgBytesDecoder(fb.(*array.StringBuilder).BinaryBuilder, 1)
	}
	return pgBytesDecoder(fb.(*array.StringBuilder).BinaryBuilder, 0)
}

// appender is the part of an Arrow builder of T that decoders use.
type appender[T any] interface {
	Append(T)
	AppendNull()
}

// pgFixed decodes a binary value of exactly size bytes with conv.
func pgFixed[T any](b appender[T], size int, conv func(v []byte) T) pgDecode {
	return func(v []byte) string {
		if v == nil {
			b.AppendNull()
		} else if len(v) != size {
			return reasonMalformed
		} else {
			b.Append(conv(v))
		}
		return ""
	}
}

// pgBytesDecoder appends the value's bytes after a header of skip bytes;
// text types send the same bytes in binary as in text.
func pgBytesDecoder(b *array.BinaryBuilder, skip int) pgDecode {
	return func(v []byte) string {
		if v == nil {
			b.AppendNull()
		} else if len(v) < skip {
			return reasonMalformed
		} else {
			b.Append(v[skip:])
		}
		return ""
	}
}

func pgNumericDecoder(b *array.Decimal128Builder, scale int) pgDecode {
	return func(v []byte) string {
		if v == nil {
			b.AppendNull()
			return ""
		}
		n, err := pgconn.DecodeNumeric(v, scale)
		switch err {
		case nil:
			b.Append(n)
			return ""
		case pgconn.ErrNumericSpecial, pgconn.ErrNumericRange:
			return err.Error()
		}
		return reasonMalformed
	}
}

// Dates and timestamps move from PostgreSQL's epoch (2000-01-01) to Arrow's
// (1970-01-01); PostgreSQL's infinity and -infinity become the largest and
// smallest values of the Arrow type, which a PostgreSQL sink turns back.
func pgDateDecoder(b *array.Date32Builder) pgDecode {
	return func(v []byte) string {
		if v == nil {
			b.AppendNull()
			return ""
		}
		if len(v) != 4 {
			return reasonMalformed
		}
		d := int32(binary.BigEndian.Uint32(v))
		if d != math.MaxInt32 && d != math.MinInt32 {
			d += pgconn.EpochDays
		}
		b.Append(arrow.Date32(d))
		return ""
	}
}

func pgTimestampDecoder(b *array.TimestampBuilder) pgDecode {
	return func(v []byte) string {
		if v == nil {
			b.AppendNull()
			return ""
		}
		if len(v) != 8 {
			return reasonMalformed
		}
		us := int64(binary.BigEndian.Uint64(v))
		switch {
		case us == math.MaxInt64 || us == math.MinInt64:
		case us > math.MaxInt64-pgconn.EpochMicros:
			// PostgreSQL goes up to 294276 AD, Arrow microseconds to 294247.
			return "timestamp beyond the year 294246 cannot be read"
		default:
			us += pgconn.EpochMicros
		}
		b.Append(arrow.Timestamp(us))
		return ""
	}
}

func pgUUIDDecoder(b *array.StringBuilder) pgDecode {
	var buf [36]byte
	return func(v []byte) string {
		if v == nil {
			b.AppendNull()
		} else if len(v) != 16 {
			return reasonMalformed
		} else {
			b.BinaryBuilder.Append(pgconn.AppendUUID(buf[:0], v))
		}
		return ""
	}
}
