package sdk_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// logger is an echo that also logs calls.
type logger struct {
	echo
	got sdk.LogCallRequest
	res sdk.LogCallResult
}

func (l *logger) LogCall(_ context.Context, r sdk.LogCallRequest) (sdk.LogCallResult, error) {
	l.got = r
	if err := l.fail(); err != nil {
		return sdk.LogCallResult{}, err
	}
	return l.res, nil
}

func TestLogCallRoundTrip(t *testing.T) {
	started := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	want := sdk.LogCallRequest{
		Credentials: sdk.Credentials{"access_token": "pat-secret-value"},
		ObjectType:  "contact", ObjectID: "123", Key: "01JD-2",
		Call: sdk.LoggedCall{
			Direction: sdk.DirectionOutbound, Outcome: "completed", Disposition: "f240bbac-87c9-4f6e-bf70-924b57d47db7",
			PlatformDisposition: "interested", Duration: 95 * time.Second, ToNumber: "+14155550123", FromNumber: "+14155550100",
			RecordingURL: "https://rec.example.com/a.mp3", Title: "AI call", Body: "Summary\nline two",
			StartedAt: started, ProviderCallID: "prov-1",
		},
		Tasks:      []sdk.FollowUpTask{{Title: "Call back", Body: "asked for a demo", Due: started.Add(24 * time.Hour), Owner: "77"}},
		Properties: map[string]sdk.Value{"lifecyclestage": sdk.StringValue("salesqualifiedlead")},
	}
	impl := &logger{res: sdk.LogCallResult{ActivityID: "9001", TaskIDs: []string{"9002"}, Updated: []string{"lifecyclestage"}}}
	crm := sdktest.Serve(t, impl)
	l, ok := crm.(sdk.CallLogger)
	if !ok {
		t.Fatal("the gRPC client is not a CallLogger")
	}
	res, err := l.LogCall(context.Background(), want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(impl.got, want) {
		t.Errorf("plugin got\n%+v\nwant\n%+v", impl.got, want)
	}
	if !reflect.DeepEqual(res, impl.res) {
		t.Errorf("host got %+v, want %+v", res, impl.res)
	}

	impl.err = sdk.RateLimited(2*time.Second, "slow down, pat-secret-value")
	_, err = l.LogCall(context.Background(), want)
	var se *sdk.Error
	if sdk.ClassOf(err) != sdk.ClassRateLimited || strings.Contains(err.Error(), "pat-secret-value") {
		t.Errorf("error: %v", err)
	}
	if ok := errors.As(err, &se); !ok || se.RetryAfter != 2*time.Second {
		t.Errorf("retry after lost: %#v", err)
	}
}

// A plugin built without LogCall keeps working: the host's call comes back
// as a permanent "not supported", never a crash or a transient retry loop.
func TestLogCallNotImplemented(t *testing.T) {
	crm := sdktest.Serve(t, &echo{})
	_, err := crm.(sdk.CallLogger).LogCall(context.Background(), sdk.LogCallRequest{Key: "k"})
	if sdk.ClassOf(err) != sdk.ClassPermanent || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("got %v", err)
	}
}

func TestTaskKey(t *testing.T) {
	for i, want := range []string{"c-1/task-1", "c-1/task-2", "c-1/task-11"} {
		n := []int{0, 1, 10}[i]
		if got := sdk.TaskKey("c-1", n); got != want {
			t.Errorf("TaskKey(c-1, %d) = %q, want %q", n, got, want)
		}
	}
}
