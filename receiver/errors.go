package receiver

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/scimattr"
)

// SCIM error types (RFC 7644 Table 9).
const (
	typeInvalidFilter = "invalidFilter"
	typeTooMany       = "tooMany"
	typeUniqueness    = "uniqueness"
	typeMutability    = "mutability"
	typeInvalidSyntax = "invalidSyntax"
	typeInvalidPath   = "invalidPath"
	typeNoTarget      = "noTarget"
	typeInvalidValue  = "invalidValue"
)

// scimError is an error with the SCIM status and type it is answered with.
type scimError struct {
	status   int
	scimType string
	detail   string
}

func (e *scimError) Error() string { return e.detail }

func errorf(status int, scimType, format string, a ...any) error {
	return &scimError{status: status, scimType: scimType, detail: fmt.Sprintf(format, a...)}
}

func badRequest(scimType, format string, a ...any) error {
	return errorf(http.StatusBadRequest, scimType, format, a...)
}

// kinds maps the domain error kinds to SCIM answers: the one table of the
// receiver.
var kinds = []struct {
	kind     error
	status   int
	scimType string
}{
	{orgsync.ErrNotFound, http.StatusNotFound, ""},
	{orgsync.ErrConflict, http.StatusConflict, typeUniqueness},
	{orgsync.ErrPrecondition, http.StatusPreconditionFailed, ""},
	{orgsync.ErrInvalid, http.StatusBadRequest, typeInvalidValue},
	{orgsync.ErrUnauthorized, http.StatusUnauthorized, ""},
	{orgsync.ErrUnavailable, http.StatusServiceUnavailable, ""},
}

// retryAfterBusy is the Retry-After (seconds) of a 503: the write lock
// another writer holds is usually free again within seconds.
const retryAfterBusy = "5"

// answer returns the SCIM error for err; ok is false for an unexpected
// (server) error, whose detail must not reach the client.
func answer(err error) (e *scimError, ok bool) {
	if errors.As(err, &e) {
		return e, true
	}
	for _, k := range kinds {
		if errors.Is(err, k.kind) {
			return &scimError{status: k.status, scimType: k.scimType, detail: err.Error()}, true
		}
	}
	return &scimError{status: http.StatusInternalServerError, detail: "internal error"}, false
}

const schemaError = scimattr.Error

func (e *scimError) body() map[string]any {
	b := map[string]any{"schemas": []string{schemaError}, "status": strconv.Itoa(e.status), "detail": e.detail}
	if e.scimType != "" {
		b["scimType"] = e.scimType
	}
	return b
}
