package field

import (
	"fmt"
	"reflect"
	"strconv"
)

// Schema returns the JSON Schema (2020-12) of the struct v (or pointer to
// one): an object with a property per parameter — type, description, enum,
// minimum/maximum or exclusiveMinimum/exclusiveMaximum, the reference marker
// — and the list of required ones. The values of v are published as the
// defaults, except for required parameters and for parameters whose json
// tag has omitempty and whose value is the zero value ("not given"). Unknown properties are refused, as Decode refuses
// them. It panics if v is not a struct or a pointer to one.
func Schema(v any) map[string]any {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		panic(fmt.Sprintf("field: Schema of a %T, want a struct", v))
	}
	return objectSchema(rv)
}

func objectSchema(v reflect.Value) map[string]any {
	props := map[string]any{}
	var required []string
	for _, p := range params(v.Type()) {
		fv := v.FieldByIndex(p.index)
		s := valueSchema(&p.spec, p.typ, fv)
		if p.doc != "" {
			s["description"] = p.doc
		}
		if p.required {
			required = append(required, p.name)
		} else if !(fv.IsZero() && p.omitempty) && fv.Kind() != reflect.Struct {
			if fv.Kind() == reflect.Slice && fv.IsNil() {
				s["default"] = []any{}
			} else {
				s["default"] = fv.Interface()
			}
		}
		props[p.name] = s
	}
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// valueSchema is the schema of a value of type t declared by s; v, when valid,
// is its default (used for nested structs).
func valueSchema(s *spec, t reflect.Type, v reflect.Value) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
		if v.IsValid() {
			if v.IsNil() {
				v = reflect.Value{}
			} else {
				v = v.Elem()
			}
		}
	}
	out := map[string]any{}
	switch {
	case isInteger(t):
		out["type"] = "integer"
	case isNumber(t):
		out["type"] = "number"
	case t.Kind() == reflect.String:
		out["type"] = "string"
	case t.Kind() == reflect.Bool:
		out["type"] = "boolean"
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		out["type"] = "array"
		out["items"] = valueSchema(s, t.Elem(), reflect.Value{})
		return out
	case t.Kind() == reflect.Struct:
		if !v.IsValid() {
			v = reflect.New(t).Elem()
		}
		return objectSchema(v)
	default:
		out["type"] = "object"
	}
	if len(s.enum) > 0 {
		vals := make([]any, len(s.enum))
		for i, x := range s.enum {
			vals[i] = x
			if n, err := strconv.Atoi(x); err == nil && isInteger(t) {
				vals[i] = n
			}
		}
		out["enum"] = vals
	}
	for _, b := range []struct {
		key string
		b   bound
	}{{"minimum", s.min}, {"maximum", s.max}, {"exclusiveMinimum", s.gt}, {"exclusiveMaximum", s.lt}} {
		if b.b.set {
			out[b.key] = b.b.v
		}
	}
	if s.format != "" {
		out["format"] = s.format
	}
	if len(s.ref) > 0 {
		out["format"] = "eddy-ref"
		out["x-eddy-ref"] = refSchema(s)
	}
	return out
}
