package sdk

import (
	"context"

	crmpb "github.com/callgate/callgate/sdk/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The CallLog service travels beside CRM on the same connection: the host
// side is grpcClient.LogCall, the plugin side callLogServer.

// LogCall calls the plugin's CallLog service. A plugin built before the
// service answers UNIMPLEMENTED, which becomes a permanent "not supported".
func (g *grpcClient) LogCall(ctx context.Context, req LogCallRequest) (LogCallResult, error) {
	resp, err := g.log.LogCall(ctx, logCallToPB(req))
	if err != nil {
		return LogCallResult{}, rpcError(ctx, "LogCall", err)
	}
	if err := errorFromPB(resp.GetError()); err != nil {
		return LogCallResult{}, err
	}
	return LogCallResult{ActivityID: resp.GetActivityId(), TaskIDs: resp.GetTaskIds(), Updated: resp.GetUpdated()}, nil
}

// callLogServer serves a CRM's LogCall when it implements CallLogger, with
// the same panic recovery and secret scrubbing as the CRM service.
type callLogServer struct {
	crmpb.UnimplementedCallLogServer
	s *grpcServer
}

func (c callLogServer) LogCall(ctx context.Context, in *crmpb.LogCallRequest) (*crmpb.LogCallResponse, error) {
	resp := &crmpb.LogCallResponse{}
	req := logCallFromPB(in)
	secrets := c.s.secrets(ctx, req.Credentials)
	err := c.s.call(ctx, "LogCall", secrets, func(ctx context.Context) error {
		logger, ok := c.s.impl.(CallLogger)
		if !ok {
			return Permanent("LogCall is not supported by this plugin (it does not declare %s)", CapabilityLogCall)
		}
		res, err := logger.LogCall(ctx, req)
		if err == nil {
			resp.ActivityId, resp.TaskIds, resp.Updated = utf(res.ActivityID), utfs(res.TaskIDs), utfs(res.Updated)
		}
		return err
	})
	resp.Error = errorToPB(err, secrets)
	return resp, nil
}

func logCallToPB(r LogCallRequest) *crmpb.LogCallRequest {
	c := r.Call
	out := &crmpb.LogCallRequest{
		Credentials: credsToPB(r.Credentials),
		ObjectType:  utf(r.ObjectType),
		ObjectId:    utf(r.ObjectID),
		Key:         utf(r.Key),
		Call: &crmpb.LoggedCall{
			Direction: utf(c.Direction), Outcome: utf(c.Outcome), Disposition: utf(c.Disposition),
			PlatformDisposition: utf(c.PlatformDisposition), ToNumber: utf(c.ToNumber), FromNumber: utf(c.FromNumber),
			RecordingUrl: utf(c.RecordingURL), Title: utf(c.Title), Body: utf(c.Body),
			StartedAt: tsToPB(c.StartedAt), ProviderCallId: utf(c.ProviderCallID),
		},
		Properties: fieldsToPB(r.Properties),
		CheckOnly:  r.CheckOnly,
	}
	if c.Duration > 0 {
		out.Call.Duration = durationpb.New(c.Duration)
	}
	for _, t := range r.Tasks {
		out.Tasks = append(out.Tasks, &crmpb.FollowUpTask{Title: utf(t.Title), Body: utf(t.Body), Due: tsToPB(t.Due), Owner: utf(t.Owner)})
	}
	return out
}

func logCallFromPB(r *crmpb.LogCallRequest) LogCallRequest {
	c := r.GetCall()
	out := LogCallRequest{
		Credentials: credsFromPB(r.GetCredentials()),
		ObjectType:  r.GetObjectType(),
		ObjectID:    r.GetObjectId(),
		Key:         r.GetKey(),
		Call: LoggedCall{
			Direction: c.GetDirection(), Outcome: c.GetOutcome(), Disposition: c.GetDisposition(),
			PlatformDisposition: c.GetPlatformDisposition(), ToNumber: c.GetToNumber(), FromNumber: c.GetFromNumber(),
			RecordingURL: c.GetRecordingUrl(), Title: c.GetTitle(), Body: c.GetBody(),
			StartedAt: tsFromPB(c.GetStartedAt()), ProviderCallID: c.GetProviderCallId(),
		},
		Properties: fieldsFromPB(r.GetProperties()),
		CheckOnly:  r.GetCheckOnly(),
	}
	if d := c.GetDuration(); d != nil {
		out.Call.Duration = d.AsDuration()
	}
	if len(out.Properties) == 0 {
		out.Properties = nil
	}
	for _, t := range r.GetTasks() {
		out.Tasks = append(out.Tasks, FollowUpTask{Title: t.GetTitle(), Body: t.GetBody(), Due: tsFromPB(t.GetDue()), Owner: t.GetOwner()})
	}
	return out
}
