package api

import (
	"net/http"
	"strings"

	"eddy/jobs"
)

// openapi serves the OpenAPI 3.1 description of the API, with every job kind's
// params schema.
func (s *server) openapi(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, OpenAPI())
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func jsonBody(schema map[string]any) map[string]any {
	return map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": schema}}}
}

func resp(desc string, schema map[string]any) map[string]any {
	out := map[string]any{"description": desc}
	if schema != nil {
		out["content"] = map[string]any{"application/json": map[string]any{"schema": schema}}
	}
	return out
}

func problems(codes ...string) map[string]any {
	out := map[string]any{}
	for _, c := range codes {
		out[c] = map[string]any{"description": http.StatusText(atoi(c)),
			"content": map[string]any{"application/problem+json": map[string]any{"schema": ref("Problem")}}}
	}
	return out
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// op describes an operation; every operation may answer a generic 500 whose
// problem carries only an error_id (the details are in the server's log).
func op(summary string, responses map[string]any, extra map[string]any) map[string]any {
	o := map[string]any{"summary": summary, "responses": merge(problems("500"), responses)}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

func merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

var compareJobs = map[string]any{"name": "jobs", "in": "query", "required": true, "description": "2 to 8 job ids of one kind, comma-separated",
	"schema": map[string]any{"type": "string"}}

// ownerParam lets an admin token list one owner's jobs; a user token lists
// its own whatever it asks.
var ownerParam = map[string]any{"name": "owner", "in": "query", "schema": map[string]any{"type": "string"},
	"description": "admin tokens: only this owner's jobs (default: every owner's); user tokens see their own jobs only, and naming another owner is a 400"}

var idParam = []any{map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}}

// OpenAPI returns the OpenAPI 3.1 document.
func OpenAPI() map[string]any {
	var submitVariants []any
	for _, k := range jobs.Kinds() {
		params := k.Schema()
		required := []string{"kind"}
		if _, ok := params["required"]; ok {
			required = append(required, "params") // a kind with required params cannot run on defaults
		}
		submitVariants = append(submitVariants, map[string]any{
			"type":     "object",
			"title":    k.Name(),
			"required": required,
			"properties": map[string]any{
				"kind":            map[string]any{"const": k.Name()},
				"params":          params,
				"inputs":          map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
				"idempotency_key": map[string]any{"type": "string", "maxLength": 200},
			},
			"additionalProperties": false,
		})
	}
	str := map[string]any{"type": "string"}
	nullable := func(t string) map[string]any { return map[string]any{"type": []string{t, "null"}} }
	schemas := map[string]any{
		"Problem": map[string]any{"type": "object", "properties": map[string]any{
			"type": str, "title": str, "status": map[string]any{"type": "integer"}, "detail": str,
			"error_id": map[string]any{"type": "string", "description": "names a server failure (5xx) in the server's log"},
			"errors": map[string]any{"type": "array", "items": map[string]any{"type": "object",
				"properties": map[string]any{"path": str, "message": str}}}}},
		"Progress": map[string]any{"type": []string{"object", "null"}, "properties": map[string]any{
			"fraction": map[string]any{"type": "number"}, "message": str,
			"metrics": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "number"}}}},
		"Job": map[string]any{"type": "object", "properties": map[string]any{
			"id": str, "kind": str,
			"owner":       map[string]any{"type": "string", "description": "the owner of the token that submitted the job (anonymous on an API that runs open)"},
			"state":       map[string]any{"enum": []string{"queued", "running", "succeeded", "failed", "cancelled"}},
			"params":      map[string]any{"type": "object"},
			"inputs":      map[string]any{"type": "object", "additionalProperties": str},
			"attempt":     map[string]any{"type": "integer"},
			"error":       nullable("string"),
			"progress":    ref("Progress"),
			"created_at":  map[string]any{"type": "string", "format": "date-time"},
			"started_at":  map[string]any{"type": []string{"string", "null"}, "format": "date-time"},
			"finished_at": map[string]any{"type": []string{"string", "null"}, "format": "date-time"},
			"result": map[string]any{"type": []string{"object", "null"}, "properties": map[string]any{
				"url": str, "bytes": map[string]any{"type": "integer"}, "sha256": str,
				"datasets": map[string]any{"type": "array", "items": str}, "metrics": map[string]any{"type": "object"}}},
			"warnings": map[string]any{"type": "array", "items": str,
				"description": "what a user should know about the result (a solver that did not converge, say); [] when none"},
			"waiting_for": map[string]any{"type": "array", "items": str,
				"description": "a queued job's unfinished parents: the jobs named by its params whose results it waits for; absent when none. If one fails or is cancelled, the job fails with an error starting parent_failed:"},
		}},
		"ProgressHistory": map[string]any{"type": "object", "properties": map[string]any{
			"progress": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
				"at": map[string]any{"type": "string", "format": "date-time"},
				"kind": map[string]any{"enum": []string{"progress", "stage", "warning"},
					"description": "progress: an update as stored while running (at most one per 250 ms; a long run's history is thinned to at most 10,000, evenly); stage and warning: events of the attempt, with the fraction reached"},
				"fraction": map[string]any{"type": "number"}, "message": str,
				"metrics": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "number"}}}}}}},
		"SubmitRequest": map[string]any{"oneOf": submitVariants},
		"CompareRow": map[string]any{"type": "object", "properties": map[string]any{
			"name": str, "values": map[string]any{"type": "array", "description": "one value per compared job, in order; null where a job has none"},
			"differs": map[string]any{"type": "boolean"}}},
		"Upload": map[string]any{"type": "object", "properties": map[string]any{
			"id": str, "filename": str, "format": map[string]any{"enum": []string{"hdf5", "mat", "envi", "png", "jpeg", "wav", "wlc"}},
			"bytes": map[string]any{"type": "integer"}, "sha256": str,
			"datasets": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
				"name": str, "shape": map[string]any{"type": "array", "items": map[string]any{"type": "integer"}}, "dtype": str}}},
			"created_at": map[string]any{"type": "string", "format": "date-time"}}},
	}
	paths := map[string]any{
		"/healthz": map[string]any{"get": op("Liveness", map[string]any{"200": resp("alive", nil)}, nil)},
		"/readyz":  map[string]any{"get": op("Readiness (database reachable)", merge(map[string]any{"200": resp("ready", nil)}, problems("503")), nil)},
		"/metrics": map[string]any{"get": op("Prometheus metrics; needs a token of scope admin (any request, when the API runs open)",
			merge(map[string]any{"200": map[string]any{"description": "text exposition format"}}, problems("401", "403")), nil)},
		"/openapi.json": map[string]any{"get": op("This document", map[string]any{"200": resp("OpenAPI 3.1", nil)}, nil)},
		"/v1/kinds": map[string]any{"get": op("Job kinds with their params schemas and outputs",
			map[string]any{"200": resp("kinds", map[string]any{"type": "object"})}, nil)},
		"/v1/jobs": map[string]any{
			"post": op("Submit a job", merge(map[string]any{
				"202": resp("queued; Location names the job", ref("Job")),
				"200": resp("an earlier job with the same idempotency_key", ref("Job"))}, problems("400", "409", "413", "422")),
				map[string]any{"requestBody": merge(map[string]any{"required": true}, jsonBody(ref("SubmitRequest")))}),
			"get": op("List jobs, newest first", merge(map[string]any{"200": resp("a page of jobs", map[string]any{
				"type": "object", "properties": map[string]any{"jobs": map[string]any{"type": "array", "items": ref("Job")},
					"next_cursor": nullable("string")}})}, problems("400")),
				map[string]any{"parameters": []any{
					map[string]any{"name": "kind", "in": "query", "schema": str},
					map[string]any{"name": "state", "in": "query", "schema": map[string]any{"enum": []string{"queued", "running", "succeeded", "failed", "cancelled"}}},
					map[string]any{"name": "limit", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
					map[string]any{"name": "cursor", "in": "query", "schema": str}, ownerParam}}),
		},
		"/v1/jobs/{id}": map[string]any{
			"get": op("Get a job", merge(map[string]any{"200": resp("the job", ref("Job"))}, problems("404")),
				map[string]any{"parameters": idParam}),
			"delete": op("Delete a job that has ended, and its result file; 409 while it is queued or running (cancel it first) or while a queued or running job references it",
				merge(map[string]any{"204": resp("deleted", nil)}, problems("404", "409")), map[string]any{"parameters": idParam})},
		"/v1/jobs/{id}/progress": map[string]any{"get": op("The progress history of the job's current attempt, for drawing a live curve",
			merge(map[string]any{"200": resp("entries in order", ref("ProgressHistory"))}, problems("404")),
			map[string]any{"parameters": idParam})},
		"/v1/jobs/{id}/cancel": map[string]any{"post": op("Cancel a queued or running job",
			merge(map[string]any{"202": resp("cancellation recorded", ref("Job"))}, problems("404", "409")), map[string]any{"parameters": idParam})},
		"/v1/jobs/{id}/events": map[string]any{"get": op("Server-sent events: one `job` event per change until final",
			merge(map[string]any{"200": map[string]any{"description": "event stream", "content": map[string]any{"text/event-stream": map[string]any{}}}}, problems("404", "429")),
			map[string]any{"parameters": idParam})},
		"/v1/jobs/{id}/result": map[string]any{"get": op("Download the result HDF5 (Range supported; X-Content-SHA256 header)",
			merge(map[string]any{"200": map[string]any{"description": "HDF5 file", "content": map[string]any{"application/x-hdf5": map[string]any{}}},
				"206": map[string]any{"description": "partial content"}}, problems("404", "409")), map[string]any{"parameters": idParam})},
		"/v1/events": map[string]any{"get": op("Server-sent events: one `job` event per change of any job (the live job list)",
			merge(map[string]any{"200": map[string]any{"description": "event stream", "content": map[string]any{"text/event-stream": map[string]any{}}}}, problems("400", "429")), map[string]any{"parameters": []any{ownerParam}})},
		"/v1/jobs/{id}/datasets": map[string]any{"get": op("The datasets of a succeeded job's result: name, shape, dtype, dims, units, url",
			merge(map[string]any{"200": resp("datasets", map[string]any{"type": "object"})}, problems("404", "409")), map[string]any{"parameters": idParam})},
		"/v1/jobs/{id}/datasets/{name}": map[string]any{"get": op("One dataset, or a numpy-style hyperslab of it (?slice=0,10:20,:), as .npy (default) or JSON (?format=json); X-Eddy-Dims, X-Eddy-Units, X-Eddy-Shape, X-Eddy-Dtype headers",
			merge(map[string]any{"200": map[string]any{"description": "the array", "content": map[string]any{
				"application/x-npy": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}},
				"application/json":  map[string]any{"schema": map[string]any{"type": "object"}}}}}, problems("400", "404", "409", "413", "422")),
			map[string]any{"parameters": append(append([]any{}, idParam...),
				map[string]any{"name": "name", "in": "path", "required": true, "schema": str, "description": "the dataset's path in the result, e.g. vorticity or residual_history/cg"},
				map[string]any{"name": "slice", "in": "query", "schema": str},
				map[string]any{"name": "format", "in": "query", "schema": map[string]any{"enum": []string{"npy", "json"}}})})},
		"/v1/jobs/{id}/plots": map[string]any{"get": op("The plots a succeeded job's result offers, derived from its datasets' dims",
			merge(map[string]any{"200": resp("plots", map[string]any{"type": "object"})}, problems("404", "409")), map[string]any{"parameters": idParam})},
		"/v1/jobs/{id}/plots/{name}": map[string]any{"get": op("One plot rendered by the server (PNG or SVG); axes not drawn are chosen by query parameters named after them (sample, t, …)",
			merge(map[string]any{"200": map[string]any{"description": "the picture", "content": map[string]any{
				"image/png": map[string]any{}, "image/svg+xml": map[string]any{}}}, "304": map[string]any{"description": "not modified (ETag)"}}, problems("400", "404", "409")),
			map[string]any{"parameters": append(append([]any{}, idParam...),
				map[string]any{"name": "name", "in": "path", "required": true, "schema": str},
				map[string]any{"name": "format", "in": "query", "schema": map[string]any{"enum": []string{"png", "svg"}}})})},
		"/v1/compare": map[string]any{"get": op("Two or more jobs of one kind side by side: their params and metrics (one value per job, differs marking the rows that differ) and the plots they all have, drawn for all of them by /v1/compare/plots/{name} (plots is [] until every job has succeeded)",
			merge(map[string]any{"200": resp("the comparison", map[string]any{"type": "object", "properties": map[string]any{
				"kind": str, "jobs": map[string]any{"type": "array", "items": ref("Job")},
				"params": map[string]any{"type": "array", "items": ref("CompareRow")}, "metrics": map[string]any{"type": "array", "items": ref("CompareRow")},
				"plots": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}}})}, problems("400", "404", "422")),
			map[string]any{"parameters": []any{compareJobs}})},
		"/v1/compare/plots/{name}": map[string]any{"get": op("One plot of several jobs' results (PNG or SVG): fields side by side on one colour scale, curves overlaid and labelled by job; axes not drawn are chosen as for one job's plot",
			merge(map[string]any{"200": map[string]any{"description": "the picture", "content": map[string]any{
				"image/png": map[string]any{}, "image/svg+xml": map[string]any{}}}, "304": map[string]any{"description": "not modified (ETag)"}}, problems("400", "404", "409", "422")),
			map[string]any{"parameters": []any{compareJobs,
				map[string]any{"name": "name", "in": "path", "required": true, "schema": str},
				map[string]any{"name": "format", "in": "query", "schema": map[string]any{"enum": []string{"png", "svg"}}}}})},
		"/v1/uploads": map[string]any{"post": op("Upload a file (raw body or multipart field `file`): HDF5, MATLAB v5 MAT, ENVI (an uncompressed tar of name.hdr and its data file), PNG, JPEG, WAV or .wlc; sniffed by content and inspected",
			merge(map[string]any{"201": resp("stored and validated", ref("Upload"))}, problems("400", "413", "415", "422")),
			map[string]any{"requestBody": map[string]any{"required": true, "content": map[string]any{
				"application/x-hdf5":  map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}},
				"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "properties": map[string]any{"file": map[string]any{"type": "string", "format": "binary"}}}}}}}),
			"get": op("List uploads, newest first (a user token: its own; an admin token: every owner's, or those of ?owner=)",
				merge(map[string]any{"200": resp("a page of uploads", map[string]any{
					"type": "object", "properties": map[string]any{"uploads": map[string]any{"type": "array", "items": ref("Upload")},
						"next_cursor": nullable("string")}})}, problems("400")),
				map[string]any{"parameters": []any{
					map[string]any{"name": "limit", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
					map[string]any{"name": "cursor", "in": "query", "schema": str},
					map[string]any{"name": "owner", "in": "query", "schema": map[string]any{"type": "string"},
						"description": "admin tokens: only this owner's uploads (default: every owner's); user tokens see their own uploads only, and naming another owner is a 400"}}})},
		"/v1/uploads/{id}": map[string]any{
			"get": op("Get an upload's description", merge(map[string]any{"200": resp("the upload", ref("Upload"))}, problems("404")),
				map[string]any{"parameters": idParam}),
			"delete": op("Delete an upload and its file; 409 while a queued or running job references it",
				merge(map[string]any{"204": resp("deleted", nil)}, problems("404", "409")), map[string]any{"parameters": idParam})},
	}
	completeOperations(paths)
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Eddy", "version": jobs.Version,
			"description": "Scientific solver service: submit jobs, follow their progress, download HDF5 results. " +
				"Every job and upload belongs to the owner of the token that created it: another owner's is answered 404, lists show one's own, " +
				"and a job may reference only its owner's uploads and results; a token of scope admin sees every owner's. " +
				"Each token's requests are rate limited (429 with Retry-After); each owner's stored bytes (413) and unfinished jobs (429) may be bounded.",
			"license": map[string]any{"name": "No licence granted yet: all rights reserved", "identifier": "LicenseRef-all-rights-reserved"}},
		"servers":    []any{map[string]any{"url": "/"}},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
		"security":   []any{map[string]any{"bearer": []any{}}, map[string]any{}},
	}
}

// operationIDs name the operations, as "METHOD path": the names a client
// generated from the document gives its methods.
var operationIDs = map[string]string{
	"get /healthz":                      "getHealth",
	"get /readyz":                       "getReadiness",
	"get /metrics":                      "getMetrics",
	"get /openapi.json":                 "getOpenAPI",
	"get /v1/kinds":                     "listKinds",
	"post /v1/jobs":                     "submitJob",
	"get /v1/jobs":                      "listJobs",
	"get /v1/jobs/{id}":                 "getJob",
	"delete /v1/jobs/{id}":              "deleteJob",
	"get /v1/jobs/{id}/progress":        "getJobProgress",
	"post /v1/jobs/{id}/cancel":         "cancelJob",
	"get /v1/jobs/{id}/events":          "streamJobEvents",
	"get /v1/jobs/{id}/result":          "getJobResult",
	"get /v1/events":                    "streamEvents",
	"get /v1/jobs/{id}/datasets":        "listDatasets",
	"get /v1/jobs/{id}/datasets/{name}": "getDataset",
	"get /v1/jobs/{id}/plots":           "listPlots",
	"get /v1/jobs/{id}/plots/{name}":    "getPlot",
	"get /v1/compare":                   "compareJobs",
	"get /v1/compare/plots/{name}":      "getComparePlot",
	"post /v1/uploads":                  "createUpload",
	"get /v1/uploads":                   "listUploads",
	"get /v1/uploads/{id}":              "getUpload",
	"delete /v1/uploads/{id}":           "deleteUpload",
}

// completeOperations gives each operation its operationId, and the 4xx
// answers that hold for whole groups of routes: 401 for everything under
// /v1, which takes a bearer token when tokens are configured, and 429 past
// the token's rate limit (or, on POST /v1/jobs, its owner's quota of
// unfinished jobs), with Retry-After; and, for an
// operation that has no 4xx of its own, the 431 with which the HTTP server
// refuses oversized request headers before any route is reached.
func completeOperations(paths map[string]any) {
	for path, item := range paths {
		for method, o := range item.(map[string]any) {
			o := o.(map[string]any)
			if id, ok := operationIDs[method+" "+path]; ok && o["operationId"] == nil {
				o["operationId"] = id
			}
			responses := o["responses"].(map[string]any)
			if strings.HasPrefix(path, "/v1/") && responses["401"] == nil {
				responses["401"] = problems("401")["401"]
			}
			if strings.HasPrefix(path, "/v1/") && responses["429"] == nil {
				responses["429"] = problems("429")["429"]
			}
			has4xx := false
			for code := range responses {
				has4xx = has4xx || strings.HasPrefix(code, "4")
			}
			if !has4xx {
				responses["431"] = map[string]any{"description": "request headers too large (answered by the HTTP server, as plain text)",
					"content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}}
			}
		}
	}
}
