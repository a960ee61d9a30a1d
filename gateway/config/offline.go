package config

import (
	"slices"

	"github.com/zclconf/go-cty/cty"
)

// LoadWithPlaceholders is LoadWithEnv for checks made without the
// deployment's secrets (`config check` without --online, `rules test`):
// an env("X") whose variable lookupEnv does not have, and that gives no
// default, reads placeholder instead of being a problem. It returns the
// names of those variables, sorted.
func LoadWithPlaceholders(name string, src []byte, lookupEnv func(string) (string, bool), placeholder string) (*Config, []string, error) {
	var unset []string
	d := newDecoder(lookupEnv)
	d.ctx.Functions["env"] = envFunc(lookupEnv, func(v string) (cty.Value, error) {
		if !slices.Contains(unset, v) {
			unset = append(unset, v)
		}
		return cty.StringVal(placeholder), nil
	})
	cfg, err := d.load(name, src)
	slices.Sort(unset)
	return cfg, unset, err
}
