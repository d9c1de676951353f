package api_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"testing"

	"eddy/api"
)

// The upload size limit holds for multipart bodies too; they used to be read
// without it, so any size was written to disk.
func TestMultipartUploadSizeLimit(t *testing.T) {
	e := start(t, "sqlite", func(c *api.Config) { c.MaxUploadBytes = 64 << 10 })
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "big.h5")
	fw.Write(writeH5(t))
	fw.Write(bytes.Repeat([]byte{0}, 200<<10)) // an HDF5 file may carry trailing bytes
	mw.Close()
	size := mp.Len()
	resp, b := e.do(t, "POST", "/v1/uploads", mw.FormDataContentType(), &mp)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("multipart upload of %d bytes with a limit of %d: %d %s", size, 64<<10, resp.StatusCode, b)
	}
}
