package pluginhost

import (
	"context"
	"time"

	"github.com/callgate/callgate/sdk"
)

// client is the sdk.CRM Host.CRM hands out. It calls whichever process is
// current, so it survives restarts, and it records latency and errors.
type client struct {
	p        *process
	m        *metrics
	webhooks *coalescer
}

func newClient(p *process, m *metrics) *client {
	c := &client{p: p, m: m}
	c.webhooks = newCoalescer(c.handleWebhooks, c.handleWebhook, func(n int) {
		m.batch.WithLabelValues(p.name).Observe(float64(n))
	})
	return c
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
	c.failed(method, err)
	return err
}

// failed counts a failed call; a transient one may mean the process just
// died, so the supervisor is asked to look now rather than at its next poll.
func (c *client) failed(method string, err error) {
	if err == nil {
		return
	}
	class := sdk.ClassOf(err)
	c.m.errors.WithLabelValues(c.p.name, method, string(class)).Inc()
	if class == sdk.ClassTransient {
		c.p.nudge()
	}
}

func (c *client) Describe(ctx context.Context) (m sdk.Manifest, err error) {
	err = c.do("Describe", func(crm sdk.CRM) (err error) {
		m, err = crm.Describe(ctx)
		return err
	})
	return m, err
}

// HandleWebhook goes through the coalescer: concurrent webhooks share one
// round trip (coalesce.go). Its latency metric is each webhook's own, from
// arrival to answer, queueing included.
func (c *client) HandleWebhook(ctx context.Context, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	return c.handleWebhookBy(ctx, req, time.Time{})
}

// HandleWebhookWithin is HandleWebhook bounded to d from now without a
// timer of its own: the coalesced call's one timer bounds its whole batch
// (ingest uses it instead of a context.WithTimeout per webhook).
func (c *client) HandleWebhookWithin(ctx context.Context, req sdk.WebhookRequest, d time.Duration) (sdk.WebhookResult, error) {
	return c.handleWebhookBy(ctx, req, time.Now().Add(d))
}

func (c *client) handleWebhookBy(ctx context.Context, req sdk.WebhookRequest, deadline time.Time) (sdk.WebhookResult, error) {
	start := time.Now()
	res, err := c.webhooks.handle(ctx, req, deadline)
	c.m.latency.WithLabelValues(c.p.name, "HandleWebhook").Observe(time.Since(start).Seconds())
	c.failed("HandleWebhook", err)
	return res, err
}

// handleWebhooks is one batched call to the current process.
func (c *client) handleWebhooks(ctx context.Context, reqs []sdk.WebhookRequest) ([]sdk.WebhookAnswer, error) {
	crm, err := c.p.current()
	if err != nil {
		return nil, err
	}
	b, ok := crm.(sdk.WebhookBatcher)
	if !ok {
		return nil, sdk.ErrBatchUnsupported
	}
	return b.HandleWebhooks(ctx, reqs)
}

// handleWebhook is one unbatched call, for plugins older than protocol 1.1.
func (c *client) handleWebhook(ctx context.Context, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	crm, err := c.p.current()
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	return crm.HandleWebhook(ctx, req)
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
