package config

import (
	"net/url"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Store backends.
const (
	StoreBolt     = "bolt"     // one process, one file under server.data_dir (the default)
	StorePostgres = "postgres" // several replicas on one PostgreSQL database
)

// Store is the top-level store block: where callgate keeps its data.
//
//	store {
//	  backend = "postgres"
//	  url     = env("DATABASE_URL")
//	}
//
// Without the block, or with backend = "bolt", the data is one bbolt file
// in server.data_dir.
type Store struct {
	Backend string // StoreBolt | StorePostgres; default StoreBolt
	// URL is the PostgreSQL connection string (postgres://… or libpq's
	// key=value form). It usually holds a password: never log or show it
	// (Redacted does not hold one).
	URL string
}

// Redacted is where the store is without its password, for logs and
// `config` output.
func (s Store) Redacted() string {
	if s.Backend != StorePostgres {
		return StoreBolt
	}
	return StorePostgres + " " + RedactURL(s.URL)
}

// RedactURL is a PostgreSQL connection string with its password replaced
// by "xxxxx", in either form.
func RedactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	if strings.HasPrefix(raw, "postgres") {
		return "(an unparsable URL)"
	}
	fields := strings.Fields(raw)
	for i, f := range fields {
		if k, _, ok := strings.Cut(f, "="); ok && k == "password" {
			fields[i] = "password=xxxxx"
		}
	}
	return strings.Join(fields, " ")
}

func (d *decoder) store(block *hcl.Block, s *Store) {
	var urlRange *hcl.Range
	d.decodeBody(block.Body, fields{
		"backend": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok && d.checkOneOf(a.Expr.Range(), a.Name, v, StoreBolt, StorePostgres) {
				s.Backend = v
			}
		},
		"url": func(a *hcl.Attribute) {
			r := a.Expr.Range()
			urlRange = &r
			if v, ok := d.str(a); ok && d.checkPostgresURL(r, v) {
				s.URL = v
			}
		},
	})
	switch {
	case s.Backend == StorePostgres && urlRange == nil:
		d.errorf(block.DefRange, `store: backend = "postgres" needs url = "postgres://user:password@host:5432/database" (e.g. url = env("DATABASE_URL"))`)
	case s.Backend != StorePostgres && urlRange != nil:
		d.errorf(*urlRange, `store: url is for backend = "postgres"; the bolt backend keeps its file in server.data_dir`)
		s.URL = ""
	}
}

// checkPostgresURL checks v reads as a connection string, without ever
// quoting it: it may hold a password.
func (d *decoder) checkPostgresURL(rng hcl.Range, v string) bool {
	if strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://") {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" && u.Query().Get("host") == "" {
			d.errorf(rng, "store: url is not a valid postgres:// URL (want postgres://user:password@host:5432/database?sslmode=…; the value is not shown, it may hold a password)")
			return false
		}
		return true
	}
	if strings.Contains(v, "=") && !strings.Contains(v, "://") {
		return true // libpq's key=value form: host=… dbname=…; the driver reads the rest
	}
	d.errorf(rng, "store: url must be a postgres:// URL or libpq key=value settings (the value is not shown, it may hold a password)")
	return false
}
