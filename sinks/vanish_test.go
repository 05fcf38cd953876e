package sinks

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/deid/deid/sources"
)

// TestFileSinksWhoseFolderVanishes removes a file sink's folder while a
// table is being written. The write, the close or the commit fails with an
// error, Abort succeeds, and nothing appears where the output would go,
// even when the folder comes back before the commit.
func TestFileSinksWhoseFolderVanishes(t *testing.T) {
	sinks := []struct {
		name string
		open func(dir string) (Sink, string, error) // the sink and the path it publishes
	}{
		{"CSV folder", func(dir string) (Sink, string, error) {
			s, err := NewCSVDirSink(dir, CSVSinkOptions{})
			return s, filepath.Join(dir, "t.csv"), err
		}},
		{"CSV file", func(dir string) (Sink, string, error) {
			s, err := NewCSVFileSink(filepath.Join(dir, "out.csv"), CSVSinkOptions{})
			return s, filepath.Join(dir, "out.csv"), err
		}},
		{"Parquet folder", func(dir string) (Sink, string, error) {
			s, err := NewParquetDirSink(dir, ParquetSinkOptions{})
			return s, filepath.Join(dir, "t.parquet"), err
		}},
		{"Parquet file", func(dir string) (Sink, string, error) {
			s, err := NewParquetFileSink(filepath.Join(dir, "out.parquet"), ParquetSinkOptions{})
			return s, filepath.Join(dir, "out.parquet"), err
		}},
	}
	for _, sk := range sinks {
		for _, recreate := range []bool{false, true} {
			name := sk.name + "/gone"
			if recreate {
				name = sk.name + "/replaced"
			}
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				dir := filepath.Join(t.TempDir(), "out")
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				s, final, err := sk.open(dir)
				if err != nil {
					t.Fatal(err)
				}
				rec := oneColumn(t, "name", []string{"Fake One", "Fake Two"}, nil)
				defer rec.Release()
				w, err := s.Create(ctx, sources.Table{Name: "t", Schema: rec.Schema()})
				if err != nil {
					t.Fatal(err)
				}

				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if recreate {
					os.Mkdir(dir, 0o755)
				}
				err = w.Write(ctx, rec)
				if err == nil {
					err = w.Close(ctx)
				}
				if err == nil {
					err = s.Commit(ctx)
				}
				if err == nil {
					t.Fatal("writing into a vanished folder succeeded")
				}
				t.Log(err)
				if aerr := s.Abort(); aerr != nil {
					t.Errorf("Abort: %v", aerr)
				}
				if _, serr := os.Stat(final); serr == nil {
					t.Errorf("%s was published", final)
				}
				if recreate {
					if names := listDir(t, dir); len(names) > 0 {
						t.Errorf("the new folder holds %v", names)
					}
				}
			})
		}
	}
}
