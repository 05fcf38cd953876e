package sources

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestInferType(t *testing.T) {
	tests := []struct {
		name   string
		values []string // "" is null
		want   arrow.DataType
	}{
		{"integers", []string{"1", "-42", "", "1000000"}, arrow.PrimitiveTypes.Int64},
		{"zero", []string{"0", "7"}, arrow.PrimitiveTypes.Int64},
		{"leading zeros stay text", []string{"02134", "12345"}, arrow.BinaryTypes.String},
		{"signed plus stays text", []string{"+5"}, arrow.BinaryTypes.String},
		{"too long stays text", []string{"1234567890123456789"}, arrow.BinaryTypes.String},
		{"floats", []string{"1.5", "2", "-0.25", "3e8", ".5"}, arrow.PrimitiveTypes.Float64},
		{"NaN stays text", []string{"1.5", "NaN"}, arrow.BinaryTypes.String},
		{"Inf stays text", []string{"Inf"}, arrow.BinaryTypes.String},
		{"bools", []string{"true", "FALSE"}, arrow.FixedWidthTypes.Boolean},
		{"0/1 are ints, not bools", []string{"0", "1"}, arrow.PrimitiveTypes.Int64},
		{"dates", []string{"2020-01-31", "1999-12-01"}, arrow.FixedWidthTypes.Date32},
		{"invalid date stays text", []string{"2023-02-30"}, arrow.BinaryTypes.String},
		{"timestamps", []string{"2020-01-31T10:00:00Z", "2020-01-31 10:00:00"}, arrow.FixedWidthTypes.Timestamp_us},
		{"dates and timestamps", []string{"2020-01-31", "2020-01-31T10:00:00Z"}, arrow.FixedWidthTypes.Timestamp_us},
		{"US dates stay text", []string{"01/31/2020"}, arrow.BinaryTypes.String},
		{"mixed", []string{"1", "a"}, arrow.BinaryTypes.String},
		{"all null", []string{"", ""}, arrow.BinaryTypes.String},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := array.NewStringBuilder(memory.DefaultAllocator)
			defer b.Release()
			for _, v := range tt.values {
				if v == "" {
					b.AppendNull()
				} else {
					b.Append(v)
				}
			}
			a := b.NewStringArray()
			defer a.Release()
			if got := InferType(a); !arrow.TypeEqual(got, tt.want) {
				t.Errorf("InferType(%q) = %s, want %s", tt.values, got, tt.want)
			}
		})
	}
}
