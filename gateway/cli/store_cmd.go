package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store/bolt"
)

func newStoreCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Work with the data file offline",
	}
	var dataDir, file, cfgPath string
	var quick bool
	check := &cobra.Command{
		Use:   "check (--data-dir DIR | --file FILE | --config FILE)",
		Short: "Check a data file for damage (read-only; stop the gateway first)",
		Long: "check opens a bbolt data file read-only and runs the full consistency check:\n" +
			"the meta pages, the file's size against them, every page, key and value, and\n" +
			"the schema version. It prints \"ok\" or what is damaged with the recovery steps,\n" +
			"and exits 1 for a damaged file. `serve` runs the full check at start only for\n" +
			"files under 256 MiB (bigger ones get the quick structural check, --quick here);\n" +
			"run this one after a crash, a full disk, or before restoring a backup.\n" +
			"The file is locked while a gateway runs on it: check a copy from\n" +
			"`callgate backup --out FILE` instead.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := storeFile(dataDir, file, cfgPath)
			if err != nil {
				return err
			}
			mode := bolt.CheckFull
			if quick {
				mode = bolt.CheckStructural
			}
			start := time.Now()
			err = bolt.CheckFile(path, mode)
			switch {
			case errors.Is(err, bolt.ErrCorrupt):
				fmt.Fprintf(o.Stderr, "callgate: %v\n", err)
				return exitError{code: 1}
			case errors.Is(err, bolt.ErrLocked):
				return fmt.Errorf("%w; stop it, or check a copy from `%s backup --out FILE`", err, o.self())
			case err != nil:
				return err
			}
			what := "full check"
			if quick {
				what = "structural check"
			}
			fmt.Fprintf(o.Stdout, "ok: %s passed the %s in %s\n", path, what, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	check.Flags().StringVar(&dataDir, "data-dir", "", "the data dir (server.data_dir) holding "+bolt.FileName)
	check.Flags().StringVar(&file, "file", "", "a data file or backup copy to check")
	check.Flags().StringVarP(&cfgPath, "config", "c", "", "a config file: check the data file of its server.data_dir")
	check.Flags().BoolVar(&quick, "quick", false, "only the structural check serve runs at start for big files")
	cmd.AddCommand(check)
	cmd.AddCommand(newStoreCopyCmd(o))
	return cmd
}

// storeFile is the data file one of --data-dir, --file, --config names.
func storeFile(dataDir, file, cfgPath string) (string, error) {
	set := 0
	for _, v := range []string{dataDir, file, cfgPath} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return "", errors.New("name the data file with exactly one of --data-dir DIR, --file FILE or --config FILE")
	}
	switch {
	case file != "":
		return file, nil
	case dataDir != "":
		return filepath.Join(dataDir, bolt.FileName), nil
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return "", fmt.Errorf("--config: %w", err)
	}
	return filepath.Join(cfg.Server.DataDir, bolt.FileName), nil
}
