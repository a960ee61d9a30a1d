package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/callgate/callgate/gateway/callee"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/ingest"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/rules"
	"github.com/callgate/callgate/sdk"
)

// decide takes a job whose record is in hand to its end: phone, rules,
// DND, and the scheduler.
func (p *Pipeline) decide(ctx context.Context, cfg *config.Config, j *job) {
	ev, ag, rec := &j.ev, j.ag, j.rec
	number, why := pickPhone(j.phones, rec, ag.Region)
	if number == "" {
		p.finish(j, store.EventSkipped, why)
		return
	}
	var over ingest.Overrides
	if len(ev.Overrides) > 0 {
		if err := json.Unmarshal(ev.Overrides, &over); err != nil {
			p.finish(j, store.EventFailed, fmt.Sprintf("stored policy overrides are unreadable: %v", err))
			return
		}
	}
	policy := over.Apply(ingest.AgentPolicy(ag))
	zone, err := callee.Resolve(policy.Timezone, callee.Facts{Number: number, Contact: rec.Timezone, Agent: ag.Timezone, Default: cfg.Server.DefaultTimezone})
	if err != nil {
		p.finish(j, store.EventFailed, fmt.Sprintf("agent %s: %v", ag.Name, err))
		return
	}
	policy.Timezone, policy.TimezoneNote = zone.Name, zone.Note
	contact := make(map[string]any, len(rec.Fields))
	for k, v := range rec.Fields {
		if !v.IsNull() {
			contact[k] = v.Any()
		}
	}
	res, err := j.prog.Evaluate(rules.Env{
		Contact: contact,
		Event: rules.Event{Type: ev.EventType, Kind: ev.Kind, ObjectType: ev.ObjectType, ObjectID: ev.ObjectID,
			Property: ev.Property, Value: ev.Value, Account: ev.Account, OccurredAt: ev.OccurredAt,
			ChangeSource: ev.ChangeSource, SourceID: ev.SourceID,
			RelatedObjectType: ev.RelatedObjectType, RelatedObjectID: ev.RelatedObjectID},
		Call: rules.Call{AgentID: ag.Name, ToNumber: number, Timezone: policy.Timezone},
		Now:  p.cfg.Now(),
	})
	switch {
	case err != nil:
		p.finish(j, store.EventSkipped, fmt.Sprintf("rules failed: %v", err))
		return
	case !res.Call:
		reason := res.Reason
		if reason == "" {
			reason = fmt.Sprintf("when rule %q is false", j.prog.When())
		}
		p.finish(j, store.EventIgnored, reason)
		return
	case len(res.MissingRequired) > 0:
		reason := fmt.Sprintf("required variable %s is empty", strings.Join(res.MissingRequired, ", "))
		if len(res.MissingFields) > 0 {
			reason += fmt.Sprintf(" (the record lacks %s)", strings.Join(res.MissingFields, ", "))
		}
		p.finish(j, store.EventSkipped, reason)
		return
	case len(res.VariableErrors) > 0:
		names := slices.Sorted(maps.Keys(res.VariableErrors))
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("variable %s: %s", n, res.VariableErrors[n])
		}
		p.finish(j, store.EventSkipped, strings.Join(parts, "; "))
		return
	}
	if p.cfg.DND != nil {
		dnd, err := p.cfg.DND.IsDND(ctx, number)
		if err != nil {
			p.retry(j, fmt.Errorf("read the DND list: %w", err))
			return
		}
		if dnd {
			p.finish(j, store.EventBlocked, fmt.Sprintf("%s is on the DND list", number))
			return
		}
	}
	fields := map[string]any{}
	for _, f := range append(j.prog.Fields(), j.phones...) {
		if v, ok := contact[f]; ok {
			fields[f] = v
		}
	}
	got, err := p.cfg.Scheduler.Submit(ctx, scheduler.Submission{
		Call: store.Call{AgentID: ag.Name, ToNumber: number, Variables: res.Variables, Policy: policy, Dialer: ag.Dialer,
			Fields: fields,
			Source: store.Source{Type: ev.Type, Integration: ev.Integration, ObjectID: ev.ObjectID, EventID: ev.ID,
				Account: ev.Account, ObjectType: ev.ObjectType}},
		ContactKey:       ContactKey(ev),
		LegacyContactKey: legacyContactKey(ev),
		DedupeWindow:     ag.DedupeWindow,
	})
	if err != nil {
		if errors.Is(err, scheduler.ErrUnknownDialer) {
			p.finish(j, store.EventFailed, err.Error())
			return
		}
		p.retry(j, fmt.Errorf("schedule the call: %w", err))
		return
	}
	ev.CallID = got.Call.ID
	reason := fmt.Sprintf("call %s %s", got.Call.ID, got.Call.Status)
	if zone.Note != "" {
		reason += " (timezone " + zone.Note + ")"
	}
	// A duplicate of a call this very event made (a crash between the
	// submit and the save) is not a duplicate.
	if got.Duplicate && got.Call.Source.EventID != ev.ID {
		reason = fmt.Sprintf("duplicate of call %s (one call per contact within %s)", got.Call.ID, ag.DedupeWindow)
	}
	p.finish(j, store.EventCalled, reason)
}

// ContactKey identifies the person for the scheduler's dedupe:
// integration, object type and id. An integration is one CRM account (its
// credentials), so the account adds nothing, and leaving it out lets an
// event that does not know it (a reconciled one, before any webhook told
// the account) match a webhook's event for the same contact.
func ContactKey(ev *store.Event) string {
	return ev.Integration + "::" + ev.ObjectType + ":" + ev.ObjectID
}

// legacyContactKey is the key calls made before 2026-12-01 were stored
// under (with the account): matched too, so an upgrade inside a dedupe
// window calls nobody twice. It can go once every window has passed.
func legacyContactKey(ev *store.Event) string {
	if ev.Account == "" {
		return ""
	}
	return ev.Integration + ":" + ev.Account + ":" + ev.ObjectType + ":" + ev.ObjectID
}

// pickPhone returns the first valid number among the phone fields (the
// agent's, else the plugin's), then the record's phone candidates, in
// E.164; or "" and why not. The
// reason shows the raw value: operators need it to fix the record, and
// only the authenticated admin API shows reasons.
func pickPhone(phones []string, rec *sdk.Record, region string) (string, string) {
	var tried []string
	var firstBad string
	try := func(where, raw string) string {
		if strings.TrimSpace(raw) == "" {
			return ""
		}
		tried = append(tried, where)
		n, err := callee.Normalize(raw, region)
		if err != nil {
			if firstBad == "" {
				firstBad = fmt.Sprintf("invalid phone number %q in %s (region %s)", raw, where, region)
			}
			return ""
		}
		return n
	}
	for _, f := range phones {
		if n := try(f, rec.Fields[f].Text()); n != "" {
			return n, ""
		}
	}
	for i, raw := range rec.Phones {
		if n := try(fmt.Sprintf("the plugin's phone #%d", i+1), raw); n != "" {
			return n, ""
		}
	}
	if firstBad != "" {
		return "", firstBad
	}
	if len(phones) == 0 {
		return "", "no phone number: the record has none; set the agent's phone_fields to the fields that hold it"
	}
	return "", fmt.Sprintf("no phone number: the record has none of %s", strings.Join(phones, ", "))
}
