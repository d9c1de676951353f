package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// printJob writes a human summary of the job, one "label value" line per field
// that is set, then the result's metrics.
func printJob(w io.Writer, j *Job) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-10s"+format+"\n", append([]any{label}, args...)...)
	}
	line("id", "%s", j.ID)
	line("kind", "%s", j.Kind)
	if j.Attempt > 1 {
		line("state", "%s (attempt %d)", j.State, j.Attempt)
	} else {
		line("state", "%s", j.State)
	}
	if !j.CreatedAt.IsZero() {
		line("created", "%s", clock(j.CreatedAt))
	}
	if j.StartedAt != nil {
		line("started", "%s", clock(*j.StartedAt))
	}
	if j.FinishedAt != nil {
		if j.StartedAt != nil {
			line("finished", "%s (ran %s)", clock(*j.FinishedAt), j.FinishedAt.Sub(*j.StartedAt).Round(time.Millisecond))
		} else {
			line("finished", "%s", clock(*j.FinishedAt))
		}
	}
	if len(j.Params) > 0 {
		var b bytes.Buffer
		if json.Compact(&b, j.Params) == nil {
			line("params", "%s", b.String())
		}
	}
	if len(j.Inputs) > 0 {
		line("inputs", "%s", joinPairs(j.Inputs))
	}
	if !j.Final() && j.Progress != nil {
		line("progress", "%s", progressLine(j))
	}
	if j.Error != nil && *j.Error != "" {
		line("error", "%s", *j.Error)
	}
	for _, msg := range j.Warnings {
		line("warning", "%s", msg)
	}
	if r := j.Result; r != nil {
		line("result", "%d bytes, sha256 %s", r.Bytes, r.SHA256)
		if len(r.Datasets) > 0 {
			line("datasets", "%s", strings.Join(r.Datasets, ", "))
		}
		if len(r.Metrics) > 0 {
			fmt.Fprintln(w, "metrics")
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, k := range sortedKeys(r.Metrics) {
				fmt.Fprintf(tw, "  %s\t%s\n", k, formatValue(r.Metrics[k]))
			}
			tw.Flush()
		}
	}
}

// printJobTable writes one line per job.
func printJobTable(w io.Writer, jobs []Job) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATE\tCREATED\tDETAIL")
	for i := range jobs {
		j := &jobs[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.ID, j.Kind, j.State, clock(j.CreatedAt), jobDetail(j))
	}
	tw.Flush()
}

// jobDetail is the last column of the job table: progress while running, the
// run time when succeeded, the error when failed.
func jobDetail(j *Job) string {
	switch j.State {
	case "running":
		if p := j.Progress; p != nil {
			return truncate(fmt.Sprintf("%.0f%% %s", 100*p.Fraction, p.Message), 40)
		}
	case "succeeded":
		if j.StartedAt != nil && j.FinishedAt != nil {
			return "ran " + j.FinishedAt.Sub(*j.StartedAt).Round(time.Millisecond).String()
		}
	case "failed":
		if j.Error != nil {
			return truncate(*j.Error, 60)
		}
	}
	return ""
}

// printKind describes a job kind and its params, nested params as dotted
// names as -p accepts them: a line per param with its name, type, default
// ("required" when it has none) and allowed values (enum or range), then its
// description, indented.
func printKind(w io.Writer, k Kind) {
	fmt.Fprintf(w, "%s  %s\n", k.Name, k.Title)
	if k.Description != "" {
		for _, l := range wrap(k.Description, 76) {
			fmt.Fprintln(w, "  "+l)
		}
	}
	fmt.Fprintln(w, "  params:")
	rows := paramRows("", k.ParamsSchema)
	if len(rows) == 0 {
		fmt.Fprintln(w, "    (none)")
	}
	var width [3]int
	for _, r := range rows {
		for i := range width {
			width[i] = max(width[i], utf8.RuneCountInString(r[i]))
		}
	}
	pad := func(s string, n int) string { return s + strings.Repeat(" ", n-utf8.RuneCountInString(s)+2) }
	for _, r := range rows {
		fmt.Fprintln(w, strings.TrimRight("    "+pad(r[0], width[0])+pad(r[1], width[1])+pad(r[2], width[2])+r[3], " "))
		for _, l := range wrap(r[4], 70) {
			fmt.Fprintln(w, "        "+l)
		}
	}
	list := func(s []string) string {
		if len(s) == 0 {
			return "none"
		}
		return strings.Join(s, ", ")
	}
	fmt.Fprintf(w, "  inputs:   %s\n", list(k.Inputs))
	fmt.Fprintf(w, "  outputs:  %s\n", list(k.Outputs))
	if k.TimeoutSeconds > 0 || k.MaxAttempts > 0 {
		fmt.Fprintf(w, "  timeout %s, at most %d attempts\n", time.Duration(k.TimeoutSeconds*float64(time.Second)), k.MaxAttempts)
	}
}

// paramRows flattens a JSON Schema object into rows of name, type, default,
// allowed values and description. References, expressions and dataset names
// show as types of their own (upload-id, expression, dataset), and a
// required param's default as "required".
func paramRows(prefix string, schema map[string]any) [][5]string {
	props, _ := schema["properties"].(map[string]any)
	required := map[string]bool{}
	if req, ok := schema["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				required[name] = true
			}
		}
	}
	var rows [][5]string
	for _, name := range sortedKeys(props) {
		p, _ := props[name].(map[string]any)
		if p == nil {
			continue
		}
		if sub, ok := p["properties"].(map[string]any); ok && len(sub) > 0 {
			rows = append(rows, paramRows(prefix+name+".", p)...)
			continue
		}
		typ := paramType(p)
		if items, ok := p["items"].(map[string]any); ok && typ == "array" {
			typ = "array of " + paramType(items)
			p = merged(p, items)
		}
		def := "-"
		if v, ok := p["default"]; ok {
			def = formatValue(v)
		} else if required[name] {
			def = "required"
		}
		desc, _ := p["description"].(string)
		rows = append(rows, [5]string{prefix + name, typ, def, allowedValues(p), desc})
	}
	return rows
}

// paramType names the type of a property: its JSON type, or for a string of
// a known format what it holds.
func paramType(p map[string]any) string {
	typ, _ := p["type"].(string)
	switch p["format"] {
	case "eddy-ref":
		var accepts []string
		if r, ok := p["x-eddy-ref"].(map[string]any); ok {
			if a, ok := r["accepts"].([]any); ok {
				for _, x := range a {
					accepts = append(accepts, fmt.Sprint(x))
				}
			}
		}
		if len(accepts) == 0 {
			return "id"
		}
		return strings.Join(accepts, "|") + "-id"
	case "eddy-expression":
		return "expression"
	case "eddy-dataset":
		return "dataset"
	}
	return typ
}

// merged returns the keys of a and of b, b's winning.
func merged(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// allowedValues renders a property's enum or its range: lo..hi when both
// bounds are inclusive, else in interval notation, "(0..1]".
func allowedValues(p map[string]any) string {
	if enum, ok := p["enum"].([]any); ok {
		vals := make([]string, len(enum))
		for i, v := range enum {
			vals[i] = formatValue(v)
		}
		return strings.Join(vals, "|")
	}
	lo, hasLo := p["minimum"]
	xlo, hasXlo := p["exclusiveMinimum"]
	hi, hasHi := p["maximum"]
	xhi, hasXhi := p["exclusiveMaximum"]
	// Integral bounds in full (a seed's 2^53 − 1), others compactly.
	bound := func(v any) string {
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return formatValue(v)
	}
	var left, right string
	switch {
	case hasLo:
		left = bound(lo)
	case hasXlo:
		left = bound(xlo)
	}
	switch {
	case hasHi:
		right = bound(hi)
	case hasXhi:
		right = bound(xhi)
	}
	switch {
	case left != "" && right != "" && hasLo && hasHi:
		return left + ".." + right
	case left != "" && right != "":
		open, closed := "[", "]"
		if hasXlo {
			open = "("
		}
		if hasXhi {
			closed = ")"
		}
		return open + left + ".." + right + closed
	case hasLo:
		return ">= " + left
	case hasXlo:
		return "> " + left
	case hasHi:
		return "<= " + right
	case hasXhi:
		return "< " + right
	}
	return ""
}

// formatValue prints a decoded JSON value: numbers compactly, strings bare,
// anything else as JSON.
func formatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return formatNumber(x)
	case string:
		if x == "" {
			return `""`
		}
		return x
	case bool:
		return fmt.Sprint(x)
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func joinPairs(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ", ")
}

// clock formats a time in the local zone.
func clock(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05 MST") }

// wrap breaks text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	var cur []rune
	for _, word := range strings.Fields(text) {
		wr := []rune(word)
		if len(cur) > 0 && len(cur)+1+len(wr) > width {
			lines = append(lines, string(cur))
			cur = nil
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		cur = append(cur, wr...)
	}
	if len(cur) > 0 {
		lines = append(lines, string(cur))
	}
	return lines
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
