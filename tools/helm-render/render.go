package main

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"gopkg.in/yaml.v2"
)

type options struct {
	releaseName, chartDir, namespace, kubeVersion string
	valueFiles, sets                              []string
}

// files is .Files: the chart's non-template files, read by path relative to the chart root.
type files map[string][]byte

func (f files) Get(name string) string      { return string(f[name]) }
func (f files) GetBytes(name string) []byte { return f[name] }

type manifest struct {
	source, content, kind string
	order                 int
}

// installOrder is Helm's releaseutil.InstallOrder: `helm template` prints manifests in this kind order.
var installOrder = []string{"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
	"ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
	"Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
	"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}

var docSplit = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

func renderChart(o options) (string, error) {
	meta, err := readChartMeta(filepath.Join(o.chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	values, err := readValuesFile(filepath.Join(o.chartDir, "values.yaml"))
	if err != nil {
		return "", err
	}
	for _, vf := range o.valueFiles {
		extra, err := readValuesFile(vf)
		if err != nil {
			return "", err
		}
		values = mergeValues(values, extra)
	}
	for _, s := range o.sets {
		if err := applySet(values, s); err != nil {
			return "", err
		}
	}
	chartFiles, templates, err := loadChartFiles(o.chartDir)
	if err != nil {
		return "", err
	}
	name, _ := meta["Name"].(string)
	top := map[string]interface{}{
		"Values":       values,
		"Chart":        meta,
		"Files":        chartFiles,
		"Capabilities": capabilities(o.kubeVersion),
		"Release": map[string]interface{}{
			"Name": o.releaseName, "Namespace": o.namespace, "Revision": 1,
			"IsInstall": true, "IsUpgrade": false, "Service": "Helm",
		},
	}
	rendered, err := execute(name, templates, top)
	if err != nil {
		return "", err
	}
	return printManifests(rendered)
}

func readChartMeta(p string) (map[string]interface{}, error) {
	raw, err := readValuesFile(p)
	if err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	if raw["name"] == nil || raw["version"] == nil {
		return nil, fmt.Errorf("%s: name and version are required", p)
	}
	// .Chart fields are Go-style (chart.Metadata): apiVersion -> APIVersion, appVersion -> AppVersion.
	meta := map[string]interface{}{}
	for k, v := range raw {
		key := strings.ToUpper(k[:1]) + k[1:]
		if k == "apiVersion" {
			key = "APIVersion"
		}
		meta[key] = v
	}
	return meta, nil
}

func capabilities(kubeVersion string) map[string]interface{} {
	v := strings.TrimPrefix(kubeVersion, "v")
	parts := strings.SplitN(v, ".", 3)
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	return map[string]interface{}{
		"KubeVersion": map[string]interface{}{
			"Version": "v" + v, "GitVersion": "v" + v, "Major": parts[0], "Minor": parts[1],
		},
		"APIVersions": apiVersions{},
		"HelmVersion": map[string]interface{}{"Version": "v3.15.0"},
	}
}

// apiVersions answers .Capabilities.APIVersions.Has like `helm template` without a cluster: only the
// built-in v1 groups are known.
type apiVersions struct{}

func (apiVersions) Has(v string) bool {
	for _, known := range []string{"v1", "apps/v1", "policy/v1", "rbac.authorization.k8s.io/v1",
		"apiextensions.k8s.io/v1", "admissionregistration.k8s.io/v1", "coordination.k8s.io/v1"} {
		if v == known || strings.HasPrefix(v, known+"/") {
			return true
		}
	}
	return false
}

func loadChartFiles(dir string) (files, map[string]string, error) {
	chartFiles := files{}
	templates := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			templates[rel] = string(data)
		} else if rel != "Chart.yaml" && rel != "values.yaml" {
			chartFiles[rel] = data
		}
		return nil
	})
	return chartFiles, templates, err
}

// execute parses every template into one set (so defines are shared) and runs the non-partials.
func execute(chart string, templates map[string]string, top map[string]interface{}) (map[string]string, error) {
	names := make([]string, 0, len(templates))
	for n := range templates {
		names = append(names, n)
	}
	sort.Strings(names)
	t := template.New("gotpl").Option("missingkey=zero")
	t.Funcs(funcMap(t, map[string]int{}))
	for _, n := range names {
		if _, err := t.New(path.Join(chart, n)).Parse(templates[n]); err != nil {
			return nil, fmt.Errorf("parse error in %s: %w", n, err)
		}
	}
	out := map[string]string{}
	for _, n := range names {
		if strings.HasPrefix(path.Base(n), "_") || path.Ext(n) == ".txt" {
			continue
		}
		full := path.Join(chart, n)
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{"Name": full, "BasePath": path.Join(chart, "templates")}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, full, data); err != nil {
			return nil, fmt.Errorf("render error in %s: %w", n, err)
		}
		out[full] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}

func printManifests(rendered map[string]string) (string, error) {
	var all []manifest
	sources := make([]string, 0, len(rendered))
	for s := range rendered {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	for _, src := range sources {
		for _, doc := range docSplit.Split(rendered[src], -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var head struct {
				Kind string `yaml:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				return "", fmt.Errorf("YAML parse error on %s: %w", src, err)
			}
			all = append(all, manifest{source: src, content: strings.TrimSpace(doc), kind: head.Kind, order: kindRank(head.Kind)})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].order != all[j].order {
			return all[i].order < all[j].order
		}
		if all[i].order == len(installOrder) {
			return all[i].kind < all[j].kind
		}
		return false
	})
	var b strings.Builder
	for _, m := range all {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.source, m.content)
	}
	return b.String(), nil
}

func kindRank(kind string) int {
	for i, k := range installOrder {
		if k == kind {
			return i
		}
	}
	return len(installOrder)
}
