package orgsync

import "errors"

// Error kinds. Adapters wrap them with context (fmt.Errorf("...: %w", ErrX))
// at their edge; transports map them to status codes in one table.
var (
	// ErrNotFound: no such member, group, org or token in this org.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a uniqueness rule would be broken, or the record belongs
	// to another owner.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the request or value is malformed.
	ErrInvalid = errors.New("invalid")
	// ErrPrecondition: an expected version (ETag) did not match.
	ErrPrecondition = errors.New("precondition failed")
	// ErrUnauthorized: missing, unknown, expired or revoked credentials.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrGuard: a guard refused a plan.
	ErrGuard = errors.New("refused by guard")
	// ErrUnavailable: the store could not take the lock it needs in time
	// (another writer holds it): nothing was written, and the same request
	// may succeed when retried a little later.
	ErrUnavailable = errors.New("temporarily unavailable")
)

// ErrStale: a reviewed plan (a saved plan file, a blocked run to approve)
// was computed from a source or org that has changed since; nothing was
// applied. Plan again.
var ErrStale = errors.New("stale plan")
