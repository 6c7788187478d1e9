package main

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr returns how the failed-auth limiter names a request's client.
// Without trusted proxies it is the peer address. Behind a reverse proxy
// every request would come from the proxy, so one IdP failing to
// authenticate would lock out all the others: for a peer that is a trusted
// proxy, the client is the right-most X-Forwarded-For address that is not
// itself a trusted proxy (the left-most entries are the client's to forge),
// or the left-most when every hop is trusted. Hops may carry a port
// ("192.0.2.1:4711", "[2001:db8::1]:443").
//
// A hop that is no address at all names no client: such requests share
// the one name malformedForwarded. They must never count as the proxy's own
// address, or a few forged headers would lock out every client behind it.
func clientAddr(trusted []netip.Prefix) func(*http.Request) string {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		peer, err := netip.ParseAddr(host)
		if err != nil || !isTrusted(peer.Unmap().WithZone("")) {
			return host
		}
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		client := ""
		for i := len(hops) - 1; i >= 0; i-- {
			hop := strings.TrimSpace(hops[i])
			if hop == "" {
				continue // "a,,b" or a trailing comma
			}
			a, ok := parseHop(hop)
			if !ok {
				return malformedForwarded
			}
			client = a.String()
			if !isTrusted(a) {
				return client
			}
		}
		if client == "" {
			return host // no header: the proxy itself
		}
		return client // every hop is trusted: the left-most is the client
	}
}

// malformedForwarded names the clients of requests whose X-Forwarded-For
// has a hop that is not an address.
const malformedForwarded = "malformed-x-forwarded-for"

// parseHop reads one X-Forwarded-For hop: an address, optionally with a
// port, brackets or quotes; zones and IPv4-in-IPv6 mapping are dropped.
func parseHop(hop string) (netip.Addr, bool) {
	hop = strings.Trim(hop, `"`)
	if ap, err := netip.ParseAddrPort(hop); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(hop, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}
