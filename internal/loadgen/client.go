package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// newTransport is the one client configuration every measured request goes
// through, bare or not: keep-alive connections, one per client in flight,
// no compression (the server does not compress either).
func newTransport(concurrency int) *http.Transport {
	return &http.Transport{
		MaxIdleConns:        2 * concurrency,
		MaxIdleConnsPerHost: 2 * concurrency,
		MaxConnsPerHost:     2 * concurrency,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

// balancer spreads the requests addressed to the first server over it and
// the other nodes, one request each in turn, as a round-robin balancer in
// front of the nodes would. Each node keeps its own keep-alive connections
// in the transport.
type balancer struct {
	base  http.RoundTripper
	first string   // host:port the requests are addressed to
	hosts []string // first and the other nodes
	next  atomic.Uint64
}

// balance is base alone for one server, a balancer over several.
func balance(base *http.Transport, first string, others []string) http.RoundTripper {
	if len(others) == 0 {
		return base
	}
	b := &balancer{base: base, first: hostOf(first)}
	b.hosts = append(b.hosts, b.first)
	for _, o := range others {
		b.hosts = append(b.hosts, hostOf(o))
	}
	return b
}

func (b *balancer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != b.first {
		return b.base.RoundTrip(r) // the bare handler
	}
	h := b.hosts[(b.next.Add(1)-1)%uint64(len(b.hosts))]
	if h == b.first {
		return b.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.URL.Host, r.Host = h, h
	return b.base.RoundTrip(r)
}

// hostOf is the host:port of a base URL.
func hostOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	h, _, _ := strings.Cut(u, "/")
	return h
}

// apiError is a non-2xx answer to a set-up call.
type apiError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// errorCode is the "error.code" of an API error answer, or "".
func (e *apiError) errorCode() string {
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	json.Unmarshal([]byte(e.Body), &b)
	return b.Error.Code
}

// api makes the unmeasured set-up calls (logins, registrations, creating
// checkpoints and venues, pre-fetching codes).
type api struct {
	base   string // http://host:port/api/v1
	client *http.Client
}

// call sends in (JSON) and decodes a 2xx answer into out (may be nil).
func (a *api) call(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		j, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if res.StatusCode/100 != 2 {
		return &apiError{Method: method, Path: path, Status: res.StatusCode, Body: string(raw)}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// request is one measured request, prepared in advance so that building it
// costs the client as little as possible and the same for every path.
type request struct {
	path   string // which path it measures (the mixed phase's breakdown)
	method string
	url    string
	token  string // bearer credential, "" for none
	body   []byte // nil for none
	want   int    // expected status
	// check, when set, validates a 2xx body (e.g. that a scanned code was
	// found valid); a failure counts as an error.
	check func(body []byte) error
	// keep, when set, receives the body of a good answer (issued codes).
	keep func(body []byte)
}

// headerJSON and the bearer prefix are shared so that preparing a request
// does not allocate them again.
var headerJSON = []string{"application/json"}

// do sends r once and reports an error for a transport failure, an
// unexpected status or a failed check. buf is reused for the body.
func do(ctx context.Context, c *http.Client, r *request, buf *bytes.Buffer) error {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return err
	}
	if r.body != nil {
		req.Header["Content-Type"] = headerJSON
	}
	if r.token != "" {
		req.Header["Authorization"] = []string{"Bearer " + r.token}
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	if res.StatusCode != r.want {
		b := buf.Bytes()
		if len(b) > 200 {
			b = b[:200]
		}
		return fmt.Errorf("%s %s: status %d, want %d: %s", r.method, pathOf(r.url), res.StatusCode, r.want, bytes.TrimSpace(b))
	}
	if r.check != nil {
		if err := r.check(buf.Bytes()); err != nil {
			return fmt.Errorf("%s %s: %w", r.method, pathOf(r.url), err)
		}
	}
	if r.keep != nil {
		r.keep(buf.Bytes())
	}
	return nil
}

// pathOf is the path of a URL, for error messages that group well.
func pathOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		if j := strings.IndexByte(u, '/'); j >= 0 {
			return u[j:]
		}
		return "/"
	}
	return u
}
