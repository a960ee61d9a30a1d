package sdk

import "context"

// Unimplemented supplies the CRM methods a plugin does not support, each
// returning a permanent "not supported" error. Embed it and implement
// Describe and HandleWebhook (and whatever else the plugin can do):
//
//	type Plugin struct{ sdk.Unimplemented }
type Unimplemented struct{}

// FetchRecords reports that the plugin cannot fetch records (its events
// carry them inline).
func (Unimplemented) FetchRecords(context.Context, FetchRequest) (FetchResult, error) {
	return FetchResult{}, Permanent("FetchRecords is not supported by this plugin")
}

// UpdateRecord reports that the plugin cannot write back.
func (Unimplemented) UpdateRecord(context.Context, UpdateRequest) error {
	return Permanent("UpdateRecord is not supported by this plugin")
}

// ListFields reports that the plugin cannot list fields.
func (Unimplemented) ListFields(context.Context, Credentials, string) ([]Field, error) {
	return nil, Permanent("ListFields is not supported by this plugin")
}

// CheckCredentials reports that the plugin cannot check credentials.
func (Unimplemented) CheckCredentials(context.Context, Credentials) error {
	return Permanent("CheckCredentials is not supported by this plugin")
}

// ListRecords reports that the plugin cannot list records, so its
// integrations cannot be reconciled.
func (Unimplemented) ListRecords(context.Context, ListRequest) (ListResult, error) {
	return ListResult{}, Permanent("ListRecords is not supported by this plugin")
}
