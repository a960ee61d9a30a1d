package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newHealthCmd probes a gateway's /healthz (or /readyz with --ready), for
// container health checks and scripts: exit 0 when it answers 200, 1
// otherwise. It needs no token: the probes are open. The Dockerfile's
// HEALTHCHECK runs it, so the image needs no curl or shell.
func newHealthCmd(o *rootOptions) *cobra.Command {
	var ready bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Probe a running gateway's /healthz (or /readyz): exit 0 when it answers 200",
		Long: "Asks the gateway at --addr for /healthz (--ready: /readyz, which also checks the\n" +
			"store and plugins) and exits 0 on a 200, 1 otherwise, printing the answer.\n" +
			"No admin token is needed. The Docker image's HEALTHCHECK runs it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkAddr(o.Addr); err != nil {
				return err
			}
			if timeout <= 0 {
				return fmt.Errorf("--timeout must be positive, not %s", timeout)
			}
			path := "/healthz"
			if ready {
				path = "/readyz"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.Addr+path, nil)
			if err != nil {
				return fmt.Errorf("--addr %q: %v", o.Addr, err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("%s%s: %v", o.Addr, path, err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			var env struct {
				Status  string `json:"status"`
				Message string `json:"message"`
			}
			msg := strings.TrimSpace(string(raw))
			if json.Unmarshal(raw, &env) == nil && env.Message != "" {
				msg = env.Status + ": " + env.Message
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s%s answered %d: %s", o.Addr, path, resp.StatusCode, msg)
			}
			_, err = fmt.Fprintf(o.Stdout, "%s%s: %s\n", o.Addr, path, msg)
			return err
		},
	}
	cmd.Flags().BoolVar(&ready, "ready", false, "probe /readyz instead of /healthz")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}
