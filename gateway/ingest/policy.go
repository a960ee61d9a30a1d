package ingest

import (
	"fmt"
	"strings"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/store"
	"github.com/nyaruka/phonenumbers"
)

// AgentPolicy is the call policy an agent's config block describes, before
// any request overrides; Timezone may still be "callee".
func AgentPolicy(ag *config.Agent, defaultTZ string) store.Policy {
	p := store.Policy{Timezone: ag.Timezone}
	if p.Timezone == "" {
		p.Timezone = defaultTZ
	}
	if ag.Window != nil {
		p.Window = &store.Window{Start: ag.Window.Start, End: ag.Window.End, CarryOver: ag.Window.CarryOver,
			Days: append([]string(nil), ag.Window.Days...)}
	}
	p.Retry.Max = ag.Retry.Max
	for _, g := range ag.Retry.Gaps {
		p.Retry.Gaps = append(p.Retry.Gaps, store.Duration(g))
	}
	p.Retry.On = append([]string(nil), ag.Retry.On...)
	if len(p.Retry.On) == 0 {
		p.Retry.On = config.DefaultRetryOn()
	}
	if len(p.Retry.Gaps) == 0 {
		p.Retry.Gaps = []store.Duration{store.Duration(config.DefaultRetryGap)}
	}
	return p
}

// ResolveTimezone replaces a "callee" timezone with the zone of the E.164
// number (the first phonenumbers names; fallback when it names none or
// several that disagree is the fallback zone).
func ResolveTimezone(p store.Policy, e164, fallback string) store.Policy {
	if p.Timezone != "callee" {
		return p
	}
	p.Timezone = fallback
	if num, err := phonenumbers.Parse(e164, ""); err == nil {
		if zones, err := phonenumbers.GetTimezonesForNumber(num); err == nil && len(zones) > 0 && zones[0] != "Etc/Unknown" {
			p.Timezone = zones[0]
		}
	}
	return p
}

// NormalizePhone reads raw as a phone number in region (used when raw has
// no +country) and returns it in E.164, or an error saying why not.
func NormalizePhone(raw, region string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("empty")
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	num, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil {
		return "", fmt.Errorf("%s: %v", reply.Quote(raw), err)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%s is not a valid number for region %s", reply.Quote(raw), region)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}
