package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// runRemote drives a server already running at c.url as an IdP's burst
// does: -workers keep-alive clients POST -posts users, then look them up
// by userName for -duration. Besides the human-readable lines it prints
// one "result NAME REQ_PER_S P50_MS P99_MS REQUESTS" line per load for
// scripts.
func runRemote(_ context.Context, c config) error {
	if c.token == "" {
		return fmt.Errorf("-url needs -token or $SCIMLOAD_TOKEN")
	}
	cl := &client{base: strings.TrimSuffix(c.url, "/"), token: c.token, http: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: c.workers, MaxConnsPerHost: c.workers, IdleConnTimeout: time.Minute},
		Timeout:   30 * time.Second,
	}}
	ok := true
	users := c.members
	if c.posts > 0 {
		users = c.posts
		var seq atomic.Int64
		create := load(c.workers, time.Hour, func(*rand.Rand) error {
			n := seq.Add(1) - 1
			if n >= int64(c.posts) {
				return errDone
			}
			name := userName(int(n))
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"externalId":"ext-%07d",`+
				`"name":{"givenName":"Given","familyName":"Family%d"},"emails":[{"value":%q,"type":"work","primary":true}],"active":true}`, name, n, n, name)
			return cl.expect("POST", "/Users", []byte(body), 201, "")
		})
		ok = report(fmt.Sprintf("POST /Users (%d users, %d clients)", c.posts, c.workers), create, 1000, 0, 0) && ok
		machine("post", create)
	}
	if c.runs("lookup") {
		lookup := load(c.workers, c.duration, func(rng *rand.Rand) error {
			name := userName(rng.IntN(users))
			return cl.expect("GET", "/Users?filter="+url.QueryEscape(`userName eq "`+name+`"`), nil, 200, `"totalResults":1`)
		})
		ok = report(fmt.Sprintf("GET /Users?filter=userName eq (%d clients)", c.workers), lookup, 5000, 10*time.Millisecond, 0) && ok
		machine("lookup", lookup)
	}
	if !ok && c.check {
		return fmt.Errorf("a target was missed")
	}
	return nil
}

func machine(name string, r result) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	fmt.Printf("result %s %.0f %.3f %.3f %d\n", name, float64(r.n)/r.elapsed.Seconds(), ms(r.pct(0.50)), ms(r.pct(0.99)), r.n)
}
