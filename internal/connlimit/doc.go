// Package connlimit bounds the connections an HTTP server holds, in total
// and per client, without ever blocking its accept loop.
//
// A Listener wraps the server's listener; its ConnState method must be the
// server's ConnState hook, so that it knows which connections are idle (a
// keep-alive connection between requests, or one that has not sent its
// first request yet). A new connection that would exceed its client's share
// closes that client's oldest idle connection, or is closed itself when the
// client has none idle; one that would exceed the total closes the oldest
// idle connection of anyone, or is closed itself when every connection is
// busy. So thousands of idle connections from one client cannot use up the
// process's file descriptors, and the server keeps accepting others: unlike
// netutil.LimitListener, which stops calling Accept at the limit and so
// leaves every new client waiting in the kernel's backlog.
//
// Clients are named by address (IPv6 by /64, as internal/authlimit does);
// addresses Exempt reports (trusted reverse proxies, through which many
// clients come) are bound by the total alone.
package connlimit
