package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/deid/deid/deid"
	"github.com/deid/deid/internal/synth"
	"github.com/deid/deid/safeharbor"
	"github.com/deid/deid/schemas"
	"github.com/deid/deid/sinks"
	"github.com/deid/deid/sources"
	"github.com/deid/deid/tokenize"
)

// tableTypes maps a table name to the types its columns are read with.
type tableTypes map[string]map[string]arrow.DataType

// floorCSVParquet is the floor of csv-parquet: the CSV folder in, read by
// deid's own CSV source with the column types deid run would give it, and
// written unchanged by deid's own Parquet sink with its default options.
func floorCSVParquet(ctx context.Context, policy, in, out string) (int64, error) {
	p, _, err := loadPolicy(policy)
	if err != nil {
		return 0, err
	}
	src, err := sources.NewCSVDir(in, sources.CSVOptions{})
	if err != nil {
		return 0, err
	}
	defer src.Close()
	types, err := engineTypes(ctx, src, p)
	if err != nil {
		return 0, err
	}
	dst, err := sinks.NewParquetDirSink(out, sinks.ParquetSinkOptions{})
	if err != nil {
		return 0, err
	}
	return copyTables(ctx, src, dst, types)
}

// floorParquet is the floor of parquet-parquet: the Parquet folder in, read
// by deid's Parquet source and written unchanged by its Parquet sink.
func floorParquet(ctx context.Context, _, in, out string) (int64, error) {
	src, err := sources.NewParquetDir(in, sources.ParquetOptions{})
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dst, err := sinks.NewParquetDirSink(out, sinks.ParquetSinkOptions{})
	if err != nil {
		return 0, err
	}
	return copyTables(ctx, src, dst, nil)
}

// prepareParquet returns the input of parquet-parquet: the extract as
// written by the csv-parquet floor, made once into a folder of -dir named
// after the extract and the policy, whose types it carries.
func prepareParquet(ctx context.Context, b *bench) (place, error) {
	_, hash, err := loadPolicy(b.cfg.policy)
	if err != nil {
		return nil, err
	}
	hash = strings.TrimPrefix(hash, "sha256:")[:12]
	dir := filepath.Join(b.cfg.dir, "parquet-"+filepath.Base(b.csvDir)+"-"+hash)
	if parquetComplete(dir) {
		fmt.Fprintf(b.stderr, "using the Parquet extract in %s\n", dir)
		return folder(dir), nil
	}

	fmt.Fprintf(b.stderr, "writing the extract as Parquet into %s\n", dir)
	start := time.Now()
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	err = b.child(ctx, "floor", "-mode", "csv-parquet", "-policy", b.cfg.policy, b.csvDir, tmp)
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(tmp))
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	fmt.Fprintf(b.stderr, "written in %.1f s\n", time.Since(start).Seconds())
	return folder(dir), nil
}

// parquetComplete reports whether dir holds the three tables as Parquet;
// prepareParquet renames the folder into place only when all are written.
func parquetComplete(dir string) bool {
	for _, name := range []string{synth.PatientsFile, synth.EncountersFile, synth.ProvidersFile} {
		pq := strings.TrimSuffix(name, ".csv") + ".parquet"
		if _, err := os.Stat(filepath.Join(dir, pq)); err != nil {
			return false
		}
	}
	return true
}

// copyTables copies every table of src to dst, one after the other in one
// goroutine, reading table t with types[t], and commits dst. It returns the
// rows copied.
func copyTables(ctx context.Context, src sources.Source, dst sinks.Sink, types tableTypes) (
	rows int64, err error) {
	defer func() {
		if err != nil {
			err = errors.Join(err, dst.Abort())
		}
	}()
	tables, err := src.Tables(ctx)
	if err != nil {
		return 0, err
	}
	for _, t := range tables {
		n, err := copyTable(ctx, src, dst, t, types[t.Name])
		rows += n
		if err != nil {
			return rows, fmt.Errorf("copying table %q: %w", t.Name, err)
		}
	}
	return rows, dst.Commit(ctx)
}

func copyTable(ctx context.Context, src sources.Source, dst sinks.Sink, t sources.Table,
	types map[string]arrow.DataType) (rows int64, err error) {
	r, err := src.Open(ctx, t.Name, sources.ReadOptions{Types: types})
	if err != nil {
		return 0, err
	}
	defer r.Close()
	out := t
	out.Schema = r.Schema()
	w, err := dst.Create(ctx, out)
	if err != nil {
		return 0, err
	}
	for {
		rec, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rows, err
		}
		rows += rec.NumRows()
		err = w.Write(ctx, rec)
		rec.Release()
		if err != nil {
			return rows, err
		}
	}
	return rows, w.Close(ctx)
}

// engineTypes returns the types deid run reads the CSV tables of src with
// when it writes to a typed sink (deid.ReadTypes); the plan it builds for
// that uses a throwaway key and transforms nothing.
func engineTypes(ctx context.Context, src sources.Source, p *schemas.Policy) (tableTypes, error) {
	key, err := tokenize.GenerateKey()
	if err != nil {
		return nil, err
	}
	zips, err := safeharbor.ParseZipList(p.Zip3)
	if err != nil {
		return nil, err
	}
	env := deid.Env{Tokenizer: tokenize.New(key), Zip: safeharbor.NewZipRule(zips),
		AsOf: time.Now().UTC()}
	return deid.ReadTypes(ctx, src, p, env, deid.DefaultInferRows)
}

// loadPolicy reads a policy file, or a bundled policy by name as deid run
// does, and returns it with its hash.
func loadPolicy(name string) (*schemas.Policy, string, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) && !strings.ContainsAny(name, `/\.`) {
		data, err = schemas.Bundled(name)
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading policy: %w", err)
	}
	p, err := schemas.Check(data, name)
	if err != nil {
		return nil, "", err
	}
	return p, schemas.Hash(data), nil
}
