package config

import (
	"maps"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// fields maps each attribute a block accepts to what to do with it. The
// block's schema is built from the keys, so an unknown key is a problem
// reported by HCL at its position.
type fields map[string]func(*hcl.Attribute)

func (f fields) schema(blocks ...hcl.BlockHeaderSchema) *hcl.BodySchema {
	s := &hcl.BodySchema{Blocks: blocks}
	for _, name := range sortedKeys(f) {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: name})
	}
	return s
}

// decodeBody reads body against f (and the given nested block types),
// calls each present attribute's function, and returns the nested blocks.
func (d *decoder) decodeBody(body hcl.Body, f fields, blocks ...hcl.BlockHeaderSchema) hcl.Blocks {
	content, diags := body.Content(f.schema(blocks...))
	d.add(diags)
	if content == nil {
		return nil
	}
	for _, name := range sortedKeys(content.Attributes) {
		f[name](content.Attributes[name])
	}
	return content.Blocks
}

var topSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "server"},
	{Type: "store"},
	{Type: "api_key", LabelNames: []string{"name"}},
	{Type: "integration", LabelNames: []string{"name"}},
	{Type: "dialer", LabelNames: []string{"name"}},
	{Type: "agent", LabelNames: []string{"name"}},
	{Type: "plugin", LabelNames: []string{"name"}},
}}

// refs remembers where cross-references were written, for checks that can
// only run once every block is read.
type refs struct {
	agentDialer       map[string]hcl.Range
	agentIntegrations map[string]hcl.Range
	agentDef          map[string]hcl.Range
	apiKeyAgents      map[string]hcl.Range
	apiKeySHA         map[string]hcl.Range
}

func (d *decoder) server(body hcl.Body, s *Server) {
	f := fields{
		"listen": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok && d.checkListen(a.Expr.Range(), v) {
				s.Listen = v
			}
		},
		"public_url": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok && d.checkURL(a.Expr.Range(), a.Name, v) {
				s.PublicURL = strings.TrimRight(v, "/")
			}
		},
		"data_dir": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok {
				if v == "" {
					d.errorf(a.Expr.Range(), "data_dir must not be empty")
					return
				}
				s.DataDir = v
			}
		},
		"default_timezone": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok {
				if tz, ok := d.checkTimezone(a.Expr.Range(), a.Name, v, false); ok {
					s.DefaultTimezone = tz
				}
			}
		},
		"default_region": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok && d.checkRegion(a.Expr.Range(), a.Name, v) {
				s.DefaultRegion = strings.ToUpper(v)
			}
		},
		"max_body_bytes": func(a *hcl.Attribute) {
			if v, ok := d.integer(a); ok {
				if v <= 0 {
					d.errorf(a.Expr.Range(), "max_body_bytes must be positive, got %d", v)
					return
				}
				s.MaxBodyBytes = v
			}
		},
		"admin_token_sha256": func(a *hcl.Attribute) {
			if v, ok := d.strList(a); ok {
				s.AdminTokenSHA256 = nil
				for _, h := range v {
					if d.checkSHA256(a.Expr.Range(), a.Name, h) {
						s.AdminTokenSHA256 = append(s.AdminTokenSHA256, strings.ToLower(h))
					}
				}
			}
		},
		"log_format": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok && d.checkOneOf(a.Expr.Range(), a.Name, v, "text", "json") {
				s.LogFormat = v
			}
		},
		"log_level": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok && d.checkOneOf(a.Expr.Range(), a.Name, strings.ToLower(v), "trace", "debug", "info", "warn", "error") {
				s.LogLevel = strings.ToLower(v)
			}
		},
		"notify": func(a *hcl.Attribute) {
			if v, ok := d.strList(a); ok {
				s.Notify = d.checkURLs(a.Expr.Range(), a.Name, v)
			}
		},
		"notify_secret": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok {
				s.NotifySecret = v
			}
		},
		"dedupe_ttl": func(a *hcl.Attribute) {
			if v, ok := d.duration(a); ok {
				s.DedupeTTL = v
			}
		},
		"inbox_high_water": func(a *hcl.Attribute) {
			if v, ok := d.integer(a); ok {
				if v <= 0 {
					d.errorf(a.Expr.Range(), "inbox_high_water must be positive, got %d", v)
					return
				}
				s.InboxHighWater = int(v)
			}
		},
		"orphan_grace": func(a *hcl.Attribute) {
			if v, ok := d.duration(a); ok {
				s.OrphanGrace = v
			}
		},
	}
	maps.Copy(f, d.limitFields(&s.Limits))
	d.decodeBody(body, f)
}

func (d *decoder) apiKey(block *hcl.Block, k *APIKey, r *refs) {
	shaSeen := false
	d.decodeBody(block.Body, fields{
		"sha256": func(a *hcl.Attribute) {
			shaSeen = true
			if v, ok := d.str(a); ok && d.checkSHA256(a.Expr.Range(), a.Name, v) {
				k.SHA256 = strings.ToLower(v)
				r.apiKeySHA[k.Name] = a.Expr.Range()
			}
		},
		"agents": func(a *hcl.Attribute) {
			if v, ok := d.strList(a); ok {
				k.Agents = v
				r.apiKeyAgents[k.Name] = a.Expr.Range()
			}
		},
	})
	if !shaSeen {
		d.errorf(block.DefRange, "api_key %q needs sha256 (the sha256 hex of the key; `callgate keys new` prints one)", k.Name)
	}
}

func (d *decoder) integration(block *hcl.Block, in *Integration) {
	attrs, diags := d.integrationBody(block, in).JustAttributes()
	d.add(diags)
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		v, ok := d.str(a)
		if !ok {
			continue
		}
		switch name {
		case "type":
			if v == "" {
				d.errorf(a.Expr.Range(), "type must not be empty")
				continue
			}
			in.Type = v
		case "base_url":
			if d.checkURL(a.Expr.Range(), name, v) {
				in.Credentials[name] = strings.TrimRight(v, "/")
			}
		default:
			in.Credentials[name] = v
		}
	}
	d.reconcileObjects(block, in)
}

func (d *decoder) dialer(block *hcl.Block, dl *Dialer) {
	var typeSeen, urlSeen, apiKeySeen, burstSet bool
	d.decodeBody(block.Body, fields{
		"type": func(a *hcl.Attribute) {
			typeSeen = true
			if v, ok := d.str(a); ok && d.checkOneOf(a.Expr.Range(), "dialer type", v, dialerTypes...) {
				dl.Type = v
			}
		},
		"url": func(a *hcl.Attribute) {
			urlSeen = true
			if v, ok := d.str(a); ok && d.checkURL(a.Expr.Range(), a.Name, v) {
				dl.URL = v
			}
		},
		"headers": func(a *hcl.Attribute) {
			if v, ok := d.strMap(a); ok {
				dl.Headers = v
			}
		},
		"secret": func(a *hcl.Attribute) { dl.Secret, _ = d.str(a) },
		"api_key": func(a *hcl.Attribute) {
			apiKeySeen = true
			dl.APIKey, _ = d.str(a)
		},
		"timeout": func(a *hcl.Attribute) {
			if v, ok := d.duration(a); ok {
				if v == 0 {
					d.errorf(a.Expr.Range(), "timeout must be more than 0")
					return
				}
				dl.Timeout = v
			}
		},
		"outcome_timeout": func(a *hcl.Attribute) {
			if v, ok := d.duration(a); ok {
				if v == 0 {
					d.errorf(a.Expr.Range(), "outcome_timeout must be more than 0")
					return
				}
				dl.OutcomeTimeout = v
			}
		},
		"concurrency": func(a *hcl.Attribute) {
			if v, ok := d.integer(a); ok {
				if v < 1 || v > 10000 {
					d.errorf(a.Expr.Range(), "concurrency must be between 1 and 10000, got %d", v)
					return
				}
				dl.Concurrency = int(v)
			}
		},
		"rate": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok {
				if r, err := ParseRate(v); err != nil {
					d.errorf(a.Expr.Range(), "rate: %v", err)
				} else {
					dl.Rate = r
				}
			}
		},
		"rate_burst": func(a *hcl.Attribute) {
			if v, ok := d.integer(a); ok {
				if v < 1 {
					d.errorf(a.Expr.Range(), "rate_burst must be at least 1, got %d", v)
					return
				}
				dl.RateBurst = int(v)
				burstSet = true
			}
		},
	})
	if !typeSeen {
		d.errorf(block.DefRange, "dialer %q needs type: one of %s", dl.Name, strings.Join(dialerTypes, ", "))
	}
	switch dl.Type {
	case "http":
		if !urlSeen {
			d.errorf(block.DefRange, "dialer %q of type http needs url", dl.Name)
		}
	case "callkaro":
		if !urlSeen {
			dl.URL = DefaultCallkaroURL
		}
		if !apiKeySeen {
			d.errorf(block.DefRange, "dialer %q of type callkaro needs api_key (your callkaro.ai X-API-KEY)", dl.Name)
		}
	}
	if !burstSet && dl.Rate > 0 {
		dl.RateBurst = max(1, int(dl.Rate))
	}
}

func (d *decoder) agent(block *hcl.Block, ag *Agent, r *refs) {
	var writebackSet bool
	blocks := d.decodeBody(block.Body, fields{
		"dialer": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok {
				ag.Dialer = v
				r.agentDialer[ag.Name] = a.Expr.Range()
			}
		},
		"integrations": func(a *hcl.Attribute) {
			if v, ok := d.strList(a); ok {
				ag.Integrations = v
				r.agentIntegrations[ag.Name] = a.Expr.Range()
			}
		},
		"timezone": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok {
				if tz, ok := d.checkTimezone(a.Expr.Range(), a.Name, v, true); ok {
					ag.Timezone = tz
				}
			}
		},
		"region": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok && d.checkRegion(a.Expr.Range(), a.Name, v) {
				ag.Region = strings.ToUpper(v)
			}
		},
		"phone_fields": func(a *hcl.Attribute) {
			if v, ok := d.strList(a); ok {
				if len(v) == 0 {
					d.errorf(a.Expr.Range(), "phone_fields must name at least one field")
					return
				}
				ag.PhoneFields = v
			}
		},
		"when": func(a *hcl.Attribute) {
			if v, ok := d.expr(a); ok {
				ag.When = v
			}
		},
		"variables": func(a *hcl.Attribute) {
			if v, ok := d.exprMap(a); ok {
				ag.Variables = v
			}
		},
		"required_variables": func(a *hcl.Attribute) {
			if v, ok := d.strList(a); ok {
				ag.RequiredVariables = v
			}
		},
		"dedupe_window": func(a *hcl.Attribute) {
			if v, ok := d.duration(a); ok {
				ag.DedupeWindow = v
			}
		},
		"writeback": func(a *hcl.Attribute) { ag.Writeback, writebackSet = d.boolean(a) },
		"notify": func(a *hcl.Attribute) {
			if v, ok := d.strList(a); ok {
				ag.Notify = d.checkURLs(a.Expr.Range(), a.Name, v)
			}
		},
	}, hcl.BlockHeaderSchema{Type: "window"}, hcl.BlockHeaderSchema{Type: "retry"}, hcl.BlockHeaderSchema{Type: "writeback"})
	var seen = map[string]hcl.Range{}
	for _, b := range blocks {
		if first, dup := seen[b.Type]; dup {
			d.errorf(b.DefRange, "agent %q has a second %s block (the first is at line %d)", ag.Name, b.Type, first.Start.Line)
			continue
		}
		seen[b.Type] = b.DefRange
		switch b.Type {
		case "window":
			ag.Window = d.window(b)
		case "retry":
			d.retry(b, &ag.Retry)
		case "writeback":
			// The block turns write-back on, unless writeback = false
			// says otherwise (switched off, rules kept).
			ag.WritebackRules = d.writebackBlock(b, ag.Name)
			if !writebackSet {
				ag.Writeback = true
			}
		}
	}
	for _, name := range ag.RequiredVariables {
		if _, ok := ag.Variables[name]; !ok {
			d.errorf(block.DefRange, "agent %q: required variable %q is not defined in variables", ag.Name, name)
		}
	}
}

func (d *decoder) window(b *hcl.Block) *Window {
	w := &Window{}
	var startSet, endSet bool
	d.decodeBody(b.Body, fields{
		"start": func(a *hcl.Attribute) {
			startSet = true
			if v, ok := d.str(a); ok && d.checkClock(a.Expr.Range(), a.Name, v) {
				w.Start = v
			}
		},
		"end": func(a *hcl.Attribute) {
			endSet = true
			if v, ok := d.str(a); ok && d.checkClock(a.Expr.Range(), a.Name, v) {
				w.End = v
			}
		},
		"carry_over": func(a *hcl.Attribute) { w.CarryOver, _ = d.boolean(a) },
		"days": func(a *hcl.Attribute) {
			if v, ok := d.strList(a); ok {
				w.Days = d.checkDays(a.Expr.Range(), v)
			}
		},
	})
	if !startSet || !endSet {
		d.errorf(b.DefRange, "window needs both start and end (HH:MM)")
	}
	return w
}

// MinRetryGap is the shortest gap between retries a config or a request may
// ask for: a smaller one (0.0001 h) would be stored as 0 s and redial the
// person at once.
const MinRetryGap = time.Minute

func (d *decoder) retry(b *hcl.Block, r *Retry) {
	d.decodeBody(b.Body, fields{
		"max": func(a *hcl.Attribute) {
			if v, ok := d.integer(a); ok {
				if v < 0 || v > 10 {
					d.errorf(a.Expr.Range(), "retry max must be between 0 and 10, got %d", v)
					return
				}
				r.Max = int(v)
			}
		},
		"gaps": func(a *hcl.Attribute) {
			v, ok := d.strList(a)
			if !ok {
				return
			}
			if len(v) == 0 {
				d.errorf(a.Expr.Range(), "gaps must hold at least one duration")
				return
			}
			var gaps []time.Duration
			for _, s := range v {
				g, ok := d.parseDuration(a.Expr.Range(), "gaps", s)
				if !ok {
					continue
				}
				if g.Round(time.Second) < MinRetryGap {
					d.errorf(a.Expr.Range(), "retry gaps: %q is shorter than %s, the floor between retries", s, MinRetryGap)
					continue
				}
				gaps = append(gaps, g)
			}
			r.Gaps = gaps
		},
		"on": func(a *hcl.Attribute) {
			if v, ok := d.strList(a); ok {
				r.On = nil
				for _, o := range v {
					if d.checkOneOf(a.Expr.Range(), "retry on", o, retryableOutcomes...) {
						r.On = append(r.On, o)
					}
				}
			}
		},
	})
}

func (d *decoder) plugin(block *hcl.Block, p *Plugin) {
	var pathSet, shaSet bool
	d.decodeBody(block.Body, fields{
		"path": func(a *hcl.Attribute) {
			pathSet = true
			if v, ok := d.str(a); ok {
				if v == "" {
					d.errorf(a.Expr.Range(), "path must not be empty")
					return
				}
				p.Path = v
			}
		},
		"sha256": func(a *hcl.Attribute) {
			shaSet = true
			if v, ok := d.str(a); ok && d.checkSHA256(a.Expr.Range(), a.Name, v) {
				p.SHA256 = strings.ToLower(v)
			}
		},
	})
	if !pathSet {
		d.errorf(block.DefRange, "plugin %q needs path (the plugin binary)", p.Name)
	}
	if !shaSet {
		d.errorf(block.DefRange, "plugin %q needs sha256: callgate refuses to start a binary it cannot check (sha256sum prints it)", p.Name)
	}
}
