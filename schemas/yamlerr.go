package schemas

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// syntax records a YAML syntax error at its line.
func (d *decoder) syntax(err error, data []byte) {
	reported, msg := splitYAMLError(err)
	d.ps.add(errorLine(data, reported, msg), "", "", "invalid YAML: %s", msg)
}

// errorLine returns the 1-based line of a syntax error. yaml.v3 reports most
// errors one line early (the line before the enclosing block, counted from
// 0), some on the right line, some with no line at all, and an unclosed
// quote at the end of the file. errorLine instead finds by bisection the
// first line whose prefix of data already shows the same error: the line of
// the fault, or for an unclosed quote the line it opens on. Bisection
// assumes that once a prefix shows the error every longer one does, which
// holds but for rare truncation effects; a wrong guess only moves the line.
func errorLine(data []byte, reported int, msg string) int {
	var ends []int // ends[k-1] is the offset just past line k
	for i, c := range data {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}

	lo := max(reported-1, 1)
	if msg == "found unexpected end of stream" || lo > len(ends) {
		lo = 1
	}
	// Search lines lo..len(ends); the last one is all of data, which shows
	// the error by definition.
	n := sort.Search(len(ends)-lo, func(i int) bool {
		err := syntaxError(data[:ends[lo+i-1]])
		if err == nil {
			return false
		}
		_, m := splitYAMLError(err)
		return m == msg
	})
	return lo + n
}

// syntaxError parses data as decode does and returns its syntax error, if any.
func syntaxError(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for range 2 {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
	return nil
}

// yamlLine matches the line yaml.v3 puts in most syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// splitYAMLError returns the line a yaml.v3 error names (0 if none) and its
// message without the prefix and line.
func splitYAMLError(err error) (int, string) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}
