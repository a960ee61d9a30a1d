package pipeline

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/sdk"
)

// Deleter ends a deleted record's calls and erases a person's data
// (*scheduler.Scheduler).
type Deleter interface {
	CancelContact(ctx context.Context, f store.SourceFilter, reason string) (scheduler.Canceled, error)
	Erase(ctx context.Context, e scheduler.Erasure) (scheduler.Erased, error)
}

// isDeletion reports whether an event says its record is gone: a deletion
// (kind deleted) or an erasure request (kind erased, e.g. HubSpot's
// contact.privacyDeletion). Neither fetches the record.
func isDeletion(ev *store.Event) bool {
	return ev.Kind == sdk.KindDeleted || ev.Kind == sdk.KindErased
}

// deletion settles a deletion job in its contact's order, after the
// contact's earlier events of the batch made their calls: the record's
// calls that have not ended are canceled, for every agent. An erasure is
// only marked here; it runs once the batch is saved (eraseAll), so that no
// event saved with the batch brings the person's data back.
func (p *Pipeline) deletion(ctx context.Context, j *job) {
	if j.ev.Kind == sdk.KindErased {
		j.erase = true
		return
	}
	d := p.deleter()
	if d == nil {
		p.finish(j, store.EventIgnored, fmt.Sprintf("%s %s was deleted in %s: no scheduler handles deletions here", j.ev.ObjectType, j.ev.ObjectID, p.crmName(j.ev.Type)))
		return
	}
	n, err := d.CancelContact(ctx, sourceOf(&j.ev), fmt.Sprintf("%s deleted in %s", j.ev.ObjectType, p.crmName(j.ev.Type)))
	if err != nil {
		p.retry(j, fmt.Errorf("cancel the calls of deleted %s %s: %w", j.ev.ObjectType, j.ev.ObjectID, err))
		return
	}
	p.finish(j, store.EventIgnored, fmt.Sprintf("%s %s deleted in %s: %s", j.ev.ObjectType, j.ev.ObjectID, p.crmName(j.ev.Type), describeCanceled(n)))
}

// eraseAll runs the batch's erasure requests and saves their events.
func (p *Pipeline) eraseAll(ctx context.Context, jobs []*job) error {
	d := p.deleter()
	evs := make([]store.Event, 0, len(jobs))
	for _, j := range jobs {
		crm := p.crmName(j.ev.Type)
		if d == nil {
			p.finish(j, store.EventFailed, fmt.Sprintf("%s %s: erasure requested in %s but no scheduler handles erasures here; replay the event on a full gateway", j.ev.ObjectType, j.ev.ObjectID, crm))
			evs = append(evs, j.ev)
			continue
		}
		src := sourceOf(&j.ev)
		res, err := d.Erase(ctx, scheduler.Erasure{Contact: &src, KeepEvent: j.ev.ID,
			Reason: fmt.Sprintf("%s deleted in %s (privacy deletion)", j.ev.ObjectType, crm)})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err() // the event comes back when its lease ends
			}
			p.retry(j, fmt.Errorf("erase %s %s: %w", j.ev.ObjectType, j.ev.ObjectID, err))
			evs = append(evs, j.ev)
			continue
		}
		// The request itself carries nothing to keep either (a plugin may
		// have sent the record along).
		now := p.cfg.Now().UTC()
		if j.ev.Value != "" {
			j.ev.Value = store.Erased
		}
		if len(j.ev.Record) > 0 {
			j.ev.Record = json.RawMessage(`"` + store.Erased + `"`)
		}
		j.ev.ErasedAt = &now
		p.finish(j, store.EventIgnored, fmt.Sprintf("%s %s erased in %s (privacy deletion): %s; erased %d calls, %d events, %d notifications, %d dead letters",
			j.ev.ObjectType, j.ev.ObjectID, crm, describeCanceled(res.Canceled), res.Erased.Calls, res.Erased.Events, res.Erased.Outbox, res.Erased.DeadLetters))
		evs = append(evs, j.ev)
	}
	saved := p.cfg.Now().UTC()
	for i := range evs {
		evs[i].UpdatedAt = saved
	}
	if err := p.cfg.Inbox.SaveEvents(ctx, evs); err != nil {
		return fmt.Errorf("save %d erasure events: %w", len(evs), err)
	}
	for _, ev := range evs {
		if ev.Status != store.EventPending {
			p.m.finished.WithLabelValues(ev.Type, ev.Status).Inc()
			p.m.latency.Observe(p.cfg.Now().Sub(ev.ReceivedAt).Seconds())
		}
	}
	return nil
}

// deleter is the configured Deleter, else the scheduler when it is one.
func (p *Pipeline) deleter() Deleter {
	if p.cfg.Deleter != nil {
		return p.cfg.Deleter
	}
	d, _ := p.cfg.Scheduler.(Deleter)
	return d
}

// crmName is the plugin's display name (HubSpot), else its name.
func (p *Pipeline) crmName(typ string) string {
	if m, ok := p.cfg.Plugins.Manifest(typ); ok && m.DisplayName != "" {
		return m.DisplayName
	}
	return typ
}

// sourceOf names the event's record as calls record their source.
func sourceOf(ev *store.Event) store.SourceFilter {
	return store.SourceFilter{Type: ev.Type, Integration: ev.Integration, Account: ev.Account, ObjectType: ev.ObjectType, ObjectID: ev.ObjectID}
}

func describeCanceled(n scheduler.Canceled) string {
	s := fmt.Sprintf("canceled %d pending calls", n.Calls)
	if n.Calls == 1 {
		s = "canceled 1 pending call"
	}
	if n.Dialing > 0 {
		s += fmt.Sprintf(" (%d already dialing: the attempt finishes, no retry follows)", n.Dialing)
	}
	return s
}
