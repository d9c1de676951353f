package field

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one problem with a value. Path is a JSON Pointer in JSON names
// relative to the object checked ("/n"; "" is the object itself), and Message
// says what is wrong in words a user acts on ("must be between 8 and 8192,
// got 4").
type Error struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// String returns "path: message", or the message alone at the root.
func (e Error) String() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// Errors lists problems with values. It is the error returned by Check and
// Decode and by the Validate methods of Eddy's numerical packages; an empty
// list is no error (see Err).
type Errors []Error

// Error returns the problems as "path: message", separated by "; ".
func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, "; ")
}

// Permanent reports that the error repeats when the same values are given
// again, so that a job failing with it is not retried.
func (es Errors) Permanent() bool { return true }

// Add records a problem with the value at path.
func (es *Errors) Add(path, format string, args ...any) {
	*es = append(*es, Error{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Append records the problems of err: the Errors in its chain, or else its
// text as a problem with the object itself. A nil err adds nothing.
func (es *Errors) Append(err error) {
	if err == nil {
		return
	}
	var found Errors
	if errors.As(err, &found) {
		*es = append(*es, found...)
		return
	}
	*es = append(*es, Error{Message: err.Error()})
}

// Err returns es as an error, or nil when it is empty: a nil Errors stored in
// an error interface would not compare equal to nil.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Prefix returns a copy of es with prefix (a JSON Pointer, "/params")
// put before every path, to locate the problems in an enclosing object.
func (es Errors) Prefix(prefix string) Errors {
	if es == nil {
		return nil
	}
	out := make(Errors, len(es))
	for i, e := range es {
		out[i] = Error{Path: prefix + e.Path, Message: e.Message}
	}
	return out
}

// Has reports whether es holds a problem at path.
func (es Errors) Has(path string) bool {
	for _, e := range es {
		if e.Path == path {
			return true
		}
	}
	return false
}

// Pointer returns the JSON Pointer of the member name of the object at
// parent, escaping "~" and "/" as RFC 6901 requires.
func Pointer(parent, name string) string {
	name = strings.ReplaceAll(name, "~", "~0")
	return parent + "/" + strings.ReplaceAll(name, "/", "~1")
}
