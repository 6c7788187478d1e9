package kmsfake

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"
)

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
