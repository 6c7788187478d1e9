// Package authlimit slows down guessing of bearer tokens: it counts failed
// authentications per client address in fixed windows, and an address that
// reaches the limit within a window is refused (429) until the window ends,
// without its token being looked at. The SCIM receiver and the admin API
// each keep one.
package authlimit
