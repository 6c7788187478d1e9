package main

import (
	"context"
	"net/http/httptrace"
)

// withConnTrace records the local address of the connection a request
// used, to tell a reused connection from a new one.
func withConnTrace(ctx context.Context, local *string) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { *local = info.Conn.LocalAddr().String() },
	})
}
