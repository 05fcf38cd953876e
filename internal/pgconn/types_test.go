package pgconn

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestParseType(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
		arrow    string
	}{
		{"integer", "integer", "int32"},
		{"int4", "integer", "int32"},
		{"smallint", "smallint", "int16"},
		{"bigint", "bigint", "int64"},
		{"real", "real", "float32"},
		{"double precision", "double precision", "float64"},
		{"numeric(10,2)", "numeric(10,2)", "decimal(10, 2)"},
		{"numeric(5)", "numeric(5,0)", "decimal(5, 0)"},
		{"decimal(38,38)", "numeric(38,38)", "decimal(38, 38)"},
		{"numeric(39,2)", "numeric(39,2)", "utf8"},
		{"numeric(3,-2)", "numeric(3,-2)", "utf8"},
		{"numeric", "numeric", "utf8"},
		{"character varying(40)", "character varying(40)", "utf8"},
		{"varchar(40)", "character varying(40)", "utf8"},
		{"character varying", "character varying", "utf8"},
		{"character(2)", "character(2)", "utf8"},
		{"bpchar", "character", "utf8"},
		{"text", "text", "utf8"},
		{"name", "name", "utf8"},
		{"date", "date", "date32"},
		{"timestamp without time zone", "timestamp without time zone", "timestamp[us]"},
		{"timestamp(3) without time zone", "timestamp(3) without time zone", "timestamp[us]"},
		{"timestamp with time zone", "timestamp with time zone", "timestamp[us, tz=UTC]"},
		{"timestamptz", "timestamp with time zone", "timestamp[us, tz=UTC]"},
		{"boolean", "boolean", "bool"},
		{"uuid", "uuid", "utf8"},
		{"bytea", "bytea", "binary"},
		{"json", "json", "utf8"},
		{"jsonb", "jsonb", "utf8"},
		{"integer[]", "", ""},
		{"interval", "", ""},
		{"uuid(14)", "", ""},
		{"text); DROP TABLE x; --", "", ""},
		{"character varying(0)", "", ""},
		{"timestamp(9) with time zone", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseType(tt.in)
			if !ok {
				if tt.want != "" {
					t.Fatalf("ParseType(%q) refused, want %q", tt.in, tt.want)
				}
				return
			}
			if tt.want == "" {
				t.Fatalf("ParseType(%q) = %q, want refused", tt.in, got)
			}
			if got.String() != tt.want {
				t.Errorf("ParseType(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if a := got.Arrow().String(); a != tt.arrow {
				t.Errorf("ParseType(%q).Arrow() = %s, want %s", tt.in, a, tt.arrow)
			}
		})
	}
}

func TestFromArrow(t *testing.T) {
	tests := []struct {
		dt   arrow.DataType
		want string
	}{
		{arrow.PrimitiveTypes.Int8, "smallint"},
		{arrow.PrimitiveTypes.Int32, "integer"},
		{arrow.PrimitiveTypes.Int64, "bigint"},
		{arrow.PrimitiveTypes.Uint32, "bigint"},
		{arrow.PrimitiveTypes.Uint64, "numeric(20,0)"},
		{arrow.PrimitiveTypes.Float64, "double precision"},
		{&arrow.Decimal128Type{Precision: 12, Scale: 3}, "numeric(12,3)"},
		{arrow.BinaryTypes.String, "text"},
		{arrow.BinaryTypes.LargeString, "text"},
		{arrow.BinaryTypes.Binary, "bytea"},
		{arrow.FixedWidthTypes.Boolean, "boolean"},
		{arrow.FixedWidthTypes.Date32, "date"},
		{&arrow.TimestampType{Unit: arrow.Millisecond}, "timestamp without time zone"},
		{&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, "timestamp with time zone"},
		{arrow.Null, "text"},
	}
	for _, tt := range tests {
		got, ok := FromArrow(tt.dt)
		if !ok || got.String() != tt.want {
			t.Errorf("FromArrow(%s) = %q, %v; want %q", tt.dt, got, ok, tt.want)
		}
	}
	if got, ok := FromArrow(arrow.ListOf(arrow.PrimitiveTypes.Int32)); ok {
		t.Errorf("FromArrow(list) = %q, want refused", got)
	}
}
