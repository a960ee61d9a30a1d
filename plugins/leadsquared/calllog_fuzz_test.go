package leadsquared

import (
	"strings"
	"testing"
)

// FuzzActivityWithKey: any Retrieve answer either reads or fails with an
// error, never panics; an activity is matched only when a line of it is
// exactly the key line. Seeds: the documented shape and
// testdata/fuzz/FuzzActivityWithKey.
func FuzzActivityWithKey(f *testing.F) {
	f.Add([]byte(`{"RecordCount":1,"ProspectActivities":[{"Id":"a1","EventCode":201,"Data":[{"Key":"ActivityEvent_Note","Value":"AI call\ncallgate-key: c-1"}]}]}`), "c-1")
	f.Add([]byte(`{"RecordCount":1,"ProspectActivities":[{"ID":"a2","ActivityNote":"callgate-key: c-10"}]}`), "c-1")
	f.Add([]byte(`{"ProspectActivities":null}`), "k")
	f.Add([]byte(`[]`), "k")
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		id, err := activityWithKey(body, key)
		if err != nil && id != "" {
			t.Fatalf("an error and an id %q", id)
		}
		if id != "" && !strings.Contains(string(body), id) {
			t.Fatalf("id %q is not in the answer", id)
		}
	})
}

func TestActivityWithKey(t *testing.T) {
	tests := []struct {
		name, body, key, want string
		err                   bool
	}{
		{"in Data", `{"ProspectActivities":[{"Id":"a1","Data":[{"Key":"ActivityEvent_Note","Value":"x\ncallgate-key: c-1"}]}]}`, "c-1", "a1", false},
		{"top level, ID spelling", `{"ProspectActivities":[{"ID":"a2","ActivityNote":"callgate-key: c-1"}]}`, "c-1", "a2", false},
		{"a longer key is another call", `{"ProspectActivities":[{"Id":"a3","ActivityNote":"callgate-key: c-10"}]}`, "c-1", "", false},
		{"none", `{"RecordCount":0,"ProspectActivities":[]}`, "c-1", "", false},
		{"not json", `<html>`, "c-1", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := activityWithKey([]byte(tt.body), tt.key)
			if got != tt.want || (err != nil) != tt.err {
				t.Errorf("got %q, %v; want %q (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}
