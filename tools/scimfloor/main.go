// Command scimfloor is the floor of the SCIM lookup benchmark: a plain
// net/http server answering every request with one fixed body (the bytes
// of a real answer of orgsync serve), so that scripts/bench-scim.sh can
// put the receiver's figures beside what HTTP alone costs on the same
// machine, under the same load, from the same client.
//
//	scimfloor -listen 127.0.0.1:PORT -body answer.json
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8081", "address to listen on")
	bodyFile := flag.String("body", "", "file holding the body of every answer (default: a one-user SCIM ListResponse)")
	flag.Parse()
	body := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"Resources":[]}`)
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "scimfloor:", err)
			os.Exit(1)
		}
		body = b
	}
	length := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		w.Header().Set("Content-Length", length)
		_, _ = w.Write(body)
	})
	srv := &http.Server{Addr: *listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "scimfloor:", err)
		os.Exit(1)
	}
}
