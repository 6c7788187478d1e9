// Package authlimit slows down guessing of bearer tokens: it counts failed
// authentications per client in fixed windows, and a client that reaches
// the limit within a window is refused (429) until the window ends,
// without its token being looked at. The SCIM receiver and the admin API
// each keep one.
//
// A client is an address; an IPv6 address counts for its /64 (Key). At
// most 100,000 clients are tracked: past that the oldest windows of
// clients not refused are forgotten first, and a refused client only when
// every tracked client is refused. Fail returns the client's count in the
// window, so that callers can log its first failure rather than each one.
package authlimit
