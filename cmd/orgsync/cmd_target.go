package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/reconciler/render"
	"github.com/orgsync/orgsync/targets"
	"github.com/orgsync/orgsync/targets/scim"
)

// targetFlags are the --target flag of plan, reconcile and check.
type targetFlags struct{ name string }

// eachTarget runs fn on the named target and renders its report like a
// source's.
func (a *app) eachTarget(ctx context.Context, name string, out reportFlags, fn func(*targets.Target, *reconciler.Runner) (reconciler.Report, error)) (reconciler.Report, error, error) {
	if err := checkFormat(out.format, render.Formats...); err != nil {
		return reconciler.Report{}, nil, err
	}
	ts, err := a.targets(ctx, name)
	if err != nil {
		return reconciler.Report{}, nil, err
	}
	base := &reconciler.Runner{Logger: a.log}
	rep, runErr := fn(ts[0], base)
	if err := render.Reports(a.stdout, []reconciler.Report{rep}, a.reportOptions(out, a.stdout, nil)); err != nil {
		return rep, runErr, err
	}
	return rep, runErr, nil
}

// planTarget is `plan --target NAME`.
func (a *app) planTarget(ctx context.Context, name string, out reportFlags, detailed, allowEmpty bool, maxDeprovision int) error {
	rep, runErr, err := a.eachTarget(ctx, name, out, func(t *targets.Target, base *reconciler.Runner) (reconciler.Report, error) {
		g := runGuard(t.Guard, allowEmpty, maxDeprovision)
		t.Guard = g // the empty-read check of the target reads it too
		return t.Plan(ctx, base, g)
	})
	switch {
	case err != nil:
		return err
	case errors.Is(runErr, orgsync.ErrGuard) && detailed:
		return exitWith(3, runErr)
	case runErr != nil:
		return runErr
	case detailed:
		if code := reconciler.DetailedExitCode([]reconciler.Report{rep}); code != 0 {
			return exitWith(code, errors.New(""))
		}
	}
	return nil
}

// reconcileTarget is `reconcile --target NAME`.
func (a *app) reconcileTarget(ctx context.Context, name string, out reportFlags, force, allowEmpty bool, maxDeprovision int) error {
	_, runErr, err := a.eachTarget(ctx, name, out, func(t *targets.Target, base *reconciler.Runner) (reconciler.Report, error) {
		g := runGuard(t.Guard, allowEmpty, maxDeprovision)
		t.Guard = g // the empty-read check of the target reads it too
		return t.Run(ctx, base, g, force)
	})
	switch {
	case err != nil:
		return err
	case errors.Is(runErr, orgsync.ErrGuard):
		return exitWith(3, fmt.Errorf("%w\nnothing was sent to the target; review the plan and re-run with --force to override (an empty read needs --allow-empty)", runErr))
	}
	return runErr
}

// checkTarget is `check --target NAME`: reach, auth, counts, and the
// KMS's SCIM preconditions with their remedy.
func (a *app) checkTarget(ctx context.Context, name string) error {
	ts, err := a.targets(ctx, name)
	if err != nil {
		return err
	}
	t := ts[0]
	start := time.Now()
	fail := func(what string, err error) error {
		fmt.Fprintf(a.stdout, "FAIL %s: %s: %s\n", t.Name, what, render.SafeLines(err.Error()))
		if r := remedy(t, err); r != "" {
			fmt.Fprintf(a.stdout, "     remedy: %s\n", r)
		}
		return fmt.Errorf("target %q failed its check", t.Name)
	}
	users, err := t.Client.Users(ctx)
	if err != nil {
		return fail("read users at "+t.Client.Base(), err)
	}
	var groups []scim.Group
	if !t.SkipGroups {
		if groups, err = t.Client.Groups(ctx); err != nil {
			err = fail("read groups", err)
			fmt.Fprintln(a.stdout, "     (a KMS without the groups feature refuses its SCIM Groups: set skip_groups: true to push users only)")
			return err
		}
	}
	links, err := t.Store.TargetLinks(ctx, t.Name)
	if err != nil {
		return err
	}
	active := 0
	for _, u := range users {
		if u.Active {
			active++
		}
	}
	fmt.Fprintf(a.stdout, "OK   %s (org %s, %s at %s): %d users (%d active), %d groups, %d links, read in %s\n",
		t.Name, t.Org, t.Type, render.SafeText(t.Client.Base()), len(users), active, len(groups), len(links), time.Since(start).Round(time.Millisecond))
	for _, k := range t.Insecure {
		fmt.Fprintf(a.stdout, "     warning: %s is set: the TLS certificate is not verified (for tests only)\n", k)
	}
	if t.Setup == nil {
		fmt.Fprintln(a.stdout, "     setup status: not configured (members become active with `orgsync members complete-setup`)")
		return nil
	}
	ms, err := t.Setup.Memberships(ctx)
	if err != nil {
		return fail("setup status", err)
	}
	accepted := 0
	for _, m := range ms {
		if m.Status == "accepted" {
			accepted++
		}
	}
	fmt.Fprintf(a.stdout, "     setup status: %d memberships listed, %d accepted\n", len(ms), accepted)
	return nil
}

// remedy says what to change for a failed check.
func remedy(t *targets.Target, err error) string {
	var ce *targets.CertError
	if errors.As(err, &ce) {
		return ce.Hint()
	}
	var se *scim.StatusError
	if !errors.As(err, &se) {
		if errors.Is(err, orgsync.ErrUnauthorized) {
			return "check setup_status.client_id/client_secret: the machine identity needs universal auth and the instance super-admin role"
		}
		return "check url (is the KMS reachable from here?)"
	}
	switch {
	case se.Status == 400 && t.Type == targets.TypeKMS:
		return "the KMS org needs SAML or OIDC SSO configured before SCIM works (org settings → SSO)"
	case se.Status == 401 || se.Status == 403:
		if t.Type == targets.TypeKMS {
			return "turn on \"Enable SCIM provisioning\" in the KMS org settings, and mint a new SCIM token there if this one was revoked or expired"
		}
		return "the token is refused: mint a new one and set token/token_file"
	case se.Status == 404:
		if t.Type == targets.TypeKMS {
			return "url must be the KMS's root URL (orgsync adds " + scim.KMSPath + ")"
		}
		return "url must be the SCIM base URL (…/scim/v2)"
	}
	return ""
}

func (f *targetFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.name, "target", "", "this target (a targets: entry) instead of the sources")
	cmd.MarkFlagsMutuallyExclusive("source", "target")
}
