package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// FieldError is one problem with a request, located by a JSON Pointer into the
// request body ("/params/n").
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// ValidationError lists what is wrong with a submitted job. The API turns it into a
// 422 problem with an errors array.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Path + ": " + e.Message
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// Checker collects field errors of a params struct. Paths are relative to the
// params object ("/n"); the service prefixes "/params".
type Checker struct{ errs ValidationError }

// Fail records a problem with the field at path.
func (c *Checker) Fail(path, format string, args ...any) {
	c.errs = append(c.errs, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Int checks lo ≤ v ≤ hi.
func (c *Checker) Int(path string, v, lo, hi int) {
	if v < lo || v > hi {
		c.Fail(path, "must be between %d and %d, got %d", lo, hi, v)
	}
}

// Float checks lo ≤ v ≤ hi and that v is finite.
func (c *Checker) Float(path string, v, lo, hi float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
		c.Fail(path, "must be between %g and %g, got %g", lo, hi, v)
	}
}

// Positive checks 0 < v ≤ hi and that v is finite.
func (c *Checker) Positive(path string, v, hi float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || v > hi {
		c.Fail(path, "must be positive and at most %g, got %g", hi, v)
	}
}

// OneOf checks that v is one of the allowed values.
func (c *Checker) OneOf(path, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.Fail(path, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
}

// Err returns the collected errors, or nil.
func (c *Checker) Err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}

// decodeParams decodes raw JSON onto dst (which holds the defaults), rejecting
// unknown fields, wrong types and trailing data with the offending path.
func decodeParams(raw json.RawMessage, dst any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		fe := jsonFieldError("", err)
		fe.Path = jsonPointer(reflect.TypeOf(dst), fe.Path)
		return ValidationError{fe}
	}
	if _, err := dec.Token(); err != io.EOF {
		return ValidationError{{Path: "", Message: "unexpected data after the params object"}}
	}
	return nil
}

// jsonFieldError turns an encoding/json error into a FieldError under prefix.
func jsonFieldError(prefix string, err error) FieldError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		path := prefix
		if typeErr.Field != "" {
			path += "/" + strings.ReplaceAll(typeErr.Field, ".", "/")
		}
		return FieldError{Path: path, Message: fmt.Sprintf("must be %s, got %s", jsonTypeName(typeErr.Type), typeErr.Value)}
	case errors.As(err, &syntaxErr):
		return FieldError{Path: prefix, Message: fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, err)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return FieldError{Path: prefix + "/" + name, Message: "unknown parameter"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return FieldError{Path: prefix, Message: "truncated JSON"}
	default:
		return FieldError{Path: prefix, Message: err.Error()}
	}
}

// jsonPointer rewrites a path built from encoding/json's dotted field path, which
// names embedded structs by their Go type ("/Config/samples"), into the JSON
// Pointer of the request ("/samples"): a segment naming an embedded struct
// without a json name of its own is dropped.
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
// embeds) that JSON calls name, or nil.
func fieldByJSONName(t reflect.Type, name string) reflect.Type {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch n := jsonName(f); {
		case n == name, n == "" && f.Name == name:
			return f.Type
		case n == "" && f.Anonymous:
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if found := fieldByJSONName(ft, name); found != nil {
					return found
				}
			}
		}
	}
	return nil
}

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

// Schema returns the JSON Schema (2020-12) of a params struct, built from its json
// tags, its default values and the tags doc:"…", enum:"a|b", min:"…", max:"…".
func Schema(defaults any) map[string]any {
	v := reflect.ValueOf(defaults)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	return structSchema(v)
}

func structSchema(v reflect.Value) map[string]any {
	t := v.Type()
	props := map[string]any{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct && name == "" {
			// An embedded struct's fields are promoted, as encoding/json does.
			for k, v := range structSchema(v.Field(i))["properties"].(map[string]any) {
				props[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = fieldSchema(f, v.Field(i))
	}
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
}

func fieldSchema(f reflect.StructField, v reflect.Value) map[string]any {
	s := map[string]any{}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s["type"] = "integer"
	case reflect.Float32, reflect.Float64:
		s["type"] = "number"
	case reflect.String:
		s["type"] = "string"
	case reflect.Bool:
		s["type"] = "boolean"
	case reflect.Slice, reflect.Array:
		s["type"] = "array"
		s["items"] = fieldSchema(reflect.StructField{}, reflect.Zero(v.Type().Elem()))
	case reflect.Struct:
		return structSchema(v)
	case reflect.Map:
		s["type"] = "object"
	}
	if f.Name == "" {
		return s
	}
	if d := f.Tag.Get("doc"); d != "" {
		s["description"] = d
	}
	if e := f.Tag.Get("enum"); e != "" {
		var vals []any
		for _, x := range strings.Split(e, "|") {
			if n, err := strconv.Atoi(x); err == nil && s["type"] == "integer" {
				vals = append(vals, n)
			} else {
				vals = append(vals, x)
			}
		}
		s["enum"] = vals
	}
	for _, k := range []string{"min", "max"} {
		if x := f.Tag.Get(k); x != "" {
			if num, err := strconv.ParseFloat(x, 64); err == nil {
				s[map[string]string{"min": "minimum", "max": "maximum"}[k]] = num
			}
		}
	}
	if !v.IsZero() || v.Kind() == reflect.Bool || v.Kind() == reflect.Int || v.Kind() == reflect.Float64 {
		s["default"] = v.Interface()
	}
	return s
}

// DecodeError describes an encoding/json decoding error of a request body as a
// field error with the offending path.
func DecodeError(err error) FieldError { return jsonFieldError("", err) }

// FailFrom records the field errors found in err, a library's validation error
// (possibly joined with errors.Join): field maps one error to its params field and
// message; errors it does not recognise are recorded against the params object.
func (c *Checker) FailFrom(err error, field func(error) (name, msg string, ok bool)) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			c.FailFrom(e, field)
		}
		return
	}
	if name, msg, ok := field(err); ok {
		c.Fail("/"+name, "%s", msg)
		return
	}
	c.Fail("", "%v", err)
}
