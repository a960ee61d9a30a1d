package config

import (
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Limits are the server block's bounds on what an unauthenticated client
// can hold or try (docs/operations.md, "Limits").
type Limits struct {
	// ReadTimeout bounds reading one request, headers and body (default 30s).
	ReadTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long (default 60s).
	IdleTimeout time.Duration
	// MaxConnections caps open connections in total; past it new ones
	// wait to be accepted (default 1024).
	MaxConnections int
	// MaxConnectionsPerIP caps open connections from one client address
	// (trusted proxies excepted); past it new ones are closed (default 64).
	MaxConnectionsPerIP int
	// AuthFailBurst is how many failed authentications one address may
	// make in a row before it gets 429 (default 10).
	AuthFailBurst int
	// AuthFailRate is how many failures per second are forgiven (default
	// 10 a minute).
	AuthFailRate float64
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (default none: X-Forwarded-For is ignored).
	TrustedProxies []netip.Prefix
}

// Defaults of Limits.
const (
	DefaultReadTimeout         = 30 * time.Second
	DefaultIdleTimeout         = 60 * time.Second
	DefaultMaxConnections      = 1024
	DefaultMaxConnectionsPerIP = 64
	DefaultAuthFailBurst       = 10
	DefaultAuthFailRate        = 10.0 / 60
)

// DefaultLimits are the limits when the server block sets none.
func DefaultLimits() Limits {
	return Limits{
		ReadTimeout:         DefaultReadTimeout,
		IdleTimeout:         DefaultIdleTimeout,
		MaxConnections:      DefaultMaxConnections,
		MaxConnectionsPerIP: DefaultMaxConnectionsPerIP,
		AuthFailBurst:       DefaultAuthFailBurst,
		AuthFailRate:        DefaultAuthFailRate,
	}
}

// limitFields are the server block's attributes for l.
func (d *decoder) limitFields(l *Limits) fields {
	positiveDuration := func(dst *time.Duration) func(*hcl.Attribute) {
		return func(a *hcl.Attribute) {
			if v, ok := d.duration(a); ok {
				if v <= 0 {
					d.errorf(a.Expr.Range(), "%s must be more than zero", a.Name)
					return
				}
				*dst = v
			}
		}
	}
	positiveInt := func(dst *int) func(*hcl.Attribute) {
		return func(a *hcl.Attribute) {
			if v, ok := d.integer(a); ok {
				if v <= 0 || v > 1<<31-1 {
					d.errorf(a.Expr.Range(), "%s must be a positive whole number, got %d", a.Name, v)
					return
				}
				*dst = int(v)
			}
		}
	}
	return fields{
		"read_timeout":           positiveDuration(&l.ReadTimeout),
		"idle_timeout":           positiveDuration(&l.IdleTimeout),
		"max_connections":        positiveInt(&l.MaxConnections),
		"max_connections_per_ip": positiveInt(&l.MaxConnectionsPerIP),
		"auth_fail_burst":        positiveInt(&l.AuthFailBurst),
		"auth_fail_rate": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok {
				r, err := ParseRate(v)
				if err != nil {
					d.errorf(a.Expr.Range(), "auth_fail_rate: %v", err)
					return
				}
				l.AuthFailRate = r
			}
		},
		"trusted_proxies": func(a *hcl.Attribute) {
			vs, ok := d.strList(a)
			if !ok {
				return
			}
			l.TrustedProxies = nil
			for _, v := range vs {
				p, err := parsePrefix(v)
				if err != nil {
					d.errorf(a.Expr.Range(), "trusted_proxies: %q is not an IP address or CIDR prefix (for example \"10.0.0.5\" or \"10.0.0.0/8\")", v)
					continue
				}
				l.TrustedProxies = append(l.TrustedProxies, p)
			}
		},
	}
}

// parsePrefix reads "10.0.0.0/8" or a single address ("10.0.0.5", "::1").
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}
