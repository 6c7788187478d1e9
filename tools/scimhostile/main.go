// Command scimhostile sends malformed and adversarial SCIM requests (the
// generator of internal/hardening) to a running orgsync and reports every
// answer that breaks a rule: a 5xx, a hostile write accepted, a wanted
// status missed, another org's data shown. It creates its own test user
// and group with the first token and one of each with the second (the
// "other org"); compare a dump of the database before and after yourself,
// or use the go test variant (TestHostileSCIMTraffic), which does.
//
//	scimhostile -url http://127.0.0.1:8080/scim/v2 -token osk_A -other-token osk_B -n 20000
//
// Use a staging instance: the failed-auth requests count towards the
// limit of the address you run it from.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/orgsync/orgsync/internal/hardening"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080/scim/v2", "SCIM base URL")
	token := flag.String("token", "", "SCIM token of the org attacked")
	other := flag.String("other-token", "", "SCIM token of another org (its data must never show)")
	n := flag.Int("n", 5000, "requests")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "generator seed")
	workers := flag.Int("workers", 8, "parallel clients")
	flag.Parse()
	if *token == "" || *other == "" {
		fmt.Fprintln(os.Stderr, "scimhostile: -token and -other-token are required")
		os.Exit(2)
	}
	c := &http.Client{Timeout: 30 * time.Second}
	suffix := fmt.Sprint(time.Now().UnixNano())
	uid := create(c, *base+"/Users", *token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"kelvin-`+suffix+`@example.org"}`)
	gid := create(c, *base+"/Groups", *token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"hostile-`+suffix+`","members":[{"value":"`+uid+`"}]}`)
	ouid := create(c, *base+"/Users", *other, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"othersecret-`+suffix+`@example.org"}`)
	ogid := create(c, *base+"/Groups", *other, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"othergroup-`+suffix+`"}`)
	t := hardening.Target{Base: *base, Token: *token, UserID: uid, GroupID: gid, UserName: "kelvin-" + suffix + "@example.org",
		OtherUserID: ouid, OtherGroupID: ogid, Forbidden: []string{ouid, ogid, "othersecret-" + suffix, "othergroup-" + suffix, *other}}
	start := time.Now()
	res := hardening.Run(context.Background(), c, t, hardening.Generate(*seed, *n, t), *workers)
	fmt.Printf("seed %d: %s in %v\nby kind: %v\n", *seed, res, time.Since(start).Round(time.Millisecond), res.ByKind)
	for _, f := range res.Failures {
		fmt.Println("FAIL", f)
	}
	if len(res.Failures) > 0 {
		os.Exit(1)
	}
}

func create(c *http.Client, url, token, body string) string {
	req, _ := http.NewRequest("POST", url, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := c.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scimhostile:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	var out struct{ ID string }
	if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&out) != nil {
		fmt.Fprintf(os.Stderr, "scimhostile: POST %s: %d\n", url, resp.StatusCode)
		os.Exit(1)
	}
	return out.ID
}
