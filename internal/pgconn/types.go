package pgconn

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Kind is a PostgreSQL base type that deid reads and writes.
type Kind int

// The kinds deid supports. Every other type (arrays, composites, ranges,
// intervals, network and geometric types, enums) is refused.
const (
	KindInvalid Kind = iota
	KindInt2
	KindInt4
	KindInt8
	KindFloat4
	KindFloat8
	KindNumeric
	KindText
	KindVarchar
	KindBpchar
	KindName
	KindDate
	KindTimestamp
	KindTimestamptz
	KindBool
	KindUUID
	KindBytea
	KindJSON
	KindJSONB
)

// Type is a PostgreSQL column type: a kind and its modifier, if any.
type Type struct {
	Kind Kind
	// HasMod says whether the modifier below is set: a length for
	// varchar and char, a precision for timestamps, a precision and scale
	// for numeric.
	HasMod    bool
	Length    int // varchar(n), char(n); precision of timestamp(p)
	Precision int // numeric(p,s)
	Scale     int
}

var kindNames = map[Kind]string{
	KindInt2: "smallint", KindInt4: "integer", KindInt8: "bigint",
	KindFloat4: "real", KindFloat8: "double precision", KindNumeric: "numeric",
	KindText: "text", KindVarchar: "character varying", KindBpchar: "character",
	KindName: "name", KindDate: "date", KindTimestamp: "timestamp without time zone",
	KindTimestamptz: "timestamp with time zone", KindBool: "boolean", KindUUID: "uuid",
	KindBytea: "bytea", KindJSON: "json", KindJSONB: "jsonb",
}

// aliases maps the spellings ParseType accepts to kinds: the names
// format_type prints and the usual short forms.
var aliases = map[string]Kind{
	"smallint": KindInt2, "int2": KindInt2,
	"integer": KindInt4, "int": KindInt4, "int4": KindInt4,
	"bigint": KindInt8, "int8": KindInt8,
	"real": KindFloat4, "float4": KindFloat4,
	"double precision": KindFloat8, "float8": KindFloat8,
	"numeric": KindNumeric, "decimal": KindNumeric,
	"text":              KindText,
	"character varying": KindVarchar, "varchar": KindVarchar,
	"character": KindBpchar, "char": KindBpchar, "bpchar": KindBpchar,
	"name":      KindName,
	"date":      KindDate,
	"timestamp": KindTimestamp, "timestamp without time zone": KindTimestamp,
	"timestamptz": KindTimestamptz, "timestamp with time zone": KindTimestamptz,
	"boolean": KindBool, "bool": KindBool,
	"uuid": KindUUID, "bytea": KindBytea, "json": KindJSON, "jsonb": KindJSONB,
}

// ParseType reads a type as format_type prints it ("character varying(40)",
// "numeric(10,2)", "timestamp(3) with time zone") or in a usual short form
// ("varchar(40)", "timestamptz"). It reports false for anything else,
// arrays included, so its result is safe to print into DDL via String.
func ParseType(s string) (Type, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	name, mods, suffix := s, "", ""
	if open := strings.IndexByte(s, '('); open >= 0 {
		end := strings.IndexByte(s, ')')
		if end < open {
			return Type{}, false
		}
		name, mods, suffix = strings.TrimSpace(s[:open]), s[open+1:end], strings.TrimSpace(s[end+1:])
	}
	if suffix != "" {
		// Only timestamp puts its time zone after the modifier.
		if name != "timestamp" {
			return Type{}, false
		}
		name += " " + suffix
	}
	kind, ok := aliases[name]
	if !ok {
		return Type{}, false
	}
	t := Type{Kind: kind}
	if mods == "" {
		return t, !strings.Contains(s, "(")
	}

	parts := strings.Split(mods, ",")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return Type{}, false
		}
		nums[i] = n
	}
	t.HasMod = true
	switch {
	case kind == KindNumeric && len(nums) <= 2:
		t.Precision = nums[0]
		if len(nums) == 2 {
			t.Scale = nums[1]
		}
		return t, t.Precision >= 1 && t.Precision <= 1000 && t.Scale >= -1000 && t.Scale <= 1000
	case (kind == KindVarchar || kind == KindBpchar) && len(nums) == 1:
		t.Length = nums[0]
		return t, t.Length >= 1
	case (kind == KindTimestamp || kind == KindTimestamptz) && len(nums) == 1:
		t.Length = nums[0]
		return t, t.Length >= 0 && t.Length <= 6
	}
	return Type{}, false
}

// String prints the type as format_type does, e.g. "numeric(10,2)".
func (t Type) String() string {
	name := kindNames[t.Kind]
	if !t.HasMod {
		return name
	}
	switch t.Kind {
	case KindNumeric:
		return fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale)
	case KindTimestamp:
		return fmt.Sprintf("timestamp(%d) without time zone", t.Length)
	case KindTimestamptz:
		return fmt.Sprintf("timestamp(%d) with time zone", t.Length)
	}
	return fmt.Sprintf("%s(%d)", name, t.Length)
}

// Decimal reports whether the type is read as an Arrow decimal128: a numeric
// with a precision of at most 38 and a scale between 0 and the precision.
// Other numerics are read as their text.
func (t Type) Decimal() bool {
	return t.Kind == KindNumeric && t.HasMod && t.Precision <= 38 && t.Scale >= 0 &&
		t.Scale <= t.Precision
}

// Arrow is the Arrow type a column of type t is read as.
func (t Type) Arrow() arrow.DataType {
	switch t.Kind {
	case KindInt2:
		return arrow.PrimitiveTypes.Int16
	case KindInt4:
		return arrow.PrimitiveTypes.Int32
	case KindInt8:
		return arrow.PrimitiveTypes.Int64
	case KindFloat4:
		return arrow.PrimitiveTypes.Float32
	case KindFloat8:
		return arrow.PrimitiveTypes.Float64
	case KindNumeric:
		if t.Decimal() {
			return &arrow.Decimal128Type{Precision: int32(t.Precision), Scale: int32(t.Scale)}
		}
		return arrow.BinaryTypes.String
	case KindDate:
		return arrow.FixedWidthTypes.Date32
	case KindTimestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case KindTimestamptz:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case KindBool:
		return arrow.FixedWidthTypes.Boolean
	case KindBytea:
		return arrow.BinaryTypes.Binary
	}
	return arrow.BinaryTypes.String
}

// FromArrow is the PostgreSQL type a sink creates for an Arrow type when it
// has no source type to keep: the narrowest type that holds every value.
func FromArrow(dt arrow.DataType) (Type, bool) {
	switch dt := dt.(type) {
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Uint8Type:
		return Type{Kind: KindInt2}, true
	case *arrow.Int32Type, *arrow.Uint16Type:
		return Type{Kind: KindInt4}, true
	case *arrow.Int64Type, *arrow.Uint32Type:
		return Type{Kind: KindInt8}, true
	case *arrow.Uint64Type:
		return Type{Kind: KindNumeric, HasMod: true, Precision: 20}, true
	case *arrow.Float32Type:
		return Type{Kind: KindFloat4}, true
	case *arrow.Float64Type:
		return Type{Kind: KindFloat8}, true
	case arrow.DecimalType:
		return Type{Kind: KindNumeric, HasMod: true, Precision: int(dt.GetPrecision()),
			Scale: int(dt.GetScale())}, true
	case *arrow.StringType, *arrow.LargeStringType, *arrow.NullType:
		return Type{Kind: KindText}, true
	case *arrow.BinaryType, *arrow.LargeBinaryType:
		return Type{Kind: KindBytea}, true
	case *arrow.BooleanType:
		return Type{Kind: KindBool}, true
	case *arrow.Date32Type, *arrow.Date64Type:
		return Type{Kind: KindDate}, true
	case *arrow.TimestampType:
		if dt.TimeZone != "" {
			return Type{Kind: KindTimestamptz}, true
		}
		return Type{Kind: KindTimestamp}, true
	}
	return Type{}, false
}

// Epoch offsets: PostgreSQL counts dates and timestamps from 2000-01-01,
// Arrow from 1970-01-01.
const (
	EpochDays   = 10957                       // days from 1970-01-01 to 2000-01-01
	EpochMicros = EpochDays * 86400 * 1000000 // microseconds between the two
)
