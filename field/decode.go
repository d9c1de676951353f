package field

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Decode decodes the JSON object raw onto dst, a pointer to a struct holding
// the defaults, so that parameters left out keep them. Empty input and null
// mean "all defaults". It refuses, as Errors located at the value at fault:
// malformed JSON, unknown names, values of the wrong type, null for a
// parameter that is not a pointer ("must be an integer, not null": null
// never means the default) and data after the object. It does not Check the
// values.
func Decode(raw []byte, dst any) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil
	}
	t := reflect.TypeOf(dst)
	if t.Kind() != reflect.Pointer {
		panic(fmt.Sprintf("field: Decode into a %T, want a pointer", dst))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		fe := FromJSON(err)
		fe.Path = jsonPointer(t, fe.Path)
		return Errors{fe}
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errors{{Message: "unexpected data after the params object"}}
	}
	var errs Errors
	nulls(&errs, "", t, trimmed)
	return errs.Err()
}

// nulls records every null in raw at a place of type t that is not a pointer
// or an interface, where encoding/json would silently keep the old value.
func nulls(errs *Errors, path string, t reflect.Type, raw json.RawMessage) {
	if string(raw) == "null" {
		if k := t.Kind(); k != reflect.Pointer && k != reflect.Interface {
			errs.Add(path, "must be %s, not null", jsonType(t))
		}
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return
		}
		names := make([]string, 0, len(obj))
		for name := range obj {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if ft := fieldByJSONName(t, name); ft != nil {
				nulls(errs, Pointer(path, name), ft, obj[name])
			}
		}
	case reflect.Slice, reflect.Array:
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			return
		}
		for i, x := range arr {
			nulls(errs, path+"/"+strconv.Itoa(i), t.Elem(), x)
		}
	}
}

// FromJSON describes an error of encoding/json as an Error located at the
// value at fault. The path is encoding/json's dotted field path turned into a
// pointer, which names embedded structs by their Go type; Decode rewrites it
// into JSON names.
func FromJSON(err error) Error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		path := ""
		if typeErr.Field != "" {
			path = "/" + strings.ReplaceAll(typeErr.Field, ".", "/")
		}
		return Error{Path: path, Message: fmt.Sprintf("must be %s, got %s", jsonType(typeErr.Type), typeErr.Value)}
	case errors.As(err, &syntaxErr):
		return Error{Message: fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, err)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return Error{Path: Pointer("", name), Message: "unknown parameter"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Error{Message: "truncated JSON"}
	default:
		return Error{Message: err.Error()}
	}
}

// jsonPointer rewrites a path built from encoding/json's dotted field path,
// which names embedded structs by their Go type ("/Config/samples"), into the
// JSON Pointer of the request ("/samples"): a segment naming an embedded
// struct without a json name of its own is dropped.
func jsonPointer(t reflect.Type, path string) string {
	if path == "" {
		return path
	}
	var out []string
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			out, t = append(out, seg), nil
			continue
		}
		if f, ok := t.FieldByName(seg); ok && f.Anonymous && jsonName(f) == "" {
			t = f.Type
			continue
		}
		out = append(out, seg)
		t = fieldByJSONName(t, seg)
	}
	return "/" + strings.Join(out, "/")
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// fieldByJSONName returns the type of the field of struct t (or of a struct it
// embeds) that JSON calls name, or nil. Like encoding/json, it prefers an
// exact match and otherwise matches without regard to case.
func fieldByJSONName(t reflect.Type, name string) reflect.Type {
	if ft := findField(t, name, false); ft != nil {
		return ft
	}
	return findField(t, name, true)
}

func findField(t reflect.Type, name string, fold bool) reflect.Type {
	match := func(n string) bool { return n == name || fold && strings.EqualFold(n, name) }
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch n := jsonName(f); {
		case n == "-":
		case match(n), n == "" && !f.Anonymous && match(f.Name):
			return f.Type
		case n == "" && f.Anonymous:
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if found := findField(ft, name, fold); found != nil {
					return found
				}
			}
		}
	}
	return nil
}
