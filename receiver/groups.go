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
		remove: s.st.SCIMDeleteGroup,
	})
}

func (s *Server) listGroups(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org string, v url.Values) {
	p, err := parseList(resourceGroups, v, s.opts.DefaultCount, s.opts.MaxResults)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	withMembers := p.proj.wants("members")
	groups, briefs, total, err := s.st.SCIMGroups(ctx, org, p.query, withMembers)
	if errors.Is(err, orgsync.ErrInvalid) {
		err = invalidFilter("%v", err)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res := make([]any, 0, len(groups))
	for _, g := range groups {
		res = append(res, p.proj.apply(groupJSON(base, g, briefs, withMembers)))
	}
	s.write(w, http.StatusOK, listResponse(res, total, p.query.StartIndex))
}

// sendGroup reads the group back (members only when the projection wants
// them: Entra asks for excludedAttributes=members on every read) and
// answers with it.
func (s *Server) sendGroup(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org, id string, status int) {
	q := r.URL.Query()
	proj, err := parseProjection(resourceGroups, q.Get("attributes"), q.Get("excludedAttributes"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	withMembers := proj.wants("members")
	g, briefs, err := s.st.SCIMGroup(ctx, org, id, withMembers)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if status == http.StatusOK && r.Method == http.MethodGet && notModified(r, g.Version) {
		w.Header().Set("ETag", etag(g.Version))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag(g.Version))
	loc := base + "/Groups/" + g.ID
	if status == http.StatusCreated {
		w.Header().Set("Location", loc)
	} else {
		w.Header().Set("Content-Location", loc)
	}
	s.write(w, status, proj.apply(groupJSON(base, g, briefs, withMembers)))
}

func (s *Server) getGroup(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org, id string) {
	s.sendGroup(ctx, w, r, base, org, id, http.StatusOK)
}

func (s *Server) createGroup(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org string) {
	in, ok := readAs(s, w, r, parseGroup)
	if !ok {
		return
	}
	g, err := s.st.SCIMCreateGroup(ctx, org, orgsync.Group{DisplayName: in.displayName, ExternalID: in.externalID, Members: in.members})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendGroup(ctx, w, r, base, org, g.ID, http.StatusCreated)
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
	if _, err := s.st.SCIMUpdateGroup(ctx, org, id, ifVersion(r), p); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendGroup(ctx, w, r, base, org, id, http.StatusOK)
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
	g, err := s.st.SCIMUpdateGroup(ctx, org, id, ifVersion(r), p)
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
	s.sendGroup(ctx, w, r, base, org, id, http.StatusOK)
}
