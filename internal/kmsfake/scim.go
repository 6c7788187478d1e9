package kmsfake

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
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

func (s *Server) groupDoc(g *Group) map[string]any {
	members := []map[string]string{}
	for _, id := range s.sortedGroupMembers(g) {
		d := map[string]string{"value": id}
		if m := s.users[id]; m != nil {
			d["display"] = m.UserName
		}
		members = append(members, d)
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "id": g.ID, "displayName": g.Name, "members": members}
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.gorder
	if f := r.URL.Query().Get("filter"); f != "" {
		m := eqFilter.FindStringSubmatch(f)
		if m == nil || m[1] != "displayName" {
			writeErr(w, http.StatusBadRequest, "unsupported filter")
			return
		}
		ids = nil
		for _, id := range s.gorder {
			if strings.EqualFold(s.groups[id].Name, m[2]) {
				ids = append(ids, id)
			}
		}
	}
	start, end := page(r, len(ids))
	res := []any{}
	for _, id := range ids[start:end] {
		res = append(res, s.groupDoc(s.groups[id]))
	}
	writeJSON(w, http.StatusOK, list(start, len(ids), res))
}

type groupIn struct {
	DisplayName string `json:"displayName"`
	Members     []struct {
		Value string `json:"value"`
	} `json:"members"`
}

// setMember adds membership id to g, pending while it is invited.
func (s *Server) setMember(g *Group, id string) {
	if m := s.users[id]; m != nil {
		g.Members[id] = m.Status != "accepted"
	}
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	var in groupIn
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.DisplayName == "" {
		writeErr(w, http.StatusBadRequest, "displayName is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		if strings.EqualFold(g.Name, in.DisplayName) {
			s.conflict++
			writeErr(w, http.StatusConflict, "Group with this name already exists")
			return
		}
	}
	g := &Group{ID: s.id("grp"), Name: in.DisplayName, Members: map[string]bool{}}
	for _, m := range in.Members {
		s.setMember(g, m.Value)
	}
	s.groups[g.ID] = g
	s.gorder = append(s.gorder, g.ID)
	writeJSON(w, http.StatusCreated, s.groupDoc(g))
}

var memberPath = regexp.MustCompile(`^members\[value eq "([^"]*)"\]$`)

func (s *Server) group(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	g := s.groups[id]
	if g == nil {
		s.mu.Unlock()
		writeErr(w, http.StatusNotFound, "Group not found")
		return
	}
	switch r.Method {
	case "GET":
		defer s.mu.Unlock()
		writeJSON(w, http.StatusOK, s.groupDoc(g))
	case "DELETE":
		defer s.mu.Unlock()
		delete(s.groups, id)
		for i, o := range s.gorder {
			if o == id {
				s.gorder = append(s.gorder[:i], s.gorder[i+1:]...)
				break
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{})
	case "PUT":
		defer s.mu.Unlock()
		var in groupIn
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeErr(w, http.StatusBadRequest, "bad group")
			return
		}
		g.Name, g.Members = in.DisplayName, map[string]bool{}
		for _, m := range in.Members {
			s.setMember(g, m.Value)
		}
		writeJSON(w, http.StatusOK, s.groupDoc(g))
	case "PATCH":
		s.patchGroup(w, r, g)
	default:
		s.mu.Unlock()
		writeErr(w, http.StatusMethodNotAllowed, "method")
	}
}

// patchGroup reads the group, lets PatchDelay pass without the lock, and
// writes the group whole: concurrent PATCHes of one group lose updates,
// as the KMS's do. Called with s.mu held; releases it.
func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request, g *Group) {
	name := g.Name
	members := map[string]bool{}
	for k, v := range g.Members {
		members[k] = v
	}
	s.mu.Unlock()
	var in patchIn
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeErr(w, http.StatusBadRequest, "bad patch")
		return
	}
	if s.opts.PatchDelay > 0 {
		time.Sleep(s.opts.PatchDelay)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	work := &Group{ID: g.ID, Name: name, Members: members}
	for _, op := range in.Operations {
		var refs []struct {
			Value string `json:"value"`
		}
		var named struct {
			DisplayName string `json:"displayName"`
		}
		switch o := strings.ToLower(op.Op); {
		case o == "add" && op.Path == "members" && json.Unmarshal(op.Value, &refs) == nil:
			for _, ref := range refs {
				s.setMember(work, ref.Value)
			}
		case o == "remove" && op.Path == "members" && json.Unmarshal(op.Value, &refs) == nil:
			for _, ref := range refs {
				delete(work.Members, ref.Value)
			}
		case o == "remove" && memberPath.MatchString(op.Path):
			delete(work.Members, memberPath.FindStringSubmatch(op.Path)[1])
		case o == "replace" && op.Path == "members" && json.Unmarshal(op.Value, &refs) == nil:
			work.Members = map[string]bool{}
			for _, ref := range refs {
				s.setMember(work, ref.Value)
			}
		case o == "replace" && (op.Path == "" || op.Path == "displayName") && json.Unmarshal(op.Value, &named) == nil && named.DisplayName != "":
			work.Name = named.DisplayName
		case o == "replace" && op.Path == "displayName":
			var n string
			if json.Unmarshal(op.Value, &n) == nil && n != "" {
				work.Name = n
			}
		default:
			writeErr(w, http.StatusBadRequest, "unsupported operation "+op.Op+" "+op.Path)
			return
		}
	}
	if cur := s.groups[g.ID]; cur != nil {
		cur.Name, cur.Members = work.Name, work.Members
	}
	writeJSON(w, http.StatusOK, s.groupDoc(work))
}
