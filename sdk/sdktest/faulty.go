package sdktest

import (
	"context"

	"github.com/callgate/callgate/sdk"
)

// faulty wraps a CRM and makes every method but Describe panic with panicV
// or fail with err, to check what the protocol does with them.
type faulty struct {
	sdk.CRM
	panicV any
	err    error
}

func (f *faulty) fault() error {
	if f.panicV != nil {
		panic(f.panicV)
	}
	return f.err
}

func (f *faulty) HandleWebhook(ctx context.Context, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	if err := f.fault(); err != nil {
		return sdk.WebhookResult{}, err
	}
	return f.CRM.HandleWebhook(ctx, req)
}

func (f *faulty) FetchRecords(ctx context.Context, req sdk.FetchRequest) (sdk.FetchResult, error) {
	if err := f.fault(); err != nil {
		return sdk.FetchResult{}, err
	}
	return f.CRM.FetchRecords(ctx, req)
}

func (f *faulty) UpdateRecord(ctx context.Context, req sdk.UpdateRequest) error {
	if err := f.fault(); err != nil {
		return err
	}
	return f.CRM.UpdateRecord(ctx, req)
}

func (f *faulty) ListFields(ctx context.Context, creds sdk.Credentials, objectType string) ([]sdk.Field, error) {
	if err := f.fault(); err != nil {
		return nil, err
	}
	return f.CRM.ListFields(ctx, creds, objectType)
}

func (f *faulty) ListRecords(ctx context.Context, req sdk.ListRequest) (sdk.ListResult, error) {
	if err := f.fault(); err != nil {
		return sdk.ListResult{}, err
	}
	return f.CRM.ListRecords(ctx, req)
}

func (f *faulty) CheckCredentials(ctx context.Context, creds sdk.Credentials) error {
	if err := f.fault(); err != nil {
		return err
	}
	return f.CRM.CheckCredentials(ctx, creds)
}

func (f *faulty) LogCall(ctx context.Context, req sdk.LogCallRequest) (sdk.LogCallResult, error) {
	if err := f.fault(); err != nil {
		return sdk.LogCallResult{}, err
	}
	if l, ok := f.CRM.(sdk.CallLogger); ok {
		return l.LogCall(ctx, req)
	}
	return sdk.LogCallResult{}, sdk.Permanent("LogCall is not supported by this plugin")
}

// stub is the CRM behind faulty when the plugin under test is a binary:
// it describes itself with the plugin's manifest and supports nothing.
type stub struct {
	sdk.Unimplemented
	m sdk.Manifest
}

func (s stub) Describe(context.Context) (sdk.Manifest, error) { return s.m, nil }
func (s stub) HandleWebhook(context.Context, sdk.WebhookRequest) (sdk.WebhookResult, error) {
	return sdk.WebhookResult{}, sdk.BadRequest("stub")
}

// inner is what faulty wraps: the in-process plugin, or a stub.
func inner(p Plugin, m sdk.Manifest) sdk.CRM {
	if p.Impl != nil {
		return p.Impl
	}
	return stub{m: m}
}
