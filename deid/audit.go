package deid

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"time"
)

// AuditRecord is one line of the audit log: who ran what, when, on what,
// and how it ended. Source and target are shown with passwords masked; no
// row value is ever part of it.
type AuditRecord struct {
	Time       string        `json:"time"`
	User       string        `json:"user"`
	Host       string        `json:"host"`
	Command    string        `json:"command"`
	Version    string        `json:"version"`
	Source     string        `json:"source"`
	Target     string        `json:"target"`
	PolicyHash string        `json:"policy_hash,omitempty"`
	Profile    string        `json:"profile,omitempty"`
	KeyID      string        `json:"key_id,omitempty"`
	Tables     []TableResult `json:"tables,omitempty"`
	Seconds    float64       `json:"seconds"`
	Outcome    string        `json:"outcome"` // "ok", "failed" or "interrupted"
	Error      string        `json:"error,omitempty"`
}

// NewAuditRecord fills in the time, user and host of a record.
func NewAuditRecord(command string) *AuditRecord {
	r := &AuditRecord{Time: time.Now().UTC().Format(time.RFC3339), Command: command}
	if u, err := user.Current(); err == nil {
		r.User = u.Username
	}
	r.Host, _ = os.Hostname()
	return r
}

// Append writes the record as one JSON line at the end of path, creating
// the file (mode 0600) if needed. One write call keeps concurrent runs'
// lines whole.
func (r *AuditRecord) Append(path string) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding audit record: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening audit log: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing audit log %s: %w", path, err)
	}
	return nil
}
