package jobs

import (
	"encoding/json"

	"eddy/field"
)

// FieldError is one problem with a request, located by a JSON Pointer into the
// request body ("/params/n"). It is field.Error, the one field-error type of
// every package.
type FieldError = field.Error

// ValidationError lists what is wrong with a submitted job; the API turns it
// into a 422 problem with an errors array. It is field.Errors.
type ValidationError = field.Errors

// Checker collects the problems that a params struct's Validate finds among
// its fields taken together; each field on its own has been checked against
// its tags (field.Check) before. Paths are relative to the params object
// ("/n"); the service prefixes "/params".
type Checker struct{ errs field.Errors }

// Fail records a problem with the field at path.
func (c *Checker) Fail(path, format string, args ...any) {
	c.errs.Add(path, format, args...)
}

// Add records the problems of err, the error of a library's Validate: its
// field.Errors, or else its text as a problem with the params object.
func (c *Checker) Add(err error) { c.errs.Append(err) }

// Err returns the collected errors, or nil.
func (c *Checker) Err() error { return c.errs.Err() }

// decodeParams decodes raw JSON onto dst (which holds the defaults) and checks
// every field against its declaration (field.Decode, field.Check).
func decodeParams(raw json.RawMessage, dst any) error {
	if err := field.Decode(raw, dst); err != nil {
		return err
	}
	return field.Check(dst).Err()
}

// DecodeError describes an encoding/json decoding error of a request body as a
// field error with the offending path.
func DecodeError(err error) FieldError { return field.FromJSON(err) }
