package receiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/orgsync/orgsync"
)

func (s *Server) users(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org, id string) {
	s.dispatch(ctx, w, r, base, org, id, handlers{
		list: s.listUsers, create: s.createUser, get: s.getUser, replace: s.replaceUser, patch: s.patchUser,
		remove: s.st.DeleteMember,
	})
}

// handlers are one resource type's operations.
type handlers struct {
	list                func(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org string, v url.Values)
	create              func(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org string)
	get, replace, patch func(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org, id string)
	remove              func(ctx context.Context, org, id string, ifVersion int64) error
}

// dispatch routes a request on a resource type's endpoint (the collection,
// .search, or one resource by id) to its handler, or answers 405.
func (s *Server) dispatch(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org, id string, h handlers) {
	switch {
	case id == "":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.list(ctx, w, r, base, org, r.URL.Query())
		case http.MethodPost:
			h.create(ctx, w, r, base, org)
		default:
			s.notAllowed(w, r, "GET, POST")
		}
	case id == ".search":
		if r.Method != http.MethodPost {
			s.notAllowed(w, r, "POST")
			return
		}
		v, err := searchParams(r, s.opts.MaxBodyBytes)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h.list(ctx, w, r, base, org, v)
	default:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.get(ctx, w, r, base, org, id)
		case http.MethodPut:
			h.replace(ctx, w, r, base, org, id)
		case http.MethodPatch:
			h.patch(ctx, w, r, base, org, id)
		case http.MethodDelete:
			if err := h.remove(ctx, org, id, ifVersion(r)); err != nil {
				s.fail(w, r, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			s.notAllowed(w, r, "GET, PUT, PATCH, DELETE")
		}
	}
}

// searchParams reads a POST .search body into list query parameters.
func searchParams(r *http.Request, limit int64) (url.Values, error) {
	doc, err := readBody(r, limit)
	if err != nil {
		return nil, err
	}
	f := fieldsOf(doc)
	if present, ok := hasSchema(f, schemaSearch); present && !ok {
		return nil, badRequest(typeInvalidSyntax, "schemas must be [%q]", schemaSearch)
	}
	v := url.Values{}
	for _, name := range []string{"filter", "startIndex", "count", "attributes", "excludedAttributes"} {
		switch x := f.get(name).(type) {
		case nil:
		case string:
			v.Set(name, x)
		case []any:
			var parts []string
			for _, p := range x {
				if s, ok := p.(string); ok {
					parts = append(parts, s)
				}
			}
			v.Set(name, strings.Join(parts, ","))
		default:
			v.Set(name, fmt.Sprint(x))
		}
	}
	return v, nil
}

func (s *Server) listUsers(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org string, v url.Values) {
	p, err := parseList(resourceUsers, v, s.opts.DefaultCount, s.opts.MaxResults)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	members, total, err := s.st.Members(ctx, org, p.query)
	if errors.Is(err, orgsync.ErrInvalid) {
		err = invalidFilter("%v", err)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res := make([]any, 0, len(members))
	for _, m := range members {
		res = append(res, p.proj.apply(userJSON(base, m)))
	}
	s.write(w, http.StatusOK, listResponse(res, total, p.query.StartIndex))
}

// sendUser answers with one user, its ETag and (for a create) Location.
func (s *Server) sendUser(w http.ResponseWriter, r *http.Request, base string, status int, m orgsync.Member) {
	proj, err := parseProjection(resourceUsers, r.URL.Query().Get("attributes"), r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(m.Version))
	loc := base + "/Users/" + m.ID
	if status == http.StatusCreated {
		w.Header().Set("Location", loc)
	} else {
		w.Header().Set("Content-Location", loc)
	}
	s.write(w, status, proj.apply(userJSON(base, m)))
}

func (s *Server) getUser(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org, id string) {
	m, err := s.st.Member(ctx, org, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if notModified(r, m.Version) {
		w.Header().Set("ETag", etag(m.Version))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.sendUser(w, r, base, http.StatusOK, m)
}

func (s *Server) createUser(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org string) {
	in, ok := readAs(s, w, r, parseUser)
	if !ok {
		return
	}
	m := in.m
	if in.active != nil && !*in.active {
		m.Status = orgsync.StatusDeprovisioned
	}
	created, err := s.st.CreateMember(ctx, org, m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendUser(w, r, base, http.StatusCreated, created)
}

// replaceUser is PUT: every attribute orgsync keeps takes the body's value
// (omitted ones are cleared), except active, which changes only when sent.
func (s *Server) replaceUser(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org, id string) {
	in, ok := readAs(s, w, r, parseUser)
	if !ok {
		return
	}
	m, err := s.st.UpdateMember(ctx, org, id, ifVersion(r), func(m *orgsync.Member) error {
		m.UserName, m.ExternalID, m.DisplayName = in.m.UserName, in.m.ExternalID, in.m.DisplayName
		m.GivenName, m.FamilyName, m.Emails = in.m.GivenName, in.m.FamilyName, in.m.Emails
		m.Attributes = in.m.Attributes
		if in.active != nil {
			m.Status = activity(*in.active)
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendUser(w, r, base, http.StatusOK, m)
}

// activity is the status that asks the store to (re)activate or
// deprovision; the store picks the real status.
func activity(active bool) orgsync.Status {
	if active {
		return orgsync.StatusActive
	}
	return orgsync.StatusDeprovisioned
}

func (s *Server) patchUser(ctx context.Context, w http.ResponseWriter, r *http.Request, base, org, id string) {
	ops, ok := readAs(s, w, r, parsePatch)
	if !ok {
		return
	}
	m, err := s.st.UpdateMember(ctx, org, id, ifVersion(r), func(m *orgsync.Member) error {
		return applyUserPatch(m, ops)
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendUser(w, r, base, http.StatusOK, m)
}
