package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// eddy plot lists a job's plots, writes a PNG (decodable) or an SVG chosen by
// the file's extension, passes axis indices, and reports the server's
// refusal of an unknown plot.
func TestPlotCommand(t *testing.T) {
	ta := startAPI(t)
	r := ta.eddy(t, nil, "submit", "navier_stokes.simulate", "-p", "n=16", "-p", "dt=0.01", "-p", "t_end=0.2",
		"-p", "snapshot_dt=0.1", "-p", "samples=2", "--wait")
	if r.code != 0 {
		t.Fatalf("submit: %v", r)
	}
	id := firstLine(r.stdout)
	r = ta.eddy(t, nil, "plot", id)
	if r.code != 0 || !strings.Contains(r.stdout, "vorticity") || !strings.Contains(r.stdout, "sample=0..1") {
		t.Fatalf("plot list: %v", r)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "w.png")
	if r = ta.eddy(t, nil, "plot", id, "vorticity", "-s", "sample=1", "-s", "t=2", "-o", out); r.code != 0 {
		t.Fatalf("plot png: %v", r)
	}
	b, _ := os.ReadFile(out)
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	svg := filepath.Join(dir, "e.svg")
	if r = ta.eddy(t, nil, "plot", id, "energy", "-o", svg); r.code != 0 {
		t.Fatalf("plot svg: %v", r)
	}
	if b, _ := os.ReadFile(svg); !bytes.Contains(b, []byte("<svg")) {
		t.Fatalf("not an SVG: %.100s", b)
	}
	if r = ta.eddy(t, nil, "plot", id, "no_such", "-o", filepath.Join(dir, "x.png")); r.code != 1 || !strings.Contains(r.stderr, "no plot") {
		t.Fatalf("unknown plot: %v", r)
	}
	if r = ta.eddy(t, nil, "plot", id, "vorticity", "-s", "sample=9", "-o", filepath.Join(dir, "y.png")); r.code != 1 {
		t.Fatalf("bad index: %v", r)
	}
}
