package field

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Check checks every parameter of the struct v (or pointer to one) against its
// tags — required, enum, the bounds, finite floating-point values — and those
// of nested structs and of the elements of arrays, and returns the problems,
// or nil. It panics if v is not a struct or a pointer to one.
func Check(v any) Errors {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		panic(fmt.Sprintf("field: Check of a %T, want a struct", v))
	}
	var errs Errors
	checkStruct(&errs, "", rv)
	return errs
}

func checkStruct(errs *Errors, prefix string, v reflect.Value) {
	for _, p := range params(v.Type()) {
		checkValue(errs, Pointer(prefix, p.name), &p.spec, v.FieldByIndex(p.index))
	}
}

func checkValue(errs *Errors, path string, s *spec, v reflect.Value) {
	if s.required && v.IsZero() {
		if isNumber(v.Type()) && (s.min.set || s.gt.set || s.max.set || s.lt.set) {
			errs.Add(path, "is required and must be %s", s.rangeText())
		} else {
			errs.Add(path, "is required")
		}
		return
	}
	switch {
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			checkValue(errs, path, s, v.Elem())
		}
	case v.Kind() == reflect.Struct:
		checkStruct(errs, path, v)
	case v.Kind() == reflect.Slice || v.Kind() == reflect.Array:
		elem := *s
		elem.required = false
		for i := range v.Len() {
			checkValue(errs, path+"/"+strconv.Itoa(i), &elem, v.Index(i))
		}
	case v.Kind() == reflect.String:
		if len(s.enum) > 0 && !(s.optional && v.String() == "") && !slices.Contains(s.enum, v.String()) {
			errs.Add(path, "must be one of %s, got %q", strings.Join(s.enum, ", "), v.String())
		}
	case isNumber(v.Type()):
		checkNumber(errs, path, s, v)
	}
}

func checkNumber(errs *Errors, path string, s *spec, v reflect.Value) {
	var x float64
	var text string
	switch {
	case v.CanInt():
		x, text = float64(v.Int()), strconv.FormatInt(v.Int(), 10)
	case v.CanUint():
		x, text = float64(v.Uint()), strconv.FormatUint(v.Uint(), 10)
	default:
		x = v.Float()
		text = strconv.FormatFloat(x, 'g', -1, 64)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			errs.Add(path, "must be a finite number, got %s", text)
			return
		}
	}
	if len(s.enum) > 0 {
		if !slices.Contains(s.enum, text) {
			errs.Add(path, "must be one of %s, got %s", strings.Join(s.enum, ", "), text)
		}
		return
	}
	if s.min.set && x < s.min.v || s.gt.set && x <= s.gt.v || s.max.set && x > s.max.v || s.lt.set && x >= s.lt.v {
		errs.Add(path, "must be %s, got %s", s.rangeText(), text)
	}
}

// rangeText describes the bounds of s: "between 8 and 8192", "> 0 and ≤ 1",
// "≥ 0".
func (s *spec) rangeText() string {
	if s.min.set && s.max.set {
		return "between " + s.min.text + " and " + s.max.text
	}
	var parts []string
	switch {
	case s.min.set:
		parts = append(parts, "≥ "+s.min.text)
	case s.gt.set:
		parts = append(parts, "> "+s.gt.text)
	}
	switch {
	case s.max.set:
		parts = append(parts, "≤ "+s.max.text)
	case s.lt.set:
		parts = append(parts, "< "+s.lt.text)
	}
	return strings.Join(parts, " and ")
}
