package ldap

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/orgsync/orgsync/sources/ldap/internal/wire"
)

// maxSkew is how far ahead of this host's clock a server's change
// position may be before it is distrusted: a cursor from the future
// would skip the changes made once the clocks agree again.
const maxSkew = 5 * time.Minute

// position is the server's change position at the start of a read.
type position struct {
	pos    string // contextCSN (openldap) or highestCommittedUSN (ad)
	server string // the server it belongs to
	// attr is the entry attribute that orders changes: entryCSN or
	// uSNChanged, compared with pos in the incremental filters.
	attr string
	// problem says why pos cannot be used ("" when it can).
	problem string
}

// readPosition reads the server's change position. A failed search is an
// error; a position the server does not show is a problem, not an error:
// the read is then full.
func (r *reader) readPosition(ctx context.Context, url string) (position, error) {
	if r.cfg.Flavor == FlavorAD {
		return r.adPosition(ctx, url)
	}
	p := position{attr: "entryCSN"}
	root, err := r.base(ctx, "", []string{"namingContexts"})
	if err != nil {
		return p, err
	}
	base := normDN(r.cfg.User.BaseDN)
	nc := ""
	for _, v := range root["namingcontexts"] {
		if n := normDN(v); (base == n || strings.HasSuffix(base, ","+n)) && len(v) > len(nc) {
			nc = v
		}
	}
	if nc == "" {
		p.problem = fmt.Sprintf("no naming context of the server holds ldap.user.base_dn %q", r.cfg.User.BaseDN)
		return p, nil
	}
	p.server = url + " " + normDN(nc)
	e, err := r.base(ctx, nc, []string{"contextCSN"})
	if err != nil {
		return p, err
	}
	for _, v := range e["contextcsn"] {
		if v > p.pos {
			p.pos = v
		}
	}
	if p.pos == "" {
		p.problem = fmt.Sprintf("the server shows no contextCSN on %q (it needs the syncprov overlay, and the bind user read access to contextCSN and entryCSN)", nc)
	}
	return p, nil
}

// adPosition reads highestCommittedUSN, dnsHostName and the DC's
// invocation id: a USN is only meaningful on the DC that issued it.
func (r *reader) adPosition(ctx context.Context, url string) (position, error) {
	p := position{attr: "uSNChanged"}
	root, err := r.base(ctx, "", []string{"highestCommittedUSN", "dnsHostName", "dsServiceName"})
	if err != nil {
		return p, err
	}
	p.pos = first(root["highestcommittedusn"])
	host, svc := first(root["dnshostname"]), first(root["dsservicename"])
	inv := ""
	if svc != "" {
		e, err := r.base(ctx, svc, []string{"invocationId"})
		if err != nil {
			return p, err
		}
		inv = hex.EncodeToString([]byte(first(e["invocationid"])))
	}
	p.server = host + " " + inv
	switch {
	case p.pos == "":
		p.problem = "the server shows no highestCommittedUSN in its root DSE"
	case host == "" || inv == "":
		p.problem = "the DC's dnsHostName or invocationId cannot be read: a USN is only meaningful on the DC that issued it"
	}
	if _, err := strconv.ParseUint(p.pos, 10, 64); p.problem == "" && err != nil {
		p.problem = fmt.Sprintf("highestCommittedUSN %q is not a number", p.pos)
	}
	return p, nil
}

// before reports whether position a is older than b (both of the same
// server and attribute).
func (p position) before(a, b string) bool {
	if p.attr == "uSNChanged" {
		x, err1 := strconv.ParseUint(a, 10, 64)
		y, err2 := strconv.ParseUint(b, 10, 64)
		return err1 != nil || err2 != nil || x < y
	}
	return a < b
}

// csnTime is the time at the start of a CSN (20261202162348.363900Z#…).
func csnTime(csn string) (time.Time, bool) {
	ts, _, _ := strings.Cut(csn, "#")
	t, err := time.Parse("20060102150405.999999Z", ts)
	return t, err == nil
}

// honour says why prev cannot be continued from at p ("" when it can),
// and whether that is a fault worth a warning (rather than a change of
// config or server, which are ordinary).
func (p position) honour(prev position, config, prevConfig string, now time.Time) (string, bool) {
	switch {
	case prevConfig != config:
		return "the source's config changed since the cursor was saved", false
	case p.problem != "":
		return p.problem, true
	case prev.server != p.server:
		return fmt.Sprintf("the cursor belongs to another server (%s), this read is from %s", prev.server, p.server), false
	case p.before(p.pos, prev.pos):
		return fmt.Sprintf("the server's %s %s is older than the stored cursor %s (a restored backup, or another server?)",
			p.name(), p.pos, prev.pos), true
	}
	if t, ok := csnTime(p.pos); ok && p.attr == "entryCSN" && t.After(now.Add(maxSkew)) {
		return fmt.Sprintf("the server's contextCSN %s is %s ahead of this host's clock (clock skew): its change times cannot be trusted",
			p.pos, t.Sub(now).Round(time.Second)), true
	}
	return "", false
}

func (p position) name() string {
	if p.attr == "uSNChanged" {
		return "highestCommittedUSN"
	}
	return "contextCSN"
}

// base reads attrs of the entry dn (the root DSE for ""), lower-cased
// names to values.
func (r *reader) base(ctx context.Context, dn string, attrs []string) (map[string][]string, error) {
	out := map[string][]string{}
	req := wire.SearchRequest{Base: dn, Scope: goldap.ScopeBaseObject, Filter: "(objectClass=*)", Attrs: attrs,
		TimeLimit: int(r.cfg.SearchTimeout.TimeDuration().Seconds())}
	pctx, cancel := context.WithTimeout(ctx, r.cfg.SearchTimeout.TimeDuration())
	defer cancel()
	_, err := r.c.Search(pctx, req, func(e *wire.Entry) error {
		for _, a := range e.Attrs {
			for _, v := range a.Values {
				k := strings.ToLower(string(a.Name))
				out[k] = append(out[k], string(v))
			}
		}
		return nil
	})
	if err != nil {
		if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) || goldap.IsErrorWithCode(err, goldap.LDAPResultInsufficientAccessRights) {
			return out, nil
		}
		return nil, &ldapError{op: fmt.Sprintf("read %s of %q", strings.Join(attrs, ", "), dn), err: err}
	}
	return out, nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}
