package api

import (
	"bytes"
	"math"
	"path/filepath"
	"testing"

	"eddy/hdf5io"
)

// BenchmarkHeatmap renders one 256×256 frame of a sample,t,y,x field (8×4
// frames in the file) as PNG and as SVG, from reading the slab to the
// encoded image: the cost of one GET /v1/jobs/{id}/plots/{name}.
func BenchmarkHeatmap(b *testing.B) {
	path := filepath.Join(b.TempDir(), "f.h5")
	w, err := hdf5io.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	const s, f, n = 8, 4, 256
	data := make([]float64, s*f*n*n)
	for i := range data {
		y, x := (i/n)%n, i%n
		data[i] = math.Sin(2*math.Pi*float64(x)/n) * math.Cos(4*math.Pi*float64(y)/n)
	}
	if err := w.WriteFloat64("vorticity", data, []int{s, f, n, n}, "sample,t,y,x", "1/time"); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	file, err := hdf5io.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	list, err := describeDatasets(file, "job")
	if err != nil {
		b.Fatal(err)
	}
	plans := planPlots("job", list)
	if len(plans) != 1 || plans[0].Kind != "heatmap" {
		b.Fatalf("plans %+v", plans)
	}
	for _, format := range []string{"png", "svg"} {
		b.Run(format, func(b *testing.B) {
			var buf bytes.Buffer
			for i := 0; i < b.N; i++ {
				buf.Reset()
				if err := drawHeatmap(&buf, file, plans[0], map[string]int{"sample": i % s, "t": i % f}, format); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}
