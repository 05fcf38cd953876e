package sources

import (
	"context"
	"errors"
)

func openPostgres(ctx context.Context, spec string, o OpenOptions) (Source, error) {
	return nil, errors.New("PostgreSQL sources are not built yet")
}
