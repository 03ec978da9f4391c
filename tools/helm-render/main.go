// Command helm-render renders a Helm chart the way `helm template` does, for machines without the helm
// binary: Go text/template with sprig's function map plus Helm's own functions (include, tpl, required,
// toYaml, fromYaml, toJson, fromJson, lookup) and the .Release/.Chart/.Capabilities/.Values/.Template/.Files
// objects. Values are read as Helm reads them (YAML -> JSON, so numbers are float64), merged from
// values.yaml, each --values file and each --set, and printed manifests are sorted in Helm's install order.
//
// Usage: helm-render [--namespace NS] [--values FILE]... [--set k=v]... [--kube-version v1.30.0] NAME CHART
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var valueFiles, sets multiFlag
	namespace := flag.String("namespace", "default", "release namespace (.Release.Namespace)")
	flag.StringVar(namespace, "n", "default", "shorthand for --namespace")
	kubeVersion := flag.String("kube-version", "v1.30.0", "Kubernetes version for .Capabilities.KubeVersion")
	flag.Var(&valueFiles, "values", "values file merged over the chart's values.yaml (repeatable)")
	flag.Var(&valueFiles, "f", "shorthand for --values")
	flag.Var(&sets, "set", "key=value merged last (repeatable; a.b=c, comma separates pairs)")
	// Flags may follow the positionals, as with helm.
	var positional []string
	args := os.Args[1:]
	for {
		if err := flag.CommandLine.Parse(args); err != nil {
			os.Exit(2)
		}
		if flag.NArg() == 0 {
			break
		}
		positional = append(positional, flag.Arg(0))
		args = flag.Args()[1:]
	}
	if len(positional) != 2 {
		fmt.Fprintln(os.Stderr, "usage: helm-render [--namespace NS] [--values FILE]... [--set k=v]... NAME CHART")
		os.Exit(2)
	}
	out, err := renderChart(options{
		releaseName: positional[0],
		chartDir:    positional[1],
		namespace:   *namespace,
		kubeVersion: *kubeVersion,
		valueFiles:  valueFiles,
		sets:        sets,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	fmt.Print(out)
}
