// Package sdktest is the test kit for callgate plugin authors: Serve runs a
// CRM implementation behind the real gRPC protocol inside the test process,
// and Conformance runs the checks every plugin must pass against a built
// plugin binary (or an in-process implementation).
package sdktest

import (
	"net"
	"strings"
	"testing"

	"github.com/callgate/callgate/sdk"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Serve serves impl over gRPC on a loopback listener, exactly as a plugin
// process would serve it (same messages, limits, panic recovery and error
// scrubbing), and returns a client for it. Everything stops when the test
// ends. Plugin log lines go to t.Log.
func Serve(t testing.TB, impl sdk.CRM) sdk.CRM {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sdktest: listen: %v", err)
	}
	srv := grpc.NewServer(sdk.GRPCServerOptions()...)
	sdk.RegisterGRPC(srv, impl, hclog.New(&hclog.LoggerOptions{
		Name:   "plugin",
		Level:  hclog.Debug,
		Output: testWriter{t},
	}))
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(),
		append(sdk.GRPCDialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		srv.Stop()
		t.Fatalf("sdktest: dial: %v", err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
	})
	return sdk.NewGRPCClient(conn)
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
