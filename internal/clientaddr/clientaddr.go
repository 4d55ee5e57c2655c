// Package clientaddr says which address a request came from, for the
// limits that count per client (one-time codes, operator logins): the
// connection's peer or, behind reverse proxies the deployment trusts, the
// address the nearest of them saw. An IPv6 client is its /64, the block one
// subscriber gets, so that walking its addresses does not escape a limit.
package clientaddr

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies whose X-Forwarded-For is believed.
type Proxies []netip.Prefix

// String implements flag.Value.
func (p *Proxies) String() string {
	if p == nil {
		return ""
	}
	s := make([]string, len(*p))
	for i, x := range *p {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

// Set implements flag.Value: addresses or CIDR blocks, comma-separated.
func (p *Proxies) Set(v string) error {
	*p = nil
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return fmt.Errorf("trusted proxy %q: %w", f, err)
			}
			f = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()).String()
		}
		pf, err := netip.ParsePrefix(f)
		if err != nil {
			return fmt.Errorf("trusted proxy %q: %w", f, err)
		}
		*p = append(*p, pf.Masked())
	}
	return nil
}

func (p Proxies) trusted(a netip.Addr) bool {
	for _, pf := range p {
		if pf.Contains(a) {
			return true
		}
	}
	return false
}

// Resolve returns the client address of r: the peer, unless the peer is a
// trusted proxy; then the right-most address of X-Forwarded-For that is not
// one of them (the left-most entries are whatever the client wrote).
func (p Proxies) Resolve(r *http.Request) string {
	peer, ok := parse(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if p.trusted(peer) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, ok := parse(strings.TrimSpace(hops[i]))
			if !ok {
				break
			}
			peer = a
			if !p.trusted(a) {
				break
			}
		}
	}
	return key(peer)
}

func parse(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func key(a netip.Addr) string {
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.String()
}

type ctxKey struct{}

// Middleware resolves each request's client address once, for Of.
func (p Proxies) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p.Resolve(r))))
	})
}

// Of is the client address of r: as the middleware resolved it, or the
// peer's when no middleware ran (a handler tested alone).
func Of(r *http.Request) string {
	if a, ok := r.Context().Value(ctxKey{}).(string); ok {
		return a
	}
	return Proxies(nil).Resolve(r)
}
