package sdk

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// Handshake values shared by the host and every plugin. The cookie is not a
// secret: it only stops a plugin binary from being run by hand by mistake.
const (
	MagicCookieKey   = "CALLGATE_PLUGIN"
	MagicCookieValue = "6d1b1e4c-callgate-crm-plugin"
	// PluginName is the name the CRM service is dispensed under.
	PluginName = "crm"
	// EnvLogLevel, when set by the host, is the plugin's log level
	// (trace, debug, info, warn, error).
	EnvLogLevel = "CALLGATE_PLUGIN_LOG_LEVEL"
)

// Handshake returns the go-plugin handshake every callgate plugin and host
// share.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   MagicCookieKey,
		MagicCookieValue: MagicCookieValue,
	}
}

// VersionedPlugins returns the go-plugin plugin sets by protocol version.
// A host passes a nil impl; a plugin passes its implementation.
func VersionedPlugins(impl CRM) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &grpcPlugin{impl: impl}},
	}
}

// Serve serves impl as a callgate plugin over gRPC and returns when the
// host is done with it. It is the one line of a plugin's main:
//
//	func main() { sdk.Serve(myplugin.New()) }
//
// Serve logs JSON to stderr (the host folds it into its own log), moves
// os.Stdout and os.Stderr onto go-plugin's stdio stream once the handshake
// line is written (so a stray fmt.Println cannot break the protocol; do not
// print before calling Serve), recovers panics inside plugin methods into
// classed errors, and exits when the host process goes away.
func Serve(impl CRM) {
	logger := hclog.New(&hclog.LoggerOptions{
		Level:      hclog.LevelFromString(levelOr(os.Getenv(EnvLogLevel), "info")),
		Output:     os.Stderr,
		JSONFormat: true,
	})
	go exitWithParent(logger, os.Getppid(), time.Second)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake(),
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {PluginName: &grpcPlugin{impl: impl, logger: logger}}},
		GRPCServer:       newGRPCServerWithLimits,
		Logger:           logger,
	})
}

func levelOr(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// exitWithParent exits the plugin when it is re-parented, which is how a
// host that died without closing its plugins shows up (the host also asks
// the kernel for SIGKILL on its death; this covers other hosts).
func exitWithParent(logger hclog.Logger, ppid int, every time.Duration) {
	if ppid <= 1 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		if os.Getppid() != ppid {
			logger.Warn("host process is gone, exiting", "host_pid", ppid)
			os.Exit(3)
		}
	}
}

type loggerKey struct{}

// Logger returns the plugin's logger carried by ctx (set by Serve and the
// test harness); a null logger when there is none. Log with key/value pairs
// and never log credentials.
func Logger(ctx context.Context) hclog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(hclog.Logger); ok {
		return l
	}
	return hclog.NewNullLogger()
}

// WithLogger returns ctx carrying logger, for Logger to find.
func WithLogger(ctx context.Context, logger hclog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, logger)
}
