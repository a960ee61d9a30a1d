package scheduler

import (
	"time"

	"github.com/callgate/callgate/gateway/callee"
)

// resolveTimezone turns a stored policy timezone into its current IANA
// name and location with the gateway's one rule (callee.Resolve). Calls
// carry the zone the pipeline resolved; "", "callee" (from the number) and
// "contact" (no record here: the fallback) are read for calls stored
// before that, falling back to fallback, the server's default.
func resolveTimezone(tz, number, fallback string) (string, *time.Location, error) {
	z, err := callee.Resolve(tz, callee.Facts{Number: number, Default: fallback})
	if err != nil {
		return "", nil, err
	}
	return z.Name, z.Location, nil
}
