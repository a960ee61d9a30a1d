package sdk

import (
	"context"
	"errors"
)

// WebhookBatcher is a CRM that takes several webhooks in one call. The
// host side of the gRPC protocol implements it (HandleWebhooks, protocol
// 1.1), so a host can coalesce the webhooks that arrive together into one
// round trip to the plugin process. Plugin authors never implement it:
// the SDK serves it with their HandleWebhook.
type WebhookBatcher interface {
	// HandleWebhooks answers reqs in order, each with its own result or
	// error. The error is for the call as a whole (the plugin process is
	// gone, ctx ended): then no request was answered.
	// ErrBatchUnsupported says the plugin predates protocol 1.1.
	HandleWebhooks(ctx context.Context, reqs []WebhookRequest) ([]WebhookAnswer, error)
}

// WebhookAnswer is one request's answer in a batch.
type WebhookAnswer struct {
	Result WebhookResult
	Err    error
}

// ErrBatchUnsupported is HandleWebhooks' error when the plugin was built
// with an SDK older than protocol 1.1: send each webhook with
// HandleWebhook instead.
var ErrBatchUnsupported = errors.New("the plugin does not take batched webhooks (protocol 1.0)")
