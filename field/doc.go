// Package field declares parameters once and derives everything else from
// that declaration: the checks of each value, the JSON Schema that documents
// them and the strict decoding of JSON onto them. It also holds Eddy's one
// field-error type, Error, which locates a problem by a JSON Pointer
// (RFC 6901) in JSON names, relative to the object checked ("/n",
// "/outlier_bands/2").
//
// A parameter is an exported field of a struct, declared by its tags:
//
//	N    int     `json:"n" doc:"grid points per side" min:"8" max:"8192"`
//	Dt   float64 `json:"dt" doc:"time step, in time units" gt:"0" max:"1"`
//	Mode string  `json:"mode" doc:"…" enum:"fast|exact"`
//	Cube string  `json:"cube" doc:"…" required:"true" ref:"upload"`
//
// The tags are:
//
//   - json: the parameter's name, as encoding/json reads it. A string field
//     whose json tag has omitempty is optional: its empty value means "not
//     given" and passes the enum check. Fields named "-" are not parameters.
//   - doc: the description a user reads: what the parameter does, its unit
//     and its effect.
//   - min, max: inclusive bounds of a number (of each element of an array of
//     numbers); gt, lt: exclusive bounds. Floating-point values must also be
//     finite.
//   - enum: the allowed values, separated by "|" (strings or integers).
//   - required: "true" if the parameter has no default: its zero value is
//     refused with "is required" and the schema lists it under required.
//   - ref: the parameter is the id of something stored by the service: the
//     entries, separated by "|", are "upload", "job" (the result of a job of
//     any kind) or "job:<kind>" (of a job of that kind only), as in
//     ref:"upload|job:navier_stokes.simulate". The schema marks it with
//     format "eddy-ref" and lists under "x-eddy-ref" what it accepts
//     ("accepts": ["upload", "navier_stokes.simulate"]) and the datasets it
//     needs. References returns them with their ids, for the service to
//     check at submit and to wait for the jobs they name.
//   - datasets: with ref, the arrays the referenced file must hold, separated
//     by ",", each a name with an optional ":rank" (datasets:"vorticity:4,t:1");
//     published as "datasets": [{"name": "vorticity", "rank": 4}, …].
//   - format: the JSON Schema format of a string that is not a closed set
//     ("eddy-expression" for a formula, "eddy-dataset" for the name of an
//     array in a file); it documents and does not check, which the code
//     that reads the value does.
//
// Check enforces the tags, Schema publishes them (with the values of the
// struct it is given as defaults), and Decode reads JSON onto a struct of
// defaults, refusing unknown names, wrong types and nulls. Checks that
// involve several parameters stay in the code of the package that owns them,
// and report through Errors too.
package field
