// Package deid is the engine: it matches a policy to a source's tables,
// plans every column's transform before reading a row, then streams each
// table from a source through a pool of workers to a sink, in input order,
// and describes the run in a manifest and an audit record.
//
// The rules themselves live in package safeharbor and the keys and tokens in
// package tokenize; this package only applies them to Arrow batches.
package deid
