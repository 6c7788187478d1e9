package kmsadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
		if errors.Is(err, orgsync.ErrUnauthorized) {
			return "", fmt.Errorf("%w (the KMS refused the client id and secret: check setup_status.client_id and client_secret, a universal-auth client secret of the machine identity)", err)
		}
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
	seen := map[string]bool{}
	for offset := 0; ; {
		var page struct {
			Organizations []orgDoc `json:"organizations"`
			Total         *int     `json:"total"`
		}
		q := url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(limit)}}
		if err := c.call(ctx, "GET", OrgsPath+"?"+q.Encode(), tok.Reveal(), nil, &page); err != nil {
			if errors.Is(err, orgsync.ErrUnauthorized) {
				return nil, fmt.Errorf("%w (logged in, but the machine identity may not list organizations: give it the instance super-admin role)", err)
			}
			return nil, err
		}
		fresh := false
		for _, o := range page.Organizations {
			if !seen[o.ID] {
				seen[o.ID], fresh = true, true
			}
			for _, m := range o.Members {
				if m.MembershipID == "" {
					return nil, fmt.Errorf("kms admin: organizations: a member of %s without membershipId: %w", o.ID, orgsync.ErrInvalid)
				}
				out[m.MembershipID] = Membership{ID: m.MembershipID, Status: m.Status, UserName: m.User.Username, Email: m.User.Email}
			}
		}
		// A page of organizations all listed before is an API that ignores
		// offset: stop rather than ask for the same page for ever.
		if len(page.Organizations) > 0 && !fresh {
			return nil, fmt.Errorf("kms admin: organizations: the page at offset %d repeats organizations already listed (offset not honoured?): %w", offset, orgsync.ErrUnavailable)
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
		return fmt.Errorf("kms admin: %s %s: HTTP %d: %w", method, path, resp.StatusCode, orgsync.ErrUnauthorized)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		err := fmt.Errorf("kms admin: %s %s: HTTP %d: %s", method, path, resp.StatusCode, c.redact(string(data), bearer))
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			err = fmt.Errorf("%w: %w", err, orgsync.ErrUnavailable)
		}
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("kms admin: %s %s: decode: %w", method, path, err)
	}
	return nil
}

// redact drops from an error body the secrets a server might echo back:
// the client secret of a login, the access token of a listing.
func (c *Client) redact(body, bearer string) string {
	for _, s := range []string{c.ClientSecret.Reveal(), bearer} {
		if s != "" {
			body = strings.ReplaceAll(body, s, "<redacted>")
		}
	}
	// Cut after redacting, so no prefix of a secret is left behind.
	if body = strings.TrimSpace(body); len(body) > 300 {
		body = strings.ToValidUTF8(body[:300], "") + "…"
	}
	return body
}
