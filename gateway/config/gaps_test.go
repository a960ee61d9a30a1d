package config

import (
	"strings"
	"testing"
	"time"
)

// TestRetryGapFloor: retry gaps under MinRetryGap are config errors with
// their position; one minute is allowed.
func TestRetryGapFloor(t *testing.T) {
	const head = "dialer \"log\" {\n  type = \"log\"\n}\nagent \"a\" {\n  retry {\n    max = 2\n" // lines 1-6
	tests := []struct {
		gaps string
		want string // "" = loads
	}{
		{`["1m", "2h"]`, ""},
		{`["30s"]`, `7:12: retry gaps: "30s" is shorter than 1m0s, the floor between retries`},
		{`["2h", "360ms"]`, `"360ms" is shorter than 1m0s`},
		{`["59.6s"]`, ""}, // rounds to the stored minute
	}
	for _, tt := range tests {
		t.Run(tt.gaps, func(t *testing.T) {
			cfg, err := LoadWithEnv("t.hcl", []byte(head+"    gaps = "+tt.gaps+"\n  }\n}\n"), noEnv(nil))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				for _, g := range cfg.Agents["a"].Retry.Gaps {
					if g.Round(time.Second) < MinRetryGap {
						t.Errorf("gap %s loaded", g)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
