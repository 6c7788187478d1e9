package kmsfake

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

func (s *Server) scim(w http.ResponseWriter, r *http.Request, rest string) {
	if r.Header.Get("Authorization") != "Bearer "+s.opts.Token || s.opts.Token == "" {
		writeJSON(w, http.StatusForbidden, map[string]any{"statusCode": 403, "error": "TokenError", "message": "invalid token"})
		return
	}
	if s.opts.SCIMDisabled {
		writeErr(w, http.StatusForbidden, "SCIM is disabled for the organization")
		return
	}
	if s.opts.NoSSO {
		writeErr(w, http.StatusBadRequest, "Neither SAML or OIDC SSO is configured")
		return
	}
	kind, id, _ := strings.Cut(rest, "/")
	switch {
	case kind == "Users" && id == "" && r.Method == "GET":
		s.listUsers(w, r)
	case kind == "Users" && id == "" && r.Method == "POST":
		s.createUser(w, r)
	case kind == "Users" && id != "":
		s.user(w, r, id)
	case kind == "Groups" && id == "" && r.Method == "GET":
		s.listGroups(w, r)
	case kind == "Groups" && id == "" && r.Method == "POST":
		s.createGroup(w, r)
	case kind == "Groups" && id != "":
		s.group(w, r, id)
	case kind == "ServiceProviderConfig":
		writeJSON(w, http.StatusOK, map[string]any{"patch": map[string]bool{"supported": true}, "filter": map[string]any{"supported": true, "maxResults": 100}})
	default:
		writeErr(w, http.StatusNotFound, "no such endpoint")
	}
}

var eqFilter = regexp.MustCompile(`^(userName|displayName) eq "([^"]*)"$`)

// page cuts ids by startIndex and count (count capped at 100, the KMS's).
func page(r *http.Request, n int) (start, end int) {
	q := r.URL.Query()
	start, _ = strconv.Atoi(q.Get("startIndex"))
	count, err := strconv.Atoi(q.Get("count"))
	if err != nil {
		count = 20
	}
	start = max(start, 1)
	count = min(max(count, 0), 100)
	return min(start-1, n), min(start-1+count, n)
}

// list is a ListResponse as the KMS sends it: totalResults is the length
// of the page, not of the list.
func list(start int, _ int, res []any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": len(res), "startIndex": start + 1, "itemsPerPage": len(res), "Resources": res}
}

func userDoc(m *Membership) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "id": m.ID, "userName": m.UserName,
		"name":   map[string]string{"givenName": m.GivenName, "familyName": m.FamilyName},
		"emails": []map[string]any{{"primary": true, "value": m.Email, "type": "work"}}, "displayName": strings.TrimSpace(m.GivenName + " " + m.FamilyName),
		"active": m.Active}
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.order
	if f := r.URL.Query().Get("filter"); f != "" {
		m := eqFilter.FindStringSubmatch(f)
		if m == nil || m[1] != "userName" {
			writeErr(w, http.StatusBadRequest, "unsupported filter")
			return
		}
		ids = nil
		for _, id := range s.order {
			if strings.EqualFold(s.users[id].UserName, m[2]) {
				ids = append(ids, id)
			}
		}
	}
	start, end := page(r, len(ids))
	res := []any{}
	for _, id := range ids[start:end] {
		res = append(res, userDoc(s.users[id]))
	}
	writeJSON(w, http.StatusOK, list(start, len(ids), res))
}

type userIn struct {
	UserName string `json:"userName"`
	Name     struct {
		GivenName  string `json:"givenName"`
		FamilyName string `json:"familyName"`
	} `json:"name"`
	Emails []struct {
		Value   string `json:"value"`
		Primary bool   `json:"primary"`
	} `json:"emails"`
	Active *bool `json:"active"`
}

func (in *userIn) email() string {
	for _, e := range in.Emails {
		if e.Primary || len(in.Emails) == 1 {
			return e.Value
		}
	}
	return ""
}

func (in *userIn) apply(m *Membership) {
	m.UserName, m.GivenName, m.FamilyName = in.UserName, in.Name.GivenName, in.Name.FamilyName
	for i, e := range in.Emails {
		if i == 0 || e.Primary {
			m.Email = e.Value
		}
	}
	if in.Active != nil {
		m.Active = *in.Active
	}
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var in userIn
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.UserName == "" {
		writeErr(w, http.StatusBadRequest, "userName is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.email() == "" {
		writeErr(w, http.StatusBadRequest, "Invalid request. Missing email.")
		return
	}
	// The KMS keeps userName as the user's external id: a create of one it
	// has answers with the existing membership, unchanged, and invites
	// again.
	for _, id := range s.order {
		if m := s.users[id]; strings.EqualFold(m.UserName, in.UserName) {
			s.conflict++
			s.invites++
			writeJSON(w, http.StatusCreated, userDoc(m))
			return
		}
	}
	m := Membership{Active: true, Status: "invited"}
	in.apply(&m)
	id := s.create(m)
	s.invites++
	writeJSON(w, http.StatusCreated, userDoc(s.users[id]))
}

type patchIn struct {
	Operations []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	} `json:"Operations"`
}

func (s *Server) user(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.users[id]
	if m == nil {
		writeErr(w, http.StatusNotFound, "User not found")
		return
	}
	switch r.Method {
	case "GET":
		writeJSON(w, http.StatusOK, userDoc(m))
	case "PUT":
		var in userIn
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Active == nil || in.UserName == "" {
			writeErr(w, http.StatusBadRequest, "userName and active are required")
			return
		}
		in.apply(m)
		writeJSON(w, http.StatusOK, userDoc(m))
	case "PATCH":
		var in patchIn
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeErr(w, http.StatusBadRequest, "bad patch")
			return
		}
		for _, op := range in.Operations {
			var v struct {
				Active *bool `json:"active"`
			}
			switch {
			case strings.EqualFold(op.Path, "active"):
				var b bool
				if json.Unmarshal(op.Value, &b) == nil {
					m.Active = b
				}
			case op.Path == "" && json.Unmarshal(op.Value, &v) == nil && v.Active != nil:
				m.Active = *v.Active
			}
		}
		writeJSON(w, http.StatusOK, userDoc(m))
	case "DELETE":
		delete(s.users, id)
		for i, o := range s.order {
			if o == id {
				s.order = append(s.order[:i], s.order[i+1:]...)
				break
			}
		}
		for _, g := range s.groups {
			delete(g.Members, id)
		}
		writeJSON(w, http.StatusOK, map[string]any{})
	default:
		writeErr(w, http.StatusMethodNotAllowed, "method")
	}
}
