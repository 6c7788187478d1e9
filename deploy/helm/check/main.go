// Command check reads the manifests `helm template` rendered (on stdin) and
// decodes each one strictly into its Kubernetes API type: an unknown or
// misplaced field, or a value of the wrong type, is an error. It is the
// chart's schema check, run by scripts/helm-check.sh; it needs no cluster.
//
// With -config DIR it also writes the orgsync.yaml of each ConfigMap it
// sees to DIR, for `orgsync config validate`.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// kinds maps apiVersion/kind to a new object of its type.
var kinds = map[string]func() any{
	"v1/ConfigMap":                            func() any { return &corev1.ConfigMap{} },
	"v1/Service":                              func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                       func() any { return &corev1.ServiceAccount{} },
	"v1/PersistentVolumeClaim":                func() any { return &corev1.PersistentVolumeClaim{} },
	"apps/v1/Deployment":                      func() any { return &appsv1.Deployment{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
}

func main() {
	configDir := flag.String("config", "", "write each ConfigMap's orgsync.yaml to this directory")
	flag.Parse()
	seen, err := check(os.Stdin, *configDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "check:", err)
		os.Exit(1)
	}
	fmt.Println(strings.Join(seen, " "))
}

func check(r io.Reader, configDir string) ([]string, error) {
	docs, err := split(r)
	if err != nil {
		return nil, err
	}
	var seen []string
	var errs []error
	for _, doc := range docs {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			errs = append(errs, fmt.Errorf("not YAML: %w", err))
			continue
		}
		key := head.APIVersion + "/" + head.Kind
		newObj, ok := kinds[key]
		if !ok {
			errs = append(errs, fmt.Errorf("%s %q: kind not known to the checker", key, head.Metadata.Name))
			continue
		}
		obj := newObj()
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", head.Kind, head.Metadata.Name, err))
			continue
		}
		if head.Metadata.Name == "" {
			errs = append(errs, fmt.Errorf("%s: no metadata.name", head.Kind))
		}
		if cm, ok := obj.(*corev1.ConfigMap); ok && configDir != "" {
			if body, ok := cm.Data["orgsync.yaml"]; ok {
				path := filepath.Join(configDir, cm.Name+".yaml")
				if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
					errs = append(errs, err)
				}
			}
		}
		seen = append(seen, head.Kind)
	}
	if len(seen) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no manifests on stdin"))
	}
	return seen, errors.Join(errs...)
}

// split cuts a YAML stream into its documents, dropping empty ones.
func split(r io.Reader) ([][]byte, error) {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if len(bytes.TrimSpace(cur.Bytes())) > 0 {
			docs = append(docs, bytes.Clone(cur.Bytes()))
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "---") {
			flush()
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "#") && cur.Len() == 0 {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	return docs, sc.Err()
}
