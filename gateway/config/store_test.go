package config

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestStoreBlock(t *testing.T) {
	const secretURL = "postgres://callgate:s3cret@db.internal:5432/callgate?sslmode=require"
	env := noEnv(map[string]string{"DATABASE_URL": secretURL})
	tests := []struct {
		name    string
		src     string
		want    Store
		problem string // "line:col: fragment"; "" for none
	}{
		{"no block: bolt", "", Store{Backend: StoreBolt}, ""},
		{"bolt", "store {\n  backend = \"bolt\"\n}\n", Store{Backend: StoreBolt}, ""},
		{"postgres from the environment", "store {\n  backend = \"postgres\"\n  url = env(\"DATABASE_URL\")\n}\n",
			Store{Backend: StorePostgres, URL: secretURL}, ""},
		{"libpq key=value", "store {\n  backend = \"postgres\"\n  url = \"host=/run/postgresql dbname=callgate\"\n}\n",
			Store{Backend: StorePostgres, URL: "host=/run/postgresql dbname=callgate"}, ""},
		{"unknown backend", "store {\n  backend = \"mysql\"\n}\n", Store{}, `2:13: backend: "mysql" is not one of bolt, postgres`},
		{"postgres without url", "store {\n  backend = \"postgres\"\n}\n", Store{}, `1:1: store: backend = "postgres" needs url =`},
		{"url without postgres", "store {\n  url = \"postgres://h/db\"\n}\n", Store{}, `2:9: store: url is for backend = "postgres"`},
		{"not a postgres url", "store {\n  backend = \"postgres\"\n  url = \"mysql://u:s3cret@h/db\"\n}\n", Store{}, `3:9: store: url must be a postgres:// URL`},
		{"broken url, not echoed", "store {\n  backend = \"postgres\"\n  url = \"postgres://u:s3cret@[h/db\"\n}\n", Store{}, `3:9: store: url is not a valid postgres:// URL`},
		{"unknown key", "store {\n  path = \"x\"\n}\n", Store{}, `2:3: Unsupported argument: An argument named "path"`},
		{"twice", "store {\n}\nstore {\n}\n", Store{}, "3:1: duplicate store block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadWithEnv("t.hcl", []byte(tt.src), env)
			if tt.problem == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Store != tt.want {
					t.Fatalf("store = %+v, want %+v", cfg.Store, tt.want)
				}
				return
			}
			var cerr *Error
			if !errors.As(err, &cerr) || !strings.Contains(err.Error(), "t.hcl:"+tt.problem) {
				t.Fatalf("err = %v, want t.hcl:%s", err, tt.problem)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("the password is in the problem: %v", err)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://callgate:s3cret@db:5432/callgate?sslmode=require", "postgres://callgate:xxxxx@db:5432/callgate?sslmode=require"},
		{"postgres://db/callgate?user=callgate&password=s3cret", "postgres://db/callgate?password=xxxxx&user=callgate"},
		{"postgres://db/callgate", "postgres://db/callgate"},
		{"host=db user=callgate password=s3cret dbname=callgate", "host=db user=callgate password=xxxxx dbname=callgate"},
		{"postgres://u:s3cret@[db/x", "(an unparsable URL)"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	s := Store{Backend: StorePostgres, URL: "postgres://callgate:s3cret@db/callgate"}
	if got := s.Redacted(); strings.Contains(got, "s3cret") || !strings.HasPrefix(got, "postgres postgres://callgate:") {
		t.Errorf("Redacted() = %q", got)
	}
}

// FuzzRedactURL: whatever the user name and password, the password of a
// connection string never survives RedactURL, in either form.
func FuzzRedactURL(f *testing.F) {
	f.Add("callgate", "s3cret")
	f.Add("app", "p4ssw0rdWithDigits")
	f.Fuzz(func(t *testing.T, user, password string) {
		if len(password) < 6 || strings.Trim(password, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" ||
			strings.Contains(user, password) || strings.Contains("postgres db 5432 callgate xxxxx sslmode require", password) {
			t.Skip()
		}
		in := "postgres://" + url.UserPassword(user, password).String() + "@db:5432/callgate?sslmode=require&password=" + password
		u, err := url.Parse(RedactURL(in))
		if err != nil {
			t.Fatalf("RedactURL(%q) is no longer a URL: %v", in, err)
		}
		if pw, _ := u.User.Password(); pw != "xxxxx" || u.Query().Get("password") != "xxxxx" || u.User.Username() != user {
			t.Fatalf("RedactURL(%q) = %q", in, u)
		}
		kv := "host=db dbname=callgate password=" + password
		if out := RedactURL(kv); strings.Contains(out, password) {
			t.Fatalf("RedactURL(%q) = %q keeps the password", kv, out)
		}
	})
}
