package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/config"
)

// localGateway is a whole gateway run inside this process on a temporary
// data dir: what `demo` shows a newcomer and what `bench` measures.
type localGateway struct {
	*app
	DataDir string
	Base    string // http://host:port

	stop context.CancelFunc
	done chan error
}

// localOptions configure startLocalGateway.
type localOptions struct {
	Name     string       // "demo", "bench": names the data dir and errors
	Listener net.Listener // taken over: closed when the gateway stops
	// Config renders the config for the listener's address and the data dir.
	Config func(addr, dataDir string) string
	Log    io.Writer
	Level  hclog.Level
}

// startLocalGateway brings a gateway up and serves until ctx ends or Close.
func startLocalGateway(ctx context.Context, o localOptions) (*localGateway, error) {
	dataDir, err := os.MkdirTemp("", "callgate-"+o.Name+"-")
	if err != nil {
		o.Listener.Close()
		return nil, fmt.Errorf("%s: make a temporary data dir: %w", o.Name, err)
	}
	addr := o.Listener.Addr().String()
	fail := func(what string, err error) (*localGateway, error) {
		o.Listener.Close()
		os.RemoveAll(dataDir)
		return nil, fmt.Errorf("%s: %s: %w", o.Name, what, err)
	}
	cfg, err := config.LoadBytes(o.Name+".hcl", []byte(o.Config(addr, dataDir)))
	if err != nil {
		return fail("config", err)
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "callgate", Output: o.Log, Level: o.Level})
	a, err := newApp(appConfig{Config: cfg, Logger: log, Listener: o.Listener})
	if err != nil {
		return fail("start the gateway", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	g := &localGateway{app: a, DataDir: dataDir, Base: "http://" + addr, stop: stop, done: make(chan error, 1)}
	go func() { g.done <- a.run(runCtx, nil) }()
	return g, nil
}

// Close stops the gateway, waits for it, and removes its data dir.
func (g *localGateway) Close() error {
	g.stop()
	err := <-g.done
	os.RemoveAll(g.DataDir)
	return err
}
