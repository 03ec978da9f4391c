package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v2"
)

// yamlToJSONValue decodes YAML the way sigs.k8s.io/yaml (used by Helm) does: through JSON, so maps have
// string keys and every number is a float64.
func yamlToJSONValue(data []byte) (interface{}, error) {
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	conv, err := stringKeys(raw)
	if err != nil {
		return nil, err
	}
	j, err := json.Marshal(conv)
	if err != nil {
		return nil, err
	}
	var out interface{}
	if err := json.Unmarshal(j, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func stringKeys(v interface{}) (interface{}, error) {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, val := range t {
			c, err := stringKeys(val)
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = c
		}
		return m, nil
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, val := range t {
			c, err := stringKeys(val)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	default:
		return v, nil
	}
}

func readValuesFile(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := yamlToJSONValue(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if v == nil {
		return map[string]interface{}{}, nil
	}
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: values must be a YAML mapping", path)
	}
	return m, nil
}

// mergeValues overlays src onto dst as Helm's coalescing does: maps merge recursively, anything else
// replaces, and an explicit null deletes the key.
func mergeValues(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			dst[k] = mergeValues(dm, sm)
			continue
		}
		dst[k] = v
	}
	return dst
}

// applySet parses one --set argument (a.b=c,d=e) with Helm's scalar typing: integers become int64,
// true/false bools, null deletes; everything else is a string. List indexes are not supported.
func applySet(values map[string]interface{}, arg string) error {
	for _, pair := range strings.Split(arg, ",") {
		eq := strings.Index(pair, "=")
		if eq <= 0 {
			return fmt.Errorf("--set %q: want key=value", pair)
		}
		path := strings.Split(pair[:eq], ".")
		if strings.ContainsAny(pair[:eq], "[]") {
			return fmt.Errorf("--set %q: list indexes are not supported by helm-render", pair)
		}
		cur := values
		for _, p := range path[:len(path)-1] {
			next, ok := cur[p].(map[string]interface{})
			if !ok {
				next = map[string]interface{}{}
				cur[p] = next
			}
			cur = next
		}
		last := path[len(path)-1]
		raw := pair[eq+1:]
		if raw == "null" {
			delete(cur, last)
			continue
		}
		cur[last] = typedScalar(raw)
	}
	return nil
}

func typedScalar(raw string) interface{} {
	switch raw {
	case "true":
		return true
	case "false":
		return false
	}
	if i, err := strconv.ParseInt(raw, 10, 64); err == nil && (raw == "0" || !strings.HasPrefix(raw, "0")) {
		return i
	}
	return raw
}
