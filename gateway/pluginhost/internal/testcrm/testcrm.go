// Package testcrm is a callgate plugin whose misbehaviour tests can
// trigger, served by internal/testplugin and called directly by benchmarks
// as their in-process baseline. NAME picks the manifest: "wrongname" claims
// another name, "proto2" another protocol version. Webhook bodies trigger
// behaviour: "sleep" blocks until canceled, "hang" makes Describe block
// forever, "exit" exits the process, "panic" panics, "print" writes to
// stdout, "env" returns one event per environment variable (key
// KEY=VALUE), and a number N returns N events. FetchRecords returns one
// record per id.
package testcrm

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/callgate/callgate/sdk"
)

// New returns the test CRM named name.
func New(name string) *Plugin { return &Plugin{name: name} }

// Plugin is the test CRM.
type Plugin struct {
	sdk.Unimplemented
	name string
	hung atomic.Bool
}

func (p *Plugin) Describe(ctx context.Context) (sdk.Manifest, error) {
	if p.hung.Load() {
		<-make(chan struct{})
	}
	m := sdk.Manifest{
		Name: p.name, Version: "0.0.1", ProtocolVersion: sdk.ProtocolVersion, DisplayName: "Test plugin",
		EventTypes:       []string{"test.created"},
		CredentialFields: []sdk.CredentialField{{Name: "access_token", Secret: true, Required: true}},
		Capabilities:     []string{sdk.CapabilityFetch},
	}
	switch p.name {
	case "wrongname":
		m.Name = "somethingelse"
	case "proto2":
		m.ProtocolVersion = 2
	}
	return m, nil
}

func (p *Plugin) HandleWebhook(ctx context.Context, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	switch string(req.Body) {
	case "sleep":
		<-ctx.Done()
		return sdk.WebhookResult{}, sdk.Transient("canceled")
	case "hang":
		p.hung.Store(true)
		return sdk.WebhookResult{}, nil
	case "exit":
		os.Exit(7)
	case "panic":
		panic("test panic")
	case "env":
		var evs []sdk.Event
		for _, kv := range os.Environ() {
			evs = append(evs, sdk.Event{Key: kv, Kind: sdk.KindOther})
		}
		return sdk.WebhookResult{Events: evs}, nil
	case "print":
		fmt.Println("a stray line on stdout")
		return sdk.WebhookResult{}, nil
	}
	n, err := strconv.Atoi(string(req.Body))
	if err != nil {
		return sdk.WebhookResult{}, sdk.BadRequest("body is not a number")
	}
	evs := make([]sdk.Event, n)
	for i := range evs {
		id := strconv.Itoa(i)
		evs[i] = sdk.Event{Key: "k" + id, Type: "test.created", Kind: sdk.KindCreated, ObjectType: "contact",
			ObjectID: id, OccurredAt: req.ReceivedAt, Account: "1"}
	}
	return sdk.WebhookResult{Events: evs}, nil
}

func (p *Plugin) FetchRecords(ctx context.Context, req sdk.FetchRequest) (sdk.FetchResult, error) {
	res := sdk.FetchResult{Records: make([]sdk.Record, len(req.IDs))}
	for i, id := range req.IDs {
		res.Records[i] = sdk.Record{ObjectID: id, Phones: []string{"+14155550123"}, Fields: map[string]sdk.Value{
			"firstname": sdk.StringValue("Ada"), "lastname": sdk.StringValue("Lovelace"),
			"score": sdk.NumberValue(42), "optin": sdk.BoolValue(true),
			"createdate": sdk.TimeValue(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)), "company": {},
		}}
	}
	return res, nil
}
