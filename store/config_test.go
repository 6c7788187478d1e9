package store

import (
	"strings"
	"testing"
)

func TestRedactDSN(t *testing.T) {
	tests := []struct {
		name, dsn, want string
		secrets         []string
	}{
		{"url", "postgres://orgsync:s3cret@db:5432/orgsync?sslmode=require", "postgres://orgsync:<redacted>@db:5432/orgsync?sslmode=require", []string{"s3cret"}},
		{"url without password", "postgres://orgsync@db/orgsync", "postgres://orgsync@db/orgsync", nil},
		{"url query password", "postgresql://db/orgsync?user=u&password=s3cret&sslmode=disable", "", []string{"s3cret"}},
		{"url sslpassword", "postgres://u@db/orgsync?sslpassword=keypass", "", []string{"keypass"}},
		{"url with a bad escape", "postgres://u:p%zzsecret@db/orgsync", "", []string{"p%zzsecret", "zzsecret"}},
		{"key=value", "host=db user=u password=s3cret dbname=orgsync", "host=db user=u password=<redacted> dbname=orgsync", []string{"s3cret"}},
		{"spaces around =", "host=db password = s3cret dbname=orgsync", "host=db password=<redacted> dbname=orgsync", []string{"s3cret"}},
		{"quoted with space", "host=db password='correct horse' dbname=orgsync", "host=db password=<redacted> dbname=orgsync", []string{"correct", "horse"}},
		{"quoted with escaped quote", `host=db password='it\'s mine' sslmode=disable`, "host=db password=<redacted> sslmode=disable", []string{"it", "mine"}},
		{"upper case key", "host=db PASSWORD=s3cret", "host=db PASSWORD=<redacted>", []string{"s3cret"}},
		{"unterminated quote", "host=db password='s3cret dbname=x", "", []string{"s3cret"}},
		{"no password", "host=db user=u dbname=orgsync", "host=db user=u dbname=orgsync", nil},
		{"sqlite path", "/var/lib/orgsync/orgsync.db", "/var/lib/orgsync/orgsync.db", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RedactDSN(tt.dsn)
			if tt.want != "" && got != tt.want {
				t.Errorf("RedactDSN(%q) = %q, want %q", tt.dsn, got, tt.want)
			}
			for _, s := range tt.secrets {
				if strings.Contains(got, s) {
					t.Errorf("RedactDSN(%q) = %q shows %q", tt.dsn, got, s)
				}
			}
			if tt.secrets != nil && !strings.Contains(got, "<redacted>") {
				t.Errorf("RedactDSN(%q) = %q has no redaction marker", tt.dsn, got)
			}
		})
	}
}
