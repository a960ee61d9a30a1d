// Command testplugin is a callgate plugin whose misbehaviour tests can
// trigger, built once by the pluginhost tests. Run as `testplugin plugin
// NAME` like the callgate binary, or bare as an external plugin named after
// its file; NAME picks the manifest:
// "wrongname" claims another name, "proto2" another protocol version,
// "crashatstart" exits before serving. Webhook bodies trigger behaviour:
// "sleep" blocks until canceled, "hang" makes Describe block forever,
// "exit" exits the process, "panic" panics, "print" writes to stdout, "env"
// returns one event per environment variable (key KEY=VALUE), and a
// number N returns N events. FetchRecords returns one record per id.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/callgate/callgate/sdk"
)

type testPlugin struct {
	sdk.Unimplemented
	name string
	hung atomic.Bool
}

func (p *testPlugin) Describe(ctx context.Context) (sdk.Manifest, error) {
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

func (p *testPlugin) HandleWebhook(ctx context.Context, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
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

func (p *testPlugin) FetchRecords(ctx context.Context, req sdk.FetchRequest) (sdk.FetchResult, error) {
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

func main() {
	// Run bare (as an external plugin), the binary's name is the plugin's.
	name := filepath.Base(os.Args[0])
	if len(os.Args) == 3 && os.Args[1] == "plugin" {
		name = os.Args[2]
	}
	if name == "crashatstart" {
		fmt.Fprintln(os.Stderr, "crashing at start on purpose")
		os.Exit(1)
	}
	sdk.Serve(&testPlugin{name: name})
}
