package sdk

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	crmpb "github.com/callgate/callgate/sdk/proto"
	"github.com/hashicorp/go-hclog"
)

// grpcServer serves a CRM over gRPC. Every method recovers panics into a
// permanent error and scrubs credential values from error messages, so a
// careless plugin neither crashes nor leaks a token.
type grpcServer struct {
	crmpb.UnimplementedCRMServer
	impl   CRM
	logger hclog.Logger

	once      sync.Once
	nonSecret map[string]bool // credential fields the manifest declares not secret
}

func newGRPCServer(impl CRM, logger hclog.Logger) *grpcServer {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &grpcServer{impl: impl, logger: logger}
}

// secrets returns the credential values to keep out of error messages:
// every value except those of fields the manifest declares not secret.
func (s *grpcServer) secrets(ctx context.Context, creds Credentials) []string {
	if len(creds) == 0 {
		return nil
	}
	s.once.Do(func() {
		s.nonSecret = map[string]bool{}
		var m Manifest
		if err := s.call(ctx, "Describe", nil, func(ctx context.Context) (err error) {
			m, err = s.impl.Describe(ctx)
			return err
		}); err != nil {
			return
		}
		for _, f := range m.CredentialFields {
			if !f.Secret {
				s.nonSecret[f.Name] = true
			}
		}
	})
	out := make([]string, 0, len(creds))
	for k, v := range creds {
		if !s.nonSecret[k] {
			out = append(out, v)
		}
	}
	return out
}

// call runs fn with the plugin logger in ctx and turns a panic into a
// permanent error.
func (s *grpcServer) call(ctx context.Context, method string, secrets []string, fn func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			v := redact(fmt.Sprint(r), secrets)
			s.logger.Error("plugin method panicked", "method", method, "panic", v, "stack", string(debug.Stack()))
			err = Permanent("plugin panicked in %s: %s (a bug in the plugin; see its log)", method, v)
		}
	}()
	return fn(WithLogger(ctx, s.logger))
}

func (s *grpcServer) Describe(ctx context.Context, _ *crmpb.DescribeRequest) (*crmpb.DescribeResponse, error) {
	resp := &crmpb.DescribeResponse{}
	err := s.call(ctx, "Describe", nil, func(ctx context.Context) error {
		m, err := s.impl.Describe(ctx)
		if err == nil {
			resp.Manifest = manifestToPB(m)
		}
		return err
	})
	resp.Error = errorToPB(err, nil)
	return resp, nil
}

func (s *grpcServer) HandleWebhook(ctx context.Context, req *crmpb.HandleWebhookRequest) (*crmpb.HandleWebhookResponse, error) {
	resp := &crmpb.HandleWebhookResponse{}
	r := webhookFromPB(req)
	secrets := s.secrets(ctx, r.Credentials)
	err := s.call(ctx, "HandleWebhook", secrets, func(ctx context.Context) error {
		res, err := s.impl.HandleWebhook(ctx, r)
		if err == nil {
			resp.Events = eventsToPB(res.Events)
		}
		return err
	})
	resp.Error = errorToPB(err, secrets)
	return resp, nil
}

func (s *grpcServer) FetchRecords(ctx context.Context, req *crmpb.FetchRecordsRequest) (*crmpb.FetchRecordsResponse, error) {
	resp := &crmpb.FetchRecordsResponse{}
	r := FetchRequest{
		Credentials: credsFromPB(req.GetCredentials()),
		ObjectType:  req.GetObjectType(),
		IDs:         req.GetIds(),
		Fields:      req.GetFields(),
	}
	secrets := s.secrets(ctx, r.Credentials)
	err := s.call(ctx, "FetchRecords", secrets, func(ctx context.Context) error {
		res, err := s.impl.FetchRecords(ctx, r)
		if err == nil {
			resp.Records = recordsToPB(res.Records)
			resp.Missing = utfs(res.Missing)
		}
		return err
	})
	resp.Error = errorToPB(err, secrets)
	return resp, nil
}

func (s *grpcServer) UpdateRecord(ctx context.Context, req *crmpb.UpdateRecordRequest) (*crmpb.UpdateRecordResponse, error) {
	r := UpdateRequest{
		Credentials: credsFromPB(req.GetCredentials()),
		ObjectType:  req.GetObjectType(),
		ObjectID:    req.GetObjectId(),
		Fields:      fieldsFromPB(req.GetFields()),
	}
	secrets := s.secrets(ctx, r.Credentials)
	err := s.call(ctx, "UpdateRecord", secrets, func(ctx context.Context) error {
		return s.impl.UpdateRecord(ctx, r)
	})
	return &crmpb.UpdateRecordResponse{Error: errorToPB(err, secrets)}, nil
}

func (s *grpcServer) ListFields(ctx context.Context, req *crmpb.ListFieldsRequest) (*crmpb.ListFieldsResponse, error) {
	resp := &crmpb.ListFieldsResponse{}
	creds := credsFromPB(req.GetCredentials())
	secrets := s.secrets(ctx, creds)
	err := s.call(ctx, "ListFields", secrets, func(ctx context.Context) error {
		fs, err := s.impl.ListFields(ctx, creds, req.GetObjectType())
		if err == nil {
			resp.Fields = fieldDefsToPB(fs)
		}
		return err
	})
	resp.Error = errorToPB(err, secrets)
	return resp, nil
}

func (s *grpcServer) ListRecords(ctx context.Context, req *crmpb.ListRecordsRequest) (*crmpb.ListRecordsResponse, error) {
	resp := &crmpb.ListRecordsResponse{}
	creds := credsFromPB(req.GetCredentials())
	secrets := s.secrets(ctx, creds)
	err := s.call(ctx, "ListRecords", secrets, func(ctx context.Context) error {
		res, err := s.impl.ListRecords(ctx, ListRequest{
			Credentials: creds, ObjectType: req.GetObjectType(),
			Since: tsFromPB(req.GetSince()), Until: tsFromPB(req.GetUntil()), Modified: req.GetModified(),
			Cursor: req.GetCursor(), Limit: int(req.GetLimit()),
		})
		if err == nil {
			resp.Records, resp.Next = listedToPB(res.Records), utf(res.Next)
		}
		return err
	})
	resp.Error = errorToPB(err, secrets)
	return resp, nil
}

func (s *grpcServer) CheckCredentials(ctx context.Context, req *crmpb.CheckCredentialsRequest) (*crmpb.CheckCredentialsResponse, error) {
	creds := credsFromPB(req.GetCredentials())
	secrets := s.secrets(ctx, creds)
	err := s.call(ctx, "CheckCredentials", secrets, func(ctx context.Context) error {
		return s.impl.CheckCredentials(ctx, creds)
	})
	return &crmpb.CheckCredentialsResponse{Error: errorToPB(err, secrets)}, nil
}

// HandleWebhooks serves a batch the host coalesced: each request goes to
// the plugin's HandleWebhook in turn, exactly as if it had come alone (its
// own secrets, panic guard and error), so plugin authors implement one
// request at a time. In turn, not in parallel: webhook handling is local
// CPU work (verify and parse), and plugins run on one P.
func (s *grpcServer) HandleWebhooks(ctx context.Context, req *crmpb.HandleWebhooksRequest) (*crmpb.HandleWebhooksResponse, error) {
	out := &crmpb.HandleWebhooksResponse{Responses: make([]*crmpb.HandleWebhookResponse, len(req.GetRequests()))}
	for i, r := range req.GetRequests() {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the host gave up; it retries or answers 503
		}
		out.Responses[i], _ = s.HandleWebhook(ctx, r)
	}
	return out, nil
}
