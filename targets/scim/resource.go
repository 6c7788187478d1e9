package scim

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/orgsync/orgsync"
)

// SCIM schema URNs the client sends.
const (
	schemaUser    = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaGroup   = "urn:ietf:params:scim:schemas:core:2.0:Group"
	schemaPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	schemaList    = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
)

// User is a target's user (for the KMS: an org membership).
type User struct {
	ID          string
	UserName    string
	ExternalID  string
	GivenName   string
	FamilyName  string
	DisplayName string
	Email       string
	Active      bool
}

// Group is a target's group; Members are user ids.
type Group struct {
	ID          string
	DisplayName string
	Members     []string
}

// Ref names a group member: its id and, for servers that want it, its
// userName as display.
type Ref struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
}

type userDoc struct {
	Schemas     []string `json:"schemas,omitempty"`
	ID          string   `json:"id,omitempty"`
	UserName    string   `json:"userName"`
	ExternalID  string   `json:"externalId,omitempty"`
	DisplayName string   `json:"displayName,omitempty"`
	Name        *struct {
		GivenName  string `json:"givenName,omitempty"`
		FamilyName string `json:"familyName,omitempty"`
	} `json:"name,omitempty"`
	Emails []struct {
		Value   string `json:"value"`
		Primary bool   `json:"primary,omitempty"`
		Type    string `json:"type,omitempty"`
	} `json:"emails,omitempty"`
	// Entra-era servers send "True" strings: flexBool takes both.
	Active flexBool `json:"active"`
}

type groupDoc struct {
	Schemas     []string `json:"schemas,omitempty"`
	ID          string   `json:"id,omitempty"`
	DisplayName string   `json:"displayName"`
	Members     []Ref    `json:"members"`
}

// flexBool decodes a JSON boolean or the strings "true"/"false".
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	v, err := strconv.ParseBool(strings.Trim(string(data), `"`))
	if err != nil {
		return fmt.Errorf("active: %s is not a boolean", data)
	}
	*b = flexBool(v)
	return nil
}

func (d *userDoc) user() User {
	u := User{ID: d.ID, UserName: d.UserName, ExternalID: d.ExternalID, DisplayName: d.DisplayName, Active: bool(d.Active)}
	if d.Name != nil {
		u.GivenName, u.FamilyName = d.Name.GivenName, d.Name.FamilyName
	}
	for i, e := range d.Emails {
		if i == 0 || e.Primary {
			u.Email = e.Value
		}
		if e.Primary {
			break
		}
	}
	return u
}

func (c *Client) userBody(u User) userDoc {
	d := userDoc{Schemas: []string{schemaUser}, UserName: u.UserName, DisplayName: u.DisplayName, Active: flexBool(u.Active)}
	if c.opts.Dialect != DialectKMS {
		d.ExternalID = u.ExternalID
	}
	if u.GivenName != "" || u.FamilyName != "" {
		d.Name = &struct {
			GivenName  string `json:"givenName,omitempty"`
			FamilyName string `json:"familyName,omitempty"`
		}{u.GivenName, u.FamilyName}
	}
	if u.Email != "" {
		d.Emails = append(d.Emails, struct {
			Value   string `json:"value"`
			Primary bool   `json:"primary,omitempty"`
			Type    string `json:"type,omitempty"`
		}{Value: u.Email, Primary: true, Type: "work"})
	}
	return d
}

type listDoc[T any] struct {
	TotalResults int `json:"totalResults"`
	StartIndex   int `json:"startIndex"`
	Resources    []T `json:"Resources"`
}

// list reads every resource of endpoint, page by page: all or nothing.
func list[T any](ctx context.Context, c *Client, endpoint string, id func(*T) string) ([]T, error) {
	var out []T
	seen := map[string]bool{}
	for start := 1; ; {
		var page listDoc[T]
		q := url.Values{"startIndex": {strconv.Itoa(start)}, "count": {strconv.Itoa(c.opts.PageSize)}}
		if err := c.do(ctx, "GET", "/"+endpoint+"?"+q.Encode(), nil, &page, true); err != nil {
			return nil, err
		}
		for i := range page.Resources {
			r := &page.Resources[i]
			key := id(r)
			if key == "" {
				return nil, fmt.Errorf("scim target: %s: a resource without id on the page at %d: %w", endpoint, start, orgsync.ErrInvalid)
			}
			// A server listing a resource twice (Infisical's duplicate
			// aliases) does not make two of it.
			if !seen[key] {
				seen[key] = true
				out = append(out, *r)
			}
		}
		start += len(page.Resources)
		switch {
		case c.opts.Dialect == DialectKMS:
			// The KMS sends the page's length as totalResults, and may
			// serve fewer than count: only an empty page ends the list.
			if len(page.Resources) == 0 {
				return out, nil
			}
		case start > page.TotalResults:
			return out, nil
		case len(page.Resources) == 0:
			return nil, fmt.Errorf("scim target: %s: empty page at %d of %d results: a short read is an error: %w",
				endpoint, start, page.TotalResults, orgsync.ErrUnavailable)
		}
	}
}

// Users lists every user of the target.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	docs, err := list(ctx, c, "Users", func(d *userDoc) string { return d.ID })
	if err != nil {
		return nil, err
	}
	out := make([]User, len(docs))
	for i := range docs {
		out[i] = docs[i].user()
	}
	return out, nil
}

// Groups lists every group of the target with its members.
func (c *Client) Groups(ctx context.Context) ([]Group, error) {
	docs, err := list(ctx, c, "Groups", func(d *groupDoc) string { return d.ID })
	if err != nil {
		return nil, err
	}
	out := make([]Group, len(docs))
	for i, d := range docs {
		g := Group{ID: d.ID, DisplayName: d.DisplayName, Members: make([]string, 0, len(d.Members))}
		for _, m := range d.Members {
			g.Members = append(g.Members, m.Value)
		}
		out[i] = g
	}
	return out, nil
}

// CreateUser creates u and returns it as the target has it (with its id).
// An existing userName is ErrConflict.
func (c *Client) CreateUser(ctx context.Context, u User) (User, error) {
	var d userDoc
	if err := c.do(ctx, "POST", "/Users", c.userBody(u), &d, false); err != nil {
		return User{}, err
	}
	if d.ID == "" {
		return User{}, fmt.Errorf("scim target: POST /Users: the answer has no id: %w", orgsync.ErrInvalid)
	}
	return d.user(), nil
}

// FindUser returns the user of userName, ErrNotFound when none.
func (c *Client) FindUser(ctx context.Context, userName string) (User, error) {
	var page listDoc[userDoc]
	q := url.Values{"filter": {fmt.Sprintf("userName eq %q", userName)}}
	if err := c.do(ctx, "GET", "/Users?"+q.Encode(), nil, &page, true); err != nil {
		return User{}, err
	}
	for _, d := range page.Resources {
		if orgsync.Fold(d.UserName) == orgsync.Fold(userName) {
			return d.user(), nil
		}
	}
	return User{}, fmt.Errorf("scim target: user %q: %w", userName, orgsync.ErrNotFound)
}

// ReplaceUser sets every attribute of user u.ID to u's.
func (c *Client) ReplaceUser(ctx context.Context, u User) error {
	body := c.userBody(u)
	body.ID = u.ID
	return c.do(ctx, "PUT", "/Users/"+url.PathEscape(u.ID), body, nil, false)
}

// SetActive suspends (false) or reactivates (true) user id.
func (c *Client) SetActive(ctx context.Context, id string, active bool) error {
	body := map[string]any{"schemas": []string{schemaPatchOp},
		"Operations": []map[string]any{{"op": "replace", "value": map[string]any{"active": active}}}}
	return c.do(ctx, "PATCH", "/Users/"+url.PathEscape(id), body, nil, false)
}

// DeleteUser deletes user id; one already gone is no error.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	return ignoreNotFound(c.do(ctx, "DELETE", "/Users/"+url.PathEscape(id), nil, nil, false))
}

// CreateGroup creates a group of name with members.
func (c *Client) CreateGroup(ctx context.Context, name string, members []Ref) (Group, error) {
	if members == nil {
		members = []Ref{}
	}
	var d groupDoc
	body := groupDoc{Schemas: []string{schemaGroup}, DisplayName: name, Members: members}
	if err := c.do(ctx, "POST", "/Groups", body, &d, false); err != nil {
		return Group{}, err
	}
	if d.ID == "" {
		return Group{}, fmt.Errorf("scim target: POST /Groups: the answer has no id: %w", orgsync.ErrInvalid)
	}
	return Group{ID: d.ID, DisplayName: d.DisplayName}, nil
}

// FindGroup returns the group of displayName, ErrNotFound when none.
func (c *Client) FindGroup(ctx context.Context, name string) (Group, error) {
	var page listDoc[groupDoc]
	q := url.Values{"filter": {fmt.Sprintf("displayName eq %q", name)}}
	if err := c.do(ctx, "GET", "/Groups?"+q.Encode(), nil, &page, true); err != nil {
		return Group{}, err
	}
	for _, d := range page.Resources {
		if orgsync.Fold(d.DisplayName) == orgsync.Fold(name) {
			return Group{ID: d.ID, DisplayName: d.DisplayName}, nil
		}
	}
	return Group{}, fmt.Errorf("scim target: group %q: %w", name, orgsync.ErrNotFound)
}

// PatchGroup renames group id (rename != "") and adds and removes members,
// in one request.
func (c *Client) PatchGroup(ctx context.Context, id, rename string, add, remove []Ref) error {
	var ops []map[string]any
	if rename != "" {
		ops = append(ops, map[string]any{"op": "replace", "value": map[string]any{"displayName": rename}})
	}
	if len(add) > 0 {
		ops = append(ops, map[string]any{"op": "add", "path": "members", "value": add})
	}
	if len(remove) > 0 {
		ops = append(ops, map[string]any{"op": "remove", "path": "members", "value": remove})
	}
	if len(ops) == 0 {
		return nil
	}
	return c.do(ctx, "PATCH", "/Groups/"+url.PathEscape(id), map[string]any{"schemas": []string{schemaPatchOp}, "Operations": ops}, nil, false)
}

// DeleteGroup deletes group id; one already gone is no error.
func (c *Client) DeleteGroup(ctx context.Context, id string) error {
	return ignoreNotFound(c.do(ctx, "DELETE", "/Groups/"+url.PathEscape(id), nil, nil, false))
}

func ignoreNotFound(err error) error {
	if se, ok := err.(*StatusError); ok && se.Status == 404 {
		return nil
	}
	return err
}
