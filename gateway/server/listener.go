package server

import (
	"net"
	"net/netip"
	"sync"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/net/netutil"

	"github.com/callgate/callgate/gateway/throttle"
)

// limitListener caps open connections: in total (netutil.LimitListener:
// past the cap, Accept waits and new clients queue in the kernel's
// backlog) and per client address (past the cap, a new connection is
// closed at once). Trusted proxies carry many clients, so they count only
// toward the total.
type limitListener struct {
	net.Listener
	perIP   int
	trusted []netip.Prefix
	log     hclog.Logger

	mu     sync.Mutex
	open   map[string]int
	warned map[string]bool
}

func newLimitListener(ln net.Listener, total, perIP int, trusted []netip.Prefix, log hclog.Logger) net.Listener {
	if total > 0 {
		ln = netutil.LimitListener(ln, total)
	}
	if perIP <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, perIP: perIP, trusted: trusted, log: log,
		open: map[string]int{}, warned: map[string]bool{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, counted := l.key(c)
		if !counted {
			return c, nil
		}
		l.mu.Lock()
		if l.open[key] >= l.perIP {
			first := !l.warned[key]
			l.warned[key] = true
			l.mu.Unlock()
			if first {
				l.log.Warn("connection refused: too many open connections from one address (server.max_connections_per_ip)",
					"remote", key, "limit", l.perIP)
			}
			c.Close()
			continue
		}
		l.open[key]++
		l.mu.Unlock()
		return &countedConn{Conn: c, l: l, key: key}, nil
	}
}

// key is the table key of c's peer; false for trusted proxies and peers
// that are not IP addresses.
func (l *limitListener) key(c net.Conn) (string, bool) {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return "", false
	}
	ip := ap.Addr().Unmap()
	if throttle.Trusted(ip, l.trusted) {
		return "", false
	}
	return throttle.Key(ip), true
}

func (l *limitListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
		delete(l.warned, key)
	}
}

type countedConn struct {
	net.Conn
	l    *limitListener
	key  string
	once sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key) })
	return err
}
