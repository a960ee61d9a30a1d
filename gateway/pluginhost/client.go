package pluginhost

import (
	"context"
	"time"

	"github.com/callgate/callgate/sdk"
)

// client is the sdk.CRM Host.CRM hands out. It calls whichever process is
// current, so it survives restarts, and it records latency and errors.
type client struct {
	p *process
	m *metrics
}

var (
	_ sdk.CRM        = (*client)(nil)
	_ sdk.CallLogger = (*client)(nil)
)

// do runs one call against the current process.
func (c *client) do(method string, fn func(sdk.CRM) error) error {
	crm, err := c.p.current()
	if err == nil {
		start := time.Now()
		err = fn(crm)
		c.m.latency.WithLabelValues(c.p.name, method).Observe(time.Since(start).Seconds())
	}
	if err != nil {
		class := sdk.ClassOf(err)
		c.m.errors.WithLabelValues(c.p.name, method, string(class)).Inc()
		if class == sdk.ClassTransient {
			// Perhaps the process just died: have the supervisor look
			// now rather than at its next poll.
			c.p.nudge()
		}
	}
	return err
}

func (c *client) Describe(ctx context.Context) (m sdk.Manifest, err error) {
	err = c.do("Describe", func(crm sdk.CRM) (err error) {
		m, err = crm.Describe(ctx)
		return err
	})
	return m, err
}

func (c *client) HandleWebhook(ctx context.Context, req sdk.WebhookRequest) (res sdk.WebhookResult, err error) {
	err = c.do("HandleWebhook", func(crm sdk.CRM) (err error) {
		res, err = crm.HandleWebhook(ctx, req)
		return err
	})
	return res, err
}

func (c *client) FetchRecords(ctx context.Context, req sdk.FetchRequest) (res sdk.FetchResult, err error) {
	err = c.do("FetchRecords", func(crm sdk.CRM) (err error) {
		res, err = crm.FetchRecords(ctx, req)
		return err
	})
	return res, err
}

func (c *client) UpdateRecord(ctx context.Context, req sdk.UpdateRequest) error {
	return c.do("UpdateRecord", func(crm sdk.CRM) error { return crm.UpdateRecord(ctx, req) })
}

func (c *client) ListFields(ctx context.Context, creds sdk.Credentials, objectType string) (fs []sdk.Field, err error) {
	err = c.do("ListFields", func(crm sdk.CRM) (err error) {
		fs, err = crm.ListFields(ctx, creds, objectType)
		return err
	})
	return fs, err
}

func (c *client) ListRecords(ctx context.Context, req sdk.ListRequest) (res sdk.ListResult, err error) {
	err = c.do("ListRecords", func(crm sdk.CRM) (err error) {
		res, err = crm.ListRecords(ctx, req)
		return err
	})
	return res, err
}

func (c *client) CheckCredentials(ctx context.Context, creds sdk.Credentials) error {
	return c.do("CheckCredentials", func(crm sdk.CRM) error { return crm.CheckCredentials(ctx, creds) })
}

// LogCall reaches the plugin's CallLog service; a plugin without it
// answers "not supported" (callers check the log_call capability first).
func (c *client) LogCall(ctx context.Context, req sdk.LogCallRequest) (res sdk.LogCallResult, err error) {
	err = c.do("LogCall", func(crm sdk.CRM) error {
		l, ok := crm.(sdk.CallLogger)
		if !ok {
			return sdk.Permanent("LogCall is not supported by this plugin")
		}
		res, err = l.LogCall(ctx, req)
		return err
	})
	return res, err
}
