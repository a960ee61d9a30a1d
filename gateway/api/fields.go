package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/sdk"
)

// FieldLister reads an integration's field definitions through its
// plugin's ListFields, with the integration's credentials.
type FieldLister interface {
	ListFields(ctx context.Context, integration, objectType string) ([]sdk.Field, error)
}

// FieldList is the body of GET /api/v1/integrations/{name}/fields.
type FieldList struct {
	Integration string  `json:"integration"`
	ObjectType  string  `json:"object_type,omitempty"` // as asked; empty: the plugin's main object (contacts, leads)
	Fields      []Field `json:"fields"`
}

// Field is one property of the CRM account, as rules name it
// (contact.NAME).
type Field struct {
	Name    string        `json:"name"`
	Label   string        `json:"label"`
	Type    string        `json:"type"` // string, number, bool, time (or null: untyped)
	Options []FieldOption `json:"options,omitempty"`
}

// FieldOption is one value of an enumeration field.
type FieldOption struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// ErrUnknownIntegration: no integration block of that name.
var ErrUnknownIntegration = errors.New("unknown integration")

// Fields lists integration's fields of objectType, sorted by name.
func (a *API) Fields(ctx context.Context, integration, objectType string) (FieldList, error) {
	if _, ok := a.opts.Config().Integrations[integration]; !ok {
		return FieldList{}, fmt.Errorf("%w %q: use one of %s", ErrUnknownIntegration, integration, strings.Join(Integrations(a.opts.Config()), ", "))
	}
	if a.opts.Fields == nil {
		return FieldList{}, errors.New("field discovery is not wired in this gateway")
	}
	fs, err := a.opts.Fields.ListFields(ctx, integration, objectType)
	if err != nil {
		return FieldList{}, err
	}
	out := FieldList{Integration: integration, ObjectType: objectType, Fields: make([]Field, 0, len(fs))}
	for _, f := range fs {
		af := Field{Name: f.Name, Label: f.Label, Type: typeName(f.Type)}
		for _, o := range f.Options {
			af.Options = append(af.Options, FieldOption{Value: o.Value, Label: o.Label})
		}
		out.Fields = append(out.Fields, af)
	}
	sort.Slice(out.Fields, func(i, j int) bool { return out.Fields[i].Name < out.Fields[j].Name })
	return out, nil
}

func typeName(t sdk.ValueType) string {
	switch t {
	case sdk.TypeString:
		return "string"
	case sdk.TypeNumber:
		return "number"
	case sdk.TypeBool:
		return "bool"
	case sdk.TypeTime:
		return "time"
	}
	return "null"
}

func (a *API) listFields(w http.ResponseWriter, r *http.Request) {
	name := pathVar(r, "name")
	list, err := a.Fields(r.Context(), name, strings.TrimSpace(r.URL.Query().Get("object_type")))
	if err == nil {
		reply.JSON(w, http.StatusOK, list)
		return
	}
	if errors.Is(err, ErrUnknownIntegration) {
		reply.Error(w, http.StatusNotFound, err.Error())
		return
	}
	status, msg := fieldsError(err)
	reply.Error(w, status, fmt.Sprintf("list the fields of %s: %s", name, msg))
}

// fieldsError maps a plugin error's class to the answer: the CRM
// refusing the credentials is a bad gateway, not the caller's fault.
func fieldsError(err error) (int, string) {
	msg := err.Error()
	var se *sdk.Error
	if errors.As(err, &se) {
		msg = se.Message
	}
	switch sdk.ClassOf(err) {
	case sdk.ClassAuth:
		return http.StatusBadGateway, msg
	case sdk.ClassRateLimited:
		return http.StatusTooManyRequests, msg
	case sdk.ClassBadRequest, sdk.ClassPermanent, sdk.ClassNotFound:
		return http.StatusBadRequest, msg
	}
	return http.StatusServiceUnavailable, msg
}
