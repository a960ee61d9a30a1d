package sdk

import (
	"context"

	crmpb "github.com/callgate/callgate/sdk/proto"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// MaxMessageBytes is the largest gRPC message either side accepts (a
// webhook body or a batch of records), well above gRPC's 4 MiB default so
// a plugin sees oversized webhooks and can answer bad_request itself.
const MaxMessageBytes = 64 << 20

// windowBytes is the fixed HTTP/2 flow-control window of both sides.
const windowBytes = 8 << 20

// grpcPlugin is the go-plugin glue: it serves impl on the plugin side and
// builds a CRM client on the host side.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl   CRM
	logger hclog.Logger
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	RegisterGRPC(s, p.impl, p.logger)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewGRPCClient(c), nil
}

// newGRPCServerWithLimits is the go-plugin GRPCServer factory Serve uses.
func newGRPCServerWithLimits(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, GRPCServerOptions()...)...)
}

// GRPCServerOptions are the server options Serve uses, for harnesses that
// serve a CRM on their own gRPC server.
func GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes),
		// Fixed flow-control windows turn off gRPC's bandwidth-delay
		// probing, whose PINGs cost extra wake-ups of the other process on
		// every call; over a local socket there is no bandwidth to probe.
		grpc.InitialWindowSize(windowBytes), grpc.InitialConnWindowSize(windowBytes),
	}
}

// GRPCDialOptions are the client options a host needs to talk to a plugin.
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)),
		grpc.WithInitialWindowSize(windowBytes), grpc.WithInitialConnWindowSize(windowBytes),
	}
}

// RegisterGRPC registers impl as the CRM service on s, and the CallLog
// service beside it (answering "not supported" unless impl is a
// CallLogger). Serve does this for plugins; harnesses (sdktest) use it to
// serve over an in-process listener.
func RegisterGRPC(s *grpc.Server, impl CRM, logger hclog.Logger) {
	srv := newGRPCServer(impl, logger)
	crmpb.RegisterCRMServer(s, srv)
	crmpb.RegisterCallLogServer(s, callLogServer{s: srv})
}

// NewGRPCClient returns a CRM that calls the plugin served on conn; it is
// also a CallLogger. Its errors are *Error: plugin errors keep their
// class, a failed call (plugin gone, deadline, cancellation) is transient.
func NewGRPCClient(conn grpc.ClientConnInterface) CRM {
	return &grpcClient{c: crmpb.NewCRMClient(conn), log: crmpb.NewCallLogClient(conn)}
}
