package sources

import "github.com/apache/arrow-go/v18/arrow"

// DataTypes is shorthand for ReadOptions.Types in tests.
type DataTypes = map[string]arrow.DataType

var (
	date32      = arrow.FixedWidthTypes.Date32
	timestampUS = arrow.FixedWidthTypes.Timestamp_us
	float64T    = arrow.PrimitiveTypes.Float64
	int64T      = arrow.PrimitiveTypes.Int64
	int32T      = arrow.PrimitiveTypes.Int32
	boolT       = arrow.FixedWidthTypes.Boolean
)
