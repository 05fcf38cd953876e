package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/deid/deid/internal/dataerr"
)

// pqTable is a table as Tables found it: its description and, per file,
// the row groups and the types pqarrow reads.
type pqTable struct {
	Table
	parts []pqPart
}

// pqPart is one file of a table.
type pqPart struct {
	path      string
	rowGroups []int64 // rows per row group
	read      []arrow.DataType
}

// The fixed reasons of errors about damaged input. None quotes the
// library's own error text, which may hold statistics or values.
const (
	pqReasonNotParquet = "not a Parquet file (no PAR1 magic at its start)"
	pqReasonTruncated  = "truncated Parquet file (no PAR1 magic at its end)"
	pqReasonEncrypted  = "encrypted Parquet files are not supported"
	pqReasonFooter     = "corrupt Parquet footer"
	pqReasonData       = "corrupt or truncated Parquet column data"
	pqReasonChanged    = "file changed since its footer was read"
	pqReasonRows       = "row count differs from the footer's"
)

// pqRule marks errors found while reading Parquet.
const pqRule = "parquet"

// pqReadProps returns reader properties that read pages through a 1 MiB
// buffer instead of loading whole column chunks, so memory stays flat
// however large a row group is.
func pqReadProps() *parquet.ReaderProperties {
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	props.BufferedStreamEnabled = true
	props.BufferSize = 1 << 20
	return props
}

// loadPQTable reads the footer of every file of a table and checks that
// they agree.
func loadPQTable(ctx context.Context, tf pqTableFiles) (pqTable, error) {
	t := pqTable{Table: Table{Name: tf.name, Location: tf.location}}
	var first *arrow.Schema
	for _, path := range tf.paths {
		if err := ctx.Err(); err != nil {
			return pqTable{}, err
		}
		f, rdr, err := openPQFile(tf.name, path)
		if err != nil {
			return pqTable{}, err
		}
		sc, read, err := pqSchema(tf.name, path, rdr)
		rowGroups := pqRowGroups(rdr)
		f.Close()
		if err != nil {
			return pqTable{}, err
		}

		if first == nil {
			first = sc
		} else if first, err = pqMerge(tf.name, t.parts[0].path, first, path, sc); err != nil {
			return pqTable{}, err
		}
		t.parts = append(t.parts, pqPart{path: path, rowGroups: rowGroups, read: read})
	}
	t.Schema = first
	return t, nil
}

// pqFault is a fault in a Parquet file, away from any column.
func pqFault(table, path, reason string) *dataerr.Error {
	return &dataerr.Error{Table: table, File: path, Rule: pqRule, Reason: reason}
}

// openPQFile opens a Parquet file and reads its footer. The caller closes
// the file.
func openPQFile(table, path string) (f *os.File, rdr *file.Reader, err error) {
	f, err = os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading table %q: %w", table, err)
	}
	if err := pqCheckMagic(f, table, path); err != nil {
		f.Close()
		return nil, nil, err
	}

	defer func() {
		if p := recover(); p != nil {
			f.Close()
			f, rdr, err = nil, nil, pqFault(table, path, pqReasonFooter)
		}
	}()
	rdr, err = file.NewParquetReader(f, file.WithReadProps(pqReadProps()))
	if err != nil {
		f.Close()
		return nil, nil, pqIOError(table, path, "", err, pqReasonFooter)
	}
	pqDropArrowSchema(rdr)
	return f, rdr, nil
}

// pqDropArrowSchema removes the Arrow schema a writer may store in the
// footer (key ARROW:schema) before pqarrow sees it. arrow-go decodes it
// without bounds checks, so a damaged one can ask for any amount of memory
// and end the process. What it would add is known from the Parquet types
// but for two details: a time zone other than UTC (the timestamp is read
// in UTC, the same instants) and date64 (read as date32, the same days).
func pqDropArrowSchema(rdr *file.Reader) {
	md := rdr.MetaData()
	if md == nil || md.FileMetaData == nil {
		return
	}
	kvs := md.FileMetaData.KeyValueMetadata
	kept := kvs[:0:0]
	for _, kv := range kvs {
		if kv != nil && kv.Key != "ARROW:schema" {
			kept = append(kept, kv)
		}
	}
	md.FileMetaData.KeyValueMetadata = kept
}

// pqCheckMagic tells a file that is not Parquet, or lost its end, from one
// whose footer is damaged, before the library parses anything.
func pqCheckMagic(f *os.File, table, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("reading table %q: %w", table, err)
	}
	head := make([]byte, 4)
	if _, err := f.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading table %q: %w", table, err)
	}
	switch {
	case bytes.Equal(head, []byte("PARE")):
		return pqFault(table, path, pqReasonEncrypted)
	case !bytes.Equal(head, []byte("PAR1")):
		return pqFault(table, path, pqReasonNotParquet)
	case fi.Size() < 12:
		return pqFault(table, path, pqReasonTruncated)
	}

	tail := make([]byte, 4)
	if _, err := f.ReadAt(tail, fi.Size()-4); err != nil {
		return fmt.Errorf("reading table %q: %w", table, err)
	}
	if !bytes.Equal(tail, []byte("PAR1")) {
		return pqFault(table, path, pqReasonTruncated)
	}
	return nil
}

// pqIOError keeps an operating-system error (a path and an errno, such as
// EIO), and turns any other error into a fixed reason: a read at a bad
// offset also comes as a *fs.PathError, but the file is at fault there.
func pqIOError(table, path, column string, err error, reason string) error {
	var pe *fs.PathError
	var errno syscall.Errno
	if errors.As(err, &pe) && errors.As(pe.Err, &errno) {
		return fmt.Errorf("reading table %q: %w", table, pe)
	}
	return &dataerr.Error{Table: table, File: path, Column: column, Rule: pqRule, Reason: reason}
}

// pqRowGroups lists the number of rows of each row group.
func pqRowGroups(rdr *file.Reader) []int64 {
	md := rdr.MetaData()
	rows := make([]int64, md.NumRowGroups())
	for i := range rows {
		rows[i] = md.RowGroup(i).NumRows()
	}
	return rows
}

// pqSchema converts a file's schema to the table schema (plain types, each
// field marked with its Parquet type) and lists the types pqarrow reads,
// which may be dictionary, large or extension types.
func pqSchema(table, path string, rdr *file.Reader) (
	sc *arrow.Schema, read []arrow.DataType, err error,
) {
	md := rdr.MetaData()
	root := md.Schema.Root()
	colErr := func(col, reason string) error {
		return &dataerr.Error{Table: table, File: path, Column: col, Rule: pqRule, Reason: reason}
	}
	for i := 0; i < root.NumFields(); i++ {
		n := root.Field(i)
		if reason := pqNested(n); reason != "" {
			return nil, nil, colErr(n.Name(), reason)
		}
	}

	defer func() {
		if p := recover(); p != nil {
			sc, read, err = nil, nil, pqFault(table, path, pqReasonFooter)
		}
	}()
	props := &pqarrow.ArrowReadProperties{}
	asRead, err := pqarrow.FromParquet(md.Schema, props, md.KeyValueMetadata())
	if err != nil {
		return nil, nil, colErr(pqBadColumn(md.Schema), "unsupported or invalid Parquet column type")
	}
	if asRead.NumFields() != root.NumFields() {
		return nil, nil, pqFault(table, path, pqReasonFooter)
	}

	fields := make([]arrow.Field, asRead.NumFields())
	read = make([]arrow.DataType, asRead.NumFields())
	for i, f := range asRead.Fields() {
		plain, reason := pqPlainType(f.Type)
		if reason != "" {
			return nil, nil, colErr(f.Name, reason)
		}
		node := root.Field(i).(*schema.PrimitiveNode)
		fields[i] = arrow.Field{
			Name:     f.Name,
			Type:     plain,
			Nullable: node.RepetitionType() != parquet.Repetitions.Required,
			Metadata: arrow.NewMetadata([]string{MetaSourceType}, []string{pqSourceType(node)}),
		}
		read[i] = f.Type
	}
	return arrow.NewSchema(fields, nil), read, nil
}

// pqNested says why a top-level node cannot be read as a flat column, or
// returns "" when it can.
func pqNested(n schema.Node) string {
	if n.Type() == schema.Group {
		switch n.LogicalType().(type) {
		case schema.ListLogicalType:
			return "nested type list is not supported"
		case schema.MapLogicalType:
			return "nested type map is not supported"
		}
		switch n.ConvertedType() {
		case schema.ConvertedTypes.List:
			return "nested type list is not supported"
		case schema.ConvertedTypes.Map, schema.ConvertedTypes.MapKeyValue:
			return "nested type map is not supported"
		}
		return "nested type struct is not supported"
	}
	if n.RepetitionType() == parquet.Repetitions.Repeated {
		return "repeated columns are not supported"
	}
	return ""
}

// pqBadColumn finds the first column pqarrow cannot convert on its own, to
// name it in an error; it returns "" when none fails alone.
func pqBadColumn(sc *schema.Schema) string {
	for i := 0; i < sc.NumColumns(); i++ {
		col := sc.Column(i)
		_, err := pqarrow.FromParquet(pqOneColumn(col), &pqarrow.ArrowReadProperties{}, nil)
		if err != nil {
			return col.Name()
		}
	}
	return ""
}

// pqOneColumn is a schema holding a copy of one primitive column.
func pqOneColumn(col *schema.Column) *schema.Schema {
	n, err := schema.NewPrimitiveNodeLogical(col.Name(), col.SchemaNode().RepetitionType(),
		col.LogicalType(), col.PhysicalType(), col.TypeLength(), -1)
	if err != nil {
		n, _ = schema.NewPrimitiveNode(col.Name(), parquet.Repetitions.Optional,
			col.PhysicalType(), -1, int32(col.TypeLength()))
	}
	g, _ := schema.NewGroupNode("schema", parquet.Repetitions.Required, schema.FieldList{n}, -1)
	return schema.NewSchema(g)
}

// pqPlainType is the type a column is read as: dictionary, large and
// extension types become their plain counterparts. It returns a reason
// when the type is not supported.
//
// TODO: a UUID column becomes fixed_size_binary(16) and JSON, BSON or ENUM
// becomes binary, so the Parquet sink writes them back without that
// annotation.
func pqPlainType(t arrow.DataType) (arrow.DataType, string) {
	switch t := t.(type) {
	case *arrow.DictionaryType:
		return pqPlainType(t.ValueType)
	case arrow.ExtensionType:
		return pqPlainType(t.StorageType())
	case *arrow.LargeStringType:
		return arrow.BinaryTypes.String, ""
	case *arrow.LargeBinaryType:
		return arrow.BinaryTypes.Binary, ""
	}
	switch t.ID() {
	case arrow.NULL, arrow.BOOL,
		arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64,
		arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256,
		arrow.STRING, arrow.BINARY, arrow.FIXED_SIZE_BINARY,
		arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP, arrow.TIME32, arrow.TIME64:
		return t, ""
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.LIST_VIEW,
		arrow.LARGE_LIST_VIEW, arrow.STRUCT, arrow.MAP, arrow.SPARSE_UNION,
		arrow.DENSE_UNION, arrow.RUN_END_ENCODED:
		return nil, "nested type " + t.Name() + " is not supported"
	}
	return nil, "type " + t.Name() + " is not supported"
}

// pqSourceType describes a column's Parquet type, e.g. "INT64" or
// "INT32 Date" or "BYTE_ARRAY String".
func pqSourceType(n *schema.PrimitiveNode) string {
	s := n.PhysicalType().String()
	if n.PhysicalType() == parquet.Types.FixedLenByteArray {
		s = fmt.Sprintf("%s(%d)", s, n.TypeLength())
	}
	switch lt := n.LogicalType().(type) {
	case nil, schema.NoLogicalType:
	case schema.TimestampLogicalType:
		s += fmt.Sprintf(" Timestamp(isAdjustedToUTC=%t, unit=%s)",
			lt.IsAdjustedToUTC(), pqUnit(lt.TimeUnit()))
	case schema.TimeLogicalType:
		s += fmt.Sprintf(" Time(isAdjustedToUTC=%t, unit=%s)",
			lt.IsAdjustedToUTC(), pqUnit(lt.TimeUnit()))
	default:
		s += " " + lt.String()
	}
	return s
}

func pqUnit(u schema.TimeUnitType) string {
	switch u {
	case schema.TimeUnitMillis:
		return "ms"
	case schema.TimeUnitMicros:
		return "us"
	case schema.TimeUnitNanos:
		return "ns"
	}
	return "unknown"
}

// pqMerge checks that the schema of a later part agrees with the table's
// so far, and returns the table's schema with nullability widened.
func pqMerge(table, firstPath string, have *arrow.Schema, path string, got *arrow.Schema) (
	*arrow.Schema, error,
) {
	differ := func(col, why string) error {
		return &dataerr.Error{Table: table, File: path, Column: col, Rule: pqRule,
			Reason: fmt.Sprintf("schema differs from part %s: %s", filepath.Base(firstPath), why)}
	}
	n := max(have.NumFields(), got.NumFields())
	for i := 0; i < n; i++ {
		switch {
		case i >= got.NumFields():
			return nil, differ(have.Field(i).Name, "column missing here")
		case i >= have.NumFields():
			return nil, differ(got.Field(i).Name, "column not in the first part")
		}
		h, g := have.Field(i), got.Field(i)
		if h.Name != g.Name {
			return nil, differ(h.Name, fmt.Sprintf("column %d is %q here", i+1, g.Name))
		}
		if !arrow.TypeEqual(h.Type, g.Type) {
			return nil, differ(h.Name, fmt.Sprintf("type %s there, %s here", h.Type, g.Type))
		}
	}

	fields := have.Fields()
	for i := range fields {
		fields[i].Nullable = fields[i].Nullable || got.Field(i).Nullable
	}
	return arrow.NewSchema(fields, nil), nil
}
