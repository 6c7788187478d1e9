package orgsync

import (
	"fmt"
	"os"
	"strings"
)

// Redacted is how a secret is shown wherever config is printed or logged.
const Redacted = "<redacted>"

// Secret is a credential read from config. It prints as Redacted in every
// format; Reveal returns the value for the one place that needs it.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString implements fmt.GoStringer, so %#v redacts too.
func (s Secret) GoString() string { return s.String() }

// MarshalText redacts the secret in JSON, YAML and text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML redacts the secret in YAML.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// ResolveSecret returns value, or the content of file (one trailing newline
// dropped) when file is set. Setting both is an error: which one wins would
// be a guess.
func ResolveSecret(value Secret, file string) (Secret, error) {
	if file == "" {
		return value, nil
	}
	if value != "" {
		return "", fmt.Errorf("both a value and a file are set: %w", ErrInvalid)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	return Secret(strings.TrimRight(string(b), "\r\n")), nil
}
