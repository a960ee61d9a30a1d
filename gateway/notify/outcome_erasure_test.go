// Erasing a person must also empty the conversation out of queued and
// dead notifications. store.Erasure erases a body's "personal keys"
// whole; the outcome keys this package sends must be among them
// (gateway/store/erasure.go, personalKeys: recordingUrl, recording_url,
// transcription, transcript, summary, disposition, from, from_number,
// post_call). gateway/store is not this change's to edit: run with
// -tags erasure_outcome, and drop the tag once the keys are listed.

package notify_test

import (
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/store"
)

func TestErasedNotificationKeepsNoConversation(t *testing.T) {
	e := setup(t, func(c *notify.Config) { c.ServerURLs = []string{"http://127.0.0.1:1/server"} })
	c, a := reportedCall()
	body := e.n.Items(c, a, true)[0].Body
	erased := string(store.NewErasure([]string{c.ToNumber}, []string{"Ada"}).EraseBody(body))
	for _, gone := range []string{"rec.example.com", "Namaste", "Monday", "callback", "918035551234", "interested", "250000"} {
		if strings.Contains(erased, gone) {
			t.Errorf("%q survived erasure: %s", gone, erased)
		}
	}
	for _, kept := range []string{`"call_id":"01JDCALL"`, `"outcome":"completed"`, `"call_duration":94`} {
		if !strings.Contains(erased, kept) {
			t.Errorf("erasure lost the audit fact %s: %s", kept, erased)
		}
	}
}
