package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store/postgres"
)

func newMigrateCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the PostgreSQL schema of a config's store",
	}
	var cfgPath string
	up := &cobra.Command{
		Use:   "up --config FILE",
		Short: "Apply every migration the database lacks (safe to run again, and from several replicas at once)",
		Long: "up connects to the PostgreSQL database of FILE's store block and applies, in order, every\n" +
			"schema migration this binary carries that the database has not recorded, each in one\n" +
			"transaction. Replicas started together may all run it: they take turns on an advisory\n" +
			"lock and the later ones find nothing to do. A schema newer than this binary is left\n" +
			"alone (an error). Run it before the first `serve`, and after each upgrade.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url, where, err := migrateTarget(o, cfgPath)
			if err != nil {
				return err
			}
			before, _, pending, err := postgres.Status(cmd.Context(), url)
			if err != nil {
				return err
			}
			if err := postgres.Migrate(cmd.Context(), url); err != nil {
				return err
			}
			return printSchema(cmd.Context(), o, url, where, before, pending)
		},
	}
	status := &cobra.Command{
		Use:   "status --config FILE",
		Short: "Show the schema version of the database and the migrations not yet applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url, where, err := migrateTarget(o, cfgPath)
			if err != nil {
				return err
			}
			cur, _, _, err := postgres.Status(cmd.Context(), url)
			if err != nil {
				return err
			}
			return printSchema(cmd.Context(), o, url, where, cur, nil)
		},
	}
	for _, c := range []*cobra.Command{up, status} {
		c.Flags().StringVarP(&cfgPath, "config", "c", "", "the config file whose store block names the database")
		cmd.AddCommand(c)
	}
	return cmd
}

// migrateTarget reads the store URL from the config at path, and where it
// points without the password (for output).
func migrateTarget(o *rootOptions, path string) (url, where string, err error) {
	if path == "" {
		return "", "", errors.New("name the config file with --config FILE (its store block names the database)")
	}
	cfg, err := config.Load(path)
	if err != nil {
		return "", "", err
	}
	if cfg.Store.Backend != config.StorePostgres {
		return "", "", fmt.Errorf("%s: the store is bolt (a file in server.data_dir), which has no schema to migrate: "+
			"`%s migrate` is for store { backend = \"postgres\" }", path, o.self())
	}
	return cfg.Store.URL, config.RedactURL(cfg.Store.URL), nil
}

// schemaReport is `migrate up|status -o json`.
type schemaReport struct {
	Database string   `json:"database"` // the URL without its password
	Current  int      `json:"current"`
	Latest   int      `json:"latest"`
	Pending  []string `json:"pending"`
	Applied  []string `json:"applied,omitempty"` // up: what this run applied
}

// printSchema reports the database's schema now; applied are the
// migrations pending before an `up` (nil for status).
func printSchema(ctx context.Context, o *rootOptions, url, where string, before int, applied []string) error {
	cur, latest, pending, err := postgres.Status(ctx, url)
	if err != nil {
		return err
	}
	r := schemaReport{Database: where, Current: cur, Latest: latest, Pending: pending, Applied: applied}
	if r.Pending == nil {
		r.Pending = []string{}
	}
	if o.Output == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	switch {
	case len(applied) > 0:
		fmt.Fprintf(o.Stdout, "%s: schema upgraded from version %d to %d (applied %s)\n", where, before, cur, strings.Join(applied, ", "))
	case len(pending) == 0:
		fmt.Fprintf(o.Stdout, "%s: schema at version %d, up to date\n", where, cur)
	default:
		fmt.Fprintf(o.Stdout, "%s: schema at version %d of %d; pending: %s (run `%s migrate up --config FILE`)\n",
			where, cur, latest, strings.Join(pending, ", "), o.self())
	}
	return nil
}
