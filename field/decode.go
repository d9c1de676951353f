package field

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Decode decodes the JSON object raw onto dst, a pointer to a struct holding
// the defaults, so that parameters left out keep them. Empty input and null
// mean "all defaults". It refuses, as Errors located at the value at fault,
// every unknown name, value of the wrong type and null for a parameter that
// is not a pointer ("must be an integer, not null": null never means the
// default), or else malformed JSON or data after the object. It does not
// Check the values.
func Decode(raw []byte, dst any) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil
	}
	t := reflect.TypeOf(dst)
	if t.Kind() != reflect.Pointer {
		panic(fmt.Sprintf("field: Decode into a %T, want a pointer", dst))
	}
	if json.Valid(trimmed) {
		var errs Errors
		scan(&errs, "", t, trimmed)
		if len(errs) > 0 {
			return errs
		}
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
	return nil
}

// scan records, in document order, what encoding/json would refuse in the
// valid JSON raw decoded into a value of type t — unknown names and values
// of the wrong type — and the nulls it would silently skip, each at its JSON
// Pointer, which encoding/json does not give for array elements and nested
// names. A pointer field is an optional param, but the schema publishes none
// as nullable: leaving it out is how a client says "unset", so a null is
// refused there too rather than read as a second spelling of absence.
func scan(errs *Errors, path string, t reflect.Type, raw json.RawMessage) {
	if string(raw) == "null" {
		if t.Kind() != reflect.Interface {
			errs.Add(path, "must be %s, not null", jsonType(t))
		}
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		members, ok := objectMembers(raw)
		if !ok {
			errs.Add(path, "must be an object, got %s", jsonKind(raw))
			return
		}
		for _, m := range members {
			name, ft := fieldByJSONName(t, m.name)
			if ft == nil {
				errs.Add(Pointer(path, m.name), "unknown parameter")
				continue
			}
			scan(errs, Pointer(path, name), ft, m.value)
		}
	case reflect.Slice, reflect.Array:
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			errs.Add(path, "must be an array, got %s", jsonKind(raw))
			return
		}
		for i, x := range arr {
			scan(errs, path+"/"+strconv.Itoa(i), t.Elem(), x)
		}
	case reflect.Map, reflect.Interface:
	default:
		if json.Unmarshal(raw, reflect.New(t).Interface()) != nil {
			errs.Add(path, "must be %s, got %s", jsonType(t), jsonKind(raw))
		}
	}
}

// member is a name and value of a JSON object.
type member struct {
	name  string
	value json.RawMessage
}

// objectMembers returns the members of the JSON object raw in document
// order, or false if raw is not an object.
func objectMembers(raw json.RawMessage) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, member{name, v})
	}
	return out, true
}

// jsonKind describes a JSON value as encoding/json's errors do: "string",
// "number 1.5", "bool", "array" or "object".
func jsonKind(raw json.RawMessage) string {
	switch c := raw[0]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "bool"
	default:
		return "number " + string(raw)
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
		_, t = fieldByJSONName(t, seg)
	}
	return "/" + strings.Join(out, "/")
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// fieldByJSONName returns the JSON name and the type of the field of struct
// t (or of a struct it embeds) that the key name selects, or a nil type. Like
// encoding/json, it prefers an exact match and otherwise matches without
// regard to case ("N" selects the field n).
func fieldByJSONName(t reflect.Type, name string) (string, reflect.Type) {
	if n, ft := findField(t, name, false); ft != nil {
		return n, ft
	}
	return findField(t, name, true)
}

func findField(t reflect.Type, name string, fold bool) (string, reflect.Type) {
	match := func(n string) bool { return n == name || fold && strings.EqualFold(n, name) }
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch n := jsonName(f); {
		case n == "-":
		case match(n):
			return n, f.Type
		case n == "" && !f.Anonymous && match(f.Name):
			return f.Name, f.Type
		case n == "" && f.Anonymous:
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if n, found := findField(ft, name, fold); found != nil {
					return n, found
				}
			}
		}
	}
	return "", nil
}
