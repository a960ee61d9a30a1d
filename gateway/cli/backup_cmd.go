package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// backupResult is what `backup -o json` prints.
type backupResult struct {
	File  string `json:"file"` // "-" for stdout
	Bytes int64  `json:"bytes"`
}

func newBackupCmd(o *rootOptions) *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Copy the running gateway's data file (a consistent hot copy)",
		Long: "backup downloads a consistent copy of the gateway's bbolt data file from\n" +
			"GET /api/v1/backup while the gateway keeps serving. The copy is written to\n" +
			"FILE.tmp, synced and renamed to FILE, so FILE is either complete or absent.\n" +
			"An existing FILE is kept unless --force. --out - writes the copy to stdout.\n" +
			"To restore, stop the gateway and put the copy in place as <data_dir>/callgate.db.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out is required: the file to write the copy to (or - for stdout)")
			}
			if out != "-" && !force {
				if _, err := os.Lstat(out); err == nil {
					return fmt.Errorf("%s exists; pass --force to replace it, or pick another --out", out)
				}
			}
			resp, err := newAdminClient(o).stream(cmd.Context(), "/api/v1/backup")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var n int64
			if out == "-" {
				if n, err = copyComplete(o.Stdout, resp.Body, resp.ContentLength); err != nil {
					return err
				}
			} else if n, err = writeFileAtomic(out, force, resp.Body, resp.ContentLength); err != nil {
				return err
			}
			res := backupResult{File: out, Bytes: n}
			switch {
			case out == "-":
				// Stdout holds the copy: the summary goes to stderr.
				fmt.Fprintf(o.Stderr, "backup: %d bytes written to stdout\n", n)
				return nil
			case o.Output == "json":
				raw, err := json.Marshal(res)
				if err != nil {
					return err
				}
				return printJSON(o, raw)
			default:
				fmt.Fprintf(o.Stdout, "backup written to %s (%d bytes)\n", out, n)
				return nil
			}
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the copy to; - for stdout")
	cmd.Flags().BoolVar(&force, "force", false, "replace --out if it exists")
	return cmd
}

// copyComplete copies src to dst and fails if fewer than want bytes came
// (want < 0: unknown).
func copyComplete(dst io.Writer, src io.Reader, want int64) (int64, error) {
	n, err := io.Copy(dst, src)
	if err != nil {
		return n, fmt.Errorf("backup: the copy broke off after %d bytes: %w; see the gateway's log and run it again", n, err)
	}
	if want >= 0 && n != want {
		return n, fmt.Errorf("backup: got %d of %d bytes; see the gateway's log and run it again", n, want)
	}
	return n, nil
}

// writeFileAtomic writes src to path.tmp, syncs it and moves it to path:
// path is never a partial copy. Without force an existing path is kept.
func writeFileAtomic(path string, force bool, src io.Reader, want int64) (n int64, err error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, fmt.Errorf("backup: %w; check that the directory exists and is writable", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if n, err = copyComplete(f, src, want); err != nil {
		return n, err
	}
	if err = f.Sync(); err != nil {
		return n, fmt.Errorf("backup: sync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return n, fmt.Errorf("backup: close %s: %w", tmp, err)
	}
	if force {
		err = os.Rename(tmp, path)
	} else {
		err = placeNew(tmp, path)
	}
	if errors.Is(err, fs.ErrExist) {
		return n, fmt.Errorf("backup: %s appeared while copying; pass --force to replace it", path)
	}
	if err != nil {
		return n, fmt.Errorf("backup: move the copy into place: %w", err)
	}
	if d, derr := os.Open(filepath.Dir(path)); derr == nil {
		// Make the rename itself durable; not every system can sync a
		// directory, and the file's own data is already synced.
		_ = d.Sync()
		d.Close()
	}
	return n, nil
}

// placeNew moves tmp to path unless path exists. A hard link never
// replaces path, even one that appeared during the download; where the
// file system has no hard links, a check and a rename do.
func placeNew(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil {
		os.Remove(tmp)
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(path); serr == nil {
		return fs.ErrExist
	}
	return os.Rename(tmp, path)
}
