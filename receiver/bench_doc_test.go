package receiver_test

import (
	"fmt"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/orgsync/orgsync/receiver"
)

// richUser is a POST body with the enterprise extension and two phone
// numbers, the figures' reference user.
func richUser(i int) []byte {
	return []byte(fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],`+
		`"userName":"rich%06d@example.org","externalId":"ext-%06d","name":{"givenName":"Rich","familyName":"User"},`+
		`"emails":[{"value":"rich%06d@example.org","type":"work","primary":true}],"active":true,`+
		`"phoneNumbers":[{"type":"work","value":"+1 555 0100","primary":true},{"type":"mobile","value":"+1 555 0101"}],`+
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"%d","department":"Sales","manager":{"value":"m-1"}}}`, i, i, i, i))
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRichLookup: GET /Users?filter=userName eq of users carrying the
// enterprise extension and two phone numbers, over HTTP on SQLite; the
// CPU time per request (client and server in this process) is steadier
// than wall time on a shared machine.
func BenchmarkRichLookup(b *testing.B) {
	cfg, _ := backends[0].cfg(b)
	e := newEnv(b, cfg, receiver.Options{})
	const n = 2000
	for i := 0; i < n; i++ {
		if r := e.do("POST", "/Users", nil, richUser(i)); r.status != 201 {
			b.Fatalf("POST: %d %s", r.status, r.raw)
		}
	}
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		f := url.QueryEscape(fmt.Sprintf(`userName eq "rich%06d@example.org"`, i%n))
		if r := e.do("GET", "/Users?filter="+f, nil, nil); r.status != 200 || r.body["totalResults"] != float64(1) {
			b.Fatalf("lookup: %d %s", r.status, r.raw)
		}
	}
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkRichCreate: POST /Users of such users.
func BenchmarkRichCreate(b *testing.B) {
	cfg, _ := backends[0].cfg(b)
	e := newEnv(b, cfg, receiver.Options{})
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if r := e.do("POST", "/Users", nil, richUser(i)); r.status != 201 {
			b.Fatalf("POST: %d %s", r.status, r.raw)
		}
	}
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}
