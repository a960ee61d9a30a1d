package cli

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// synopsis reads the command summary at the top of docs/cli.md: the lines
// of its first code block.
func synopsis(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "```\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/cli.md has no code block with the synopsis")
	}
	return strings.Split(strings.TrimSpace(block), "\n")
}

// splitAlternatives splits a synopsis line on " | " outside brackets and
// parentheses ("dnd add N | dnd remove N", not "[--dead | --pending]").
func splitAlternatives(line string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '[', '(':
			depth++
		case ']', ')':
			depth--
		case '|':
			if depth == 0 && i > 0 && line[i-1] == ' ' && i+1 < len(line) && line[i+1] == ' ' {
				out = append(out, strings.TrimSpace(line[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(line[start:]))
}

var synopsisFlag = regexp.MustCompile(`(?:^|[\s\[(|])(--[a-z][a-z-]*|-[a-z])\b`)

// TestCLIDocSynopsis holds docs/cli.md's synopsis to the real command
// tree: every command it names exists, every flag it shows is one that
// command takes, and every command the binary has is in it.
func TestCLIDocSynopsis(t *testing.T) {
	root := newRootCmd(&rootOptions{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }})
	root.InitDefaultCompletionCmd()
	documented := map[string]bool{}
	for _, line := range synopsis(t) {
		rest, ok := strings.CutPrefix(line, "callgate ")
		if !ok {
			t.Errorf("synopsis line %q does not start with callgate", line)
			continue
		}
		var cmd *cobra.Command
		for _, alt := range splitAlternatives(rest) {
			fields := strings.Fields(alt)
			if len(fields) > 0 && !strings.HasPrefix(fields[0], "-") {
				cmd = root
				for len(fields) > 0 {
					sub := findSub(cmd, fields[0])
					if sub == nil {
						break
					}
					cmd, fields = sub, fields[1:]
				}
			}
			if cmd == nil || cmd == root {
				t.Errorf("%q: no such command", alt)
				continue
			}
			documented[cmd.CommandPath()] = true
			for _, m := range synopsisFlag.FindAllStringSubmatch(alt, -1) {
				if lookupFlag(cmd, m[1]) == nil {
					t.Errorf("%q: %s takes no flag %s", alt, cmd.CommandPath(), m[1])
				}
			}
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			// A group (calls, events, …) is documented by its subcommands.
			if !sub.HasSubCommands() && !documented[sub.CommandPath()] && !documented[c.CommandPath()] {
				t.Errorf("%s is not in docs/cli.md's synopsis", sub.CommandPath())
			}
			if sub.Name() != "completion" {
				walk(sub)
			}
		}
	}
	walk(root)
}

func findSub(c *cobra.Command, name string) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == name || sub.HasAlias(name) {
			return sub
		}
	}
	return nil
}

func lookupFlag(c *cobra.Command, flag string) *pflag.Flag {
	if name, ok := strings.CutPrefix(flag, "--"); ok {
		if f := c.Flags().Lookup(name); f != nil {
			return f
		}
		return c.InheritedFlags().Lookup(name)
	}
	short := strings.TrimPrefix(flag, "-")
	if f := c.Flags().ShorthandLookup(short); f != nil {
		return f
	}
	return c.InheritedFlags().ShorthandLookup(short)
}

// TestOfflineCommandsHideServerFlags covers the offline commands the
// older test does not (store check works on files alone), and health,
// which reaches a gateway and so lists --addr.
func TestOfflineCommandsHideServerFlags(t *testing.T) {
	for _, args := range [][]string{{"store", "check", "--help"}, {"demo", "--help"}, {"bench", "--help"}, {"version", "--help"}, {"fake", "leadsquared", "--help"}} {
		var out, errb strings.Builder
		if code := run(args, &out, &errb, env(nil)); code != 0 || strings.Contains(out.String(), "--addr") || strings.Contains(out.String(), "--token") {
			t.Errorf("%v: exit %d, help lists server flags:\n%s", args, code, out.String())
		}
	}
	var out, errb strings.Builder
	if code := run([]string{"health", "--help"}, &out, &errb, env(nil)); code != 0 || !strings.Contains(out.String(), "--addr") {
		t.Errorf("health --help lacks --addr:\n%s", out.String())
	}
}
