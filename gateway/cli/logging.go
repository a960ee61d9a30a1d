package cli

import (
	"io"

	"github.com/hashicorp/go-hclog"
)

// newLogger builds the process logger: text or JSON lines on out, at
// level. Parts of the gateway take named sub-loggers (log.Named("http")).
func newLogger(out io.Writer, format, level string) hclog.Logger {
	lvl := hclog.LevelFromString(level)
	if lvl == hclog.NoLevel {
		lvl = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:            "callgate",
		Level:           lvl,
		Output:          out,
		JSONFormat:      format == "json",
		TimeFormat:      "2006-01-02T15:04:05.000Z07:00",
		IncludeLocation: false,
		Color:           hclog.ColorOff,
	})
}
