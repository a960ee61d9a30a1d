package api

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/callgate/callgate/rules"
)

// RulesReport is the answer of POST /api/v1/rules/test and the JSON of
// `callgate rules test --output json`: an agent's dry run on one record.
type RulesReport struct {
	Agent           string   `json:"agent"`
	PhoneFields     []string `json:"phone_fields"`      // the fields tried for the number
	PhoneFieldsFrom string   `json:"phone_fields_from"` // "agent", "plugin NAME" or why the default
	// ReadFrom names where a record asked for by id was read
	// ("integration hubspot"); empty for a record given as JSON.
	ReadFrom string `json:"read_from,omitempty"`
	// RecordFields are the fields read for a record asked for by id (the
	// ones the pipeline would fetch), as the plugin typed them.
	RecordFields map[string]any `json:"record_fields,omitempty"`
	rules.Report
}

// WriteText prints the report as `callgate rules test` and the
// dashboard's Try the rules show it: the decision, the when rule, the
// number, each variable and the fields the record lacks.
func (out RulesReport) WriteText(w io.Writer) error {
	rep := out.Report
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	decision := "call"
	if !rep.Call {
		decision = "skip: " + rep.Reason
	}
	fmt.Fprintf(tw, "agent\t%s\n", out.Agent)
	fmt.Fprintf(tw, "decision\t%s\n", decision)
	whenResult := fmt.Sprint(rep.WhenResult)
	if rep.WhenError != "" {
		whenResult = "error"
	}
	fmt.Fprintf(tw, "when\t%s  →  %s\n", rep.When, whenResult)
	if rep.WhenError != "" {
		fmt.Fprintf(tw, "when error\t%s\n", oneLine(rep.WhenError))
	}
	ev := rep.Event.Kind
	if rep.Event.Type != "" {
		ev += " (" + rep.Event.Type + ")"
	}
	if rep.Event.Property != "" {
		ev += fmt.Sprintf(" %s=%q", rep.Event.Property, rep.Event.Value)
	}
	fmt.Fprintf(tw, "event\t%s\n", ev)
	if rep.ObjectID != "" {
		rec := rep.ObjectID
		if out.ReadFrom != "" {
			rec += " (read from " + out.ReadFrom + ")"
		}
		fmt.Fprintf(tw, "record\t%s\n", rec)
	}
	phones := strings.Join(out.PhoneFields, ", ")
	if phones == "" {
		phones = "the record's phones"
	}
	fmt.Fprintf(tw, "phone fields\t%s (from %s)\n", phones, out.PhoneFieldsFrom)
	if rep.ToNumber != "" {
		fmt.Fprintf(tw, "to_number\t%s (from %s)\n", rep.ToNumber, rep.PhoneField)
	} else {
		fmt.Fprintf(tw, "to_number\t(none)\n")
	}
	fmt.Fprintf(tw, "timezone\t%s\n", rep.Timezone)
	if rep.TimezoneNote != "" {
		fmt.Fprintf(tw, "timezone note\t%s\n", rep.TimezoneNote)
	}
	fmt.Fprintf(tw, "\nVARIABLE\tVALUE\n")
	names := make([]string, 0, len(rep.Variables)+len(rep.VariableErrors))
	for n := range rep.Variables {
		names = append(names, n)
	}
	for n := range rep.VariableErrors {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		fmt.Fprintf(tw, "(none)\t\n")
	}
	for _, n := range names {
		if msg, failed := rep.VariableErrors[n]; failed {
			fmt.Fprintf(tw, "%s\terror: %s\n", n, oneLine(msg))
		} else {
			fmt.Fprintf(tw, "%s\t%q\n", n, rep.Variables[n])
		}
	}
	if out.ReadFrom != "" {
		fmt.Fprintf(tw, "\nFIELD READ\tVALUE\n")
		fields := make([]string, 0, len(out.RecordFields))
		for f := range out.RecordFields {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		if len(fields) == 0 {
			fmt.Fprintf(tw, "(none)\t\n")
		}
		for _, f := range fields {
			fmt.Fprintf(tw, "%s\t%s\n", f, valueText(out.RecordFields[f]))
		}
	}
	fmt.Fprintf(tw, "\nmissing fields\t%s\n", listOrNone(rep.MissingFields))
	fmt.Fprintf(tw, "missing required\t%s\n", listOrNone(rep.MissingRequired))
	return tw.Flush()
}

// valueText writes a field's value as the rules see it: text quoted,
// numbers plainly, times in RFC 3339.
func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		return x.Format(time.RFC3339)
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

// Text is WriteText into a string.
func (out RulesReport) Text() string {
	var b strings.Builder
	_ = out.WriteText(&b)
	return b.String()
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

// oneLine keeps an expr message's first line (its caret snippet needs the
// source beside it).
func oneLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
