package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"eddy/field"
	"eddy/hdf5io"
	"eddy/jobs"
	"eddy/storage"
)

// maxCompare bounds the jobs one comparison shows: past a handful, panels
// and legends are unreadable.
const maxCompare = 8

// compareRow is one param or metric across the compared jobs: values[i] is
// job i's (null where it has none); differs when they are not all equal.
type compareRow struct {
	Name    string `json:"name"`
	Values  []any  `json:"values"`
	Differs bool   `json:"differs"`
}

// compareRuns reads ?jobs=a,b,…: 2 to maxCompare distinct jobs of one kind,
// in the order given. On failure it writes the problem and returns ok false.
func (s *server) compareRuns(w http.ResponseWriter, r *http.Request) ([]*storage.Run, bool) {
	var ids []string
	for _, id := range strings.Split(r.URL.Query().Get("jobs"), ",") {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 || len(ids) > maxCompare {
		msg := fmt.Sprintf("must name 2 to %d distinct jobs, comma-separated", maxCompare)
		writeProblem(w, http.StatusBadRequest, "jobs "+msg, jobs.FieldError{Path: "/query/jobs", Message: msg})
		return nil, false
	}
	runs := make([]*storage.Run, len(ids))
	for i, id := range ids {
		// Another owner's job is compared with nothing: it does not exist.
		run, err := s.visibleRun(r, id)
		if err != nil {
			s.writeErr(w, r, err)
			return nil, false
		}
		if i > 0 && run.Kind != runs[0].Kind {
			msg := fmt.Sprintf("job %s is %s %s job, job %s %s %s job: only jobs of one kind are compared",
				runs[0].ID, field.Article(runs[0].Kind), runs[0].Kind, run.ID, field.Article(run.Kind), run.Kind)
			writeProblem(w, http.StatusUnprocessableEntity, msg, jobs.FieldError{Path: "/query/jobs", Message: msg})
			return nil, false
		}
		runs[i] = run
	}
	return runs, true
}

// compareRows lines up the keys of several maps: one row per key, sorted,
// with the values of each map in order.
func compareRows(maps []map[string]any) []compareRow {
	keys := map[string]bool{}
	for _, m := range maps {
		for k := range m {
			keys[k] = true
		}
	}
	rows := make([]compareRow, 0, len(keys))
	for k := range keys {
		row := compareRow{Name: k, Values: make([]any, len(maps))}
		var first []byte
		for i, m := range maps {
			row.Values[i] = m[k]
			b, _ := json.Marshal(m[k])
			if i == 0 {
				first = b
			} else if !bytes.Equal(b, first) {
				row.Differs = true
			}
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows
}

// openResults opens the result files of succeeded runs and plans their
// plots. On failure it writes the problem, closes what it opened and
// returns ok false; else the caller closes the files.
func (s *server) openResults(w http.ResponseWriter, r *http.Request, runs []*storage.Run) ([]*hdf5io.File, [][]plotPlan, bool) {
	files := make([]*hdf5io.File, 0, len(runs))
	plans := make([][]plotPlan, 0, len(runs))
	fail := func() ([]*hdf5io.File, [][]plotPlan, bool) {
		for _, f := range files {
			f.Close()
		}
		return nil, nil, false
	}
	for _, run := range runs {
		if run.State != storage.Succeeded || run.Result == nil {
			writeProblem(w, http.StatusConflict, fmt.Sprintf("job %s is %s; its plots exist once it has succeeded", run.ID, run.State))
			return fail()
		}
		f, ok := s.openResult(w, r, run)
		if !ok {
			return fail()
		}
		files = append(files, f)
		list, err := describeDatasets(f, run.ID)
		if err != nil {
			s.internalError(w, r, err)
			return fail()
		}
		plans = append(plans, planPlots(run.ID, list))
	}
	return files, plans, true
}

// commonPlots returns, for each plot that every job has with the same kind
// and selectors, the plans of each job (by job), and the plot as the
// comparison offers it: its selectors range over the indices valid in every
// job.
func commonPlots(runs []*storage.Run, plans [][]plotPlan) ([]plotSpec, map[string][]plotPlan) {
	var specs []plotSpec
	byName := map[string][]plotPlan{}
	ids := make([]string, len(runs))
	for i, run := range runs {
		ids[i] = run.ID
	}
	q := "?jobs=" + url.QueryEscape(strings.Join(ids, ","))
outer:
	for _, p := range plans[0] {
		each := []plotPlan{p}
		sels := slices.Clone(p.Selectors)
		for _, other := range plans[1:] {
			i := slices.IndexFunc(other, func(o plotPlan) bool { return o.Name == p.Name })
			if i < 0 || other[i].Kind != p.Kind || (p.members == nil) != (other[i].members == nil) || len(other[i].Selectors) != len(sels) {
				continue outer
			}
			for k, sel := range other[i].Selectors {
				if sel.Name != sels[k].Name {
					continue outer
				}
				sels[k].Size = min(sels[k].Size, sel.Size)
			}
			each = append(each, other[i])
		}
		spec := p.plotSpec
		spec.URL, spec.Selectors = "/v1/compare/plots/"+p.Name+q, sels
		specs = append(specs, spec)
		byName[p.Name] = each
	}
	return specs, byName
}

// compare serves GET /v1/compare?jobs=a,b,…: the jobs, their params and
// metrics side by side (differs marks the rows that differ), and the plots
// they all have, drawn for all of them at once by GET
// /v1/compare/plots/{name}?jobs=…; plots is [] unless every job has
// succeeded.
func (s *server) compare(w http.ResponseWriter, r *http.Request) {
	runs, ok := s.compareRuns(w, r)
	if !ok {
		return
	}
	views := make([]jobView, len(runs))
	params := make([]map[string]any, len(runs))
	metrics := make([]map[string]any, len(runs))
	allDone := true
	for i, run := range runs {
		views[i] = viewOf(run)
		if err := json.Unmarshal(run.Params, &params[i]); err != nil && len(run.Params) > 0 {
			s.internalError(w, r, fmt.Errorf("params of %s: %w", run.ID, err))
			return
		}
		if run.Result != nil {
			metrics[i] = run.Result.Metrics
		}
		allDone = allDone && run.State == storage.Succeeded && run.Result != nil
	}
	specs := []plotSpec{}
	if allDone {
		files, plans, ok := s.openResults(w, r, runs)
		if !ok {
			return
		}
		for _, f := range files {
			f.Close()
		}
		if common, _ := commonPlots(runs, plans); common != nil {
			specs = common
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": runs[0].Kind, "jobs": views,
		"params": compareRows(params), "metrics": compareRows(metrics), "plots": specs})
}

// comparePlot serves GET /v1/compare/plots/{name}?jobs=a,b,…&format=&<axis>=:
// one plot of several jobs' results. Fields are drawn side by side on one
// colour scale; curves are overlaid, each labelled with its job's id.
func (s *server) comparePlot(w http.ResponseWriter, r *http.Request) {
	name, format, ok := plotRequest(w, r, "/v1/compare/plots/{name}?jobs=…")
	if !ok {
		return
	}
	q := r.URL.Query()
	runs, ok := s.compareRuns(w, r)
	if !ok {
		return
	}
	files, plans, ok := s.openResults(w, r, runs)
	if !ok {
		return
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	specs, byName := commonPlots(runs, plans)
	each := byName[name]
	if each == nil {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("the jobs have no common plot %q; GET /v1/compare?jobs=… lists those they have", name))
		return
	}
	spec := specs[slices.IndexFunc(specs, func(p plotSpec) bool { return p.Name == name })]
	index, ok := plotIndex(w, q, spec.Selectors)
	if !ok {
		return
	}
	h := sha256.New()
	for _, run := range runs {
		fmt.Fprintf(h, "%s\x00", run.Result.SHA256)
	}
	tag := plotETag(hex.EncodeToString(h.Sum(nil)), name, format, spec.Selectors, index)
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	if r.Header.Get("If-None-Match") == tag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	var buf bytes.Buffer
	var err error
	switch spec.Kind {
	case "heatmap":
		err = drawCompareFields(&buf, runs, files, each, index, format)
	case "image":
		err = drawCompareImages(&buf, runs, files, each, format)
	default:
		err = drawCompareLines(&buf, runs, files, each, index, format)
	}
	if err != nil {
		s.internalError(w, r, fmt.Errorf("compare plot %s: %w", name, err))
		return
	}
	if format == "svg" {
		w.Header().Set("Content-Type", "image/svg+xml")
	} else {
		w.Header().Set("Content-Type", "image/png")
	}
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// shortID labels a job in a comparison: the last 8 hex digits of its id,
// which are random, where the first ones are a timestamp that jobs
// submitted together share.
func shortID(id string) string { return id[max(0, len(id)-8):] }

// drawCompareFields draws the same frame of each job's field side by side,
// on one colour scale.
func drawCompareFields(buf *bytes.Buffer, runs []*storage.Run, files []*hdf5io.File, each []plotPlan, index map[string]int, format string) error {
	frames := make([]*frame, len(each))
	for i, p := range each {
		fr, err := readFrame(files[i], p, index)
		if err != nil {
			return fmt.Errorf("job %s: %w", runs[i].ID, err)
		}
		fr.title = shortID(runs[i].ID) + ": " + fr.title
		frames[i] = fr
	}
	return renderHeatmaps(buf, frames, format)
}

// drawCompareLines overlays the curves of each job's plot, every label
// starting with the job's id. When each job has one curve (and perhaps its
// dashed truth), a job has one colour; else each job's curves take the next
// colours, a dashed truth that of the curve it belongs to.
func drawCompareLines(buf *bytes.Buffer, runs []*storage.Run, files []*hdf5io.File, each []plotPlan, index map[string]int, format string) error {
	read := make([]*lines, len(each))
	solid := make([]int, len(each))
	perJob := true
	for i, p := range each {
		l, err := readLines(files[i], p, index)
		if err != nil {
			return fmt.Errorf("job %s: %w", runs[i].ID, err)
		}
		read[i] = l
		for _, c := range l.curves {
			if !c.dashed {
				solid[i]++
			}
		}
		perJob = perJob && solid[i] == 1
	}
	var all []curve
	offset := 0
	for i, l := range read {
		for _, c := range l.curves {
			if perJob {
				c.colour = i
			} else {
				c.colour += offset
			}
			c.label = strings.TrimSpace(shortID(runs[i].ID) + " " + c.label)
			all = append(all, c)
		}
		offset += solid[i]
	}
	first := read[0]
	return renderCurves(buf, first.title+" ("+strconv.Itoa(len(runs))+" jobs)", first.xLabel, first.yLabel, first.axis, all, format)
}

// drawCompareImages draws each job's image side by side, titled with its
// job and, for a decoded image, the coding's quality.
func drawCompareImages(buf *bytes.Buffer, runs []*storage.Run, files []*hdf5io.File, each []plotPlan, format string) error {
	panels := make([]imagePanel, len(each))
	for i, p := range each {
		img, err := readImage(files[i], p.data)
		if err != nil {
			return fmt.Errorf("job %s: %w", runs[i].ID, err)
		}
		title := shortID(runs[i].ID) + ": " + p.data.Name
		if p.truth != nil {
			title += codingQuality(runs[i].Result.Metrics)
		}
		panels[i] = imagePanel{title, img}
	}
	return renderImages(buf, panels, format)
}
