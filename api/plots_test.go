package api_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type plotDoc struct {
	Name      string `json:"name"`
	URL       string `json:"url"`
	Kind      string `json:"kind"`
	Truth     string `json:"truth"`
	Selectors []struct {
		Name string `json:"name"`
		Size int    `json:"size"`
	} `json:"selectors"`
}

func (e *env) plots(t *testing.T, id string) []plotDoc {
	t.Helper()
	resp, body := e.do(t, "GET", "/v1/jobs/"+id+"/plots", "", nil)
	var doc struct {
		Plots []plotDoc `json:"plots"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("plots of %s: %d %s", id, resp.StatusCode, body)
	}
	return doc.Plots
}

// checkSVG parses an SVG document to its end and checks its root element.
func checkSVG(t *testing.T, what string, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: SVG does not parse: %v", what, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element %q", what, root)
	}
}

// Every plot of a real small job of each kind is a valid PNG (decoded, of the
// declared size) and SVG (parsed to its end); the plots expected from the
// datasets' dims are listed with their selectors; unknown names are 404, bad
// selectors 400, and a repeated request with the ETag is 304. With
// EDDY_PLOT_DIR set, the PNGs are kept there to be looked at.
func TestPlotsOfEveryKind(t *testing.T) {
	e := start(t, "sqlite")
	cube, _ := e.cubeUpload(t)
	sim := e.succeeded(t, `{"kind":"navier_stokes.simulate","params":{"n":32,"samples":4,"dt":0.002,"t_warmup":0.5,"snapshot_dt":0.2,"t_end":3.5,"seed":3}}`)
	train := e.succeeded(t, fmt.Sprintf(`{"kind":"stfno.train","params":{"dataset":%q,"width":6,"modes_x":4,"modes_y":4,"modes_t":3,"t_latent":6,"expansion":2,"t_in":6,"t_out":6,"epochs":3,"batch":2,"val_fraction":0.3,"seed":7}}`, sim))
	cases := []struct {
		name, body string
		// want maps plot names that must be listed to their kind and selectors.
		want map[string]string
	}{
		{"poisson", `{"kind":"poisson.solve","params":{"dim":2,"n":24}}`,
			map[string]string{"solution": "heatmap", "exact": "heatmap", "rhs": "heatmap", "residual_history": "lines"}},
		{"poisson_compare", `{"kind":"poisson.solve","params":{"dim":2,"n":24,"compare":["cg","pcg-jacobi","mg"]}}`,
			map[string]string{"residual_history": "lines", "solution": "heatmap"}},
		{"poisson3d", `{"kind":"poisson.solve","params":{"dim":3,"n":12}}`,
			map[string]string{"solution": "heatmap z"}},
		{"navier_stokes", `{"kind":"navier_stokes.simulate","params":{"n":16,"dt":0.01,"t_end":0.2,"snapshot_dt":0.1,"samples":2,"seed":42}}`,
			map[string]string{"vorticity": "heatmap sample t", "energy": "lines", "enstrophy": "lines", "spectrum": "lines"}},
		{"gp1d", `{"kind":"gp.solve","params":{"pde":"poisson1d","exact":"sin(6*x)","n":24,"iterations":10,"seed":5}}`,
			map[string]string{"u": "lines", "u_exact": "lines", "loss": "lines"}},
		{"gp2d", `{"kind":"gp.solve","params":{"pde":"poisson2d","exact":"sin(2*x)*cos(y)","y_max":3,"n":12,"iterations":5,"seed":5}}`,
			map[string]string{"u": "heatmap", "loss": "lines"}},
		{"unmix", fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"variable":"Y","endmembers":3,"rows":4,"cols":5,"seed":11,"iterations":30}}`, cube),
			map[string]string{"abundances": "heatmap endmember", "endmembers": "lines", "objective_history": "lines"}},
		{"stfno.train", "", map[string]string{"train_rel_l2": "lines", "val_rel_l2": "lines"}},
		{"stfno.predict", fmt.Sprintf(`{"kind":"stfno.predict","params":{"model":%q,"refine":true,"refine_iterations":3}}`, train),
			map[string]string{"prediction": "heatmap sample t", "refine_estimator": "lines"}},
	}
	keep := os.Getenv("EDDY_PLOT_DIR")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := train
			if c.body != "" {
				id = e.succeeded(t, c.body)
			}
			plots := e.plots(t, id)
			for name, want := range c.want {
				i := slices.IndexFunc(plots, func(p plotDoc) bool { return p.Name == name })
				if i < 0 {
					t.Errorf("plot %s not listed: %+v", name, plots)
					continue
				}
				got := plots[i].Kind
				for _, s := range plots[i].Selectors {
					got += " " + s.Name
				}
				if got != want {
					t.Errorf("plot %s: %q, want %q", name, got, want)
				}
			}
			for _, p := range plots {
				if strings.HasPrefix(p.Name, "model/") {
					t.Errorf("model tensor %s plotted", p.Name)
				}
				query := url.Values{}
				for _, s := range p.Selectors {
					query.Set(s.Name, fmt.Sprint(s.Size-1)) // the last index: bounds are right
				}
				resp, body := e.do(t, "GET", p.URL+"?"+query.Encode(), "", nil)
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
					t.Fatalf("%s: %d %s %.300s", p.Name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
				}
				img, err := png.Decode(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("%s: PNG does not decode: %v", p.Name, err)
				}
				// A field with a truth is drawn next to it: two panels and
				// one colour bar.
				wantW := 672
				if p.Kind == "heatmap" && p.Truth != "" {
					wantW = 1066
				}
				if b := img.Bounds(); b.Dx() != wantW || b.Dy() != 480 {
					t.Errorf("%s: %v pixels, want %d×480", p.Name, b, wantW)
				}
				if keep != "" {
					os.WriteFile(filepath.Join(keep, c.name+"_"+strings.ReplaceAll(p.Name, "/", "_")+".png"), body, 0o644)
				}
				query.Set("format", "svg")
				resp, body = e.do(t, "GET", p.URL+"?"+query.Encode(), "", nil)
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
					t.Fatalf("%s svg: %d %.300s", p.Name, resp.StatusCode, body)
				}
				checkSVG(t, p.Name, body)
			}
		})
	}

	// Errors and caching, on the Navier–Stokes job of the chain.
	plots := e.plots(t, sim)
	for _, c := range []struct {
		path string
		code int
	}{
		{"/plots/no_such_plot", http.StatusNotFound},
		{"/plots/t", http.StatusNotFound}, // a coordinate, not a plot
		{"/plots/vorticity?sample=4", http.StatusBadRequest},
		{"/plots/vorticity?t=x", http.StatusBadRequest},
		{"/plots/vorticity?format=gif", http.StatusBadRequest},
	} {
		resp, body := e.do(t, "GET", "/v1/jobs/"+sim+c.path, "", nil)
		if resp.StatusCode != c.code || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want %d", c.path, resp.StatusCode, body, c.code)
		}
	}
	if resp, _ := e.do(t, "GET", "/v1/jobs/no-such-job/plots", "", nil); resp.StatusCode != 404 {
		t.Errorf("plots of an unknown job: %d", resp.StatusCode)
	}
	if len(plots) == 0 {
		t.Fatal("no plots for a simulation")
	}
	resp, _ := e.do(t, "GET", "/v1/jobs/"+sim+"/plots/vorticity?sample=1&t=2", "", nil)
	tag := resp.Header.Get("ETag")
	req, _ := http.NewRequest("GET", e.url+"/v1/jobs/"+sim+"/plots/vorticity?sample=1&t=2", nil)
	req.Header.Set("If-None-Match", tag)
	r2, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if tag == "" || r2.StatusCode != http.StatusNotModified {
		t.Errorf("ETag %q: repeated request gave %d", tag, r2.StatusCode)
	}
	r3, _ := e.do(t, "GET", "/v1/jobs/"+sim+"/plots/vorticity?sample=1&t=3", "", nil)
	if r3.Header.Get("ETag") == tag {
		t.Error("another frame has the same ETag")
	}
}
