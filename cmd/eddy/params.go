package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// listFlag collects the values of a repeatable flag (-p, -i).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// buildParams merges the params of a submission, later sources overriding earlier
// ones: the JSON object in file (or standard input for "-"), then the JSON object
// text, then each key=value pair. A value is taken as JSON when it parses as JSON
// (numbers, true/false, null, arrays, objects, quoted strings) and as a string
// otherwise; a number, boolean or null is taken as its text when asString
// (if not nil) says the key's param is a string ("boundary=0" for an
// expression). A dotted key ("a.b=1") sets a field of a nested object.
func buildParams(file, text string, pairs []string, stdin io.Reader, asString func(key string) bool) (json.RawMessage, error) {
	params := map[string]any{}
	if file != "" {
		var (
			b   []byte
			err error
		)
		if file == "-" {
			b, err = io.ReadAll(stdin)
		} else {
			b, err = os.ReadFile(file)
		}
		if err != nil {
			return nil, fmt.Errorf("--params-file: %v", err)
		}
		if err := mergeObject(params, b); err != nil {
			return nil, fmt.Errorf("--params-file %s: %v", file, err)
		}
	}
	if text != "" {
		if err := mergeObject(params, []byte(text)); err != nil {
			return nil, fmt.Errorf("--params: %v", err)
		}
	}
	for _, p := range pairs {
		key, value, ok := strings.Cut(p, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("-p %q: want key=value", p)
		}
		v := paramValue(value)
		if asString != nil && isScalar(v) && asString(key) {
			v, _ = json.Marshal(value)
		}
		if err := setPath(params, key, v); err != nil {
			return nil, fmt.Errorf("-p %q: %v", p, err)
		}
	}
	return json.Marshal(params)
}

// paramValue is value as JSON if it is JSON, else value as a JSON string.
func paramValue(value string) json.RawMessage {
	if t := strings.TrimSpace(value); t != "" && json.Valid([]byte(t)) {
		return json.RawMessage(t)
	}
	b, _ := json.Marshal(value)
	return b
}

// isScalar reports whether v (from paramValue) is a JSON number, boolean or
// null: what a string param takes as its text instead.
func isScalar(v json.RawMessage) bool {
	return len(v) > 0 && v[0] != '"' && v[0] != '[' && v[0] != '{'
}

// scalarPairs reports whether a key=value pair's value would be sent as a
// JSON number, boolean or null: the pairs for which a string param's schema
// is worth asking.
func scalarPairs(pairs []string) bool {
	for _, p := range pairs {
		_, value, _ := strings.Cut(p, "=")
		if isScalar(paramValue(value)) {
			return true
		}
	}
	return false
}

// stringParam returns, for a kind's params schema (JSON Schema), whether the
// param at a dotted key is a string and nothing else: then a value such as 0
// or true given with -p is meant as its text.
func stringParam(schema map[string]any) func(key string) bool {
	return func(key string) bool {
		node := schema
		for _, part := range strings.Split(key, ".") {
			props, _ := node["properties"].(map[string]any)
			next, ok := props[part].(map[string]any)
			if !ok {
				return false
			}
			node = next
		}
		switch t := node["type"].(type) {
		case string:
			return t == "string"
		case []any:
			str := false
			for _, x := range t {
				switch x {
				case "string":
					str = true
				case "number", "integer", "boolean":
					return false
				}
			}
			return str
		}
		return false
	}
}

// mergeObject decodes a JSON object (numbers kept exactly as written) and merges
// it into dst, nested objects field by field.
func mergeObject(dst map[string]any, b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var src map[string]any
	if err := dec.Decode(&src); err != nil {
		return fmt.Errorf("not a JSON object: %v", err)
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON object")
	}
	if src == nil {
		return fmt.Errorf("not a JSON object")
	}
	mergeInto(dst, src)
	return nil
}

func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sv, ok := v.(map[string]any); ok {
			if dv, ok := dst[k].(map[string]any); ok {
				mergeInto(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
}

// setPath sets the dotted key in m, creating nested objects on the way.
func setPath(m map[string]any, key string, v json.RawMessage) error {
	parts := strings.Split(key, ".")
	for i, part := range parts[:len(parts)-1] {
		if part == "" {
			return fmt.Errorf("empty name in key %q", key)
		}
		next, ok := m[part].(map[string]any)
		if !ok {
			if _, exists := m[part]; exists {
				return fmt.Errorf("%s is not an object", strings.Join(parts[:i+1], "."))
			}
			next = map[string]any{}
			m[part] = next
		}
		m = next
	}
	last := parts[len(parts)-1]
	if last == "" {
		return fmt.Errorf("empty name in key %q", key)
	}
	m[last] = v
	return nil
}

// buildInputs turns name=id pairs into the inputs map of a submission.
func buildInputs(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	in := make(map[string]string, len(pairs))
	for _, p := range pairs {
		name, id, ok := strings.Cut(p, "=")
		if !ok || name == "" || id == "" {
			return nil, fmt.Errorf("-i %q: want name=upload_or_job_id", p)
		}
		if _, dup := in[name]; dup {
			return nil, fmt.Errorf("-i: input %q given twice", name)
		}
		in[name] = id
	}
	return in, nil
}
