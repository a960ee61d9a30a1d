package sdk

import (
	"context"

	crmpb "github.com/callgate/callgate/sdk/proto"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcClient is the host side of the protocol: a CRM that calls a plugin.
type grpcClient struct {
	c   crmpb.CRMClient
	log crmpb.CallLogClient
}

var _ CallLogger = (*grpcClient)(nil)

// rpcError turns a failed gRPC call into a classed error: the call did not
// complete, so it is transient unless the plugin lacks the method.
func rpcError(ctx context.Context, method string, err error) error {
	if ctx.Err() != nil {
		return &Error{Class: ClassTransient, Message: "plugin call " + method + ": " + ctx.Err().Error()}
	}
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.Unimplemented:
		return &Error{Class: ClassPermanent, Message: method + " is not supported by this plugin (older protocol?)"}
	case codes.DeadlineExceeded:
		return &Error{Class: ClassTransient, Message: "plugin call " + method + ": deadline exceeded"}
	case codes.Canceled:
		return &Error{Class: ClassTransient, Message: "plugin call " + method + ": canceled"}
	}
	return &Error{Class: ClassTransient, Message: "plugin call " + method + " failed (" + st.Code().String() + "): " + st.Message()}
}

func (g *grpcClient) Describe(ctx context.Context) (Manifest, error) {
	resp, err := g.c.Describe(ctx, &crmpb.DescribeRequest{})
	if err != nil {
		return Manifest{}, rpcError(ctx, "Describe", err)
	}
	if err := errorFromPB(resp.GetError()); err != nil {
		return Manifest{}, err
	}
	if resp.GetManifest() == nil {
		return Manifest{}, Permanent("plugin answered Describe with no manifest")
	}
	return manifestFromPB(resp.GetManifest()), nil
}

func (g *grpcClient) HandleWebhook(ctx context.Context, req WebhookRequest) (WebhookResult, error) {
	resp, err := g.c.HandleWebhook(ctx, webhookToPB(req))
	if err != nil {
		return WebhookResult{}, rpcError(ctx, "HandleWebhook", err)
	}
	if err := errorFromPB(resp.GetError()); err != nil {
		return WebhookResult{}, err
	}
	return WebhookResult{Events: eventsFromPB(resp.GetEvents())}, nil
}

var _ WebhookBatcher = (*grpcClient)(nil)

func (g *grpcClient) HandleWebhooks(ctx context.Context, reqs []WebhookRequest) ([]WebhookAnswer, error) {
	in := &crmpb.HandleWebhooksRequest{Requests: make([]*crmpb.HandleWebhookRequest, len(reqs))}
	for i, r := range reqs {
		in.Requests[i] = webhookToPB(r)
	}
	resp, err := g.c.HandleWebhooks(ctx, in)
	if err != nil {
		if status.Code(err) == codes.Unimplemented && ctx.Err() == nil {
			return nil, ErrBatchUnsupported
		}
		return nil, rpcError(ctx, "HandleWebhooks", err)
	}
	if len(resp.GetResponses()) != len(reqs) {
		return nil, Permanent("plugin answered %d webhooks with %d answers", len(reqs), len(resp.GetResponses()))
	}
	out := make([]WebhookAnswer, len(reqs))
	for i, r := range resp.GetResponses() {
		if err := errorFromPB(r.GetError()); err != nil {
			out[i].Err = err
			continue
		}
		out[i].Result = WebhookResult{Events: eventsFromPB(r.GetEvents())}
	}
	return out, nil
}

func (g *grpcClient) FetchRecords(ctx context.Context, req FetchRequest) (FetchResult, error) {
	resp, err := g.c.FetchRecords(ctx, &crmpb.FetchRecordsRequest{
		Credentials: credsToPB(req.Credentials),
		ObjectType:  utf(req.ObjectType),
		Ids:         utfs(req.IDs),
		Fields:      utfs(req.Fields),
	})
	if err != nil {
		return FetchResult{}, rpcError(ctx, "FetchRecords", err)
	}
	if err := errorFromPB(resp.GetError()); err != nil {
		return FetchResult{}, err
	}
	return FetchResult{Records: recordsFromPB(resp.GetRecords()), Missing: resp.GetMissing()}, nil
}

func (g *grpcClient) UpdateRecord(ctx context.Context, req UpdateRequest) error {
	resp, err := g.c.UpdateRecord(ctx, &crmpb.UpdateRecordRequest{
		Credentials: credsToPB(req.Credentials),
		ObjectType:  utf(req.ObjectType),
		ObjectId:    utf(req.ObjectID),
		Fields:      fieldsToPB(req.Fields),
	})
	if err != nil {
		return rpcError(ctx, "UpdateRecord", err)
	}
	return errorFromPB(resp.GetError())
}

func (g *grpcClient) ListFields(ctx context.Context, creds Credentials, objectType string) ([]Field, error) {
	resp, err := g.c.ListFields(ctx, &crmpb.ListFieldsRequest{Credentials: credsToPB(creds), ObjectType: utf(objectType)})
	if err != nil {
		return nil, rpcError(ctx, "ListFields", err)
	}
	if err := errorFromPB(resp.GetError()); err != nil {
		return nil, err
	}
	return fieldDefsFromPB(resp.GetFields()), nil
}

func (g *grpcClient) ListRecords(ctx context.Context, req ListRequest) (ListResult, error) {
	resp, err := g.c.ListRecords(ctx, &crmpb.ListRecordsRequest{
		Credentials: credsToPB(req.Credentials), ObjectType: utf(req.ObjectType),
		Since: tsToPB(req.Since), Until: tsToPB(req.Until), Modified: req.Modified,
		Cursor: utf(req.Cursor), Limit: int32(min(max(req.Limit, 0), 1000)),
	})
	if err != nil {
		return ListResult{}, rpcError(ctx, "ListRecords", err)
	}
	if err := errorFromPB(resp.GetError()); err != nil {
		return ListResult{}, err
	}
	return ListResult{Records: listedFromPB(resp.GetRecords()), Next: resp.GetNext()}, nil
}

func (g *grpcClient) CheckCredentials(ctx context.Context, creds Credentials) error {
	resp, err := g.c.CheckCredentials(ctx, &crmpb.CheckCredentialsRequest{Credentials: credsToPB(creds)})
	if err != nil {
		return rpcError(ctx, "CheckCredentials", err)
	}
	return errorFromPB(resp.GetError())
}
