package hubspot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
)

// BenchmarkFetch100 measures FetchRecords of 100 contacts against the fake,
// with two baselines from the same run: a bare GET of one contact, and the
// same batch-read POST made by hand (no plugin).
func BenchmarkFetch100(b *testing.B) {
	srv := hubspottest.New(hubspottest.Options{RateMax: 1 << 30, RateInterval: time.Second})
	defer srv.Close()
	ids := make([]string, 100)
	inputs := make([]map[string]string, 100)
	for i := range ids {
		ids[i] = srv.AddContact(strconv.Itoa(7000+i), map[string]any{"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com", "phone": "+1415555" + strconv.Itoa(1000+i), "company": "Analytical Engines"})
		inputs[i] = map[string]string{"id": ids[i]}
	}
	client := &http.Client{}
	fields := []string{"firstname", "lastname", "email", "company"}
	batchBody, _ := json.Marshal(map[string]any{"properties": append(fields, hubspot.PhoneProperties()...), "propertiesWithHistory": []string{}, "inputs": inputs})
	send := func(b *testing.B, req *http.Request) {
		req.Header.Set("Authorization", "Bearer "+srv.Token())
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	b.Run("baseline/bare-GET-1-contact", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequest("GET", srv.URL+"/crm/v3/objects/contacts/"+ids[0], nil)
			send(b, req)
		}
	})
	b.Run("baseline/raw-batch-read-100", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequest("POST", srv.URL+"/crm/v3/objects/contacts/batch/read?archived=false", bytes.NewReader(batchBody))
			req.Header.Set("Content-Type", "application/json")
			send(b, req)
		}
	})
	b.Run("plugin/FetchRecords-100", func(b *testing.B) {
		p, err := hubspot.NewWithOptions(hubspot.Options{HTTPClient: client})
		if err != nil {
			b.Fatal(err)
		}
		creds := sdk.Credentials{hubspot.CredAccessToken: srv.Token(), hubspot.CredBaseURL: srv.URL}
		req := sdk.FetchRequest{Credentials: creds, ObjectType: "contact", IDs: ids, Fields: fields}
		srv.Reset()
		b.ReportAllocs()
		for b.Loop() {
			res, err := p.FetchRecords(context.Background(), req)
			if err != nil || len(res.Records) != 100 {
				b.Fatal(err)
			}
		}
		if st := srv.Stats(); st.BatchRead != b.N || st.ListProperties != 1 {
			b.Fatalf("%d batch reads for %d fetches, %d property reads", st.BatchRead, b.N, st.ListProperties)
		}
	})
}
