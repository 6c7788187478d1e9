package receiver

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/orgsync/orgsync"
)

func (s *Server) groups(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org, id string) {
	s.dispatch(ctx, w, r, base, org, id, handlers{
		list: s.listGroups, create: s.createGroup, get: s.getGroup, replace: s.replaceGroup, patch: s.patchGroup,
		remove: s.st.DeleteGroup,
	})
}

func (s *Server) listGroups(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org string, v url.Values) {
	p, err := parseList(resourceGroups, v, s.opts.DefaultCount, s.opts.MaxResults)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, _, total, err := s.st.Groups(ctx, org, p.query, false)
	if errors.Is(err, orgsync.ErrInvalid) {
		err = invalidFilter("%v", err)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var members map[string][]orgsync.Member
	if p.proj.wants("members") && len(groups) > 0 {
		release, err := s.heavy.acquire(ctx, org)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer release()
		ids := make([]string, len(groups))
		for i, g := range groups {
			ids[i] = g.ID
		}
		if members, err = s.st.GroupsMembers(ctx, org, ids, s.opts.MaxListMembers); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	// Streamed one group at a time: the members read are bounded by the
	// cap, but their JSON would be several times as large.
	ls := startList(w, total, len(groups), p.query.StartIndex)
	for _, g := range groups {
		ms, with := members[g.ID]
		if err := ls.add(p.proj.apply(groupDoc(base, g, ms, with))); err != nil {
			return // the client went away
		}
	}
	_ = ls.end()
}

// groupDoc is groupJSON from a group's member list.
func groupDoc(base string, g orgsync.Group, members []orgsync.Member, withMembers bool) map[string]any {
	if !withMembers {
		return groupJSON(base, g, nil, false)
	}
	briefs := make(map[string]orgsync.Member, len(members))
	g.Members = make([]string, len(members))
	for i, m := range members {
		g.Members[i] = m.ID
		briefs[m.ID] = m
	}
	return groupJSON(base, g, briefs, true)
}

// sendGroup answers with g, as a read or a write returned it, with its
// members when the projection wants them (Entra asks for
// excludedAttributes=members on every read). A group of more than
// MaxGroupMembers is answered without its members.
func (s *Server) sendGroup(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org string, g orgsync.Group, status int) {
	q := r.URL.Query()
	proj, err := parseProjection(resourceGroups, q.Get("attributes"), q.Get("excludedAttributes"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := g.ID
	var members []orgsync.Member
	fits := false
	if proj.wants("members") {
		// A read takes one of the org's slots. The answer to a write does
		// not: the write has happened, and a 503 now would have the IdP
		// repeat it (a repeated POST is a 409). Writes are serialised, so
		// their answers are few at a time anyway.
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			release, err := s.heavy.acquire(ctx, org)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			defer release()
		}
		got, err := s.st.GroupsMembers(ctx, org, []string{id}, s.opts.MaxGroupMembers)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if members, fits = got[id]; !fits {
			s.log.Warn().Str("org", org).Str("group", id).Int("max_group_members", s.opts.MaxGroupMembers).
				Msg("scim: group has more members than one response carries; answered without members")
		}
	}
	w.Header().Set("ETag", etag(g.Version))
	loc := base + "/Groups/" + g.ID
	if status == http.StatusCreated {
		w.Header().Set("Location", loc)
	} else {
		w.Header().Set("Content-Location", loc)
	}
	s.write(w, status, proj.apply(groupDoc(base, g, members, fits)))
}

func (s *Server) getGroup(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org, id string) {
	if _, err := parseProjection(resourceGroups, r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes")); err != nil {
		s.fail(w, r, err)
		return
	}
	g, _, err := s.st.Group(ctx, org, id, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if notModified(r, g.Version) {
		w.Header().Set("ETag", etag(g.Version))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.sendGroup(ctx, w, r, base, org, g, http.StatusOK)
}

func (s *Server) createGroup(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org string) {
	in, ok := readAs(s, w, r, parseGroup)
	if !ok {
		return
	}
	g, err := s.st.CreateGroup(ctx, org, orgsync.Group{DisplayName: in.displayName, ExternalID: in.externalID, Members: in.members})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendGroup(ctx, w, r, base, org, g, http.StatusCreated)
}

// replaceGroup is PUT: displayName and externalId take the body's values;
// the members are replaced only when the body has "members" (a PUT without
// it never wipes them).
func (s *Server) replaceGroup(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org, id string) {
	in, ok := readAs(s, w, r, parseGroup)
	if !ok {
		return
	}
	p := orgsync.GroupPatch{DisplayName: &in.displayName, ExternalID: &in.externalID}
	if in.hasMembers {
		p.Membership = []orgsync.MembershipOp{{Action: orgsync.MembershipReplace, MemberIDs: in.members}}
	}
	g, err := s.st.UpdateGroup(ctx, org, id, ifVersion(r), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendGroup(ctx, w, r, base, org, g, http.StatusOK)
}

// patchGroup answers 204 (what Entra expects), or 200 with the group when
// the request names attributes or excludedAttributes.
func (s *Server) patchGroup(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org, id string) {
	ops, ok := readAs(s, w, r, parsePatch)
	if !ok {
		return
	}
	p, err := groupPatch(ops)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g, err := s.st.UpdateGroup(ctx, org, id, ifVersion(r), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	if q.Get("attributes") == "" && q.Get("excludedAttributes") == "" {
		w.Header().Set("ETag", etag(g.Version))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.sendGroup(ctx, w, r, base, org, g, http.StatusOK)
}
