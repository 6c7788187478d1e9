package receiver

import (
	"context"
	"net/http"
	"time"
)

// Request is what one SCIM request was, for the audit log and for metrics:
// never the token, the body or the query (a filter names people).
type Request struct {
	Method string
	// Path is the request path as sent (ids included).
	Path string
	// Endpoint is the resource type asked for: Users, Groups,
	// ServiceProviderConfig, ResourceTypes, Schemas, Bulk, Me, or "other".
	Endpoint string
	Status   int
	Duration time.Duration
	Bytes    int64
	Remote   string
	// Org and TokenID are set once the bearer token was accepted.
	Org, TokenID string
	// Detail is the SCIM error detail of a 4xx answer.
	Detail string
	// quiet: not logged (a client refused by the failed-auth limit is
	// counted, not logged, so that guessing cannot flood the log).
	quiet bool
}

type requestKey struct{}

// audit is the Request being served, filled in as the request goes.
func audit(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	if r == nil {
		return &Request{} // a request served outside serve: nothing to record
	}
	return r
}

// recorder keeps the status and size of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush keeps streamed list answers streaming.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

var endpoints = map[string]bool{
	resourceUsers: true, resourceGroups: true, "ServiceProviderConfig": true, "ResourceTypes": true,
	"Schemas": true, "Bulk": true, "Me": true,
}

// record logs the request's audit line and tells Options.OnRequest.
func (s *Server) record(req *Request) {
	if !endpoints[req.Endpoint] {
		req.Endpoint = "other"
	}
	if !req.quiet {
		s.logRequest(req)
	}
	if s.opts.OnRequest != nil {
		s.opts.OnRequest(*req)
	}
}

func (s *Server) logRequest(req *Request) {
	ev := s.log.Info()
	switch {
	case req.Status >= 500:
		ev = s.log.Error()
	case req.Status >= 400:
		ev = s.log.Warn()
	}
	ev = ev.Str("method", req.Method).Str("path", req.Path).Int("status", req.Status).
		Float64("latency_ms", float64(req.Duration.Microseconds())/1000).Int64("bytes", req.Bytes).Str("remote", req.Remote)
	if req.Org != "" {
		ev = ev.Str("org", req.Org).Str("token_id", req.TokenID)
	}
	if req.Detail != "" {
		ev = ev.Str("detail", req.Detail)
	}
	ev.Msg("scim request")
}
