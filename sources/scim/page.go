package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/scimattr"
)

// DefaultMaxPages bounds the pages of one list, whatever the server says.
const DefaultMaxPages = 100_000

type listResponse struct {
	Schemas      []string          `json:"schemas"`
	TotalResults *int              `json:"totalResults"`
	Resources    []json.RawMessage `json:"Resources"`
}

// entry is one resource of a list: its position in the list (1-based), the
// startIndex of its page, its id, the decoded value and, when it cannot be
// used, why (assemble holds it).
type entry[T any] struct {
	pos  int
	page int
	id   string
	val  T
	skip string
	// unmatched: skipped because the server sent it despite the filter.
	unmatched bool
}

// list reads every page of endpoint (Users or Groups). decode maps one
// resource; progress is told the running count after each page.
//
// It trusts nothing the server says about counts without checking it
// against what the server sends: see the package documentation.
func list[T any](ctx context.Context, s *Source, endpoint, filter string, pageSize int,
	decode func(raw json.RawMessage) entry[T], progress func(n int)) ([]entry[T], error) {
	return listAttrs(ctx, s, endpoint, filter, "", pageSize, decode, progress)
}

// listAttrs is list asking for the attributes attrs only ("": all).
func listAttrs[T any](ctx context.Context, s *Source, endpoint, filter, attrs string, pageSize int,
	decode func(raw json.RawMessage) entry[T], progress func(n int)) ([]entry[T], error) {

	var (
		out   []entry[T]
		seen  = map[string]bool{} // ids read
		total = -1
	)
	for pages := 0; ; pages++ {
		if pages >= s.maxPages {
			return nil, fmt.Errorf("scim: source %q: %s: more than %d pages; stopping (the server keeps sending): %w",
				s.name, endpoint, s.maxPages, orgsync.ErrInvalid)
		}
		start := len(out) + 1
		u := s.pageURL(endpoint, filter, start, pageSize)
		if attrs != "" {
			q := u.Query()
			q.Set("attributes", attrs)
			u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
		}
		body, err := s.get(ctx, u)
		if err != nil {
			return nil, err
		}
		page, err := parseList(body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.where(u), err)
		}
		lie := func(format string, args ...any) error {
			return fmt.Errorf("%s: %s; refusing a partial or inconsistent read: %w",
				s.where(u), fmt.Sprintf(format, args...), orgsync.ErrInvalid)
		}
		if total < 0 && *page.TotalResults > s.cfg.MaxEntries && s.cfg.MaxEntries > 0 {
			return nil, fmt.Errorf("%s: totalResults %d is over scim.max_entries (%d; raise it if the list really is that long, or narrow it with a filter); nothing was synced: %w",
				s.where(u), *page.TotalResults, s.cfg.MaxEntries, orgsync.ErrInvalid)
		}
		switch {
		case total < 0:
			total = *page.TotalResults
		case *page.TotalResults != total:
			return nil, lie("totalResults changed from %d to %d during the read (concurrent changes, or a server that miscounts)",
				total, *page.TotalResults)
		}

		n := len(page.Resources)
		if n == 0 {
			if len(out) < total {
				return nil, lie("empty page after %d of the %d resources announced by totalResults", len(out), total)
			}
			return out, nil
		}

		batch := make([]entry[T], n)
		fresh := 0
		for i, raw := range page.Resources {
			e := decode(raw)
			e.pos, e.page = start+i, start
			batch[i] = e
			if e.id == "" {
				fresh++
				continue
			}
			if !seen[e.id] {
				fresh++
			}
		}
		if repeated := n - fresh; repeated > 0 {
			if fresh == 0 && len(out) == total {
				// The page after the last one brought back what was already
				// read: the server ignores startIndex, but everything it has
				// fitted on the first page.
				s.log.Warn().Str("endpoint", endpoint).Msg("scim server ignores startIndex; accepted because all resources came on one page")
				return out, nil
			}
			first := ""
			for _, e := range batch {
				if seen[e.id] {
					first = e.id
					break
				}
			}
			return nil, lie("id %q came again at startIndex %d (the server ignores startIndex, or the list changed during the read)",
				first, start)
		}
		for _, e := range batch {
			if e.id != "" {
				if seen[e.id] {
					return nil, lie("id %q appears twice on the page at startIndex %d", e.id, start)
				}
				seen[e.id] = true
			}
		}
		if len(out)+n > s.cfg.MaxEntries && s.cfg.MaxEntries > 0 {
			return nil, fmt.Errorf("%s: more than %d resources, over scim.max_entries (raise it if the list really is that long, or narrow it with a filter); refusing a partial read: nothing was synced: %w",
				s.where(u), s.cfg.MaxEntries, orgsync.ErrInvalid)
		}
		out = append(out, batch...)
		if len(out) > total {
			return nil, lie("%d resources received but totalResults is %d", len(out), total)
		}
		s.log.Debug().Str("endpoint", endpoint).Int("start_index", start).Int("resources", n).
			Int("total_results", total).Msg("scim page read")
		if progress != nil {
			progress(len(out))
		}
		// When len(out) == total, one more page is read anyway: an honest
		// server answers it empty; one whose total is too low sends more,
		// which is caught above.
	}
}

// parseList checks that body is a SCIM ListResponse.
func parseList(body []byte) (*listResponse, error) {
	var page listResponse
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("response is not a SCIM ListResponse (%d bytes): %v: %w", len(body), err, orgsync.ErrInvalid)
	}
	if !slices.ContainsFunc(page.Schemas, func(s string) bool { return strings.EqualFold(s, scimattr.ListResponse) }) {
		return nil, fmt.Errorf("response is not a SCIM ListResponse: schemas %q lack %s: %w", page.Schemas, scimattr.ListResponse, orgsync.ErrInvalid)
	}
	if page.TotalResults == nil || *page.TotalResults < 0 {
		return nil, fmt.Errorf("ListResponse without a valid totalResults: %w", orgsync.ErrInvalid)
	}
	return &page, nil
}

func (s *Source) pageURL(endpoint, filter string, start, count int) *url.URL {
	u := *s.base
	u.Path = strings.TrimRight(u.Path, "/") + "/" + endpoint
	u.RawPath = ""
	q := url.Values{}
	q.Set("startIndex", strconv.Itoa(start))
	q.Set("count", strconv.Itoa(count))
	if filter != "" {
		q.Set("filter", filter)
	}
	// Spaces as %20 rather than '+': not every server reads a query as a
	// form. A '+' in a value is already %2B.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return &u
}
