package pgconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	pgxconn "github.com/jackc/pgx/v5/pgconn"
)

// Config is a parsed connection string. It connects as often as needed and
// shows itself only with the password masked.
type Config struct {
	conn     *pgx.ConnConfig
	redacted string
}

// Parse reads a connection string: a postgres:// or postgresql:// URL or a
// libpq key=value string, with libpq environment variables (PGHOST,
// PGPASSWORD, PGSSLMODE, ...) and the password file filling in what it
// leaves out, as pgx does. It warns on logger when the connection may go
// unencrypted to a host that is not local (see Insecure).
func Parse(conn string, logger *slog.Logger) (*Config, error) {
	redacted := Redact(conn)
	cfg, err := pgx.ParseConfig(conn)
	if err != nil {
		// pgx's parse errors may quote parts of the string; say which
		// string it was, masked, and nothing else.
		return nil, fmt.Errorf("parsing connection string %s: invalid connection string", redacted)
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "deid"
	}
	c := &Config{conn: cfg, redacted: redacted}

	if host, ok := c.Insecure(); ok {
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("PostgreSQL connection may be unencrypted to a non-local host; "+
			"use sslmode=require or verify-full", "host", host, "url", redacted)
	}
	return c, nil
}

// String is the connection string with its password masked.
func (c *Config) String() string { return c.redacted }

// Insecure reports the first host that a connection may reach without TLS
// (sslmode disable, allow or prefer) and that is not local: a Unix socket,
// localhost, 127.0.0.0/8 or ::1 are local.
func (c *Config) Insecure() (string, bool) {
	if c.conn.TLSConfig == nil && !IsLocal(c.conn.Host) {
		return c.conn.Host, true
	}
	for _, f := range c.conn.Fallbacks {
		if f.TLSConfig == nil && !IsLocal(f.Host) {
			return f.Host, true
		}
	}
	return "", false
}

// IsLocal reports whether host is a Unix socket directory or a loopback name
// or address.
func IsLocal(host string) bool {
	if strings.HasPrefix(host, "/") || strings.HasPrefix(host, "@") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Connect opens a connection. Its error names the server by the masked
// connection string and holds no server message that could quote data.
func (c *Config) Connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, c.conn)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", c.redacted, connectCause(err))
	}
	return conn, nil
}

// connectCause drops pgx's "failed to connect to ..." wrapper, keeping the
// cause, reduced.
func connectCause(err error) error {
	var ce *pgxconn.ConnectError
	if errors.As(err, &ce) {
		if inner := errors.Unwrap(ce); inner != nil {
			err = inner
		}
	}
	return Reduce(err)
}
