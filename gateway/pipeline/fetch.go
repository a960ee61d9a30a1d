package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/rules"
	"github.com/callgate/callgate/sdk"
)

// MaxFetchIDs is the most ids one FetchRecords call asks for.
const MaxFetchIDs = 100

// job is one claimed event with what it needs.
type job struct {
	ev    store.Event
	ag    *config.Agent
	integ *config.Integration
	crm   sdk.CRM
	prog  *rules.Program
	rec   *sdk.Record
	// phones are the record fields tried for the number: the agent's
	// phone_fields, else the plugin's manifest's PhoneFields.
	phones []string
	done   bool // ev is final (or re-queued) already
	erase  bool // an erasure request, run after the batch is saved (deletion.go)
}

// groupKey gathers events one FetchRecords call can serve.
type groupKey struct{ integration, objectType string }

// process takes each event as far as it can go and returns them all, each
// terminal or pending with a NotBefore, but for the erasure requests,
// returned apart to run once the rest is saved.
func (p *Pipeline) process(ctx context.Context, cfg *config.Config, evs []store.Event) ([]store.Event, []*job) {
	jobs := make([]*job, len(evs))
	groups := map[groupKey][]*job{}
	var order []groupKey
	for i, ev := range evs {
		j := &job{ev: ev}
		jobs[i] = j
		if !p.prepareGuarded(cfg, j) {
			continue
		}
		if j.rec != nil || isDeletion(&j.ev) {
			continue
		}
		k := groupKey{j.integ.Name, ev.ObjectType}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], j)
	}
	sem := make(chan struct{}, p.cfg.Workers)
	var wg sync.WaitGroup
	for _, k := range order {
		g := groups[k]
		fields := fieldsFor(g)
		for start := 0; start < len(g); {
			chunk, next := chunkByIDs(g, start)
			start = next
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				p.fetchGuarded(ctx, chunk, fields)
			}()
		}
	}
	wg.Wait()
	// Decide in parallel so the scheduler's commits are shared (the store
	// batches concurrent creates), but one contact's events in order, so the
	// first event makes the call and later ones are its duplicates.
	byContact := map[string][]*job{}
	var contacts []string
	for _, j := range jobs {
		if j.done {
			continue
		}
		k := ContactKey(&j.ev)
		if _, ok := byContact[k]; !ok {
			contacts = append(contacts, k)
		}
		byContact[k] = append(byContact[k], j)
	}
	dsem := make(chan struct{}, decideParallelism)
	for _, k := range contacts {
		wg.Add(1)
		dsem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-dsem }()
			for _, j := range byContact[k] {
				if isDeletion(&j.ev) {
					p.deletion(ctx, j)
					continue
				}
				p.decideGuarded(ctx, cfg, j)
			}
		}()
	}
	wg.Wait()
	out := make([]store.Event, 0, len(jobs))
	var erasures []*job
	for _, j := range jobs {
		if j.erase {
			erasures = append(erasures, j)
			continue
		}
		out = append(out, j.ev)
	}
	return out, erasures
}

// decideParallelism bounds the events decided (and submitted) at once.
const decideParallelism = 64

// prepare resolves the event's agent, integration, plugin, rules and
// inline record; false when the event is settled already.
func (p *Pipeline) prepare(cfg *config.Config, j *job) bool {
	ev := &j.ev
	var ok bool
	if j.ag, ok = cfg.Agents[ev.AgentID]; !ok {
		p.orphaned(cfg, j, fmt.Sprintf("agent %q", ev.AgentID))
		return false
	}
	if j.integ, ok = cfg.Integrations[ev.Integration]; !ok {
		p.orphaned(cfg, j, fmt.Sprintf("integration %q", ev.Integration))
		return false
	}
	ev.OrphanedAt = time.Time{} // back in the config (or never gone)
	if j.crm, ok = p.cfg.Plugins.CRM(ev.Type); !ok {
		p.retry(j, fmt.Errorf("plugin %q is not running", ev.Type))
		return false
	}
	m, _ := p.cfg.Plugins.Manifest(ev.Type)
	j.phones = PhoneFields(j.ag, m)
	prog, err := p.program(cfg, j.ag)
	if err != nil {
		p.finish(j, store.EventFailed, err.Error())
		return false
	}
	j.prog = prog
	if ev.ObjectID == "" && len(ev.Record) == 0 {
		// Ingest stores such events terminal; a replayed one ends here too.
		p.finish(j, store.EventFailed, "the event names no record: nothing to fetch or call")
		return false
	}
	if len(ev.Record) > 0 {
		var rec sdk.Record
		if err := json.Unmarshal(ev.Record, &rec); err != nil {
			p.finish(j, store.EventFailed, fmt.Sprintf("inline record is unreadable: %v", err))
			return false
		}
		if inlineSuffices(&rec, m, prog, j.phones) || ev.ObjectID == "" {
			j.rec = &rec
		}
	}
	return true
}

// inlineSuffices reports whether an inline record can be used as it came.
// A plugin whose inline records are whole (capability "inline", e.g.
// LeadSquared) or that cannot fetch is always taken at its word. Otherwise
// (a HubSpot workflow body carries the properties the user chose) the
// record must hold every contact field the rules read, a null counting as
// held, and a phone: a value in one of the phone fields, or all of them
// held empty. Else the record is fetched with exactly the fields needed.
func inlineSuffices(rec *sdk.Record, m sdk.Manifest, prog *rules.Program, phones []string) bool {
	if slices.Contains(m.Capabilities, sdk.CapabilityInline) || !slices.Contains(m.Capabilities, sdk.CapabilityFetch) {
		return true
	}
	for _, f := range prog.Fields() {
		if _, held := rec.Fields[f]; !held {
			return false
		}
	}
	if len(phones) == 0 {
		return len(rec.Phones) > 0
	}
	allHeld := true
	for _, f := range phones {
		v, held := rec.Fields[f]
		if held && !v.IsNull() {
			return true
		}
		allHeld = allHeld && held
	}
	return allHeld
}

// fieldsFor is every field the group's agents read: their rules' contact
// fields and their phone fields, sorted.
func fieldsFor(g []*job) []string {
	var fields []string
	seen := map[string]bool{}
	add := func(f string) {
		if f != "" && !seen[f] {
			seen[f] = true
			fields = append(fields, f)
		}
	}
	agents := map[string]bool{}
	for _, j := range g {
		if agents[j.ag.Name] {
			continue
		}
		agents[j.ag.Name] = true
		for _, f := range j.prog.Fields() {
			add(f)
		}
		for _, f := range j.phones {
			add(f)
		}
	}
	slices.Sort(fields)
	return fields
}

// chunkByIDs returns the jobs from start whose distinct object ids fit in
// one FetchRecords call, and where the next chunk starts.
func chunkByIDs(g []*job, start int) ([]*job, int) {
	ids := map[string]bool{}
	i := start
	for ; i < len(g); i++ {
		id := g[i].ev.ObjectID
		if !ids[id] && len(ids) == MaxFetchIDs {
			break
		}
		ids[id] = true
	}
	return g[start:i], i
}

// fetch reads the chunk's records in one call and attaches them, or
// settles each job by the error's class.
func (p *Pipeline) fetch(ctx context.Context, chunk []*job, fields []string) {
	first := chunk[0]
	var ids []string
	for _, j := range chunk {
		if !slices.Contains(ids, j.ev.ObjectID) {
			ids = append(ids, j.ev.ObjectID)
		}
	}
	fctx, cancel := context.WithTimeout(ctx, p.cfg.FetchTimeout)
	defer cancel()
	start := time.Now()
	res, err := first.crm.FetchRecords(fctx, sdk.FetchRequest{
		Credentials: sdk.Credentials(first.integ.Credentials), ObjectType: first.ev.ObjectType, IDs: ids, Fields: fields,
	})
	p.m.fetchLatency.WithLabelValues(first.ev.Type).Observe(time.Since(start).Seconds())
	if err != nil {
		class := sdk.ClassOf(err)
		if ctx.Err() != nil {
			class = "canceled"
		}
		p.m.fetchErrors.WithLabelValues(first.ev.Type, string(class)).Inc()
		for _, j := range chunk {
			p.fetchFailed(j, err)
		}
		return
	}
	byID := make(map[string]*sdk.Record, len(res.Records))
	for i := range res.Records {
		byID[res.Records[i].ObjectID] = &res.Records[i]
	}
	for _, j := range chunk {
		if rec, ok := byID[j.ev.ObjectID]; ok {
			j.rec = rec
			continue
		}
		p.notFound(j)
	}
}

// fetchFailed settles a job whose fetch failed, by error class.
func (p *Pipeline) fetchFailed(j *job, err error) {
	var se *sdk.Error
	msg := err.Error()
	if errors.As(err, &se) {
		msg = se.Message
	}
	switch sdk.ClassOf(err) {
	case sdk.ClassNotFound:
		p.notFound(j)
	case sdk.ClassRateLimited:
		wait := time.Second
		if se != nil && se.RetryAfter > wait {
			wait = se.RetryAfter
		}
		j.ev.NotBefore = p.cfg.Now().Add(wait).UTC()
		j.ev.Reason = fmt.Sprintf("waiting %s: %s rate limit: %s", wait, j.ev.Type, msg)
		j.done = true
	case sdk.ClassAuth:
		p.finish(j, store.EventFailed, fmt.Sprintf("integration %s: credentials rejected (%s): fix the token and replay the event", j.integ.Name, msg))
	case sdk.ClassPermanent, sdk.ClassBadRequest, sdk.ClassInvalidSignature:
		p.finish(j, store.EventFailed, fmt.Sprintf("integration %s: %s %s: %s", j.integ.Name, j.ev.ObjectType, j.ev.ObjectID, msg))
	default:
		p.retry(j, fmt.Errorf("integration %s: fetch %s %s: %s", j.integ.Name, j.ev.ObjectType, j.ev.ObjectID, msg))
	}
}

// notFound retries a record the CRM does not serve yet (HubSpot's lag
// after contact.creation), then skips the event.
func (p *Pipeline) notFound(j *job) {
	if j.ev.Attempts < len(p.cfg.NotFoundBackoff) {
		wait := p.cfg.NotFoundBackoff[j.ev.Attempts]
		j.ev.Attempts++
		j.ev.NotBefore = p.cfg.Now().Add(wait).UTC()
		j.ev.Reason = fmt.Sprintf("%s %s not found yet; read %d of %d again in %s", j.ev.ObjectType, j.ev.ObjectID, j.ev.Attempts+1, len(p.cfg.NotFoundBackoff)+1, wait)
		j.done = true
		return
	}
	p.finish(j, store.EventSkipped, fmt.Sprintf("record not found: %s %s %s (read %d times)", j.integ.Name, j.ev.ObjectType, j.ev.ObjectID, j.ev.Attempts+1))
}

// retry re-queues a job after a transient error with exponential backoff,
// and fails it with the last error once MaxTries are spent.
func (p *Pipeline) retry(j *job, err error) {
	j.ev.Attempts++
	if j.ev.Attempts >= p.cfg.MaxTries {
		p.finish(j, store.EventFailed, fmt.Sprintf("gave up after %d tries: %v; replay the event once the cause is fixed", j.ev.Attempts, err))
		return
	}
	wait := 2 * time.Second << min(j.ev.Attempts-1, 8)
	wait = min(wait, 5*time.Minute)
	j.ev.NotBefore = p.cfg.Now().Add(wait).UTC()
	j.ev.Reason = fmt.Sprintf("try %d failed, retrying in %s: %v", j.ev.Attempts, wait, err)
	j.done = true
}

// finish gives the job its terminal status.
func (p *Pipeline) finish(j *job, status, reason string) {
	j.ev.Status, j.ev.Reason, j.ev.NotBefore, j.ev.UpdatedAt = status, reason, time.Time{}, p.cfg.Now().UTC()
	j.done = true
}
