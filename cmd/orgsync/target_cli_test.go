package main

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgsync/orgsync/internal/kmsfake"
)

// check --target against a KMS on HTTPS with a certificate of its own CA:
// refused with the setting to change, trusted with tls.ca_file, accepted
// and flagged with tls.insecure_skip_verify.
func TestCheckTargetTLS(t *testing.T) {
	kms := newKMS(t, kmsfake.Options{TLS: true})
	ca := filepath.Join(t.TempDir(), "kms-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: kms.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, tls string
		code      int
		want      []string
		not       []string
	}{
		{name: "unknown CA", code: 1, want: []string{"FAIL kms", "certificate signed by unknown authority", "remedy: ", "set tls.ca_file"}},
		{name: "ca_file", tls: "{ca_file: " + ca + "}", want: []string{"OK   kms", "setup status: 0 memberships"}, not: []string{"warning"}},
		{name: "insecure", tls: "{insecure_skip_verify: true}", want: []string{"OK   kms",
			"warning: tls.insecure_skip_verify is set", "warning: setup_status.tls.insecure_skip_verify is set"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KMS_SCIM_TOKEN", kmsToken)
			t.Setenv("KMS_CLIENT_SECRET", kmsSecret)
			entry := "  - name: kms\n    org: acme\n    type: kms-scim\n    url: " + kms.URL + "\n    token: ${KMS_SCIM_TOKEN}\n" +
				"    setup_status: {client_id: orgsync-machine, client_secret: ${KMS_CLIENT_SECRET}}\n"
			if tc.tls != "" {
				entry += "    tls: " + tc.tls + "\n"
			}
			cfg := writeConfig(t, "targets:\n"+entry)
			code, out, errOut := cli(t, cfg, "check", "--target", "kms")
			if code != tc.code {
				t.Fatalf("check: exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("check output does not contain %q:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("check output contains %q:\n%s", n, out)
				}
			}
			if strings.Contains(out+errOut, kmsToken) || strings.Contains(out+errOut, kmsSecret) {
				t.Errorf("a secret in the output:\n%s%s", out, errOut)
			}
		})
	}
}

// Plan files hold a source's plan: with --target, both ends refuse at
// once (exit 1, nothing written, the target never asked).
func TestPlanFileRefusesTarget(t *testing.T) {
	kms := newKMS(t, kmsfake.Options{})
	t.Setenv("KMS_SCIM_TOKEN", kmsToken)
	cfg := writeConfig(t, "targets:\n  - {name: kms, org: acme, type: kms-scim, url: "+kms.URL+", token: ${KMS_SCIM_TOKEN}}\n")
	plan := filepath.Join(t.TempDir(), "kms.plan")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"plan -out", []string{"plan", "--target", "kms", "-out", plan}, "saved plans are of sources only, not of --target"},
		{"plan --out=", []string{"plan", "--target", "kms", "--out=" + plan}, "saved plans are of sources only"},
		{"reconcile FILE", []string{"reconcile", plan, "--target", "kms"}, "--target does not go with a plan FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kms.ResetCounts()
			before := kms.Requests()
			code, out, errOut := cli(t, cfg, tc.args...)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q, want 1 and %q\n%s", code, errOut, tc.want, out)
			}
			if _, err := os.Stat(plan); !os.IsNotExist(err) {
				t.Errorf("a plan file was written: %v", err)
			}
			if n := kms.Requests() - before; n != 0 {
				t.Errorf("the target was asked %d times", n)
			}
		})
	}
}
