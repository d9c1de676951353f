package api

import (
	"bytes"
	"image/png"
	"testing"
)

// Fields compared side by side share one colour scale: a value of 1 in a
// field whose greatest value is 1, next to a field reaching 10, takes the
// colour of 1 on the scale 0…10 — not the top colour it would get on its
// own scale.
func TestComparedFieldsShareOneColourScale(t *testing.T) {
	field := func(v float64) *frame {
		data := []float64{0, v, v, v, v, v, v, v, v} // 3×3, one corner 0
		return &frame{title: "f", data: data, rows: 3, cols: 3, hAxis: "x", vAxis: "y",
			at: func(r, c int) float64 { return data[r*3+c] }}
	}
	var buf bytes.Buffer
	if err := renderHeatmaps(&buf, []*frame{field(1), field(10)}, "png"); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	lut := colourTable(colourMap(0, 10), 256)
	count := func(k int) int {
		n := 0
		want := lut[k]
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				if uint8(r>>8) == want.R && uint8(g>>8) == want.G && uint8(bl>>8) == want.B {
					n++
				}
			}
		}
		return n
	}
	one := 255 / 10 // the colour of 1 on 0…10: (1−0)/(10−0)·255, truncated
	// Each field covers about 8/9 of a panel of some 400×380 pixels; the
	// colour bar shows each colour on a thin band only.
	if n := count(one); n < 20000 {
		t.Errorf("%d pixels of the colour of 1 on the shared scale, want a field's worth", n)
	}
	if n10, n1 := count(255), count(one); n10 < 20000 || n1 > 3*n10/2 {
		t.Errorf("top colour on %d pixels, colour of 1 on %d: want two fields of different colours", n10, n1)
	}
}
