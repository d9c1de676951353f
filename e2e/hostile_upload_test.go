package e2e

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/adler32"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"eddy/hdf5io"
)

// zeroBlock is the unit in which zlibZeros compresses zeros.
const zeroBlock = 8 << 20

// zlibZeros returns a zlib stream (compressed at BestCompression) of prefix
// followed by n zero bytes, n a multiple of zeroBlock. Compressing gigabytes
// of zeros takes a while, so one block of zeros is compressed once and its
// deflate output repeated: a fresh compressor refers only to bytes it has
// written itself, and a sync flush ends its output on a byte boundary, so the
// copies decode one after the other into the same zeros.
func zlibZeros(prefix []byte, n int64) []byte {
	deflate := func(b []byte) []byte {
		var out bytes.Buffer
		w, _ := flate.NewWriter(&out, flate.BestCompression)
		w.Write(b)
		w.Flush() // non-final blocks ending on a byte boundary
		return out.Bytes()
	}
	var z bytes.Buffer
	z.Write([]byte{0x78, 0xda}) // zlib header: deflate, 32 KiB window, best compression
	if len(prefix) > 0 {
		z.Write(deflate(prefix))
	}
	block := deflate(make([]byte, zeroBlock))
	for i := int64(0); i < n/zeroBlock; i++ {
		z.Write(block)
	}
	z.Write([]byte{0x01, 0x00, 0x00, 0xff, 0xff}) // final empty stored block
	// Adler-32 of prefix and zeros: each zero adds the first sum to the second.
	sum := adler32.Checksum(prefix)
	a, b := int64(sum&0xffff), int64(sum>>16)
	b = (b + (n%65521)*a) % 65521
	z.Write(binary.BigEndian.AppendUint32(nil, uint32(b<<16|a)))
	return z.Bytes()
}

// matHeader is the 128-byte header of a little-endian level-5 MAT-file.
func matHeader() []byte {
	h := bytes.Repeat([]byte{' '}, 128)
	copy(h, "MATLAB 5.0 MAT-file, written by the hostile upload tests")
	copy(h[116:], make([]byte, 8))
	binary.LittleEndian.PutUint16(h[124:], 0x0100)
	copy(h[126:], "IM")
	return h
}

// doubleMatrixHead returns the start of a valid miMATRIX element holding a
// rows×cols double array named name: the tags and header, declaring the
// 8·rows·cols data bytes that are to follow.
func doubleMatrixHead(name string, rows, cols int32) []byte {
	le := binary.LittleEndian
	data := 8 * int64(rows) * int64(cols)
	var body []byte
	body = le.AppendUint32(le.AppendUint32(body, 6), 8) // array flags: miUINT32, 8 bytes
	body = le.AppendUint32(le.AppendUint32(body, 6), 0) // class double
	body = le.AppendUint32(le.AppendUint32(body, 5), 8) // dimensions: miINT32, 8 bytes
	body = le.AppendUint32(le.AppendUint32(body, uint32(rows)), uint32(cols))
	nameTag := le.AppendUint32(nil, uint32(len(name))<<16|1) // small miINT8 element
	body = append(body, nameTag...)
	body = append(body, (name + "\x00\x00\x00\x00")[:4]...)
	body = le.AppendUint32(le.AppendUint32(body, 9), uint32(data)) // real part: miDOUBLE
	head := le.AppendUint32(nil, 14)
	head = le.AppendUint32(head, uint32(int64(len(body))+data))
	return append(head, body...)
}

// compressedElement returns a miCOMPRESSED element holding stream.
func compressedElement(stream []byte) []byte {
	le := binary.LittleEndian
	return append(le.AppendUint32(le.AppendUint32(nil, 15), uint32(len(stream))), stream...)
}

// peakRSS returns the peak resident memory (VmHWM) of process pid in bytes.
func peakRSS(t testing.TB, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

func (c client) upload(t testing.TB, body []byte) (int, string, []byte) {
	t.Helper()
	resp, err := http.Post(c.base+"/v1/uploads", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// TestHostileUploads posts MAT-file bombs and damaged HDF5 files to a real
// API with the default limits: each is refused with a problem document that
// shows nothing of the server, the API's peak memory stays far below the
// sizes the files claim, and the API keeps answering.
func TestHostileUploads(t *testing.T) {
	// The generator makes streams that zlib decodes to exactly what they claim.
	small := zlibZeros([]byte("prefix"), 3*zeroBlock)
	zr, err := zlib.NewReader(bytes.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || len(got) != 6+3*zeroBlock || string(got[:6]) != "prefix" || bytes.ContainsFunc(got[6:], func(r rune) bool { return r != 0 }) {
		t.Fatalf("zlibZeros decodes to %d bytes: %v", len(got), err)
	}

	const gib = 1 << 30
	bomb := append(matHeader(), compressedElement(zlibZeros(doubleMatrixHead("bomb", 65536, 6144), 3*gib))...)
	zeros := append(matHeader(), compressedElement(zlibZeros(nil, 3*gib))...)
	many := matHeader()
	for i := range 5 {
		// 8192×9600 doubles: 600 MiB each, 3000 MiB in all.
		many = append(many, compressedElement(zlibZeros(doubleMatrixHead(fmt.Sprintf("v%d", i), 8192, 9600), 600<<20))...)
	}

	dir := t.TempDir()
	h5 := filepath.Join(dir, "cube.h5")
	w, err := hdf5io.Create(h5)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFloat64("/cube/Y", make([]float64, 198*1000), []int{198, 1000}, "band,pixel", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(h5)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := append([]byte("\x89HDF\r\n\x1a\n"), bytes.Repeat([]byte("\x00\x13\xff\x37 not a superblock "), 4096)...)

	addr := freeAddr(t)
	data := t.TempDir()
	api := startProc(t, "api", []string{"EDDY_ADDR=" + addr, "EDDY_DATA_DIR=" + data, "DATABASE_URL=", "EDDY_WORKERS=1"})
	c := client{"http://" + addr}
	c.waitReady(t)
	pid := api.cmd.Process.Pid
	t.Logf("API ready, peak RSS %d MiB", peakRSS(t, pid)>>20)

	for _, u := range []struct {
		name  string
		body  []byte
		codes []int
	}{
		{"one compressed element inflating to 3 GiB", bomb, []int{413}},
		{"compressed stream of 3 GiB of zeros, no element tag", zeros, []int{422}},
		{"five compressed elements of 600 MiB each", many, []int{413}},
		{"HDF5 cut in half", good[:len(good)/2], []int{422}},
		{"HDF5 signature and garbage", corrupt, []int{422}},
		{"valid HDF5", good, []int{201}},
	} {
		start := time.Now()
		code, ctype, body := c.upload(t, u.body)
		took := time.Since(start)
		var p struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		t.Logf("%s (%d bytes): %d in %v, API peak RSS %d MiB: %s", u.name, len(u.body), code, took.Round(time.Millisecond),
			peakRSS(t, pid)>>20, bytes.TrimSpace(body))
		if !slices.Contains(u.codes, code) {
			t.Errorf("%s: %d, want %v: %s", u.name, code, u.codes, body)
		}
		if code != 201 {
			if err := json.Unmarshal(body, &p); err != nil || ctype != "application/problem+json" || p.Status != code || p.Detail == "" {
				t.Errorf("%s: not a problem document (%s): %s", u.name, ctype, body)
			}
			for _, leak := range []string{data, dir, ".part", "/tmp", "libhdf5", "hdf5io"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("%s: the answer shows %q: %s", u.name, leak, body)
				}
			}
		}
		if code, b := c.req(t, "GET", "/healthz", ""); code != 200 {
			t.Fatalf("after %s: /healthz %d %s", u.name, code, b)
		}
	}
	if peak := peakRSS(t, pid); peak >= 1<<30 {
		t.Errorf("API peak RSS %d MiB, want below 1 GiB", peak>>20)
	}
}
