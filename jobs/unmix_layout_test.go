package jobs

import (
	"strings"
	"testing"

	"eddy/storage"
)

// A cube whose rank does not match the layout is refused with the layout
// that fits it named: a 3-D MAT variable under bands,pixels points to
// rows,cols,bands, and a 2-D one under rows,cols,bands to bands,pixels.
func TestUnmixLayoutMismatchNamesTheLayoutThatFits(t *testing.T) {
	for _, c := range []struct {
		layout string
		shape  []int
		want   string
	}{
		{"bands,pixels", []int{34, 78, 162}, `set "layout": "rows,cols,bands"`},
		{"rows,cols,bands", []int{162, 2652}, `set "layout": "bands,pixels"`},
	} {
		u := &storage.Upload{ID: "u1", Format: "mat", Datasets: []storage.Dataset{{Name: "im", Shape: c.shape, Dtype: "float64"}}}
		p := &UnmixParams{Cube: "u1", Variable: "im", Layout: c.layout}
		p.Endmembers = 3
		var ch Checker
		p.CheckUploads(&ch, map[string]*storage.Upload{"/cube": u})
		err := ch.Err()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "/layout") {
			t.Errorf("layout %s, shape %v: %v, want /layout saying %s", c.layout, c.shape, err, c.want)
		}
	}
}
