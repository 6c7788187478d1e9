package scim

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/orgsync/orgsync"
)

// completeGroups reads again, one by one, the listed groups that came
// without a members attribute. Servers leave members out of list responses
// for large groups (orgsync's own receiver past its per-list cap, Entra and
// Okta for big groups), and RFC 7643 leaves an empty list out too: the
// list alone cannot tell "no members" from "not sent". A group's own GET
// can: what it returns is the group. A failed read fails the snapshot (all
// or nothing); a group gone in the meantime does too, as the directory
// moved under the read.
func (s *Source) completeGroups(ctx context.Context, groups []entry[scimGroup]) error {
	for i := range groups {
		e := &groups[i]
		if e.skip != "" || e.val.hasMembers || e.id == "" {
			continue
		}
		u := s.resourceURL("Groups", e.id)
		body, err := s.get(ctx, u)
		if err != nil {
			return fmt.Errorf("the Groups list sent %q without members, and reading it alone failed: %w", e.val.DisplayName, err)
		}
		one := s.decodeGroup(body)
		switch {
		case one.skip != "" && !one.unmatched:
			e.skip = "read alone: " + one.skip
		case one.id != e.id:
			return fmt.Errorf("%s: answered with group id %q: %w", s.where(u), one.id, orgsync.ErrInvalid)
		default:
			// Its own GET is the group: no members attribute there means
			// no members.
			e.val.Members = one.val.Members
			e.val.hasMembers = true
		}
	}
	return nil
}

// resourceURL is the URL of one resource of endpoint.
func (s *Source) resourceURL(endpoint, id string) *url.URL {
	u := *s.base
	u.Path = strings.TrimRight(s.base.Path, "/") + "/" + endpoint + "/" + id
	u.RawPath = strings.TrimRight(s.base.EscapedPath(), "/") + "/" + endpoint + "/" + url.PathEscape(id)
	u.RawQuery = ""
	return &u
}
