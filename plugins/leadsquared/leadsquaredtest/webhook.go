package leadsquaredtest

import (
	"encoding/json"
	"net/http"
	"net/url"
)

// Webhook content types LeadSquared offers.
const (
	ContentJSON = "application/json"
	ContentForm = "application/x-www-form-urlencoded"
)

// WebhookBody is the body LeadSquared posts for a lead event (Lead
// Creation, Lead Update and Lead Stage Change post the same flat lead):
// a JSON object of every field, values as strings or null.
func WebhookBody(l Lead) []byte {
	b, _ := json.Marshal(l.webhookShape())
	return b
}

// FormBody is the same lead as an application/x-www-form-urlencoded body
// (nulls are sent empty).
func FormBody(l Lead) []byte {
	v := url.Values{}
	for k, val := range l.webhookShape() {
		s, _ := val.(string)
		v.Set(k, s)
	}
	return []byte(v.Encode())
}

// WebhookHeaders are the headers LeadSquared sends with a webhook of
// contentType, plus apiKey as the X-API-KEY custom header when it is set.
func WebhookHeaders(contentType, apiKey string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	if apiKey != "" {
		h.Set("X-API-KEY", apiKey)
	}
	return h
}
