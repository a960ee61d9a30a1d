package sdk

import (
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	crmpb "github.com/callgate/callgate/sdk/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Conversions between the sdk types and the protobuf messages. Times come
// back in UTC; a zero time travels as an absent timestamp. Strings that are
// not valid UTF-8 (which protobuf refuses to marshal) get U+FFFD for the bad
// bytes, so a plugin that echoes garbage still answers.

func utf(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// utfs is in with invalid UTF-8 replaced; in itself (not a copy) when it
// is all valid, as it nearly always is: the messages only read it.
func utfs(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	for i, s := range in {
		if !utf8.ValidString(s) {
			out := slices.Clone(in)
			for j := i; j < len(out); j++ {
				out[j] = utf(out[j])
			}
			return out
		}
	}
	return in
}

func tsToPB(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func tsFromPB(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

func credsToPB(c Credentials) *crmpb.Credentials {
	if len(c) == 0 {
		return nil
	}
	for k, v := range c {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			m := make(map[string]string, len(c))
			for k, v := range c {
				m[utf(k)] = utf(v)
			}
			return &crmpb.Credentials{Values: m}
		}
	}
	return &crmpb.Credentials{Values: c} // valid: shared, as the message only reads it
}

func credsFromPB(c *crmpb.Credentials) Credentials {
	out := make(Credentials, len(c.GetValues()))
	for k, v := range c.GetValues() {
		out[k] = v
	}
	return out
}

func manifestToPB(m Manifest) *crmpb.Manifest {
	out := &crmpb.Manifest{
		Name:            utf(m.Name),
		Version:         utf(m.Version),
		ProtocolVersion: int32(m.ProtocolVersion),
		DisplayName:     utf(m.DisplayName),
		EventTypes:      utfs(m.EventTypes),
		Capabilities:    utfs(m.Capabilities),
		ContentTypes:    utfs(m.ContentTypes),
		PhoneFields:     utfs(m.PhoneFields),
	}
	for _, f := range m.CredentialFields {
		out.CredentialFields = append(out.CredentialFields, &crmpb.CredentialField{
			Name: utf(f.Name), Description: utf(f.Description), Secret: f.Secret, Required: f.Required,
		})
	}
	return out
}

func manifestFromPB(m *crmpb.Manifest) Manifest {
	out := Manifest{
		Name:            m.GetName(),
		Version:         m.GetVersion(),
		ProtocolVersion: int(m.GetProtocolVersion()),
		DisplayName:     m.GetDisplayName(),
		EventTypes:      m.GetEventTypes(),
		Capabilities:    m.GetCapabilities(),
		ContentTypes:    m.GetContentTypes(),
		PhoneFields:     m.GetPhoneFields(),
	}
	for _, f := range m.GetCredentialFields() {
		out.CredentialFields = append(out.CredentialFields, CredentialField{
			Name: f.GetName(), Description: f.GetDescription(), Secret: f.GetSecret(), Required: f.GetRequired(),
		})
	}
	return out
}

func webhookToPB(r WebhookRequest) *crmpb.HandleWebhookRequest {
	out := &crmpb.HandleWebhookRequest{
		Method:      utf(r.Method),
		Url:         utf(r.URL),
		Body:        r.Body,
		Credentials: credsToPB(r.Credentials),
		ReceivedAt:  tsToPB(r.ReceivedAt),
	}
	if len(r.Headers) > 0 {
		out.Headers = make(map[string]*crmpb.HeaderValues, len(r.Headers))
		for k, vs := range r.Headers {
			out.Headers[utf(k)] = &crmpb.HeaderValues{Values: utfs(vs)}
		}
	}
	return out
}

func webhookFromPB(r *crmpb.HandleWebhookRequest) WebhookRequest {
	out := WebhookRequest{
		Method:      r.GetMethod(),
		URL:         r.GetUrl(),
		Body:        r.GetBody(),
		Credentials: credsFromPB(r.GetCredentials()),
		ReceivedAt:  tsFromPB(r.GetReceivedAt()),
		Headers:     make(map[string][]string, len(r.GetHeaders())),
	}
	for k, vs := range r.GetHeaders() {
		out.Headers[k] = vs.GetValues()
	}
	return out
}

func eventsToPB(evs []Event) []*crmpb.Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]*crmpb.Event, len(evs))
	for i, e := range evs {
		out[i] = &crmpb.Event{
			Key:        utf(e.Key),
			Type:       utf(e.Type),
			Kind:       utf(e.Kind),
			ObjectType: utf(e.ObjectType),
			ObjectId:   utf(e.ObjectID),
			OccurredAt: tsToPB(e.OccurredAt),
			Property:   utf(e.Property),
			Value:      utf(e.Value),
			Account:    utf(e.Account),

			ChangeSource:      utf(e.ChangeSource),
			SourceId:          utf(e.SourceID),
			RelatedObjectType: utf(e.RelatedObjectType),
			RelatedObjectId:   utf(e.RelatedObjectID),
			Problem:           utf(e.Problem),
		}
		if e.Record != nil {
			out[i].Record = recordToPB(*e.Record)
		}
	}
	return out
}

func eventsFromPB(evs []*crmpb.Event) []Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]Event, len(evs))
	for i, e := range evs {
		out[i] = Event{
			Key:        e.GetKey(),
			Type:       e.GetType(),
			Kind:       e.GetKind(),
			ObjectType: e.GetObjectType(),
			ObjectID:   e.GetObjectId(),
			OccurredAt: tsFromPB(e.GetOccurredAt()),
			Property:   e.GetProperty(),
			Value:      e.GetValue(),
			Account:    e.GetAccount(),

			ChangeSource:      e.GetChangeSource(),
			SourceID:          e.GetSourceId(),
			RelatedObjectType: e.GetRelatedObjectType(),
			RelatedObjectID:   e.GetRelatedObjectId(),
			Problem:           e.GetProblem(),
		}
		if e.GetRecord() != nil {
			r := recordFromPB(e.GetRecord())
			out[i].Record = &r
		}
	}
	return out
}

func recordToPB(r Record) *crmpb.Record {
	return &crmpb.Record{ObjectId: utf(r.ObjectID), Fields: fieldsToPB(r.Fields), Phones: utfs(r.Phones), Timezone: utf(r.Timezone)}
}

func recordFromPB(r *crmpb.Record) Record {
	return Record{ObjectID: r.GetObjectId(), Fields: fieldsFromPB(r.GetFields()), Phones: r.GetPhones(), Timezone: r.GetTimezone()}
}

func recordsToPB(rs []Record) []*crmpb.Record {
	if len(rs) == 0 {
		return nil
	}
	out := make([]*crmpb.Record, len(rs))
	for i, r := range rs {
		out[i] = recordToPB(r)
	}
	return out
}

func recordsFromPB(rs []*crmpb.Record) []Record {
	if len(rs) == 0 {
		return nil
	}
	out := make([]Record, len(rs))
	for i, r := range rs {
		out[i] = recordFromPB(r)
	}
	return out
}

func fieldsToPB(fs map[string]Value) map[string]*crmpb.Value {
	if len(fs) == 0 {
		return nil
	}
	out := make(map[string]*crmpb.Value, len(fs))
	for k, v := range fs {
		out[utf(k)] = valueToPB(v)
	}
	return out
}

// fieldsFromPB always returns a non-nil map, so callers may add to it.
func fieldsFromPB(fs map[string]*crmpb.Value) map[string]Value {
	out := make(map[string]Value, len(fs))
	for k, v := range fs {
		out[k] = valueFromPB(v)
	}
	return out
}

func valueToPB(v Value) *crmpb.Value {
	switch v.Type {
	case TypeString:
		return &crmpb.Value{Kind: &crmpb.Value_StringValue{StringValue: utf(v.String)}}
	case TypeNumber:
		return &crmpb.Value{Kind: &crmpb.Value_NumberValue{NumberValue: v.Number}}
	case TypeBool:
		return &crmpb.Value{Kind: &crmpb.Value_BoolValue{BoolValue: v.Bool}}
	case TypeTime:
		return &crmpb.Value{Kind: &crmpb.Value_TimeValue{TimeValue: timestamppb.New(v.Time)}}
	}
	return &crmpb.Value{Kind: &crmpb.Value_NullValue{NullValue: true}}
}

func valueFromPB(v *crmpb.Value) Value {
	switch k := v.GetKind().(type) {
	case *crmpb.Value_StringValue:
		return StringValue(k.StringValue)
	case *crmpb.Value_NumberValue:
		return NumberValue(k.NumberValue)
	case *crmpb.Value_BoolValue:
		return BoolValue(k.BoolValue)
	case *crmpb.Value_TimeValue:
		return TimeValue(k.TimeValue.AsTime())
	}
	return Value{}
}

func fieldDefsToPB(fs []Field) []*crmpb.Field {
	if len(fs) == 0 {
		return nil
	}
	out := make([]*crmpb.Field, len(fs))
	for i, f := range fs {
		out[i] = &crmpb.Field{Name: utf(f.Name), Label: utf(f.Label), Type: crmpb.ValueType(f.Type)}
		for _, o := range f.Options {
			out[i].Options = append(out[i].Options, &crmpb.FieldOption{Value: utf(o.Value), Label: utf(o.Label)})
		}
	}
	return out
}

func fieldDefsFromPB(fs []*crmpb.Field) []Field {
	if len(fs) == 0 {
		return nil
	}
	out := make([]Field, len(fs))
	for i, f := range fs {
		out[i] = Field{Name: f.GetName(), Label: f.GetLabel(), Type: ValueType(f.GetType())}
		for _, o := range f.GetOptions() {
			out[i].Options = append(out[i].Options, FieldOption{Value: o.GetValue(), Label: o.GetLabel()})
		}
	}
	return out
}

var classToPB = map[Class]crmpb.ErrorClass{
	ClassInvalidSignature: crmpb.ErrorClass_ERROR_CLASS_INVALID_SIGNATURE,
	ClassBadRequest:       crmpb.ErrorClass_ERROR_CLASS_BAD_REQUEST,
	ClassAuth:             crmpb.ErrorClass_ERROR_CLASS_AUTH,
	ClassNotFound:         crmpb.ErrorClass_ERROR_CLASS_NOT_FOUND,
	ClassRateLimited:      crmpb.ErrorClass_ERROR_CLASS_RATE_LIMITED,
	ClassTransient:        crmpb.ErrorClass_ERROR_CLASS_TRANSIENT,
	ClassPermanent:        crmpb.ErrorClass_ERROR_CLASS_PERMANENT,
}

// errorToPB classes err (an error without a class is transient, as ClassOf
// says) and removes the given secret values from its message.
func errorToPB(err error, secrets []string) *crmpb.Error {
	if err == nil {
		return nil
	}
	out := &crmpb.Error{Class: crmpb.ErrorClass_ERROR_CLASS_TRANSIENT}
	msg := err.Error()
	var e *Error
	if errors.As(err, &e) {
		if direct, ok := err.(*Error); ok {
			msg = direct.Message
		}
		if c, ok := classToPB[e.Class]; ok {
			out.Class = c
		}
		if e.RetryAfter > 0 {
			out.RetryAfter = durationpb.New(e.RetryAfter)
		}
	}
	out.Message = utf(redact(msg, secrets))
	return out
}

func errorFromPB(e *crmpb.Error) error {
	if e == nil {
		return nil
	}
	out := &Error{Class: ClassTransient, Message: e.GetMessage()}
	for c, pc := range classToPB {
		if pc == e.GetClass() {
			out.Class = c
		}
	}
	if d := e.GetRetryAfter(); d != nil {
		out.RetryAfter = d.AsDuration()
	}
	return out
}

// redact replaces every secret value in msg. Short values are skipped:
// replacing "1" everywhere would only garble the message.
func redact(msg string, secrets []string) string {
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

func listedToPB(rs []ListedRecord) []*crmpb.ListedRecord {
	if len(rs) == 0 {
		return nil
	}
	out := make([]*crmpb.ListedRecord, len(rs))
	for i, r := range rs {
		out[i] = &crmpb.ListedRecord{ObjectId: utf(r.ObjectID), CreatedAt: tsToPB(r.CreatedAt), ModifiedAt: tsToPB(r.ModifiedAt)}
	}
	return out
}

func listedFromPB(rs []*crmpb.ListedRecord) []ListedRecord {
	if len(rs) == 0 {
		return nil
	}
	out := make([]ListedRecord, len(rs))
	for i, r := range rs {
		out[i] = ListedRecord{ObjectID: r.GetObjectId(), CreatedAt: tsFromPB(r.GetCreatedAt()), ModifiedAt: tsFromPB(r.GetModifiedAt())}
	}
	return out
}
