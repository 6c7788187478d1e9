package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/orgsync/orgsync"
)

// ApproveFunc applies the recorded plan of the blocked run id on behalf of
// actor, when the source and the org still give that plan, and returns the
// run record of the approval. Its errors: orgsync.ErrNotFound (no such
// run), ErrConflict (not blocked, no digest, approved already), ErrStale
// (the plan is no longer current), ErrGuard (the empty-source guard, unless
// allowEmpty), ErrUnavailable (a run of the source is in progress). With
// ErrGuard the returned run is the recorded, blocked approval.
type ApproveFunc func(ctx context.Context, id int64, actor string, allowEmpty bool) (orgsync.Run, error)

// approveRequest is the optional body of POST /api/v1/runs/{id}/approve.
type approveRequest struct {
	AllowEmpty bool `json:"allow_empty"`
}

// approveRun approves a blocked run: 200 with the approval's run record;
// 409 with {"error", "reason"} when it is refused (reason: "stale",
// "conflict" or "guard"), 404 for an unknown run, 503 while a run of the
// source is in progress.
func (a *API) approveRun(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "run id must be a positive integer")
		return
	}
	if a.approve == nil {
		writeError(w, http.StatusNotImplemented, "approvals are served by orgsync serve")
		return
	}
	var req approveRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, "unreadable body: "+err.Error())
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "malformed JSON body (want {\"allow_empty\": bool}): "+err.Error())
			return
		}
	}
	run, err := a.approve(r.Context(), id, "admin-api", req.AllowEmpty)
	refuse := func(reason string) {
		out := map[string]any{"error": err.Error(), "reason": reason}
		if run.ID != 0 {
			out["run"] = runJSON{run, run.Duration().Milliseconds()}
		}
		writeJSON(w, http.StatusConflict, out)
	}
	switch {
	case err == nil:
		a.log.Info().Int64("run_id", id).Int64("approval", run.ID).Msg("admin: run approved")
		writeJSON(w, http.StatusOK, runJSON{run, run.Duration().Milliseconds()})
	case errors.Is(err, orgsync.ErrStale):
		refuse("stale")
	case errors.Is(err, orgsync.ErrGuard):
		refuse("guard")
	case errors.Is(err, orgsync.ErrConflict):
		refuse("conflict")
	case errors.Is(err, orgsync.ErrUnavailable):
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		a.fail(w, err)
	}
}
