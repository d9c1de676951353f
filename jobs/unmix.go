package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"gonum.org/v1/gonum/mat"

	"eddy/field"
	"eddy/fileformat"
	"eddy/hdf5io"
	"eddy/hyperspectral"
	"eddy/hyperspectral/envi"
	"eddy/hyperspectral/matfile"
	"eddy/storage"
)

// UnmixParams are the params of unmix. The cube, the initial endmembers and the
// ground truth are uploads (HDF5 or MATLAB v5 MAT-files, and for the cube also
// an ENVI tar) named by id; the initial endmembers may also be another unmix
// job's result.
type UnmixParams struct {
	Cube     string `json:"cube" required:"true" ref:"upload" doc:"upload id of the hyperspectral cube: an HDF5 file, a MATLAB v5 MAT-file (a scene file such as Jasper Ridge's also gives the image shape) or an ENVI cube sent as an uncompressed tar of name.hdr and its BSQ, BIL or BIP data file (lines and samples give rows and cols; the header's wavelengths are copied to the result)"`
	Variable string `json:"variable" format:"eddy-dataset" doc:"name of the dataset (HDF5) or variable (MAT) of the upload that holds the cube; not used for an ENVI cube"`
	Layout   string `json:"layout" enum:"bands,pixels|rows,cols,bands" doc:"axis order of the cube: bands,pixels is a bands×pixels matrix with pixel n = row + col·rows (MATLAB order); rows,cols,bands is an image of spectra, which also gives rows and cols; not used for an ENVI cube, whose header gives its order"`
	hyperspectral.Config
	InitEndmembers  string `json:"init_endmembers,omitempty" ref:"upload|job:unmix" doc:"upload id of the initial endmembers, a bands×K matrix (variable or dataset M0, M1, M or endmembers) in the cube's units, or the id of an unmix job whose endmembers start this one (a queued or running one is waited for); required with init = upload, not allowed otherwise"`
	InitScale       string `json:"init_scale" enum:"none|data" doc:"units of init_endmembers: none, the cube's; data, rescale them by (mean band maximum of the cube)/(their maximum), for reflectance libraries"`
	Truth           string `json:"truth,omitempty" ref:"upload" doc:"upload id of the ground truth, a MAT-file or HDF5 file with the true endmembers as M (bands×K), GT (K×bands) or endmembers (bands×K) and, when known, the true abundances as A, S_GT or abundances (K×pixels, or an image of maps: rows×cols×K in a MAT-file, K×rows×cols or rows×cols×K in HDF5): enables the SAD and, with true abundances, the RMSE metrics. K×pixels abundances of an image are taken in MATLAB's column-major pixel order (n = row + col·rows) unless the cube fits them far better numbered row by row (n = row·cols + col, a NumPy reshape): then they are read so, with a warning; the metric truth_pixel_order says which"`
	TruthAbundances string `json:"truth_abundances,omitempty" format:"eddy-dataset" doc:"name of the variable (MAT) or dataset (HDF5) of the truth upload that holds the true abundances, K×pixels or an image of maps (rows×cols×K in a MAT-file, K×rows×cols or rows×cols×K in HDF5); by default the first of A, S_GT and abundances that exists. Needs truth"`
}

// Validate checks the params against each other; the uploads are checked by
// CheckUploads.
func (p *UnmixParams) Validate(c *Checker) {
	cfg := p.Config
	if p.InitEndmembers != "" { // stands in for the matrix, checked against the data at run time
		cfg.InitEndmembers = mat.NewDense(1, cfg.Endmembers, nil)
	}
	c.Add(cfg.Validate())
	if p.TruthAbundances != "" && p.Truth == "" {
		c.Fail("/truth_abundances", "names the true abundances of a truth upload, but truth is not given")
	}
}

// findDataset returns the dataset of u named name (with or without a leading "/").
func findDataset(u *storage.Upload, name string) *storage.Dataset {
	for i, d := range u.Datasets {
		if strings.TrimPrefix(d.Name, "/") == strings.TrimPrefix(name, "/") {
			return &u.Datasets[i]
		}
	}
	return nil
}

// CheckUploads checks, before the job is queued, that the cube's variable exists
// with the rank of the layout and enough bands and pixels, that outlier bands are
// bands of the cube, and that the ground truth and the initial endmembers hold
// endmember matrices with the cube's bands and K = endmembers.
func (p *UnmixParams) CheckUploads(c *Checker, uploads map[string]*storage.Upload) {
	u := uploads["/cube"]
	if u == nil {
		return
	}
	d := p.cubeDataset(u)
	if d == nil {
		c.Fail("/variable", "upload %s has no dataset or variable %q (it has %s)", p.Cube, p.Variable, datasetNames(u))
		return
	}
	want := 2
	if p.Layout == string(hyperspectral.LayoutRowsColsBands) || isENVI(u) {
		want = 3
	}
	if len(d.Shape) != want {
		// Name the layout that fits, when one does: the usual slip is a
		// 3-D image of spectra sent with the default bands,pixels.
		hint := ""
		switch {
		case isENVI(u):
		case len(d.Shape) == 3:
			hint = fmt.Sprintf(" (for a rows×cols×bands image, set \"layout\": %q)", hyperspectral.LayoutRowsColsBands)
		case len(d.Shape) == 2:
			hint = fmt.Sprintf(" (for a bands×pixels matrix, set \"layout\": %q)", hyperspectral.LayoutBandsPixels)
		}
		c.Fail("/layout", "layout %s needs a %d-D array; %s has shape %v%s", p.Layout, want, d.Name, d.Shape, hint)
		return
	}
	bands, pixels := cubeSize(d.Shape)
	if p.Endmembers > bands {
		c.Fail("/endmembers", "%d endmembers need at least as many bands; the cube has %d", p.Endmembers, bands)
	}
	if p.Rows > 0 && p.Rows*p.Cols != pixels {
		c.Fail("/rows", "rows×cols = %d×%d does not match the cube's %d pixels", p.Rows, p.Cols, pixels)
	}
	for i, b := range p.OutlierBands {
		if b >= bands {
			c.Fail(fmt.Sprintf("/outlier_bands/%d", i), "band %d does not exist: the cube has bands 0 to %d", b, bands-1)
		}
	}
	p.checkEndmembers(c, "/truth", uploads["/truth"], truthEndmembers, bands, "true endmembers")
	p.checkEndmembers(c, "/init_endmembers", uploads["/init_endmembers"], initEndmembers, bands, "initial endmembers")
	if t := uploads["/truth"]; t != nil {
		// The true abundances the job will read: the named ones, else the
		// first of the usual names present (none is fine: no RMSE then).
		path, d := "/truth_abundances", (*storage.Dataset)(nil)
		if p.TruthAbundances != "" {
			if d = findDataset(t, p.TruthAbundances); d == nil {
				c.Fail(path, "upload %s has no variable or dataset %q (it has %s)", t.ID, p.TruthAbundances, datasetNames(t))
			}
		} else {
			path = "/truth"
			for _, name := range hyperspectral.TruthAbundanceNames {
				if d = findDataset(t, name); d != nil {
					break
				}
			}
		}
		switch {
		case d == nil:
		case len(d.Shape) != 2 && len(d.Shape) != 3:
			c.Fail(path, "the true abundances %s have shape %v; want K×pixels or an image of K abundance maps", d.Name, d.Shape)
		case shapeProduct(d.Shape) != p.Endmembers*pixels:
			c.Fail(path, "the true abundances %s have shape %v: %d values, want K×pixels = %d×%d", d.Name, d.Shape, shapeProduct(d.Shape), p.Endmembers, pixels)
		}
	}
}

func shapeProduct(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// checkEndmembers checks that upload u, named by the param at path, holds one
// of the named endmember matrices, with the cube's bands and K = endmembers.
func (p *UnmixParams) checkEndmembers(c *Checker, path string, u *storage.Upload, names []endmemberName, bands int, role string) {
	if u == nil {
		return
	}
	m, ok := endmembersIn(u, names)
	switch {
	case !ok:
		c.Fail(path, "upload %s holds no %s (%s); it has %s", u.ID, role, describeEndmembers(names), datasetNames(u))
	case m.bands != bands:
		c.Fail(path, "the %s (%q) have %d bands; the cube has %d", role, m.name, m.bands, bands)
	case m.k != p.Endmembers:
		c.Fail("/endmembers", "is %d, but the %s (%q) are K = %d", p.Endmembers, role, m.name, m.k)
	}
}

// isENVI reports whether the upload is an ENVI cube.
func isENVI(u *storage.Upload) bool { return u.Format == string(fileformat.ENVI) }

// cubeDataset returns the listing of the cube in upload u: the variable
// param's dataset, or for an ENVI upload its cube (lines, samples, bands).
func (p *UnmixParams) cubeDataset(u *storage.Upload) *storage.Dataset {
	if isENVI(u) {
		return findDataset(u, fileformat.ENVICube)
	}
	return findDataset(u, p.Variable)
}

// Where endmember matrices are looked for in an upload (a MAT-file's
// variables or an HDF5 file's datasets alike), in order, and whether each is
// stored bands×K (else K×bands): at submit (endmembersIn, on the upload's
// listing) and when the job reads them (readEndmembers).
var (
	truthEndmembers = []endmemberName{{"M", true}, {"GT", false}, {"endmembers", true}}
	initEndmembers  = []endmemberName{{"M0", true}, {"M1", true}, {"M", true}, {"endmembers", true}}
)

type endmemberName struct {
	name       string
	bandsFirst bool
}

// describeEndmembers lists names for an error message: "M (bands×K), GT
// (K×bands) or endmembers (bands×K)".
func describeEndmembers(names []endmemberName) string {
	var parts []string
	for _, n := range names {
		shape := "bands×K"
		if !n.bandsFirst {
			shape = "K×bands"
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", n.name, shape))
	}
	last := len(parts) - 1
	if last == 0 {
		return parts[0]
	}
	return strings.Join(parts[:last], ", ") + " or " + parts[last]
}

// readEndmembers reads the first of the named endmember matrices present in
// a MAT-file's variables (vars) or else the HDF5 file f, as bands×K; nil
// when none is there.
func readEndmembers(vars map[string]*matfile.Var, f *hdf5io.File, names []endmemberName) (*mat.Dense, error) {
	for _, n := range names {
		m, err := readMatrix(vars, f, n.name)
		switch {
		case err != nil:
			return nil, err
		case m == nil:
			continue
		case !n.bandsFirst:
			m = mat.DenseCopyOf(m.T())
		}
		return m, nil
	}
	return nil, nil
}

// endmemberShape is the size of an endmember matrix found in an upload.
type endmemberShape struct {
	name     string
	bands, k int
}

// endmembersIn finds the first of the named matrices in u (MAT variables keep
// MATLAB's dimensions, HDF5 datasets their row-major shape: either way the
// first dimension is the first of the stated order).
func endmembersIn(u *storage.Upload, names []endmemberName) (endmemberShape, bool) {
	for _, n := range names {
		d := findDataset(u, n.name)
		if d == nil || len(d.Shape) != 2 {
			continue
		}
		if n.bandsFirst {
			return endmemberShape{n.name, d.Shape[0], d.Shape[1]}, true
		}
		return endmemberShape{n.name, d.Shape[1], d.Shape[0]}, true
	}
	return endmemberShape{}, false
}

func datasetNames(u *storage.Upload) string {
	var names []string
	for _, x := range u.Datasets {
		names = append(names, x.Name)
	}
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, ", ")
}

// cubeSize returns the bands and pixels of a cube of the given shape, (L, N)
// or (R, C, L).
func cubeSize(shape []int) (bands, pixels int) {
	if len(shape) == 3 {
		return shape[2], shape[0] * shape[1]
	}
	return shape[0], shape[1]
}

// memory is the peak memory of an unmixing: what hyperspectral.UnmixMemory
// counts, the cube Y it works on, which runUnmix holds, and for a MAT-file
// the decoded variable, which is kept while a scene's image shape is read
// from it and was measured still in the heap when Unmix peaks; with ground
// truth, its abundances as read and as a matrix. (While the cube is read,
// the decoded array and Y make two copies, fewer than during Unmix.) It is 0
// while the cube's shape is unknown: an upload that is not there or of the
// wrong rank, which CheckUploads reports.
func (p *UnmixParams) memory(uploads map[string]*storage.Upload) int64 {
	u := uploads["/cube"]
	if u == nil {
		return 0
	}
	d := p.cubeDataset(u)
	if d == nil || len(d.Shape) != 2 && len(d.Shape) != 3 {
		return 0
	}
	bands, pixels := cubeSize(d.Shape)
	cubes := 1.0
	if u.Format == "mat" {
		cubes = 2
	}
	mem := cubes*8*float64(bands)*float64(pixels) + float64(hyperspectral.UnmixMemory(bands, pixels, p.Endmembers))
	if p.Truth != "" {
		mem += 2 * 8 * float64(p.Endmembers) * float64(pixels)
	}
	return saturatedBytes(mem)
}

func init() {
	Register(Spec[*UnmixParams]{
		Name:  "unmix",
		Title: "Robust hyperspectral unmixing (RRLbS: ℓ2,1 error, learned per-pixel ℓp sparsity) and baselines",
		Description: "Unmixes an uploaded hyperspectral cube into endmember spectra and abundance maps with RRLbS " +
			"(Zhu et al., arXiv 1409.0685), ℓ2,1-NMF, L1/2-NMF, NMF or VCA+FCLS; with ground truth, reports SAD " +
			"per endmember (Hungarian-matched) and abundance RMSE.",
		Defaults: func() *UnmixParams {
			return &UnmixParams{Variable: "Y", Layout: string(hyperspectral.LayoutBandsPixels),
				Config: hyperspectral.DefaultConfig(), InitScale: "none"}
		},
		Outputs: []string{"endmembers", "abundances", "guidance_map", "brightness", "channel_weights", "objective_history", "match", "wavelengths", "endmembers_truth", "abundances_truth"},
		Metrics: map[string]string{
			"converged":        "bool: the stop rule of tol held over a window of stop_window iterations (always true for vca_fcls, which does not iterate)",
			"stopped_by":       "string: what ended the run: tol (the stop rule held over the last stop_window iterations), max_iterations, or direct (vca_fcls)",
			"stop_reason":      "string: the same as stopped_by (its older name)",
			"objective":        "float64: final objective F, for the data scaled to maximum 1 (iterative methods)",
			"rel_decrease":     "float64: relative decrease of the objective over the last stop_window iterations, or over all of them if fewer (iterative methods)",
			"iterations":       "int64: iterations run, the stop iteration (0 for vca_fcls)",
			"lambda":           "float64: weight λ of the sparsity term used (0 for the methods without one)",
			"lambda_rule":      "string: how λ was chosen: discrepancy (rrlbs without lambda: from the data, a fixed multiple of the start's per-pixel misfit in excess of the estimated noise), param (κ·λ_Q with the lambda param), qian_default (κ = 0.05 times Qian's sparseness estimate: l12nmf without lambda, or rrlbs on too few pixels for the noise estimate), or none",
			"guidance":         "string: how rrlbs weighted each pixel's sparsity: learned (the guidance map learned with the abundances), uniform (the same weight for every pixel) or fixed (rrlbs only)",
			"guidance_reason":  "string: why: requested, the automatic rule's measurement, or why the rule made no choice (no noise estimate, no sparsity term), or a resumed run's choice (rrlbs only)",
			"misfit_ratio":     "float64: with guidance auto, the median band's error over its estimated noise level at the start (the initial endmembers and their FCLS abundances), where the rule chooses; above 5 the mixing model does not explain the scene to its noise and the guidance is uniform (rrlbs only)",
			"loss":             "string: rrlbs's channel loss: huber (the Huber form that huber sets) or l21 (the paper's ℓ2,1 loss) (rrlbs only)",
			"loss_reason":      "string: why: requested, huber 0, the automatic rule's measurement, or why it made no choice (no noise estimate) (rrlbs only)",
			"error_spread":     "float64: with loss auto, the lower quartile over bands of the start's channel error in units of the band's estimated noise level, over its median; below 0.55 the loss is huber, else l21 (rrlbs only)",
			"mixing":           "string: the mixing model of the iterations: sum_to_one (each pixel a convex combination of the endmembers) or scaled (such a combination times the pixel's brightness, written as the dataset brightness) (iterative methods)",
			"mixing_reason":    "string: why: requested, the method's published model, or, with mixing auto (rrlbs), the least spectral angle between the sum-to-one run's endmembers against the bound 0.27 rad and the iterations of both runs (iterative methods)",
			"mixing_angle":     "float64: with mixing auto (rrlbs), the least spectral angle in radians between two of the sum-to-one run's endmembers, the bands weighted by their channel weights; above 0.27 the scaled model was run",
			"scale":            "float64: factor by which the cube was divided (its maximum)",
			"mean_sad":         "float64: mean spectral angle to the true endmembers, in radians (with truth)",
			"sad":              "float64 array: spectral angle per true endmember, in radians (with truth)",
			"mean_rmse":        "float64: mean abundance RMSE (with true abundances)",
			"rmse":             "float64 array: abundance RMSE per true endmember (with true abundances)",
			"match":            "float64 array: 0-based index of the estimated endmember matched to each true one, integer-valued (with truth; the dataset match holds the same indices as int64)",
			"sad_bands":        "int64: bands over which SAD was computed (with truth)",
			"truth_abundances": "string: the variable or dataset of the truth upload that gave the true abundances, or none, when there are none and so no RMSE (with truth)",
		},
		Timeout:     6 * time.Hour,
		MaxAttempts: 2,
		Run:         runUnmix,
		Memory:      (*UnmixParams).memory,
		MemoryParam: "/cube",
	})
}

// openUpload reads an uploaded file: a MAT-file's variables, or nil and an open
// HDF5 file. A MAT-file's compressed variables may expand to lim.MaxInflated
// bytes in all, the bound under which the API accepted the upload.
func openUpload(path string, lim fileformat.Limits) (map[string]*matfile.Var, *hdf5io.File, error) {
	format, err := fileformat.SniffFile(path)
	if err != nil {
		return nil, nil, err
	}
	switch format {
	case fileformat.MAT:
		vars, err := fileformat.ReadMAT(path, lim)
		var fe *matfile.FormatError
		if errors.As(err, &fe) {
			return nil, nil, Permanent(err)
		}
		if err != nil {
			return nil, nil, err
		}
		return vars, nil, nil
	case fileformat.HDF5:
		f, err := hdf5io.Open(path)
		if err != nil {
			return nil, nil, Permanent(err)
		}
		return nil, f, nil
	}
	if format == fileformat.ENVI {
		return nil, nil, Permanent(errors.New("an ENVI cube holds no named matrices; send endmembers or ground truth as HDF5 or a MAT-file"))
	}
	return nil, nil, Permanent(errors.New("the upload is neither HDF5 nor a MATLAB v5 MAT-file"))
}

// readMatrix reads the 2-D array name, row-major as stored, from a MAT
// variable map or else an HDF5 file; nil when there is no such array.
func readMatrix(vars map[string]*matfile.Var, f *hdf5io.File, name string) (*mat.Dense, error) {
	if vars != nil {
		if v := vars[name]; v != nil {
			return hyperspectral.MatrixFromVar(v)
		}
		return nil, nil
	}
	data, shape, err := f.ReadFloat64(name)
	switch {
	case errors.Is(err, hdf5io.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case len(shape) != 2:
		return nil, fmt.Errorf("%s has shape %v, want a matrix", name, shape)
	}
	return mat.NewDense(shape[0], shape[1], data), nil
}

// readCube reads the cube of the upload at path as a bands×pixels matrix,
// with the image shape when the upload gives it (0, 0 otherwise), the
// MAT-file's variables (nil for other formats; a scene file's shape is read
// from them) and an ENVI cube's header (nil for other formats).
func readCube(path string, p *UnmixParams, lim fileformat.Limits) (y *mat.Dense, rows, cols int, vars map[string]*matfile.Var, hdr *envi.Header, err error) {
	format, err := fileformat.SniffFile(path)
	if err != nil {
		return nil, 0, 0, nil, nil, err
	}
	if format == fileformat.ENVI {
		h, data, err := fileformat.ReadENVI(path, 0)
		var fe *fileformat.Error
		if errors.As(err, &fe) {
			return nil, 0, 0, nil, nil, Permanent(fmt.Errorf("cube: %w", err))
		}
		if err != nil {
			return nil, 0, 0, nil, nil, fmt.Errorf("cube: %w", err)
		}
		return mat.NewDense(h.Bands, h.Lines*h.Samples, data), h.Lines, h.Samples, nil, h, nil
	}
	vars, f, err := openUpload(path, lim)
	if err != nil {
		return nil, 0, 0, nil, nil, fmt.Errorf("cube: %w", err)
	}
	layout := hyperspectral.Layout(p.Layout)
	if vars != nil {
		v := vars[p.Variable]
		if v == nil {
			return nil, 0, 0, nil, nil, Permanent(fmt.Errorf("cube: the MAT-file has no variable %q", p.Variable))
		}
		y, rows, cols, err = hyperspectral.CubeFromVar(v, layout)
	} else {
		var data []float64
		var dims []int
		data, dims, err = f.ReadFloat64(p.Variable)
		f.Close()
		if err == nil {
			y, rows, cols, err = hyperspectral.CubeFromRowMajor(data, dims, layout)
		}
	}
	if err != nil {
		return nil, 0, 0, nil, nil, Permanent(fmt.Errorf("cube: %w", err))
	}
	return y, rows, cols, vars, nil, nil
}

func runUnmix(ctx context.Context, p *UnmixParams, env *Env) error {
	cubePath, err := env.Resolve(p.Cube)
	if err != nil {
		return Permanent(err)
	}
	y, rows, cols, vars, hdr, err := readCube(cubePath, p, env.Limits)
	if err != nil {
		return err
	}
	cfg := p.Config
	if rows > 0 && cfg.Rows == 0 {
		cfg.Rows, cfg.Cols = rows, cols
	}
	if cfg.Rows == 0 && vars != nil { // a scene file knows its image shape
		if sc, err := hyperspectral.SceneFromVars(vars); err == nil {
			if r, _ := sc.Y.Dims(); r == bandsOf(y) {
				cfg.Rows, cfg.Cols = sc.Rows, sc.Cols
			}
		}
	}

	if p.InitEndmembers != "" {
		path, err := env.Resolve(p.InitEndmembers)
		if err != nil {
			return Permanent(err)
		}
		ivars, ifile, err := openUpload(path, env.Limits)
		if err != nil {
			return fmt.Errorf("init_endmembers: %w", err)
		}
		m, err := readEndmembers(ivars, ifile, initEndmembers)
		if ifile != nil {
			ifile.Close()
		}
		if err != nil || m == nil {
			return Permanent(fmt.Errorf("init_endmembers: no endmember matrix (%s) in upload %s%s", describeEndmembers(initEndmembers), p.InitEndmembers, because(err)))
		}
		if r, _ := m.Dims(); r != bandsOf(y) {
			return Permanent(fmt.Errorf("init_endmembers: %d bands, the cube has %d", r, bandsOf(y)))
		}
		switch f := hyperspectral.DataScale(m, y); {
		case p.InitScale == "data":
			m = hyperspectral.ScaleToData(m, y)
		case f > 100 || f < 0.01:
			env.Warn("the initial endmembers are in other units than the cube: their largest value is %.3g, "+
				"the cube's mean band maximum %.3g times that; init_scale: data rescales them", mat.Max(m), f)
		}
		cfg.InitEndmembers = m
	}
	truthAbundances := ""
	if p.Truth != "" {
		truth, name, err := readTruth(env, p, y, cfg.Rows, cfg.Cols)
		if err != nil {
			return Permanent(fmt.Errorf("truth: %w", err))
		}
		cfg.Truth, truthAbundances = truth, name
		if name == "" {
			env.Warn("the truth upload has no true abundances (looked for %s): no RMSE", strings.Join(hyperspectral.TruthAbundanceNames, ", "))
		}
	}

	if cfg.Init != hyperspectral.InitUpload {
		env.UseSeed(cfg.Seed) // VCA's random projections
	}
	bands, pixels := y.Dims()
	env.Stage("unmixing %d pixels of %d bands into %d endmembers", pixels, bands, cfg.Endmembers)
	opts, err := unmixCheckpoints(env)
	if err != nil {
		return err
	}
	res, err := hyperspectral.UnmixWith(ctx, y, cfg, env.Progress, opts)
	var fe field.Errors
	if errors.As(err, &fe) {
		return Permanent(err)
	}
	if err != nil {
		return err
	}
	w := env.Out
	bands, k := res.Endmembers.Dims()
	write := func(name string, data []float64, shape []int, dims string) {
		if err == nil {
			err = w.WriteFloat64(name, data, shape, dims, "")
		}
	}
	write("endmembers", mat.DenseCopyOf(res.Endmembers).RawMatrix().Data, []int{bands, k}, "band,endmember")
	write("abundances", res.AbundanceCube(), []int{k, res.Rows, res.Cols}, "endmember,row,col")
	if g := res.GuidanceImage(); g != nil {
		write("guidance_map", g, []int{res.Rows, res.Cols}, "row,col")
	}
	if b := res.BrightnessImage(); b != nil {
		write("brightness", b, []int{res.Rows, res.Cols}, "row,col")
	}
	write("channel_weights", res.ChannelWeights, []int{len(res.ChannelWeights)}, "band")
	write("objective_history", res.ObjectiveHistory, []int{len(res.ObjectiveHistory)}, "iteration")
	if hdr != nil && hdr.Wavelengths != nil && err == nil {
		err = w.WriteFloat64("wavelengths", hdr.Wavelengths, []int{len(hdr.Wavelengths)}, "band", hdr.WavelengthUnits)
	}
	if m := res.Metrics; m != nil && cfg.Truth != nil {
		writeAlignedTruth(write, cfg.Truth, m.Match, bands, k, res.Rows, res.Cols)
	}
	if m := res.Metrics; m != nil && err == nil {
		match := make([]int64, len(m.Match))
		for i, j := range m.Match {
			match[i] = int64(j)
		}
		err = w.WriteInt64("match", match, []int{len(match)}, "true_endmember", "")
	}
	if err != nil {
		return err
	}
	env.Metrics["iterations"] = res.Iterations
	unmixConvergence(env, cfg, res)
	env.Metrics["lambda"] = res.Lambda
	if res.LambdaRule != "" {
		env.Metrics["lambda_rule"] = res.LambdaRule
	}
	if res.Guidance != "" {
		env.Metrics["guidance"] = string(res.Guidance)
		env.Metrics["guidance_reason"] = res.GuidanceReason
	}
	if !math.IsNaN(res.MisfitRatio) && res.Guidance != "" {
		env.Metrics["misfit_ratio"] = res.MisfitRatio
	}
	if res.Loss != "" {
		env.Metrics["loss"] = string(res.Loss)
		env.Metrics["loss_reason"] = res.LossReason
		if !math.IsNaN(res.ErrorSpread) {
			env.Metrics["error_spread"] = res.ErrorSpread
		}
	}
	if res.Mixing != "" {
		env.Metrics["mixing"] = string(res.Mixing)
		env.Metrics["mixing_reason"] = res.MixingReason
		if !math.IsNaN(res.MixingAngle) {
			env.Metrics["mixing_angle"] = res.MixingAngle
		}
	}
	env.Metrics["scale"] = res.Scale
	if m := res.Metrics; m != nil {
		env.Metrics["mean_sad"] = m.MeanSAD
		env.Metrics["sad"] = m.SAD
		if m.RMSE != nil {
			env.Metrics["mean_rmse"] = m.MeanRMSE
			env.Metrics["rmse"] = m.RMSE
		}
		match := make([]float64, len(m.Match))
		for i, j := range m.Match {
			match[i] = float64(j)
		}
		env.Metrics["match"] = match
		env.Metrics["sad_bands"] = m.Bands
		env.Metrics["truth_abundances"] = cmp.Or(truthAbundances, "none")
	}
	return nil
}

// unmixConvergence reports how the run ended: converged, stopped_by (and its
// older name stop_reason), the final objective and its relative decrease over
// the last stop window, and a warning when an iterative method stopped at its
// iteration limit.
func unmixConvergence(env *Env, cfg hyperspectral.Config, res *hyperspectral.Result) {
	env.Metrics["converged"] = res.Converged
	env.Metrics["stopped_by"] = res.StoppedBy
	env.Metrics["stop_reason"] = res.StoppedBy
	h := res.ObjectiveHistory
	if res.StoppedBy == hyperspectral.StopDirect || len(h) == 0 {
		return
	}
	f := h[len(h)-1]
	env.Metrics["objective"] = f
	decrease := math.NaN()
	w := min(max(1, cfg.StopWindow), len(h)-1)
	if w >= 1 {
		prev := h[len(h)-1-w]
		decrease = (prev - f) / math.Abs(prev)
		env.Metrics["rel_decrease"] = decrease
	}
	if res.Converged {
		return
	}
	env.Warn("did not converge: relative decrease of the objective %.3g over the last %d iterations after %d iterations, tol %g per iteration",
		decrease, w, res.Iterations, cfg.Tol)
}

// because is ": err" to end a message with its cause, or nothing when there is none.
func because(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// readTruth reads ground truth from a MAT-file or an HDF5 file: the first of
// truthEndmembers, and the true abundances named by the truth_abundances
// param or the first of hyperspectral.TruthAbundanceNames (K×pixels, or maps:
// rows×cols×K in a MAT-file, K×rows×cols or rows×cols×K in HDF5). K×pixels
// abundances of an image are read in the pixel order the cube fits
// (hyperspectral.AlignAbundanceOrder; the metric truth_pixel_order, and a
// warning when row-major). It returns the name of the true abundances, ""
// if there are none.
func readTruth(env *Env, p *UnmixParams, y *mat.Dense, rows, cols int) (*hyperspectral.Truth, string, error) {
	t, found, list, err := readTruthFile(env, p, y, rows, cols)
	if err != nil || t.Abundances == nil || rows <= 1 || cols <= 1 {
		return t, found, err
	}
	if !list {
		env.Metrics["truth_pixel_order"] = "image" // maps: no order to choose
		return t, found, nil
	}
	a, fit := hyperspectral.AlignAbundanceOrder(y, t.Abundances, rows, cols)
	t.Abundances = a
	env.Metrics["truth_pixel_order"] = fit.Order
	if fit.Order == hyperspectral.OrderRowMajor {
		env.Warn("the true abundances %s (K×pixels) fit the cube far better with their pixels numbered row by row "+
			"(n = row·cols + col: relative residual %.3g, against %.3g in the column-major order n = row + col·rows "+
			"that MATLAB files use); read so", found, fit.RowMajor, fit.ColumnMajor)
	}
	return t, found, nil
}

// readTruthFile reads the truth upload: its endmembers and, when found, its
// abundances as K×pixels in the package's order (maps converted, K×pixels
// matrices as stored, which list reports).
func readTruthFile(env *Env, p *UnmixParams, y *mat.Dense, rows, cols int) (t *hyperspectral.Truth, found string, list bool, err error) {
	path, err := env.Resolve(p.Truth)
	if err != nil {
		return nil, "", false, err
	}
	vars, f, err := openUpload(path, env.Limits)
	if err != nil {
		return nil, "", false, err
	}
	bands, pixels := y.Dims()
	if rows == 0 {
		rows, cols = pixels, 1
	}
	if f != nil {
		defer f.Close()
	}
	m, err := readEndmembers(vars, f, truthEndmembers)
	if err != nil || m == nil {
		return nil, "", false, fmt.Errorf("no true endmembers (%s)%s", describeEndmembers(truthEndmembers), because(err))
	}
	t = &hyperspectral.Truth{Endmembers: m}
	_, k := m.Dims()
	names := hyperspectral.TruthAbundanceNames
	if p.TruthAbundances != "" {
		names = []string{p.TruthAbundances}
	}
	if vars != nil {
		for _, name := range names {
			if v := vars[strings.TrimPrefix(name, "/")]; v != nil {
				if t.Abundances, err = hyperspectral.AbundancesFromVar(v, k, rows, cols); err != nil {
					return nil, "", false, err
				}
				found, list = v.Name, len(v.Dims) == 2
				break
			}
		}
		if p.TruthAbundances != "" && found == "" {
			return nil, "", false, fmt.Errorf("no variable %q (truth_abundances)", p.TruthAbundances)
		}
		t, err = checkTruth(t, bands, pixels)
		return t, found, list, err
	}
	for _, name := range names {
		data, shape, err := f.ReadFloat64(name)
		switch {
		case errors.Is(err, hdf5io.ErrNotFound):
			continue
		case err != nil:
			return nil, "", false, err
		case len(shape) == 2:
			t.Abundances, list = mat.NewDense(shape[0], shape[1], data), true
		case len(shape) == 3 && shape[1] == rows && shape[2] == cols:
			t.Abundances = hyperspectral.FromRowMajor(mat.NewDense(shape[0], rows*cols, data), rows, cols)
		case len(shape) == 3 && shape[0] == rows && shape[1] == cols && shape[2] == k:
			// rows×cols×K: the MAT-file's S_GT as a conversion keeps it.
			if t.Abundances, _, _, err = hyperspectral.CubeFromRowMajor(data, shape, hyperspectral.LayoutRowsColsBands); err != nil {
				return nil, "", false, err
			}
		default:
			return nil, "", false, fmt.Errorf("%s has shape %v; want K×pixels, K×%d×%d or %d×%d×K", name, shape, rows, cols, rows, cols)
		}
		found = name
		break
	}
	if p.TruthAbundances != "" && found == "" {
		return nil, "", false, fmt.Errorf("no dataset %q (truth_abundances)", p.TruthAbundances)
	}
	t, err = checkTruth(t, bands, pixels)
	return t, found, list, err
}

func checkTruth(t *hyperspectral.Truth, bands, pixels int) (*hyperspectral.Truth, error) {
	r, k := t.Endmembers.Dims()
	if r != bands {
		return nil, fmt.Errorf("true endmembers have %d bands, the cube %d", r, bands)
	}
	if t.Abundances != nil {
		if ak, an := t.Abundances.Dims(); ak != k || an != pixels {
			return nil, fmt.Errorf("true abundances are %d×%d, want %d×%d", ak, an, k, pixels)
		}
	}
	return t, nil
}

func bandsOf(y *mat.Dense) int {
	r, _ := y.Dims()
	return r
}

// unmixCheckpoints returns the hooks that save the iterations' state when a
// checkpoint is due and, when an earlier attempt saved one, resume from it
// (bit-identical to an uninterrupted run: the state is the solver's whole
// state, see hyperspectral.IterState). The checkpoint holds the iteration
// (attribute of /state), the objective history and each array as a dataset
// of /state.
func unmixCheckpoints(env *Env) (hyperspectral.Options, error) {
	var opts hyperspectral.Options
	resumed, err := env.Resume(func(f *hdf5io.File) error {
		st := &hyperspectral.IterState{Arrays: map[string][]float64{}}
		it, err := f.AttrInt64("/state", "iteration")
		if err != nil {
			return err
		}
		st.Iteration = int(it)
		infos, err := f.Datasets()
		if err != nil {
			return err
		}
		for _, d := range infos {
			name, ok := strings.CutPrefix(d.Name, "/state/")
			if !ok {
				continue
			}
			v, _, err := f.ReadFloat64(d.Name)
			if err != nil {
				return err
			}
			if name == "history" {
				st.History = v
			} else {
				st.Arrays[name] = v
			}
		}
		opts.Resume = st
		return nil
	})
	if err != nil {
		env.Warn("%v", err)
	}
	if resumed {
		env.Stage("resumed at iteration %d from a checkpoint", opts.Resume.Iteration)
	}
	opts.Due = env.CheckpointDue
	opts.Save = func(st *hyperspectral.IterState) error {
		err := env.Checkpoint(func(w *hdf5io.Writer) error {
			if err := w.WriteFloat64("/state/history", st.History, []int{len(st.History)}, "iteration", ""); err != nil {
				return err
			}
			for name, v := range st.Arrays {
				if err := w.WriteFloat64("/state/"+name, v, []int{len(v)}, "value", ""); err != nil {
					return err
				}
			}
			return w.SetAttrInt64("/state", "iteration", int64(st.Iteration))
		})
		if err != nil {
			env.Stage("checkpoint at iteration %d not saved: %v", st.Iteration, err)
		}
		return nil // the run goes on; only a resume would start earlier
	}
	return opts, nil
}

// writeAlignedTruth writes the ground truth beside the estimate it was
// matched to, so that each can be drawn over or next to its estimate:
// endmembers_truth (band,endmember) and, with true abundances,
// abundances_truth (endmember,row,col), column or map j holding the true
// endmember matched to estimated endmember j; NaN where an estimate matched
// none (more estimates than true endmembers).
func writeAlignedTruth(write func(name string, data []float64, shape []int, dims string), truth *hyperspectral.Truth,
	match []int, bands, k, rows, cols int) {
	em := make([]float64, bands*k)
	for i := range em {
		em[i] = math.NaN()
	}
	for t, j := range match {
		for b := range bands {
			em[b*k+j] = truth.Endmembers.At(b, t)
		}
	}
	write("endmembers_truth", em, []int{bands, k}, "band,endmember")
	if truth.Abundances == nil {
		return
	}
	ab := make([]float64, k*rows*cols)
	for i := range ab {
		ab[i] = math.NaN()
	}
	for t, j := range match {
		row := truth.Abundances.RawRowView(t) // pixels in the cube's order, column-major
		for r := range rows {
			for c := range cols {
				ab[(j*rows+r)*cols+c] = row[r+c*rows]
			}
		}
	}
	write("abundances_truth", ab, []int{k, rows, cols}, "endmember,row,col")
}
