package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/callgate/callgate/gateway/reply"
)

// adminClient talks to a running gateway's admin API (/api/v1) with the
// root's --addr and --token, so commands work while serve holds the
// bbolt lock.
type adminClient struct {
	base  string
	token string
	http  *http.Client
}

func newAdminClient(o *rootOptions) *adminClient {
	return &adminClient{base: strings.TrimRight(o.Addr, "/"), token: o.Token, http: &http.Client{Timeout: 30 * time.Second}}
}

// apiError is an error answer from the server: its envelope's message.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
}

// do sends one request; body (if non-nil) is sent as JSON, and a 2xx
// answer is decoded into out (if non-nil) and returned raw.
func (c *adminClient) do(ctx context.Context, method, path string, query url.Values, body, out any) ([]byte, error) {
	resp, u, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %w", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		return raw, c.answerError(resp.StatusCode, resp.Status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return raw, fmt.Errorf("%s %s: the answer is not what this callgate expects (%v); is --addr a callgate of the same version?", method, u, err)
		}
	}
	return raw, nil
}

// stream sends a GET whose 2xx answer the caller reads as it arrives
// (and closes); only ctx bounds it, so a large download is not cut off.
func (c *adminClient) stream(ctx context.Context, path string) (*http.Response, error) {
	sc := *c
	sc.http = &http.Client{Transport: c.http.Transport}
	resp, _, err := sc.send(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return nil, c.answerError(resp.StatusCode, resp.Status, raw)
	}
	return resp, nil
}

// send makes the request and returns the answer and the URL it went to.
func (c *adminClient) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, string, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, u, err
		}
		rd = bytes.NewReader(b)
	}
	if err := checkAddr(c.base); err != nil {
		return nil, u, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, u, fmt.Errorf("--addr %q: %w", c.base, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if isConnRefused(err) {
			return nil, u, fmt.Errorf("is callgate serve running at %s? (%w); point --addr or %s at it", c.base, err, EnvAddr)
		}
		return nil, u, fmt.Errorf("%s %s: %w", method, u, err)
	}
	return resp, u, nil
}

// answerError is the server's error answer: its envelope's message.
func (c *adminClient) answerError(code int, status string, raw []byte) error {
	var env reply.Envelope
	if json.Unmarshal(raw, &env) != nil || env.Message == "" {
		env.Message = strings.TrimSpace(string(raw))
		if env.Message == "" {
			env.Message = status
		}
	}
	if code == http.StatusUnauthorized && c.token == "" {
		env.Message += "; pass --token or set " + EnvToken
	}
	return &apiError{Status: code, Message: env.Message}
}

// checkAddr refuses a gateway address without its scheme, the usual
// slip (--addr 127.0.0.1:8080), with the fix.
func checkAddr(addr string) error {
	if !strings.Contains(addr, "://") {
		return fmt.Errorf("--addr %q: give the gateway's URL with its scheme, e.g. http://%s (or set %s)", addr, addr, EnvAddr)
	}
	return nil
}

func isConnRefused(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// printJSON re-indents a server answer for --output json.
func printJSON(o *rootOptions, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		_, err = o.Stdout.Write(raw)
		return err
	}
	buf.WriteByte('\n')
	_, err := o.Stdout.Write(buf.Bytes())
	return err
}

// table writes aligned columns.
type table struct{ w *tabwriter.Writer }

func newTable(o *rootOptions, header ...string) *table {
	t := &table{w: tabwriter.NewWriter(o.Stdout, 0, 4, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cols ...string) {
	for i, c := range cols {
		if c == "" {
			cols[i] = "-"
		}
		cols[i] = strings.ReplaceAll(cols[i], "\t", " ")
	}
	fmt.Fprintln(t.w, strings.Join(cols, "\t"))
}

func (t *table) flush() error { return t.w.Flush() }

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return fmtTime(*t)
}
