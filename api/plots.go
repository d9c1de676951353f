package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"eddy/hdf5io"
	"eddy/jobs"
	"eddy/storage"
)

// Plots are derived from a result's datasets by their names, shapes and dims
// attributes, not by job kind, so that a new kind's results are drawn as soon
// as it follows the HDF5 conventions:
//
//   - a heatmap for every dataset of rank ≥ 2 whose last two axes are
//     spatial (y,x; row,col; x,y; x,t; …); each leading axis (sample, t,
//     endmember, z, …) is chosen by a query parameter of its name, default 0;
//   - a line plot for every dataset of rank 1 or 2 with one abscissa axis
//     (t, epoch, iteration, step, k, band, x, …), drawn against the 1-D
//     dataset that holds that axis's coordinates when there is one (t,
//     wavenumber, wavelengths, x); the other axis of a rank-2 dataset
//     (sample, endmember) gives one line each, up to maxSeries, beyond that it
//     is chosen by a query parameter. Histories (epoch, iteration, step, t)
//     spanning more than a decade of positive values get a log y axis;
//     spectra (axis k) are drawn log-log.
//
// Coordinate datasets, integer datasets (indices, masks) and trained models
// are not plotted.

// spatialAxes name the axes of a 2-D field.
var spatialAxes = map[string]bool{"x": true, "y": true, "z": true, "row": true, "col": true, "t": true, "lat": true, "lon": true}

// abscissaAxes name the axes a 1-D curve is drawn along; historyAxes those
// of a history (a log y axis when positive), spectralAxes those of a
// spectrum (log-log).
var (
	abscissaAxes = map[string]bool{"t": true, "epoch": true, "iteration": true, "step": true, "k": true, "band": true, "x": true, "y": true, "frequency": true}
	historyAxes  = map[string]bool{"epoch": true, "iteration": true, "step": true, "t": true}
	spectralAxes = map[string]bool{"k": true, "frequency": true}
)

// coordinateOf names the dataset holding each axis's coordinates, besides
// the dataset named like the axis itself.
var coordinateOf = map[string]string{"k": "wavenumber", "band": "wavelengths"}

// maxSeries is the number of lines drawn at once along the series axis.
const maxSeries = 12

// maxLineElements bounds the elements a line plot reads.
const maxLineElements = 1 << 22

// plotSpec describes one plot of a job, as GET /v1/jobs/{id}/plots lists it.
type plotSpec struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	Kind  string `json:"kind"` // heatmap or lines
	Title string `json:"title"`
	// Truth names the dataset of exact or true values drawn with this one:
	// dashed over a line plot, next to a heatmap on the same colour scale.
	Truth string `json:"truth,omitempty"`
	// Selectors are the query parameters that choose an index on an axis:
	// the leading axes of a heatmap, the series axis of a line plot with
	// more than maxSeries lines.
	Selectors []selector `json:"selectors"`
}

type selector struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

// plotPlan is how a dataset is drawn.
type plotPlan struct {
	plotSpec
	data  datasetMeta
	axes  []string
	coord *datasetMeta // of the abscissa, for lines
	// truth is the dataset of the same shape and dims holding the exact or
	// true values (X_exact, truth_X, X_truth), drawn dashed beside each line.
	truth *datasetMeta
	// abscissa and series are axis numbers of a line plot; series is -1
	// for rank 1.
	abscissa, series int
	// members are the datasets a group plot overlays (Kind "lines", data
	// unset).
	members []datasetMeta
}

func axesOf(d datasetMeta) []string {
	axes := strings.Split(d.Dims, ",")
	if d.Dims == "" || len(axes) != len(d.Shape) {
		axes = make([]string, len(d.Shape))
		for i := range axes {
			axes[i] = fmt.Sprintf("axis%d", i)
		}
	}
	return axes
}

// planPlots decides the plots of a result from its datasets.
func planPlots(jobID string, list []datasetMeta) []plotPlan {
	byName := map[string]*datasetMeta{}
	for i := range list {
		byName[list[i].Name] = &list[i]
	}
	isCoord := map[string]bool{}
	coordFor := func(axis string, n int) *datasetMeta {
		for _, name := range []string{axis, coordinateOf[axis]} {
			if c := byName[name]; c != nil && len(c.Shape) == 1 && c.Shape[0] == n && c.Dtype == "float64" {
				return c
			}
		}
		return nil
	}
	for _, d := range list {
		if len(d.Shape) == 1 {
			if c := coordFor(axesOf(d)[0], d.Shape[0]); c != nil && c.Name == d.Name {
				isCoord[d.Name] = true
			}
		}
	}
	var plans []plotPlan
	for _, d := range list {
		if isImage(d) {
			p := plotPlan{data: d, axes: axesOf(d), series: -1}
			p.Name, p.URL, p.Kind, p.Title, p.Selectors = d.Name, "/v1/jobs/"+jobID+"/plots/"+d.Name, "image", d.Name, []selector{}
			// A decoded image is shown next to the original it codes.
			if o := byName["original"]; o != nil && d.Name != "original" && isImage(*o) && slices.Equal(o.Shape, d.Shape) {
				p.truth, p.Truth = o, o.Name
			}
			plans = append(plans, p)
			continue
		}
		if isCoord[d.Name] || strings.HasPrefix(d.Name, "model/") || strings.HasPrefix(d.Name, "metrics/") ||
			!strings.HasPrefix(d.Dtype, "float") {
			continue
		}
		axes := axesOf(d)
		rank := len(d.Shape)
		p := plotPlan{data: d, axes: axes, series: -1}
		p.Name, p.URL = d.Name, "/v1/jobs/"+jobID+"/plots/"+d.Name
		p.Selectors = []selector{}
		p.Title = d.Name
		if d.Units != "" {
			p.Title += " [" + d.Units + "]"
		}
		switch {
		case rank >= 2 && spatialAxes[axes[rank-1]] && spatialAxes[axes[rank-2]] && axes[rank-1] != axes[rank-2] &&
			d.Shape[rank-1] >= 2 && d.Shape[rank-2] >= 2:
			p.Kind = "heatmap"
			for i := 0; i < rank-2; i++ {
				p.Selectors = append(p.Selectors, selector{axes[i], d.Shape[i]})
			}
		case rank == 1 && abscissaAxes[axes[0]] && d.Shape[0] >= 2:
			p.Kind, p.abscissa = "lines", 0
		case rank == 2 && (abscissaAxes[axes[1]] || abscissaAxes[axes[0]]):
			p.Kind, p.abscissa, p.series = "lines", 1, 0
			if !abscissaAxes[axes[1]] {
				p.abscissa, p.series = 0, 1
			}
			if d.Shape[p.abscissa] < 2 {
				continue
			}
			if d.Shape[p.series] > maxSeries {
				p.Selectors = append(p.Selectors, selector{axes[p.series], d.Shape[p.series]})
			}
		default:
			continue
		}
		if p.Kind == "lines" {
			p.coord = coordFor(axes[p.abscissa], d.Shape[p.abscissa])
		}
		for _, name := range []string{d.Name + "_exact", "truth_" + d.Name, d.Name + "_truth"} {
			if t := byName[name]; t != nil && t.Dims == d.Dims && slices.Equal(t.Shape, d.Shape) && strings.HasPrefix(t.Dtype, "float") {
				p.truth, p.Truth = t, t.Name
				break
			}
		}
		plans = append(plans, p)
	}
	return append(plans, groupPlans(jobID, list)...)
}

// isImage tells an 8-bit RGB image (uint8, y,x,rgb), drawn as it is.
func isImage(d datasetMeta) bool {
	return d.Dtype == "uint8" && d.Dims == "y,x,rgb" && len(d.Shape) == 3 && d.Shape[2] == 3 && d.Shape[0] > 0 && d.Shape[1] > 0
}

// groupPlans plans an overlay for each group holding two or more 1-D float
// datasets along the same abscissa axis (residual_history/cg,
// residual_history/mg, …), named after the group.
func groupPlans(jobID string, list []datasetMeta) []plotPlan {
	groups := map[string][]datasetMeta{}
	var order []string
	for _, d := range list {
		parent, _, ok := strings.Cut(d.Name, "/")
		if i := strings.LastIndexByte(d.Name, '/'); ok && i > 0 {
			parent = d.Name[:i]
		}
		if !ok || parent == "model" || strings.HasPrefix(parent, "model/") || parent == "metrics" ||
			len(d.Shape) != 1 || d.Shape[0] < 2 || !strings.HasPrefix(d.Dtype, "float") || !abscissaAxes[axesOf(d)[0]] {
			continue
		}
		if groups[parent] == nil {
			order = append(order, parent)
		}
		groups[parent] = append(groups[parent], d)
	}
	var plans []plotPlan
	for _, g := range order {
		m := groups[g]
		if len(m) < 2 || len(m) > maxSeries || slices.ContainsFunc(m, func(d datasetMeta) bool { return d.Dims != m[0].Dims }) {
			continue
		}
		p := plotPlan{members: m, axes: axesOf(m[0]), series: -1}
		p.Name, p.URL, p.Kind, p.Title, p.Selectors = g, "/v1/jobs/"+jobID+"/plots/"+g, "lines", g, []selector{}
		if m[0].Units != "" {
			p.Title += " [" + m[0].Units + "]"
		}
		plans = append(plans, p)
	}
	return plans
}

// jobPlots opens a succeeded job's result and plans its plots; on failure
// it writes the problem and returns ok false. The caller closes the file.
func (s *server) jobPlots(w http.ResponseWriter, r *http.Request) (*hdf5io.File, []plotPlan, *storage.Run, bool) {
	run, f, ok := s.resultFile(w, r)
	if !ok {
		return nil, nil, nil, false
	}
	list, err := describeDatasets(f, run.ID)
	if err != nil {
		f.Close()
		s.internalError(w, r, err)
		return nil, nil, nil, false
	}
	return f, planPlots(run.ID, list), run, true
}

// listPlots serves GET /v1/jobs/{id}/plots: {"plots": [{"name", "url",
// "kind", "title", "selectors": [{"name", "size"}]}, …]}.
func (s *server) listPlots(w http.ResponseWriter, r *http.Request) {
	f, plans, _, ok := s.jobPlots(w, r)
	if !ok {
		return
	}
	defer f.Close()
	specs := make([]plotSpec, len(plans))
	for i, p := range plans {
		specs[i] = p.plotSpec
	}
	writeJSON(w, http.StatusOK, map[string]any{"plots": specs})
}

// plotRequest reads the plot name of route (its wildcard) and the format
// (png, the default, or svg) of a plot request, answering 400 for either
// one missing or wrong.
func plotRequest(w http.ResponseWriter, r *http.Request, route string) (name, format string, ok bool) {
	name, err := wildcardName(r)
	if err != nil || name == "" {
		writeProblem(w, http.StatusBadRequest, "a plot name is required: "+route)
		return "", "", false
	}
	format = r.URL.Query().Get("format")
	if format == "" {
		format = "png"
	}
	if format != "png" && format != "svg" {
		writeProblem(w, http.StatusBadRequest, "format must be png or svg", jobs.FieldError{Path: "/query/format", Message: "must be png or svg"})
		return "", "", false
	}
	return name, format, true
}

// plotIndex reads the index a plot request chooses on each selector's axis
// (absent: the plot's default), answering 400 for one out of range.
func plotIndex(w http.ResponseWriter, q url.Values, selectors []selector) (map[string]int, bool) {
	index := map[string]int{}
	for _, sel := range selectors {
		v := q.Get(sel.Name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n >= sel.Size {
			msg := fmt.Sprintf("must be an integer from 0 to %d", sel.Size-1)
			writeProblem(w, http.StatusBadRequest, sel.Name+" "+msg, jobs.FieldError{Path: "/query/" + sel.Name, Message: msg})
			return nil, false
		}
		index[sel.Name] = n
	}
	return index, true
}

// plot serves GET /v1/jobs/{id}/plots/{name}?format=png|svg&<axis>=<index>:
// the plot of one dataset (see planPlots), drawn from the slab it shows.
// Results never change, so the answer carries an ETag and a long max-age.
func (s *server) plot(w http.ResponseWriter, r *http.Request) {
	name, format, ok := plotRequest(w, r, "/v1/jobs/{id}/plots/{name}")
	if !ok {
		return
	}
	q := r.URL.Query()
	f, plans, run, ok := s.jobPlots(w, r)
	if !ok {
		return
	}
	defer f.Close()
	i := slices.IndexFunc(plans, func(p plotPlan) bool { return p.Name == name })
	if i < 0 {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("the job has no plot %q; GET /v1/jobs/%s/plots lists them", name, chi.URLParam(r, "id")))
		return
	}
	p := plans[i]
	index, ok := plotIndex(w, q, p.Selectors)
	if !ok {
		return
	}
	tag := plotETag(run.Result.SHA256, name, format, p.Selectors, index)
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	if r.Header.Get("If-None-Match") == tag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	var buf bytes.Buffer
	var err error
	switch {
	case p.Kind == "image":
		err = drawImage(&buf, f, p, run.Result.Metrics, format)
	case p.Kind == "heatmap":
		err = drawHeatmap(&buf, f, p, index, format)
	default:
		err = drawLines(&buf, f, p, index, format)
	}
	if err != nil {
		s.internalError(w, r, fmt.Errorf("plot %s: %w", name, err))
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

// plotETag names one rendering of a plot of a result.
func plotETag(sum, name, format string, sels []selector, index map[string]int) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s", sum, name, format)
	for _, s := range sels {
		fmt.Fprintf(h, "\x00%s=%d", s.Name, index[s.Name])
	}
	return `"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
}

// Size of a rendered plot.
const (
	plotWidth  = 7 * vg.Inch
	plotHeight = 5 * vg.Inch
	plotDPI    = 96
	barWidth   = 1.1 * vg.Inch
)

// canvas makes a canvas of the format and size; its WriteTo encodes it.
func canvas(format string, width, height vg.Length) (vg.CanvasWriterTo, draw.Canvas) {
	if format == "svg" {
		c := vgsvg.New(width, height)
		return c, draw.New(c)
	}
	c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(plotDPI))
	return fastPNG{c}, draw.New(c)
}

// fastPNG encodes a canvas as PNG at the fastest compression: at the
// default level deflate takes about two thirds of a heatmap's rendering time
// (BenchmarkHeatmap: 310 ms against 150 ms for a 256² frame) for a file
// about a fifth smaller.
type fastPNG struct{ *vgimg.Canvas }

func (c fastPNG) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(cw, c.Image())
	return cw.n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// frame is one 2-D frame of a field as a heatmap draws it: at(row, col)
// with the row along the vertical axis.
type frame struct {
	title        string
	data         []float64
	rows, cols   int
	at           func(row, col int) float64
	hAxis, vAxis string
	// rowDown puts row 0 on top (image convention).
	rowDown bool
}

// readFrame reads the frame of a field that index selects (the leading axes
// fixed); it is the only part of the dataset read.
func readFrame(f *hdf5io.File, p plotPlan, index map[string]int) (*frame, error) {
	shape, axes := p.data.Shape, p.axes
	rank := len(shape)
	sel := make([]hdf5io.Range, rank)
	title := p.Title
	for i := 0; i < rank-2; i++ {
		k := index[axes[i]]
		sel[i] = hdf5io.Range{Start: k, Stop: k + 1, Step: 1}
		title += fmt.Sprintf(", %s=%d", axes[i], k)
	}
	ny, nx := shape[rank-2], shape[rank-1]
	sel[rank-2], sel[rank-1] = hdf5io.Range{Start: 0, Stop: ny, Step: 1}, hdf5io.Range{Start: 0, Stop: nx, Step: 1}
	data, _, err := f.ReadFloat64Slab(p.data.Name, sel)
	if err != nil {
		return nil, err
	}
	// The horizontal axis is the last one, except for x,· fields (the GP's
	// u(x, y), u(x, t)), where it is the first.
	fr := &frame{title: title, data: data, rows: ny, cols: nx, hAxis: axes[rank-1], vAxis: axes[rank-2]}
	fr.at = func(row, col int) float64 { return data[row*nx+col] }
	if fr.vAxis == "x" {
		fr.hAxis, fr.vAxis = fr.vAxis, fr.hAxis
		fr.cols, fr.rows = ny, nx
		fr.at = func(row, col int) float64 { return data[col*nx+row] }
	}
	fr.rowDown = fr.vAxis == "row"
	return fr, nil
}

// drawHeatmap draws one 2-D frame of a field with a colour bar; a field
// with a truth (an abundance map and the true one, a solution and the exact
// one) is drawn next to the same frame of its truth, on one colour scale.
func drawHeatmap(buf *bytes.Buffer, f *hdf5io.File, p plotPlan, index map[string]int, format string) error {
	fr, err := readFrame(f, p, index)
	if err != nil {
		return err
	}
	frames := []*frame{fr}
	if p.truth != nil {
		tp := p
		tp.data, tp.Title = *p.truth, p.truth.Name
		tf, err := readFrame(f, tp, index)
		if err != nil {
			return err
		}
		frames = append(frames, tf)
	}
	return renderHeatmaps(buf, frames, format)
}

// colourMap is the colour scale of values in [lo, hi]: a diverging
// blue–red map centred on zero for values of both signs, a sequential one
// otherwise. lo > hi (no finite value) gives [0, 1].
func colourMap(lo, hi float64) palette.ColorMap {
	if lo > hi {
		lo, hi = 0, 1
	}
	var cm palette.ColorMap
	if lo < 0 && hi > 0 {
		m := max(-lo, hi)
		lo, hi = -m, m
		cm = moreland.SmoothBlueRed()
	} else {
		cm = moreland.ExtendedBlackBody()
	}
	if hi == lo {
		hi = lo + 1
	}
	cm.SetMin(lo)
	cm.SetMax(hi)
	return cm
}

// finiteRange returns the least and greatest finite values, lo > hi when
// there are none.
func finiteRange(data []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range data {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return lo, hi
}

// panelWidth is the width of one field of several drawn side by side.
const panelWidth = 5 * vg.Inch

// renderHeatmaps draws frames side by side on one colour scale (that of all
// their finite values) with one colour bar, so that equal colours mean
// equal values across the panels.
func renderHeatmaps(buf *bytes.Buffer, frames []*frame, format string) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, fr := range frames {
		l, h := finiteRange(fr.data)
		lo, hi = min(lo, l), max(hi, h)
	}
	cm := colourMap(lo, hi)
	lut := colourTable(cm, 256)
	width := plotWidth
	if len(frames) > 1 {
		width = vg.Length(len(frames))*panelWidth + barWidth
	}
	w, dc := canvas(format, width, plotHeight)
	pw := (width - barWidth) / vg.Length(len(frames))
	for i, fr := range frames {
		pl := plot.New()
		pl.Title.Text = fr.title
		pl.X.Label.Text, pl.Y.Label.Text = fr.hAxis, fr.vAxis
		pl.Add(plotter.NewImage(frameImage(fr, cm, lut), 0, 0, float64(fr.cols), float64(fr.rows)))
		if fr.rowDown {
			pl.Y.Tick.Marker = flipped{fr.rows}
		}
		pl.Draw(draw.Crop(dc, vg.Length(i)*pw, -(width - vg.Length(i+1)*pw), 0, 0))
	}
	bar := plot.New()
	bar.HideX()
	bar.Y.Padding, bar.X.Padding = 0, 0
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	bar.Title.Text = " "
	bar.Draw(draw.Crop(dc, width-barWidth+0.15*vg.Inch, -0.35*vg.Inch, 0, 0))
	_, err := w.WriteTo(buf)
	return err
}

// frameImage colours a frame's cells through lut, the table of cm. Cells are
// upsampled to nearest neighbours, so that the renderer's bilinear scaling
// does not blur the cells of a small grid.
func frameImage(fr *frame, cm palette.ColorMap, lut []color.RGBA) *image.RGBA {
	lo, hi := cm.Min(), cm.Max()
	rows, cols := fr.rows, fr.cols
	scale := max(1, 512/max(rows, cols))
	img := image.NewRGBA(image.Rect(0, 0, cols*scale, rows*scale))
	for r := 0; r < rows; r++ {
		y := rows - 1 - r
		if fr.rowDown {
			y = r
		}
		for c := 0; c < cols; c++ {
			v := fr.at(r, c)
			col := color.RGBA{200, 200, 200, 255} // NaN
			if !math.IsNaN(v) {
				k := int((v - lo) / (hi - lo) * float64(len(lut)-1))
				col = lut[min(max(k, 0), len(lut)-1)]
			}
			for dy := 0; dy < scale; dy++ {
				off := img.PixOffset(c*scale, y*scale+dy)
				for dx := 0; dx < scale; dx++ {
					img.Pix[off], img.Pix[off+1], img.Pix[off+2], img.Pix[off+3] = col.R, col.G, col.B, 255
					off += 4
				}
			}
		}
	}
	return img
}

// maxImagePixels bounds the pixels of an image plot: it is read whole.
const maxImagePixels = 1 << 24

// imagePanel is one RGB image of an image plot, with its title.
type imagePanel struct {
	title string
	img   *image.RGBA
}

// readImage reads an RGB image dataset (see isImage).
func readImage(f *hdf5io.File, d datasetMeta) (*image.RGBA, error) {
	h, w := d.Shape[0], d.Shape[1]
	if h*w > maxImagePixels {
		return nil, fmt.Errorf("%s: %d×%d pixels: too many to draw", d.Name, h, w)
	}
	pix, _, err := f.ReadUint8(d.Name)
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for k := range h * w {
		img.Pix[4*k], img.Pix[4*k+1], img.Pix[4*k+2], img.Pix[4*k+3] = pix[3*k], pix[3*k+1], pix[3*k+2], 255
	}
	return img, nil
}

// codingQuality is the title suffix of a decoded image: the coding's PSNR
// and rate, as far as the metrics hold them.
func codingQuality(metrics map[string]any) string {
	q := ""
	if psnr, ok := metrics["psnr"].(float64); ok {
		q += fmt.Sprintf(": PSNR %.2f dB", psnr)
	}
	if bpp, ok := metrics["bpp"].(float64); ok {
		q += fmt.Sprintf(", %.3f bpp", bpp)
	}
	return q
}

// drawImage draws an RGB image, after the original it codes when there is
// one, titled with the coding's quality.
func drawImage(buf *bytes.Buffer, f *hdf5io.File, p plotPlan, metrics map[string]any, format string) error {
	var panels []imagePanel
	if p.truth != nil {
		img, err := readImage(f, *p.truth)
		if err != nil {
			return err
		}
		panels = append(panels, imagePanel{p.truth.Name, img})
	}
	img, err := readImage(f, p.data)
	if err != nil {
		return err
	}
	title := p.data.Name
	if p.truth != nil {
		title += codingQuality(metrics)
	}
	return renderImages(buf, append(panels, imagePanel{title, img}), format)
}

// renderImages draws images side by side, row 0 on top.
func renderImages(buf *bytes.Buffer, panels []imagePanel, format string) error {
	width := plotWidth
	if len(panels) > 1 {
		width = vg.Length(len(panels)) * panelWidth
	}
	cw, dc := canvas(format, width, plotHeight)
	pw := width / vg.Length(len(panels))
	for i, p := range panels {
		b := p.img.Bounds()
		pl := plot.New()
		pl.Title.Text = p.title
		pl.X.Label.Text, pl.Y.Label.Text = "x", "y"
		pl.Add(plotter.NewImage(p.img, 0, 0, float64(b.Dx()), float64(b.Dy())))
		pl.Y.Tick.Marker = flipped{b.Dy()}
		pl.Draw(draw.Crop(dc, vg.Length(i)*pw, -(width - vg.Length(i+1)*pw), 0, 0))
	}
	_, err := cw.WriteTo(buf)
	return err
}

// flipped labels a y axis drawn top-down: data coordinate v shows n − v.
type flipped struct{ n int }

func (f flipped) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(float64(f.n)-ticks[i].Value, 'g', 4, 64)
		}
	}
	return ticks
}

// logTicks marks a log axis at the powers of ten, labelled with three
// significant digits, or like a linear axis when it spans less than two
// decades (where powers of ten would leave it bare).
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if max < 100*min {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	all := plot.LogTicks{Prec: -1}.Ticks(min, max)
	decades := 0
	for _, t := range all {
		if t.Label != "" {
			decades++
		}
	}
	// At most about eight labelled decades; past that, no minor ticks.
	every := (decades + 7) / 8
	var ticks []plot.Tick
	k := 0
	for _, t := range all {
		if t.Label == "" {
			if every == 1 {
				ticks = append(ticks, t)
			}
			continue
		}
		if k%every == 0 {
			t.Label = strconv.FormatFloat(t.Value, 'g', 3, 64)
		} else {
			t.Label = ""
		}
		k++
		ticks = append(ticks, t)
	}
	return ticks
}

// colourTable samples a colour map at n evenly spaced values.
func colourTable(cm palette.ColorMap, n int) []color.RGBA {
	lut := make([]color.RGBA, n)
	lo, hi := cm.Min(), cm.Max()
	for i := range lut {
		c, err := cm.At(lo + (hi-lo)*float64(i)/float64(n-1))
		if err != nil {
			c = color.Black
		}
		r, g, b, _ := c.RGBA()
		lut[i] = color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}
	}
	return lut
}

// drawLines draws a 1-D dataset, or the rows of a 2-D one, against the
// abscissa's coordinates (or indices).
func drawLines(buf *bytes.Buffer, f *hdf5io.File, p plotPlan, index map[string]int, format string) error {
	l, err := readLines(f, p, index)
	if err != nil {
		return err
	}
	return renderCurves(buf, l.title, l.xLabel, l.yLabel, l.axis, l.curves, format)
}

// lines are the curves of a line plot with its labels.
type lines struct {
	title, xLabel, yLabel, axis string
	curves                      []curve
}

// readLines reads the curves of a line plot: a 1-D dataset, or the rows of
// a 2-D one (the series axis fixed by index past maxSeries), with its truth
// dashed beside; or the members of a group.
func readLines(f *hdf5io.File, p plotPlan, index map[string]int) (*lines, error) {
	if p.members != nil {
		curves, err := groupCurves(f, p)
		return &lines{p.Title, p.axes[0], p.Name, p.axes[0], curves}, err
	}
	shape := p.data.Shape
	n := shape[p.abscissa]
	sel := hdf5io.All(shape)
	title := p.Title
	nSeries, first := 1, 0
	if p.series >= 0 {
		nSeries = shape[p.series]
		if nSeries > maxSeries {
			k := index[p.axes[p.series]]
			sel[p.series] = hdf5io.Range{Start: k, Stop: k + 1, Step: 1}
			nSeries, first = 1, k
			title += fmt.Sprintf(", %s=%d", p.axes[p.series], k)
		}
	}
	if n*nSeries > maxLineElements {
		return nil, fmt.Errorf("%d elements: too many to draw", n*nSeries)
	}
	data, _, err := f.ReadFloat64Slab(p.data.Name, sel)
	if err != nil {
		return nil, err
	}
	xs := make([]float64, n)
	xLabel := p.axes[p.abscissa]
	if p.coord != nil {
		c, _, err := f.ReadFloat64Slab(p.coord.Name, hdf5io.All(p.coord.Shape))
		if err != nil {
			return nil, err
		}
		copy(xs, c)
		if p.coord.Name != xLabel {
			xLabel = p.coord.Name + " (" + xLabel + ")"
		}
		if p.coord.Units != "" {
			xLabel += " [" + p.coord.Units + "]"
		}
	} else {
		for i := range xs {
			xs[i] = float64(i)
		}
	}
	toCurves := func(data []float64, label string, dashed bool) []curve {
		value := func(s, i int) float64 { // series s (0-based within the read), point i
			if p.series < 0 || nSeries == 1 {
				return data[i]
			}
			if p.abscissa == 1 {
				return data[s*n+i]
			}
			return data[i*nSeries+s]
		}
		curves := make([]curve, nSeries)
		for s := range curves {
			curves[s] = curve{x: xs, y: make([]float64, n), colour: s, dashed: dashed, label: label}
			if dashed && nSeries == 1 {
				curves[s].colour = 1 // beside the one computed line
			}
			for i := range n {
				curves[s].y[i] = value(s, i)
			}
			if p.series >= 0 && (nSeries > 1 || first > 0) {
				curves[s].label = strings.TrimSpace(fmt.Sprintf("%s %d %s", p.axes[p.series], first+s, label))
			}
		}
		return curves
	}
	curves := toCurves(data, "", false)
	if p.truth != nil {
		truth, _, err := f.ReadFloat64Slab(p.truth.Name, sel)
		if err != nil {
			return nil, err
		}
		if len(curves) == 1 {
			curves[0].label = p.data.Name
		}
		curves = append(curves, toCurves(truth, p.truth.Name, true)...)
	}
	return &lines{title, xLabel, p.data.Name, p.axes[p.abscissa], curves}, nil
}

// groupCurves reads the 1-D datasets of a group (the residual histories of
// the methods a job compares, say), each against its own indices.
func groupCurves(f *hdf5io.File, p plotPlan) ([]curve, error) {
	curves := make([]curve, len(p.members))
	for k, m := range p.members {
		if m.Shape[0] > maxLineElements {
			return nil, fmt.Errorf("%s: %d elements: too many to draw", m.Name, m.Shape[0])
		}
		y, _, err := f.ReadFloat64Slab(m.Name, hdf5io.All(m.Shape))
		if err != nil {
			return nil, err
		}
		x := make([]float64, len(y))
		for i := range x {
			x[i] = float64(i)
		}
		curves[k] = curve{label: strings.TrimPrefix(m.Name, p.Name+"/"), x: x, y: y, colour: k}
	}
	return curves, nil
}

// curve is one line of a line plot: its colour is lineColour(colour),
// dashed for exact or true values.
type curve struct {
	label  string
	x, y   []float64
	colour int
	dashed bool
}

// renderCurves draws curves along the axis named axis: log-log for a
// spectrum over its positive values, a log y axis for a history of positive
// values spanning more than a decade; non-finite values are left out.
func renderCurves(buf *bytes.Buffer, title, xLabel, yLabel, axis string, curves []curve, format string) error {
	logX := spectralAxes[axis]
	logY := logX || historyAxes[axis]
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, c := range curves {
		for i, v := range c.y {
			// A spectrum is drawn log-log over its positive values.
			if math.IsNaN(v) || math.IsInf(v, 0) || (logX && (v <= 0 || c.x[i] <= 0)) {
				continue
			}
			ylo, yhi = min(ylo, v), max(yhi, v)
		}
	}
	if !(ylo > 0 && (logX || yhi > 10*ylo)) {
		logY = false
	}
	pl := plot.New()
	pl.Title.Text = title
	pl.X.Label.Text = xLabel
	pl.Y.Label.Text = yLabel
	if logX {
		pl.X.Scale, pl.X.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	if logY {
		pl.Y.Scale, pl.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	pl.Add(plotter.NewGrid())
	drawn := 0
	for _, c := range curves {
		var pts plotter.XYs
		for i, y := range c.y {
			x := c.x[i]
			if math.IsNaN(y) || math.IsInf(y, 0) || (logX && x <= 0) || (logY && y <= 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
		if len(pts) == 0 {
			continue
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		line.Color = lineColour(c.colour)
		line.Width = vg.Points(1.5)
		if c.dashed {
			line.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
		}
		pl.Add(line)
		drawn++
		if c.label != "" {
			pl.Legend.Add(c.label, line)
		}
	}
	if drawn == 0 {
		pl.Title.Text += " (no finite values)"
	}
	pl.Legend.Top = true
	w, dc := canvas(format, plotWidth, plotHeight)
	pl.Draw(dc)
	_, err := w.WriteTo(buf)
	return err
}

// lineColour is a qualitative palette of distinguishable line colours.
func lineColour(i int) color.Color {
	cs := []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
		{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
		{188, 189, 34, 255}, {23, 190, 207, 255}, {0, 0, 0, 255}, {255, 187, 120, 255}}
	return cs[i%len(cs)]
}
