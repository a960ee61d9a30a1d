package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// DefaultOrphanGrace is how long pending events of an agent (or
// integration) that left the config wait for it to come back before they
// fail (server.orphan_grace).
const DefaultOrphanGrace = 24 * time.Hour

// Pending counts the events waiting in the inbox, by agent and then by
// the integration they came through.
type Pending map[string]map[string]int

// CheckReload says whether next may replace the running prev on SIGHUP. A
// file that parses and validates can still be an operator's slip that
// turns into an outage: an empty or truncated file would drop every agent
// (webhooks 404), every API key (webhooks 403) or every admin token (the
// admin API and dashboard lock everyone out), and removing every
// integration an agent's pending events came through strands them. Such a
// reload is refused with an *Error naming each reason, like a file with
// problems; the running config stays. pending may be nil (not known).
//
// Removing some agents, keys or tokens is allowed: pending events of a
// removed agent wait server.orphan_grace for it to come back.
func CheckReload(prev, next *Config, pending Pending) error {
	var diags hcl.Diagnostics
	refuse := func(format string, args ...any) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf(format, args...)})
	}
	file := next.File
	if file == "" {
		file = "the new config"
	}
	if len(prev.Agents) > 0 && len(next.Agents) == 0 {
		refuse("%s has no agent blocks, but the running config has %d (%s): a reload that removes every agent is refused (every webhook would be answered 404); if that is really meant, restart callgate with the new file",
			file, len(prev.Agents), names(sortedKeys(prev.Agents)))
	}
	if len(prev.APIKeys) > 0 && len(next.APIKeys) == 0 {
		keys := make([]string, len(prev.APIKeys))
		for i, k := range prev.APIKeys {
			keys[i] = k.Name
		}
		refuse("%s has no api_key blocks, but the running config has %d (%s): a reload that removes every API key is refused (every webhook would be answered 403); if that is really meant, restart callgate with the new file",
			file, len(prev.APIKeys), names(keys))
	}
	if len(prev.Server.AdminTokenSHA256) > 0 && len(next.Server.AdminTokenSHA256) == 0 {
		refuse("%s has no server.admin_token_sha256, but the running config has %d admin token(s): a reload that removes every admin token is refused (the admin API and the dashboard would refuse everyone); if that is really meant, restart callgate with the new file",
			file, len(prev.Server.AdminTokenSHA256))
	}
	for _, agent := range sortedKeys(pending) {
		var used []string
		total := 0
		for integ, n := range pending[agent] {
			if n > 0 {
				used = append(used, integ)
				total += n
			}
		}
		if len(used) == 0 {
			continue
		}
		slices.Sort(used)
		if !slices.ContainsFunc(used, func(in string) bool { return next.Integrations[in] != nil }) {
			refuse("%s removes integration(s) %s, which every one of agent %q's %d pending event(s) came through: the reload is refused so they are not stranded; keep the integration block(s) until GET /api/v1/events?status=pending shows none for the agent",
				file, names(used), agent, total)
		}
	}
	if len(diags) > 0 {
		return &Error{Diags: diags}
	}
	return nil
}

// names lists up to five names, then how many more.
func names(ns []string) string {
	if len(ns) > 5 {
		return strings.Join(ns[:5], ", ") + fmt.Sprintf(" and %d more", len(ns)-5)
	}
	return strings.Join(ns, ", ")
}
