package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/callgate/callgate/gateway/store"
)

// Sign is the SignatureHeader value for body: "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Run delivers due items until ctx ends. It sleeps until the next item is
// due, a commit that wrote outbox items, a Wake, or MaxIdle, whichever
// comes first.
func (n *Notifier) Run(ctx context.Context) error {
	changes := n.db.Changes(store.TopicOutbox)
	for {
		done, err := n.DeliverDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := n.cfg.MaxIdle
		switch {
		case err != nil:
			n.log.Error("read the outbox; retrying", "error", err)
			wait = min(wait, 5*time.Second)
		case done == n.cfg.Batch:
			continue // more may be due
		default:
			if at, ok, err := n.db.NextOutboxAt(ctx); err == nil && ok {
				wait = min(wait, max(at.Sub(n.now()), 0))
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-n.wake:
		case <-changes:
		case <-t.C:
		}
		t.Stop()
	}
}

// DeliverDue makes one pass: every item due now (up to Batch) is claimed
// for Lease and tried once, Workers at a time. It returns how many were
// tried.
func (n *Notifier) DeliverDue(ctx context.Context) (int, error) {
	items, err := n.db.ClaimOutbox(ctx, n.now(), n.cfg.Lease, n.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("notify: claim due outbox items: %w", err)
	}
	sem := make(chan struct{}, n.cfg.Workers)
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			n.deliverGuarded(ctx, it)
		}()
	}
	wg.Wait()
	return len(items), nil
}

// errFinal marks a failure that retrying cannot fix (credentials rejected,
// record gone): the item becomes a dead letter at once.
type errFinal struct{ err error }

func (e errFinal) Error() string { return e.err.Error() }
func (e errFinal) Unwrap() error { return e.err }

// deliver tries one item and records the result.
func (n *Notifier) deliver(ctx context.Context, it store.OutboxItem) {
	var err error
	var retryAfter time.Duration
	switch it.Kind {
	case store.OutboxWebhook:
		err = n.post(ctx, it)
	case store.OutboxWriteback:
		retryAfter, err = n.writeback(ctx, it)
	default:
		err = errFinal{fmt.Errorf("unknown outbox item kind %q", it.Kind)}
	}
	if ctx.Err() != nil && err != nil {
		// Shutting down: hand the claim back, so the next start (or
		// another replica) takes the item at once, not when the lease ends.
		it.NextAt = n.now().UTC()
		if uerr := n.db.UpdateOutbox(context.WithoutCancel(ctx), it); uerr != nil {
			n.log.Warn("hand back an undelivered outbox item; it is due when its lease ends", "item", it.ID, "error", uerr)
		}
		return
	}
	if err == nil {
		if derr := n.db.DeleteOutbox(ctx, it.ID); derr != nil {
			// Delivered but not forgotten: it will be sent again, and the
			// receiver deduplicates on the event id.
			n.log.Error("delete a delivered outbox item", "item", it.ID, "error", derr)
		}
		n.m.deliveries.WithLabelValues(it.Kind, "delivered").Inc()
		return
	}
	now := n.now().UTC()
	it.Attempts++
	it.LastError = clip(err.Error(), 500)
	it.UpdatedAt = now
	var final errFinal
	if errors.As(err, &final) || it.Attempts >= n.cfg.MaxAttempts {
		it.Dead = true
		n.m.deliveries.WithLabelValues(it.Kind, "dead").Inc()
		n.log.Warn("notification kept as a dead letter", "item", it.ID, "kind", it.Kind, "call", it.CallID,
			"to", destination(it), "tries", it.Attempts, "error", it.LastError)
	} else {
		it.NextAt = now.Add(max(n.backoff(it.Attempts), retryAfter))
		n.m.deliveries.WithLabelValues(it.Kind, "retry").Inc()
		n.log.Debug("notification failed; will retry", "item", it.ID, "kind", it.Kind, "to", destination(it),
			"tries", it.Attempts, "next_at", it.NextAt, "error", it.LastError)
	}
	if uerr := n.db.UpdateOutbox(ctx, it); uerr != nil && !errors.Is(uerr, store.ErrNotFound) {
		n.log.Error("record a failed notification", "item", it.ID, "error", uerr)
	}
}

// backoff is the wait after the n-th failed try: BaseBackoff doubled per
// try, capped at MaxBackoff, with "equal jitter" (half fixed, half random)
// so receivers that come back are not hit by every item at once.
func (n *Notifier) backoff(tries int) time.Duration {
	d := n.cfg.BaseBackoff
	for i := 1; i < tries && d < n.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, n.cfg.MaxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// post sends a webhook item, signed, to the URL the running config has
// for it (tokens in URLs stay in the config; the outbox keeps a reference).
func (n *Notifier) post(ctx context.Context, it store.OutboxItem) error {
	target, err := n.resolve(it)
	if err != nil {
		return errFinal{err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(it.Body))
	if err != nil {
		return errFinal{fmt.Errorf("notify URL %s: %w", redact(it.URL), err)}
	}
	for k, v := range it.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "callgate")
	req.Header.Set(DeliveryHeader, it.ID)
	if n.cfg.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(n.cfg.Secret, it.Body))
	}
	resp, err := n.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the bare cause, without the URL (it may carry a token)
		}
		return fmt.Errorf("POST %s: %w", redact(it.URL), err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("POST %s: receiver answered %d", redact(it.URL), resp.StatusCode)
	}
	return nil
}

// destination names where an item goes, for logs.
func destination(it store.OutboxItem) string {
	if it.Kind == store.OutboxWriteback {
		return "integration " + it.Integration
	}
	return redact(it.URL)
}

// redact drops a URL's query, user info and fragment, which may carry
// tokens.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}

// clip shortens s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
