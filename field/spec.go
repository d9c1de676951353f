package field

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// spec is the declaration of one parameter, read from its struct tags.
type spec struct {
	name      string // JSON name
	omitempty bool   // json omitempty: the zero value means not given
	optional  bool   // omitempty on a string: the empty string passes the enum
	doc       string
	min, max  bound // inclusive bounds
	gt, lt    bound // exclusive bounds
	enum      []string
	required  bool
	ref       []string     // what a reference accepts, see parseRef
	datasets  []RefDataset // what a referenced file must hold
	format    string       // of a string that is not a closed set
}

// bound is a numeric bound as written in its tag and as a number.
type bound struct {
	set  bool
	text string
	v    float64
}

// param is a parameter of a struct type: its declaration and where it is.
type param struct {
	spec
	index []int // as for reflect.Value.FieldByIndex
	typ   reflect.Type
}

var paramCache sync.Map // reflect.Type → []param

// params returns the parameters of struct type t in declaration order, the
// fields of embedded structs without a JSON name of their own promoted as
// encoding/json promotes them. A malformed tag is a programming error and
// panics.
func params(t reflect.Type) []param {
	if ps, ok := paramCache.Load(t); ok {
		return ps.([]param)
	}
	var ps []param
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				panic(fmt.Sprintf("field: %v embeds a pointer %v; embed the struct", t, ft))
			}
			if ft.Kind() == reflect.Struct {
				for _, p := range params(ft) {
					p.index = append([]int{i}, p.index...)
					ps = append(ps, p)
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s, err := parseSpec(name, opts, f)
		if err != nil {
			panic(fmt.Sprintf("field: %v.%s: %v", t, f.Name, err))
		}
		ps = append(ps, param{spec: s, index: []int{i}, typ: f.Type})
	}
	paramCache.Store(t, ps)
	return ps
}

func parseSpec(name, opts string, f reflect.StructField) (spec, error) {
	s := spec{name: name, doc: f.Tag.Get("doc")}
	elem := f.Type
	for elem.Kind() == reflect.Slice || elem.Kind() == reflect.Array || elem.Kind() == reflect.Pointer {
		elem = elem.Elem()
	}
	s.omitempty = strings.Contains(","+opts+",", ",omitempty,")
	s.optional = s.omitempty && elem.Kind() == reflect.String
	for _, b := range []struct {
		tag string
		dst *bound
	}{{"min", &s.min}, {"max", &s.max}, {"gt", &s.gt}, {"lt", &s.lt}} {
		text, ok := f.Tag.Lookup(b.tag)
		if !ok {
			continue
		}
		if !isNumber(elem) {
			return s, fmt.Errorf("tag %s on a %v", b.tag, f.Type)
		}
		v, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return s, fmt.Errorf("tag %s:%q is not a finite number", b.tag, text)
		}
		if isInteger(elem) && v != math.Trunc(v) {
			return s, fmt.Errorf("tag %s:%q on an integer", b.tag, text)
		}
		*b.dst = bound{set: true, text: text, v: v}
	}
	if s.min.set && s.gt.set || s.max.set && s.lt.set {
		return s, fmt.Errorf("both an inclusive and an exclusive bound on one side")
	}
	if e, ok := f.Tag.Lookup("enum"); ok {
		s.enum = strings.Split(e, "|")
		if isInteger(elem) {
			for _, x := range s.enum {
				if _, err := strconv.ParseInt(x, 10, 64); err != nil {
					return s, fmt.Errorf("enum value %q of an integer", x)
				}
			}
		} else if elem.Kind() != reflect.String {
			return s, fmt.Errorf("enum on a %v", f.Type)
		}
	}
	switch r := f.Tag.Get("required"); r {
	case "", "false":
	case "true":
		s.required = true
	default:
		return s, fmt.Errorf("required:%q, want true or false", r)
	}
	if fm, ok := f.Tag.Lookup("format"); ok {
		if elem.Kind() != reflect.String || fm == "" {
			return s, fmt.Errorf("format:%q on a %v", fm, f.Type)
		}
		s.format = fm
	}
	if err := parseRef(&s, f); err != nil {
		return s, err
	}
	return s, nil
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

func isNumber(t reflect.Type) bool {
	return isInteger(t) || t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64
}

// jsonType names the JSON type that decodes into t, with its article, for
// messages ("an integer").
func jsonType(t reflect.Type) string {
	switch {
	case isInteger(t):
		return "an integer"
	case isNumber(t):
		return "a number"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonType(t.Elem())
	}
	return "an object"
}
