// Package webhook POSTs state-change events (events.Event, as JSON) to the
// operator's URLs (--webhook, repeatable) from a bounded queue, with
// retries, exponential backoff with jitter and an optional HMAC-SHA256
// signature (--webhook-secret). Deliver never blocks: when the queue is full
// the delivery is dropped and counted, so an unreachable receiver can
// neither stall probing nor grow memory. See README.md for the headers and
// the body.
//
// Neither the secret nor the credentials or query of a URL are ever logged:
// URLs are logged as scheme://host/path only.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kamsidecar/kamsidecar/events"
)

// Header names of every POST.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256, keyed with the
	// secret, of the timestamp header's value, a '.', and the body. Only
	// sent when a secret is set.
	HeaderSignature = "X-Kamsidecar-Signature"
	// HeaderTimestamp is the Unix time in seconds of the attempt.
	HeaderTimestamp = "X-Kamsidecar-Timestamp"
	// HeaderEvent is the event type, "state".
	HeaderEvent = "X-Kamsidecar-Event"
	// HeaderDelivery is a random id, the same for every attempt of one
	// delivery (for de-duplication by the receiver).
	HeaderDelivery = "X-Kamsidecar-Delivery"
	// HeaderAttempt is the attempt number, from 1.
	HeaderAttempt = "X-Kamsidecar-Attempt"
)

// Defaults of Options.
const (
	DefaultQueueSize   = 1024
	DefaultWorkers     = 2
	DefaultMaxAttempts = 5
	DefaultMaxAge      = 5 * time.Minute
	DefaultTimeout     = 5 * time.Second
	DefaultBackoff     = 500 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
)

// Options configure a Sender; zero fields take the defaults above.
type Options struct {
	// URLs are the receivers (http or https); every event goes to each.
	URLs []string
	// Secret, when set, signs every POST (HeaderSignature).
	Secret string
	// QueueSize bounds the deliveries waiting for a worker.
	QueueSize int
	// Workers is the number of concurrent POSTs.
	Workers int
	// MaxAttempts bounds the attempts of one delivery (first one included).
	MaxAttempts int
	// MaxAge bounds how long after Deliver a delivery may still be tried.
	MaxAge time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
	// Backoff is the wait before the second attempt; it doubles up to
	// MaxBackoff, with ±50 % jitter.
	Backoff, MaxBackoff time.Duration
	// Client sends the POSTs (nil: a client of its own, no redirects).
	Client *http.Client
	// Logger receives failures (nil: slog.Default()).
	Logger *slog.Logger
}

// Sender delivers events to webhooks. Create it with New and start its
// workers with Run.
type Sender struct {
	opts    Options
	targets []target
	log     *slog.Logger
	queue   chan *delivery

	sent, failed, retried, dropped atomic.Uint64

	mu      sync.RWMutex
	stopped bool
}

type target struct {
	url  string // as given, used for the request
	safe string // scheme://host/path, for logs
}

type delivery struct {
	t       target
	body    []byte
	id      string
	created time.Time
}

// ErrBadURL marks a webhook URL that is not absolute http or https.
var ErrBadURL = errors.New("bad webhook url")

// New checks the URLs and returns a Sender.
func New(opts Options) (*Sender, error) {
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.Client == nil {
		opts.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Sender{opts: opts, log: log, queue: make(chan *delivery, opts.QueueSize)}
	for i, raw := range opts.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL itself may hold credentials: name it by position.
			return nil, fmt.Errorf("%w: webhook %d: want http:// or https:// and a host", ErrBadURL, i+1)
		}
		s.targets = append(s.targets, target{url: raw, safe: Redact(raw)})
	}
	return s, nil
}

// Redact returns raw as scheme://host/path, without userinfo, query or
// fragment, for logs ("(bad url)" when it does not parse).
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(bad url)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// Targets returns the redacted URLs, for logs and status.
func (s *Sender) Targets() []string {
	out := make([]string, len(s.targets))
	for i, t := range s.targets {
		out[i] = t.safe
	}
	return out
}

// Deliver queues ev for every URL and returns at once; false means at
// least one delivery was dropped (queue full or Sender stopped).
// It implements events.Sink.
func (s *Sender) Deliver(ev events.Event) bool {
	body, err := json.Marshal(ev)
	if err != nil {
		s.dropped.Add(uint64(len(s.targets)))
		return false
	}
	return s.DeliverBody(body)
}

// DeliverBody queues a JSON body for every URL, like Deliver.
func (s *Sender) DeliverBody(body []byte) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ok := true
	for _, t := range s.targets {
		if s.stopped {
			s.dropped.Add(1)
			ok = false
			continue
		}
		d := &delivery{t: t, body: body, id: newID(), created: time.Now()}
		select {
		case s.queue <- d:
		default:
			s.dropped.Add(1)
			ok = false
		}
	}
	return ok
}

// Sent returns how many deliveries a receiver accepted (2xx).
func (s *Sender) Sent() uint64 { return s.sent.Load() }

// Failed returns how many deliveries were given up (attempts or age
// exhausted, a 4xx other than 408 and 429, or the Sender stopped).
func (s *Sender) Failed() uint64 { return s.failed.Load() }

// Retried returns how many attempts were retries.
func (s *Sender) Retried() uint64 { return s.retried.Load() }

// Dropped returns how many deliveries never entered the queue.
func (s *Sender) Dropped() uint64 { return s.dropped.Load() }

// Queued returns how many deliveries wait for a worker.
func (s *Sender) Queued() int { return len(s.queue) }

// Run starts the workers and waits until ctx ends; attempts in flight are
// cancelled, and the deliveries still queued are counted as failed.
func (s *Sender) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range s.opts.Workers {
		wg.Go(func() { s.work(ctx) })
	}
	wg.Wait()
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	for {
		select {
		case <-s.queue:
			s.failed.Add(1)
		default:
			return ctx.Err()
		}
	}
}

func (s *Sender) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-s.queue:
			s.send(ctx, d)
		}
	}
}

// send tries d until it is accepted, refused for good or out of attempts.
func (s *Sender) send(ctx context.Context, d *delivery) {
	wait := s.opts.Backoff
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			s.retried.Add(1)
		}
		code, err := s.attempt(ctx, d, attempt)
		if err == nil && code/100 == 2 {
			s.sent.Add(1)
			return
		}
		retry := err != nil || code >= 500 || code == 408 || code == 429
		why := "status " + strconv.Itoa(code)
		if err != nil {
			why = err.Error()
		}
		// jitter: wait × [0.5, 1.5)
		j := time.Duration(float64(wait) * (0.5 + mrand.Float64()))
		if !retry || attempt >= s.opts.MaxAttempts || time.Since(d.created)+j > s.opts.MaxAge || ctx.Err() != nil {
			s.failed.Add(1)
			s.log.Warn("webhook delivery failed", "url", d.t.safe, "delivery", d.id, "attempts", attempt, "error", why)
			return
		}
		s.log.Debug("webhook attempt failed, retrying", "url", d.t.safe, "delivery", d.id, "attempt", attempt, "error", why, "wait", j)
		tm := time.NewTimer(j)
		select {
		case <-ctx.Done():
			tm.Stop()
			s.failed.Add(1)
			return
		case <-tm.C:
		}
		wait = min(wait*2, s.opts.MaxBackoff)
	}
}

// attempt makes one POST and returns the status code.
func (s *Sender) attempt(ctx context.Context, d *delivery, n int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.t.url, bytes.NewReader(d.body))
	if err != nil {
		return 0, errors.New("cannot build request")
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kamsidecar-webhook")
	req.Header.Set(HeaderEvent, "state")
	req.Header.Set(HeaderDelivery, d.id)
	req.Header.Set(HeaderAttempt, strconv.Itoa(n))
	req.Header.Set(HeaderTimestamp, ts)
	if s.opts.Secret != "" {
		req.Header.Set(HeaderSignature, Sign(s.opts.Secret, ts, d.body))
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		// A *url.Error repeats the URL (query included): keep the cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Sign returns the HeaderSignature value: "sha256=" and the hex
// HMAC-SHA256 of timestamp + "." + body keyed with secret.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is Sign(secret, timestamp, body), in
// constant time; receivers written in Go may use it.
func Verify(secret, timestamp string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
