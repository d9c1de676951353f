package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pythonWithNumpy returns a Python interpreter that imports numpy and h5py:
// EDDY_PYTHON if set, else python3 on PATH, else Debian's /usr/bin/python3.
func pythonWithNumpy() string {
	candidates := []string{"python3", "/usr/bin/python3"}
	if p := os.Getenv("EDDY_PYTHON"); p != "" {
		candidates = []string{p}
	}
	for _, p := range candidates {
		if exec.Command(p, "-c", "import numpy, h5py").Run() == nil {
			return p
		}
	}
	return ""
}

// The Python client (clients/python) against the real cmd/api on loopback:
// one job of each kind submitted, followed and read with h5py, datasets
// fetched as numpy arrays through the .npy endpoint and compared with the
// file, a refused param reported at its field. The script counts its checks.
func TestPythonClient(t *testing.T) {
	py := pythonWithNumpy()
	if py == "" {
		t.Skip("no python3 with numpy and h5py (Debian: apt-get install python3 python3-numpy python3-h5py; or set EDDY_PYTHON)")
	}
	addr := freeAddr(t)
	startProc(t, "api", []string{"EDDY_ADDR=" + addr, "EDDY_DATA_DIR=" + t.TempDir(), "DATABASE_URL=", "EDDY_WORKERS=2"})
	c := client{"http://" + addr}
	c.waitReady(t)
	script, err := filepath.Abs("../clients/python/check_client.py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script, c.base, t.TempDir())
	cmd.Env = append(os.Environ(), "EDDY_TOKEN=")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil || !strings.Contains(string(out), " passed, 0 failed") {
		t.Fatalf("python client check: %v", err)
	}
}
