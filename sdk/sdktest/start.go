package sdktest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/callgate/callgate/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// Plugin says how to run the plugin under test: a built binary (Path and
// Args, e.g. "./callgate-leadform", or "./callgate" with Args
// ["plugin", "hubspot"]) started as the gateway would start it, or an
// in-process implementation (Impl) served over the real gRPC boundary.
type Plugin struct {
	Path string
	Args []string
	Impl sdk.CRM
}

func (p Plugin) String() string {
	if p.Impl != nil {
		return "in-process plugin"
	}
	return p.Path
}

// Start runs p and returns a client for it, stopped when the test ends. A
// binary gets what the gateway gives it: the go-plugin handshake, AutoMTLS,
// and an environment with nothing but PATH.
func Start(t testing.TB, p Plugin) sdk.CRM {
	t.Helper()
	crm, _ := start(t, p)
	return crm
}

// start is Start that also returns the go-plugin client of a binary (nil
// for an in-process plugin), to see whether the process is still alive.
func start(t testing.TB, p Plugin) (sdk.CRM, *plugin.Client) {
	t.Helper()
	if p.Impl != nil {
		return Serve(t, p.Impl), nil
	}
	if p.Path == "" {
		t.Fatal("sdktest: Plugin needs Path or Impl")
	}
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	logger := hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Debug, Output: testWriter{t}})
	pc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sdk.VersionedPlugins(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		Logger:           logger,
		GRPCDialOptions:  sdk.GRPCDialOptions(),
	})
	t.Cleanup(pc.Kill)
	rpc, err := pc.Client()
	if err != nil {
		t.Fatalf("sdktest: start %s: %v", p, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("sdktest: dispense from %s: %v", p, err)
	}
	crm, ok := raw.(sdk.CRM)
	if !ok {
		t.Fatalf("sdktest: %s dispensed %T, not an sdk.CRM", p, raw)
	}
	return crm, pc
}
