package sdk_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/callgate/callgate/sdk"
	crmpb "github.com/callgate/callgate/sdk/proto"
	"github.com/callgate/callgate/sdk/sdktest"
)

// perBody answers each webhook by its body: "bad" fails the signature,
// "panic" panics, anything else is one event keyed by the body.
type perBody struct{ echo }

func (p *perBody) HandleWebhook(_ context.Context, r sdk.WebhookRequest) (sdk.WebhookResult, error) {
	switch string(r.Body) {
	case "bad":
		return sdk.WebhookResult{}, sdk.InvalidSignature("signature mismatch for %s", r.Credentials["client_secret"])
	case "panic":
		panic("boom " + r.Credentials["client_secret"])
	}
	return sdk.WebhookResult{Events: []sdk.Event{{Key: string(r.Body), Type: "contact.creation", ObjectID: "1"}}}, nil
}

// A batch is answered request by request through the plugin's own
// HandleWebhook: one bad signature or panic fails only its request, and
// secrets stay out of every error.
func TestHandleWebhooksAnswersEachRequest(t *testing.T) {
	crm := sdktest.Serve(t, &perBody{})
	b, ok := crm.(sdk.WebhookBatcher)
	if !ok {
		t.Fatal("the gRPC client does not batch webhooks")
	}
	creds := sdk.Credentials{"client_secret": "s3cr3t-value"}
	var reqs []sdk.WebhookRequest
	for _, body := range []string{"a", "bad", "panic", "b"} {
		reqs = append(reqs, sdk.WebhookRequest{Method: "POST", Body: []byte(body), Credentials: creds,
			Headers: map[string][]string{"Content-Type": {"application/json"}}})
	}
	answers, err := b.HandleWebhooks(context.Background(), reqs)
	if err != nil || len(answers) != 4 {
		t.Fatalf("%d answers, %v", len(answers), err)
	}
	for i, want := range []struct {
		key   string
		class sdk.Class
	}{{"a", ""}, {"", sdk.ClassInvalidSignature}, {"", sdk.ClassPermanent}, {"b", ""}} {
		a := answers[i]
		if want.class != "" {
			if sdk.ClassOf(a.Err) != want.class || strings.Contains(a.Err.Error(), "s3cr3t-value") {
				t.Errorf("answer %d: %v, want class %s without the secret", i, a.Err, want.class)
			}
			continue
		}
		if a.Err != nil || len(a.Result.Events) != 1 || a.Result.Events[0].Key != want.key {
			t.Errorf("answer %d: %+v, %v, want event %s", i, a.Result, a.Err, want.key)
		}
	}
}

// oldPlugin is a plugin served by an SDK from before protocol 1.1: it has
// HandleWebhook but not HandleWebhooks.
type oldPlugin struct{ crmpb.UnimplementedCRMServer }

func (oldPlugin) HandleWebhook(context.Context, *crmpb.HandleWebhookRequest) (*crmpb.HandleWebhookResponse, error) {
	return &crmpb.HandleWebhookResponse{}, nil
}

func TestHandleWebhooksOnAnOldPlugin(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	crmpb.RegisterCRMServer(srv, oldPlugin{})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	crm := sdk.NewGRPCClient(conn)
	if _, err := crm.(sdk.WebhookBatcher).HandleWebhooks(context.Background(), []sdk.WebhookRequest{{}}); !errors.Is(err, sdk.ErrBatchUnsupported) {
		t.Fatalf("got %v, want ErrBatchUnsupported", err)
	}
	if _, err := crm.HandleWebhook(context.Background(), sdk.WebhookRequest{}); err != nil {
		t.Fatalf("the old call still works: %v", err)
	}
}
