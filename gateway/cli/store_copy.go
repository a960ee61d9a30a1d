package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/gateway/store/postgres"
)

// copyResult is what `store copy -o json` prints.
type copyResult struct {
	From     string  `json:"from"`
	To       string  `json:"to"` // the URL without its password
	Seconds  float64 `json:"seconds"`
	Total    int     `json:"total"`
	Events   int     `json:"events"`
	Keys     int     `json:"dedupe_keys"`
	Calls    int     `json:"calls"`
	Contacts int     `json:"contact_entries"`
	Outbox   int     `json:"outbox_items"`
	DND      int     `json:"dnd_numbers"`
	Checks   int     `json:"checkpoints"`
	Listed   int     `json:"listed_records"`
}

// progressEvery bounds how often the copy prints how far it is.
const progressEvery = time.Second

func newStoreCopyCmd(o *rootOptions) *cobra.Command {
	var from, to, toConfig string
	var batch int
	cmd := &cobra.Command{
		Use:   "copy --from FILE (--to URL | --to-config FILE) [--batch N]",
		Short: "Copy a bbolt data file into a PostgreSQL database (safe to run again)",
		Long: "copy moves an install from its bbolt data file to PostgreSQL. FILE is the data file\n" +
			"(callgate.db in server.data_dir) of a stopped gateway, or a copy from\n" +
			"`callgate backup --out FILE` (any name). The database is a postgres:// URL, or the\n" +
			"store block of a config (--to-config). copy first applies the schema migrations the\n" +
			"database lacks (as `migrate up`), then copies every event, dedupe key, call, contact\n" +
			"entry, outbox item, DND number and reconciliation record, ids, statuses and times\n" +
			"unchanged, in transactions of --batch items. Each item overwrites its copy from an\n" +
			"earlier run, so a copy that stopped half-way is finished by running it again.\n" +
			"Leases are those of a gateway that is gone: a leased event is claimable at once, a\n" +
			"dialing call is taken back when its lease ends (docs/scaling.md).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return errors.New("--from is required: the bbolt data file (or backup copy) to copy")
			}
			url, where, err := copyTarget(o, to, toConfig)
			if err != nil {
				return err
			}
			if batch <= 0 {
				return fmt.Errorf("--batch must be at least 1, not %d", batch)
			}
			return runStoreCopy(cmd.Context(), o, from, url, where, batch)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the bbolt data file, or a backup copy of it")
	cmd.Flags().StringVar(&to, "to", "", "the PostgreSQL database: postgres://user:password@host:port/db?sslmode=…")
	cmd.Flags().StringVar(&toConfig, "to-config", "", "a config file whose store block names the database")
	cmd.Flags().IntVar(&batch, "batch", 500, "items per transaction")
	return cmd
}

// copyTarget is the database's URL from --to or --to-config, and where it
// points without the password.
func copyTarget(o *rootOptions, to, toConfig string) (url, where string, err error) {
	switch {
	case to != "" && toConfig != "":
		return "", "", errors.New("name the database once: --to URL or --to-config FILE, not both")
	case toConfig != "":
		return migrateTarget(o, toConfig)
	case to == "":
		return "", "", errors.New("name the database with --to postgres://… or --to-config FILE")
	}
	if !strings.HasPrefix(to, "postgres://") && !strings.HasPrefix(to, "postgresql://") && !strings.Contains(to, "=") {
		return "", "", fmt.Errorf("--to %s: want a PostgreSQL URL, postgres://user:password@host:port/database?sslmode=…",
			config.RedactURL(to))
	}
	return to, config.RedactURL(to), nil
}

func runStoreCopy(ctx context.Context, o *rootOptions, from, url, where string, batch int) error {
	src, err := bolt.OpenFile(from)
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("%w; stop the gateway, or copy from `%s backup --out FILE`", err, o.self())
	}
	if err != nil {
		return err
	}
	defer src.Close()

	before, _, pending, err := postgres.Status(ctx, url)
	if err != nil {
		return err
	}
	if err := postgres.Migrate(ctx, url); err != nil {
		return err
	}
	cur, _, _, err := postgres.Status(ctx, url)
	if err != nil {
		return err
	}
	dst, err := postgres.Open(ctx, postgres.Options{URL: url, Owner: "callgate store copy"})
	if err != nil {
		return err
	}
	defer dst.Close()

	// Progress goes to stderr, so stdout is the summary alone.
	if len(pending) > 0 {
		fmt.Fprintf(o.Stderr, "%s: schema upgraded from version %d to %d (applied %s)\n", where, before, cur, strings.Join(pending, ", "))
	} else {
		fmt.Fprintf(o.Stderr, "%s: schema at version %d, up to date\n", where, cur)
	}
	fmt.Fprintf(o.Stderr, "copying %s to %s …\n", from, where)
	start := time.Now()
	last := start
	counts, err := store.Copy(ctx, src, dst, batch, func(c store.CopyCounts) {
		if now := time.Now(); now.Sub(last) >= progressEvery {
			last = now
			fmt.Fprintf(o.Stderr, "  %d items copied (%d events, %d calls) …\n", c.Total(), c.Events, c.Calls)
		}
	})
	if err != nil {
		return fmt.Errorf("copy stopped after %d items: %w\n"+
			"what was copied is kept; run the command again to finish (it overwrites, never doubles)", counts.Total(), err)
	}
	res := copyResult{From: from, To: where, Seconds: time.Since(start).Seconds(), Total: counts.Total(),
		Events: counts.Events, Keys: counts.Keys, Calls: counts.Calls, Contacts: counts.Contacts, Outbox: counts.Outbox,
		DND: counts.DND, Checks: counts.Checkpoints, Listed: counts.Listed}
	if o.Output == "json" {
		raw, err := json.Marshal(res)
		if err != nil {
			return err
		}
		return printJSON(o, raw)
	}
	printCopySummary(o.Stdout, res)
	return nil
}

func printCopySummary(w io.Writer, r copyResult) {
	fmt.Fprintf(w, "copied %d items from %s to %s in %s:\n", r.Total, r.From, r.To,
		(time.Duration(r.Seconds * float64(time.Second))).Round(time.Millisecond))
	for _, row := range []struct {
		what string
		n    int
	}{
		{"events", r.Events}, {"dedupe keys", r.Keys}, {"calls", r.Calls}, {"contact entries", r.Contacts},
		{"outbox items", r.Outbox}, {"DND numbers", r.DND}, {"checkpoints", r.Checks}, {"listed records", r.Listed},
	} {
		fmt.Fprintf(w, "  %-16s %d\n", row.what, row.n)
	}
}
