package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Reconcile is an integration's reconcile block: how often the gateway
// asks the CRM for the records it may have missed, and how far back the
// first pass looks. No block, no reconciliation.
type Reconcile struct {
	Every    time.Duration // between passes; at least MinReconcileEvery
	Lookback time.Duration // how far back the first pass (no checkpoint yet) starts; default DefaultReconcileLookback
	Modified bool          // also list records modified in the range (agents that act on updates)
	// Settle is how far behind now a pass stops, so a webhook still in
	// flight for a new record is not raced; default DefaultReconcileSettle.
	Settle time.Duration
	// Objects are the object types listed; default: the built-in
	// plugin's (hubspot: contact, leadsquared: lead).
	Objects []string
}

// defaultReconcileObjects are the object types the built-in plugins' leads
// are, listed when a reconcile block names none.
var defaultReconcileObjects = map[string][]string{
	"hubspot":     {"contact"},
	"leadsquared": {"lead"},
}

// reconcileObjects fills in.Reconcile.Objects from the plugin type once
// the block is read, or reports that a plugin of another type needs them.
func (d *decoder) reconcileObjects(block *hcl.Block, in *Integration) {
	r := in.Reconcile
	if r == nil || len(r.Objects) > 0 {
		return
	}
	if objs, ok := defaultReconcileObjects[in.Type]; ok {
		r.Objects = append([]string(nil), objs...)
		return
	}
	d.errorf(block.DefRange, "integration %q: reconcile needs objects = [\"…\"] (the object types to list) for plugin type %q", in.Name, in.Type)
}

// DefaultReconcileLookback is how far back the first pass looks when the
// block does not say: HubSpot retries a workflow webhook for three days.
const DefaultReconcileLookback = 72 * time.Hour

// DefaultReconcileSettle is how far behind now a pass stops by default.
const DefaultReconcileSettle = time.Minute

// MinReconcileEvery is the shortest gap between passes a config may ask for.
const MinReconcileEvery = time.Second

// integrationBody reads an integration block's reconcile block (if any)
// into in and returns the rest of the body, whose attributes are the
// plugin's credentials. Any other nested block stays in the rest, where
// JustAttributes reports it at its position.
func (d *decoder) integrationBody(block *hcl.Block, in *Integration) hcl.Body {
	body, ok := block.Body.(*hclsyntax.Body)
	if !ok {
		return block.Body
	}
	rest := *body
	rest.Blocks = nil
	var first *hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type != "reconcile" {
			rest.Blocks = append(rest.Blocks, b)
			continue
		}
		if len(b.Labels) > 0 {
			d.errorf(b.LabelRanges[0], "reconcile takes no label")
			continue
		}
		if first != nil {
			d.errorf(b.DefRange(), "integration %q has a second reconcile block (the first is at line %d)", in.Name, first.DefRange().Start.Line)
			continue
		}
		first = b
		in.Reconcile = d.reconcile(b.AsHCLBlock())
	}
	return &rest
}

func (d *decoder) reconcile(b *hcl.Block) *Reconcile {
	r := &Reconcile{Lookback: DefaultReconcileLookback, Settle: DefaultReconcileSettle}
	var everySet bool
	d.decodeBody(b.Body, fields{
		"every": func(a *hcl.Attribute) {
			everySet = true
			if v, ok := d.duration(a); ok {
				if v < MinReconcileEvery {
					d.errorf(a.Expr.Range(), "reconcile every: %s is shorter than %s", v, MinReconcileEvery)
					return
				}
				r.Every = v
			}
		},
		"lookback": func(a *hcl.Attribute) {
			if v, ok := d.duration(a); ok {
				if v <= 0 {
					d.errorf(a.Expr.Range(), "reconcile lookback must be positive")
					return
				}
				r.Lookback = v
			}
		},
		"settle": func(a *hcl.Attribute) {
			if v, ok := d.duration(a); ok {
				r.Settle = v
			}
		},
		"modified": func(a *hcl.Attribute) { r.Modified, _ = d.boolean(a) },
		"objects": func(a *hcl.Attribute) {
			if v, ok := d.strList(a); ok {
				if len(v) == 0 {
					d.errorf(a.Expr.Range(), "reconcile objects must name at least one object type")
					return
				}
				r.Objects = v
			}
		},
	})
	if !everySet {
		d.errorf(b.DefRange, "reconcile needs every (how often to ask the CRM, e.g. \"15m\")")
	}
	return r
}
