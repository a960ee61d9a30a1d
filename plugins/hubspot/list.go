package hubspot

import (
	"context"

	"github.com/callgate/callgate/sdk"
)

// ListRecords is not offered yet: the manifest does not declare the
// reconcile capability, so the gateway never asks.
func (p *Plugin) ListRecords(ctx context.Context, req sdk.ListRequest) (sdk.ListResult, error) {
	return sdk.Unimplemented{}.ListRecords(ctx, req)
}
