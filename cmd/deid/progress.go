package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress shows rows and rows/s per table on one line of a terminal. It is
// separate from the logs and silent when stderr is not a terminal.
type progress struct {
	w       io.Writer
	mu      sync.Mutex
	start   time.Time
	last    time.Time
	rows    map[string]int64
	enabled bool
	drawn   bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now(), rows: map[string]int64{}}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.enabled = true
	}
	return p
}

func (p *progress) update(table string, rows int64) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows[table] = rows
	if time.Since(p.last) < 250*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.draw()
}

func (p *progress) draw() {
	secs := time.Since(p.start).Seconds()
	names := make([]string, 0, len(p.rows))
	for n := range p.rows {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %d rows (%.0f rows/s)", n, p.rows[n],
			float64(p.rows[n])/max(secs, 0.001)))
	}
	fmt.Fprintf(p.w, "\r\033[K%s", strings.Join(parts, ", "))
	p.drawn = true
}

func (p *progress) finish() {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		p.draw()
		fmt.Fprintln(p.w)
	}
}
