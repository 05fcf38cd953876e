package sinks

import (
	"context"
	"errors"
)

func openPostgres(ctx context.Context, spec string, o OpenOptions) (Sink, error) {
	return nil, errors.New("PostgreSQL targets are not built yet")
}

func openParquetDir(dir string, o OpenOptions) (Sink, error) {
	return nil, errors.New("Parquet targets are not built yet")
}

func openParquetFile(path string, o OpenOptions) (Sink, error) {
	return nil, errors.New("Parquet targets are not built yet")
}
