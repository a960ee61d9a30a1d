package config

import (
	"fmt"
	"slices"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// LoadWithPlaceholders is LoadWithEnv for checks made without the
// deployment's secrets (`config check` without --online, `rules test`):
// an env("X") whose variable lookupEnv does not have, and that gives no
// default, reads placeholder instead of being a problem. It returns the
// names of those variables, sorted.
func LoadWithPlaceholders(name string, src []byte, lookupEnv func(string) (string, bool), placeholder string) (*Config, []string, error) {
	var unset []string
	d := newDecoder(lookupEnv)
	d.ctx.Functions["env"] = placeholderEnvFunc(lookupEnv, placeholder, func(v string) {
		if !slices.Contains(unset, v) {
			unset = append(unset, v)
		}
	})
	cfg, err := d.load(name, src)
	slices.Sort(unset)
	return cfg, unset, err
}

// placeholderEnvFunc is envFunc, but an unset variable without a default
// reads placeholder and is reported to missing.
func placeholderEnvFunc(lookupEnv func(string) (string, bool), placeholder string, missing func(string)) function.Function {
	return function.New(&function.Spec{
		Description: "Reads an environment variable, with an optional default; a placeholder stands in for an unset one.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, fmt.Errorf("env takes a name and at most one default, got %d arguments", len(args))
			}
			name := args[0].AsString()
			if v, ok := lookupEnv(name); ok {
				return cty.StringVal(v), nil
			}
			if len(args) == 2 {
				return args[1], nil
			}
			missing(name)
			return cty.StringVal(placeholder), nil
		},
	})
}
