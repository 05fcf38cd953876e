package sinks

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/deid/deid/internal/pgconn"
)

// pgEncode appends the binary COPY form of row i of one column (not NULL)
// to buf. It returns a fixed reason when the value does not fit the
// column's type, never the value.
type pgEncode func(buf []byte, i int) ([]byte, string)

// pgEncoder binds an encoder to a column of a batch, for a column created
// with type typ.
func pgEncoder(typ pgconn.Type, col arrow.Array) (pgEncode, error) {
	switch a := col.(type) {
	case *array.Int8:
		return func(b []byte, i int) ([]byte, string) {
			return binary.BigEndian.AppendUint16(b, uint16(a.Value(i))), ""
		}, pgWant(typ, pgconn.KindInt2)
	case *array.Uint8:
		return func(b []byte, i int) ([]byte, string) {
			return binary.BigEndian.AppendUint16(b, uint16(a.Value(i))), ""
		}, pgWant(typ, pgconn.KindInt2)
	case *array.Int16:
		return func(b []byte, i int) ([]byte, string) {
			return binary.BigEndian.AppendUint16(b, uint16(a.Value(i))), ""
		}, pgWant(typ, pgconn.KindInt2)
	case *array.Uint16:
		return func(b []byte, i int) ([]byte, string) {
			return binary.BigEndian.AppendUint32(b, uint32(a.Value(i))), ""
		}, pgWant(typ, pgconn.KindInt4)
	case *array.Int32:
		return func(b []byte, i int) ([]byte, string) {
			return binary.BigEndian.AppendUint32(b, uint32(a.Value(i))), ""
		}, pgWant(typ, pgconn.KindInt4)
	case *array.Uint32:
		return func(b []byte, i int) ([]byte, string) {
			return binary.BigEndian.AppendUint64(b, uint64(a.Value(i))), ""
		}, pgWant(typ, pgconn.KindInt8)
	case *array.Int64:
		return func(b []byte, i int) ([]byte, string) {
			return binary.BigEndian.AppendUint64(b, uint64(a.Value(i))), ""
		}, pgWant(typ, pgconn.KindInt8)
	case *array.Uint64:
		return func(b []byte, i int) ([]byte, string) {
			return pgconn.AppendNumericBig(b, new(big.Int).SetUint64(a.Value(i)), 0), ""
		}, pgWant(typ, pgconn.KindNumeric)
	case *array.Float32:
		return func(b []byte, i int) ([]byte, string) {
			return binary.BigEndian.AppendUint32(b, math.Float32bits(a.Value(i))), ""
		}, pgWant(typ, pgconn.KindFloat4)
	case *array.Float64:
		return func(b []byte, i int) ([]byte, string) {
			return binary.BigEndian.AppendUint64(b, math.Float64bits(a.Value(i))), ""
		}, pgWant(typ, pgconn.KindFloat8)
	case *array.Decimal32, *array.Decimal64, *array.Decimal128, *array.Decimal256:
		return pgDecimalEncoder(col), pgWant(typ, pgconn.KindNumeric)
	case *array.String:
		return pgTextEncoder(typ, a.Value)
	case *array.LargeString:
		return pgTextEncoder(typ, a.Value)
	case *array.Binary:
		return func(b []byte, i int) ([]byte, string) { return append(b, a.Value(i)...), "" },
			pgWant(typ, pgconn.KindBytea)
	case *array.LargeBinary:
		return func(b []byte, i int) ([]byte, string) { return append(b, a.Value(i)...), "" },
			pgWant(typ, pgconn.KindBytea)
	case *array.Boolean:
		return func(b []byte, i int) ([]byte, string) {
			if a.Value(i) {
				return append(b, 1), ""
			}
			return append(b, 0), ""
		}, pgWant(typ, pgconn.KindBool)
	case *array.Date32:
		return func(b []byte, i int) ([]byte, string) {
			return binary.BigEndian.AppendUint32(b, uint32(pgDays(int64(a.Value(i))))), ""
		}, pgWant(typ, pgconn.KindDate)
	case *array.Date64:
		return func(b []byte, i int) ([]byte, string) {
			days := math.Floor(float64(a.Value(i)) / 86400000)
			return binary.BigEndian.AppendUint32(b, uint32(pgDays(int64(days)))), ""
		}, pgWant(typ, pgconn.KindDate)
	case *array.Timestamp:
		return pgTimestampEncoder(a), pgWant(typ, pgconn.KindTimestamp, pgconn.KindTimestamptz)
	case *array.Null:
		return func(b []byte, i int) ([]byte, string) { return b, "" }, nil
	}
	return nil, fmt.Errorf("Arrow type %s cannot be loaded", col.DataType())
}

// pgWant checks that the column was created with one of kinds: the encoder
// writes that wire format.
func pgWant(typ pgconn.Type, kinds ...pgconn.Kind) error {
	for _, k := range kinds {
		if typ.Kind == k {
			return nil
		}
	}
	return fmt.Errorf("the batch's type does not match column type %s", typ)
}

// pgTextEncoder writes text into a column of any type that Arrow holds as
// a string: text types as they are, jsonb behind its version byte, uuid
// and numeric parsed into their binary forms.
func pgTextEncoder(typ pgconn.Type, value func(int) string) (pgEncode, error) {
	switch typ.Kind {
	case pgconn.KindText, pgconn.KindVarchar, pgconn.KindBpchar, pgconn.KindName, pgconn.KindJSON:
		return func(b []byte, i int) ([]byte, string) { return append(b, value(i)...), "" }, nil
	case pgconn.KindJSONB:
		return func(b []byte, i int) ([]byte, string) {
			return append(append(b, 1), value(i)...), ""
		}, nil
	case pgconn.KindUUID:
		return func(b []byte, i int) ([]byte, string) {
			out, ok := pgconn.ParseUUID(b, value(i))
			if !ok {
				return b, "value is not a UUID, as its uuid column requires"
			}
			return out, ""
		}, nil
	case pgconn.KindNumeric:
		return func(b []byte, i int) ([]byte, string) {
			out, ok := pgconn.AppendNumericText(b, value(i))
			if !ok {
				return b, "value is not a decimal number, as its numeric column requires"
			}
			return out, ""
		}, nil
	}
	return nil, fmt.Errorf("text cannot be loaded into column type %s", typ)
}

func pgDecimalEncoder(col arrow.Array) pgEncode {
	scale := int(col.DataType().(arrow.DecimalType).GetScale())
	num := func(n decimal128.Num, b []byte) []byte {
		if scale >= 0 {
			return pgconn.AppendNumeric(b, n, scale)
		}
		v := n.BigInt()
		v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-scale)), nil))
		return pgconn.AppendNumericBig(b, v, 0)
	}
	switch a := col.(type) {
	case *array.Decimal32:
		return func(b []byte, i int) ([]byte, string) {
			return num(decimal128.FromI64(int64(a.Value(i))), b), ""
		}
	case *array.Decimal64:
		return func(b []byte, i int) ([]byte, string) {
			return num(decimal128.FromI64(int64(a.Value(i))), b), ""
		}
	case *array.Decimal128:
		return func(b []byte, i int) ([]byte, string) { return num(a.Value(i), b), "" }
	}
	a := col.(*array.Decimal256)
	return func(b []byte, i int) ([]byte, string) {
		v := a.Value(i).BigInt()
		if scale < 0 {
			v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-scale)), nil))
			return pgconn.AppendNumericBig(b, v, 0), ""
		}
		return pgconn.AppendNumericBig(b, v, scale), ""
	}
}

// pgDays moves a day count from Arrow's epoch to PostgreSQL's, keeping the
// infinity sentinels of the PostgreSQL source.
func pgDays(d int64) int32 {
	switch {
	case d >= math.MaxInt32:
		return math.MaxInt32
	case d <= math.MinInt32:
		return math.MinInt32
	}
	return int32(d - pgconn.EpochDays)
}

// pgTimestampEncoder writes microseconds since 2000-01-01; the infinity
// sentinels of the PostgreSQL source stay infinity.
func pgTimestampEncoder(a *array.Timestamp) pgEncode {
	unit := a.DataType().(*arrow.TimestampType).Unit
	return func(b []byte, i int) ([]byte, string) {
		v := int64(a.Value(i))
		if v == math.MaxInt64 || v == math.MinInt64 {
			return binary.BigEndian.AppendUint64(b, uint64(v)), ""
		}
		var us int64
		switch unit {
		case arrow.Second:
			if v > math.MaxInt64/1_000_000 || v < math.MinInt64/1_000_000 {
				return b, "timestamp out of range"
			}
			us = v * 1e6
		case arrow.Millisecond:
			if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
				return b, "timestamp out of range"
			}
			us = v * 1e3
		case arrow.Microsecond:
			us = v
		case arrow.Nanosecond:
			us = v / 1e3
			if v%1e3 < 0 {
				us-- // floor, as for earlier instants
			}
		}
		if us < math.MinInt64+pgconn.EpochMicros {
			return b, "timestamp out of range"
		}
		return binary.BigEndian.AppendUint64(b, uint64(us-pgconn.EpochMicros)), ""
	}
}
