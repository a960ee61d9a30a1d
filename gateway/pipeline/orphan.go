package pipeline

import (
	"fmt"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
)

// orphanRecheck is how often an event waiting for its agent or
// integration to come back is looked at again. A reload that brings it
// back wakes such events at once (store.Store.WakeOrphans); this bounds
// the wait when nothing does.
const orphanRecheck = time.Minute

// orphaned settles an event whose agent or integration (what, e.g.
// `agent "sales"`) is not in the config: an operator may have removed it
// by mistake, so the event stays pending for server.orphan_grace from when
// it was first found missing, then fails with a reason naming what is
// missing.
func (p *Pipeline) orphaned(cfg *config.Config, j *job, what string) {
	now := p.cfg.Now().UTC()
	if j.ev.OrphanedAt.IsZero() {
		j.ev.OrphanedAt = now
	}
	grace := cfg.Server.OrphanGrace
	deadline := j.ev.OrphanedAt.Add(grace)
	if !now.Before(deadline) {
		p.finish(j, store.EventFailed, fmt.Sprintf("%s is not in the config (since %s) and did not come back within server.orphan_grace (%s): add it back and replay the event",
			what, j.ev.OrphanedAt.Format(time.RFC3339), grace))
		return
	}
	j.ev.NotBefore = now.Add(orphanRecheck)
	if deadline.Before(j.ev.NotBefore) {
		j.ev.NotBefore = deadline
	}
	j.ev.Reason = fmt.Sprintf("%s is not in the config (since %s); waiting up to %s (server.orphan_grace) for it to come back, then the event fails",
		what, j.ev.OrphanedAt.Format(time.RFC3339), grace)
	j.done = true
}
