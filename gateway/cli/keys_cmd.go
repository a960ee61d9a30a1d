package cli

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// Key prefixes say what a secret is when it turns up in a shell history
// or a secret scanner.
const (
	apiKeyPrefix     = "cgk_"
	adminTokenPrefix = "cga_"
)

var keyNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// newKey is a secret with its config digest.
type newKey struct {
	Name   string   `json:"name,omitempty"`
	Kind   string   `json:"kind"` // api_key | admin_token
	Key    string   `json:"key"`
	SHA256 string   `json:"sha256"`
	Agents []string `json:"agents,omitempty"`
	Config string   `json:"config"`
}

func newKeysCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Make API keys and admin tokens",
	}
	var name string
	var agents []string
	var admin bool
	gen := &cobra.Command{
		Use:   "new --name N [--agents a,b] | new --admin",
		Short: "Print a new random key once, with the config that accepts it",
		Long: "Makes 32 random bytes into a key, prints it once, and prints the config\n" +
			"that accepts it: an api_key block for webhook callers (--name, optionally\n" +
			"limited to --agents), or with --admin an admin token for the admin API, the\n" +
			"CLI and the dashboard. The config holds only the key's sha256; the key\n" +
			"itself is not stored anywhere, so keep it now. Works offline.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := makeKey(name, agents, admin)
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return writeJSON(o, k)
			}
			what := "API key"
			if admin {
				what = "Admin token"
			}
			fmt.Fprintf(o.Stdout, "%s (shown once; store it in your secret manager now):\n\n  %s\n\n", what, k.Key)
			if admin {
				fmt.Fprintf(o.Stdout, "Add its sha256 to server.admin_token_sha256 in the config:\n\n%s\n", k.Config)
				fmt.Fprintf(o.Stdout, "Then: export %s=%s, or sign in to the dashboard at /ui/ with it.\n", EnvToken, k.Key)
				return nil
			}
			fmt.Fprintf(o.Stdout, "Add this block to the config and reload (SIGHUP):\n\n%s\n", k.Config)
			fmt.Fprintf(o.Stdout, "Webhook callers send it as ?x_api_key=… or the X-API-KEY header.\n")
			return nil
		},
	}
	f := gen.Flags()
	f.StringVar(&name, "name", "", "api_key block name (letters, digits, _ . -)")
	f.StringSliceVar(&agents, "agents", nil, "agents the key may trigger (default: any)")
	f.BoolVar(&admin, "admin", false, "make an admin token instead of an API key")
	cmd.AddCommand(gen)
	return cmd
}

// makeKey draws a random key and renders the config that accepts it.
func makeKey(name string, agents []string, admin bool) (newKey, error) {
	if admin && len(agents) > 0 {
		return newKey{}, fmt.Errorf("--agents applies to API keys, not to --admin tokens")
	}
	if !admin {
		if name == "" {
			return newKey{}, fmt.Errorf("--name is required: it names the api_key block (e.g. --name hubspot-prod)")
		}
		if !keyNameRE.MatchString(name) {
			return newKey{}, fmt.Errorf("--name %q: use up to 64 letters, digits, _ . or -", name)
		}
		for _, a := range agents {
			if strings.TrimSpace(a) == "" {
				return newKey{}, fmt.Errorf("--agents: an agent name is empty")
			}
		}
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥1.24)
	k := newKey{Name: name, Kind: "api_key", Key: apiKeyPrefix + base64.RawURLEncoding.EncodeToString(b), Agents: agents}
	if admin {
		k.Kind, k.Key = "admin_token", adminTokenPrefix+base64.RawURLEncoding.EncodeToString(b)
	}
	sum := sha256.Sum256([]byte(k.Key))
	k.SHA256 = hex.EncodeToString(sum[:])
	if admin {
		k.Config = fmt.Sprintf("server {\n  admin_token_sha256 = [%q]   # append to the list if it has entries\n}\n", k.SHA256)
		return k, nil
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "api_key %s {\n  sha256 = %q\n", strconv.Quote(name), k.SHA256)
	if len(agents) > 0 {
		quoted := make([]string, len(agents))
		for i, a := range agents {
			quoted[i] = strconv.Quote(strings.TrimSpace(a))
		}
		fmt.Fprintf(&cfg, "  agents = [%s]\n", strings.Join(quoted, ", "))
	}
	cfg.WriteString("}\n")
	k.Config = cfg.String()
	return k, nil
}
