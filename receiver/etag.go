package receiver

import (
	"net/http"
	"strconv"
	"strings"
)

// ETags: a resource's version is its weak ETag (meta.version). If-Match
// guards writes (ifVersion, checked by the store inside the write);
// If-None-Match answers a GET with 304 (notModified).

func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// ifVersion reads If-Match: 0 for none or "*", -1 for a tag that can never
// match (so the write fails with 412), else the version it names.
func ifVersion(r *http.Request) int64 {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0
	}
	tag := strings.TrimSpace(strings.Split(h, ",")[0])
	tag = strings.TrimPrefix(tag, "W/")
	v, err := strconv.ParseInt(strings.Trim(tag, `"`), 10, 64)
	if err != nil || v <= 0 {
		return -1
	}
	return v
}

// notModified reports whether If-None-Match names the current version.
func notModified(r *http.Request, version int64) bool {
	h := r.Header.Get("If-None-Match")
	if h == "" {
		return false
	}
	cur := strings.TrimPrefix(etag(version), "W/")
	for _, tag := range strings.Split(h, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == cur {
			return true
		}
	}
	return false
}
