package walloc

import (
	"image/color"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// curveStyle gives each codec a colour, and WaLLoC filled markers, so that
// the panels read alike.
var curveStyle = []struct {
	prefix string
	color  color.RGBA
	shape  draw.GlyphDrawer
}{
	{"Go image/jpeg", color.RGBA{150, 150, 150, 255}, draw.CrossGlyph{}},
	{"cjpeg", color.RGBA{0, 0, 0, 255}, draw.CircleGlyph{}},
	{"opj_compress", color.RGBA{0, 114, 178, 255}, draw.SquareGlyph{}},
	{"cwebp", color.RGBA{0, 158, 115, 255}, draw.TriangleGlyph{}},
	{"WaLLoC 16×", color.RGBA{230, 159, 0, 255}, draw.PyramidGlyph{}},
	{"WaLLoC 4×", color.RGBA{213, 94, 0, 255}, draw.RingGlyph{}},
}

// legendName shortens a curve's name to its codec.
func legendName(name string) string {
	switch f := strings.Fields(name); {
	case f[0] == "WaLLoC":
		return f[0] + " " + f[1] + " (linear)"
	case f[0] == "Go":
		return "Go image/jpeg"
	case f[0] == "cjpeg":
		return "JPEG (libjpeg-turbo)"
	case f[0] == "opj_compress":
		return "JPEG 2000 (OpenJPEG)"
	case f[0] == "cwebp":
		return "WebP (libwebp)"
	}
	return name
}

// drawRD draws one panel per image, PSNR against bits per pixel, to a PNG
// file at path.
func drawRD(path string, names []string, panels map[string][]curve) error {
	const w, h = 6 * vg.Inch, 4.5 * vg.Inch
	var plots [][]*plot.Plot
	var row []*plot.Plot
	for _, name := range names {
		p := plot.New()
		p.Title.Text = strings.TrimSuffix(name, ".png")
		p.X.Label.Text = "bits per pixel"
		p.Y.Label.Text = "PSNR (dB, RGB)"
		p.X.Min, p.X.Max = 0, 2.5
		p.Add(plotter.NewGrid())
		p.Legend.Top = false
		p.Legend.Left = false
		for _, c := range panels[name] {
			xy := make(plotter.XYs, 0, len(c.pts))
			for _, q := range sorted(c.pts) {
				if q.bpp <= p.X.Max {
					xy = append(xy, plotter.XY{X: q.bpp, Y: q.psnr})
				}
			}
			if len(xy) == 0 {
				continue
			}
			l, s, err := plotter.NewLinePoints(xy)
			if err != nil {
				return err
			}
			for _, st := range curveStyle {
				if strings.HasPrefix(c.name, st.prefix) {
					l.Color, s.Color, s.Shape = st.color, st.color, st.shape
				}
			}
			l.Width = vg.Points(1.2)
			s.Radius = vg.Points(2.5)
			p.Add(l, s)
			p.Legend.Add(legendName(c.name), l, s)
		}
		row = append(row, p)
	}
	plots = append(plots, row)
	img := vgimg.NewWith(vgimg.UseWH(vg.Length(len(names))*w, h), vgimg.UseDPI(96))
	dc := draw.New(img)
	t := draw.Tiles{Rows: 1, Cols: len(names), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, t, dc)
	for j, p := range plots[0] {
		p.Draw(canvases[0][j])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
