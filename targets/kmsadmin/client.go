package kmsadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orgsync/orgsync"
)

// Paths of the KMS API the client calls.
const (
	LoginPath = "/api/v1/auth/universal-auth/login"
	OrgsPath  = "/api/v1/admin/organization-management/organizations"
)

// Membership statuses.
const (
	StatusInvited  = "invited"
	StatusAccepted = "accepted"
)

// Client reads setup status from one KMS.
type Client struct {
	URL          string
	ClientID     string
	ClientSecret orgsync.Secret
	HTTP         *http.Client
	// PageSize is the limit of each listing request (default 100).
	PageSize int
}

// Membership is one org membership as the admin API lists it.
type Membership struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	UserName string `json:"-"`
	Email    string `json:"-"`
}

// orgDoc is one organization of the listing, as the KMS's admin router
// declares it: members carry their org-membership id as membershipId (the
// id SCIM uses for the user) and a status that may be null.
type orgDoc struct {
	ID      string `json:"id"`
	Members []struct {
		MembershipID string `json:"membershipId"`
		Status       string `json:"status"`
		User         struct {
			Username string `json:"username"`
			Email    string `json:"email"`
		} `json:"user"`
	} `json:"members"`
}

func (c *Client) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 60 * time.Second}
}

// Login exchanges the client id and secret for an access token.
func (c *Client) Login(ctx context.Context) (orgsync.Secret, error) {
	body, _ := json.Marshal(map[string]string{"clientId": c.ClientID, "clientSecret": c.ClientSecret.Reveal()})
	var out struct {
		AccessToken string `json:"accessToken"`
	}
	if err := c.call(ctx, "POST", LoginPath, "", body, &out); err != nil {
		return "", err
	}
	if out.AccessToken == "" {
		return "", fmt.Errorf("kms admin: login: no access token in the answer: %w", orgsync.ErrUnauthorized)
	}
	return orgsync.Secret(out.AccessToken), nil
}

// Memberships logs in and returns every org membership of the KMS by id.
func (c *Client) Memberships(ctx context.Context) (map[string]Membership, error) {
	tok, err := c.Login(ctx)
	if err != nil {
		return nil, err
	}
	limit := c.PageSize
	if limit <= 0 {
		limit = 100
	}
	out := map[string]Membership{}
	for offset := 0; ; {
		var page struct {
			Organizations []orgDoc `json:"organizations"`
			Total         *int     `json:"total"`
		}
		q := url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(limit)}}
		if err := c.call(ctx, "GET", OrgsPath+"?"+q.Encode(), tok.Reveal(), nil, &page); err != nil {
			return nil, err
		}
		for _, o := range page.Organizations {
			for _, m := range o.Members {
				if m.MembershipID == "" {
					return nil, fmt.Errorf("kms admin: organizations: a member of %s without membershipId: %w", o.ID, orgsync.ErrInvalid)
				}
				out[m.MembershipID] = Membership{ID: m.MembershipID, Status: m.Status, UserName: m.User.Username, Email: m.User.Email}
			}
		}
		offset += len(page.Organizations)
		if len(page.Organizations) < limit || (page.Total != nil && offset >= *page.Total) {
			if page.Total != nil && offset < *page.Total {
				return nil, fmt.Errorf("kms admin: organizations: %d of %d listed: a short read is an error: %w", offset, *page.Total, orgsync.ErrUnavailable)
			}
			return out, nil
		}
	}
}

func (c *Client) call(ctx context.Context, method, path, bearer string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.URL, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("kms admin: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return fmt.Errorf("kms admin: %s %s: %w: %w", method, path, err, orgsync.ErrUnavailable)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("kms admin: %s %s: %w", method, path, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("kms admin: %s %s: HTTP %d (is the machine identity a super-admin with universal auth?): %w", method, path, resp.StatusCode, orgsync.ErrUnauthorized)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fmt.Errorf("kms admin: %s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(data[:min(len(data), 300)])))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("kms admin: %s %s: decode: %w", method, path, err)
	}
	return nil
}
