package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/config"
)

func newConfigCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with callgate config files",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Validate a config file; every problem is printed as file:line:col: message",
		Long: "Loads FILE as `serve` would (env() reads this shell's environment), checks\n" +
			"every block, key and rule, and prints \"ok\" or every problem found. Exits 1\n" +
			"when there is any problem.",
		Args: argsNamed("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return checkConfig(o, args[0])
		},
	})
	return cmd
}

// checkResult is `config check --output json`.
type checkResult struct {
	OK       bool             `json:"ok"`
	File     string           `json:"file"`
	Problems []config.Problem `json:"problems"`
}

func checkConfig(o *rootOptions, path string) error {
	_, err := config.Load(path)
	res := checkResult{OK: err == nil, File: path, Problems: []config.Problem{}}
	if cerr, ok := config.AsError(err); ok {
		res.Problems = cerr.Problems()
	} else if err != nil {
		res.Problems = append(res.Problems, config.Problem{Message: err.Error()})
	}
	if o.Output == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else if res.OK {
		fmt.Fprintln(o.Stdout, "ok")
	} else {
		for _, p := range res.Problems {
			fmt.Fprintln(o.Stderr, p.String())
		}
		fmt.Fprintf(o.Stderr, "%s: %d problem(s); the gateway will not start with this file\n", path, len(res.Problems))
	}
	if !res.OK {
		return exitError{code: 1}
	}
	return nil
}
