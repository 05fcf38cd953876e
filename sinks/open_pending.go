package sinks

import (
	"context"
	"errors"
)

func openPostgres(ctx context.Context, spec string, o OpenOptions) (Sink, error) {
	return nil, errors.New("PostgreSQL targets are not built yet")
}
