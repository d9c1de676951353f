package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"eddy/fileformat"
	"eddy/storage"
)

type uploadView struct {
	ID        string            `json:"id"`
	Filename  string            `json:"filename,omitempty"`
	Format    string            `json:"format"`
	Bytes     int64             `json:"bytes"`
	SHA256    string            `json:"sha256"`
	Datasets  []storage.Dataset `json:"datasets"`
	CreatedAt time.Time         `json:"created_at"`
}

func uploadViewOf(u *storage.Upload) uploadView {
	return uploadView{u.ID, u.Filename, u.Format, u.Bytes, u.SHA256, u.Datasets, u.CreatedAt}
}

// uploadExt is the file extension of a stored upload of each format.
var uploadExt = map[fileformat.Format]string{fileformat.HDF5: "h5", fileformat.MAT: "mat", fileformat.ENVI: "tar",
	fileformat.PNG: "png", fileformat.JPEG: "jpg", fileformat.WAV: "wav", fileformat.WLC: "wlc"}

// upload stores a raw body, or the multipart field "file", after checking that
// it is an HDF5 file, a MATLAB v5 MAT-file or an ENVI tar whose arrays can be listed (see
// fileformat.Inspect), and reports its datasets. A file refused for its
// contents is a 422 (413 when a MAT-file expands beyond the bound), with a
// message that names what is wrong and nothing of the server.
func (s *server) upload(w http.ResponseWriter, r *http.Request) {
	if s.overQuota(w, r, false, max(r.ContentLength, 0)) {
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes)
	r.Body = body // the multipart reader reads r.Body: the limit must hold there too
	var (
		src      io.Reader = body
		filename string
	)
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		if params["boundary"] == "" {
			writeProblem(w, http.StatusBadRequest, "multipart body without a boundary")
			return
		}
		mr, err := r.MultipartReader()
		if err != nil {
			writeProblem(w, http.StatusBadRequest, "reading multipart body: "+err.Error())
			return
		}
		for {
			part, err := mr.NextPart()
			if err != nil {
				writeProblem(w, http.StatusBadRequest, `multipart body has no field "file"`)
				return
			}
			if part.FormName() == "file" {
				// The name is the client's: keep it storable as text.
				src, filename = part, strings.ReplaceAll(strings.ToValidUTF8(part.FileName(), "\uFFFD"), "\x00", "")
				break
			}
		}
	case "application/x-hdf5", "application/octet-stream", "application/x-matlab-data", "application/x-tar",
		"image/png", "image/jpeg", "audio/wav", "audio/x-wav", "audio/wave", "":
		// The content decides the format (fileformat sniffs it); the type only
		// has to be one of a file.
	default:
		writeProblem(w, http.StatusUnsupportedMediaType,
			"send the file as application/octet-stream (or its own type: application/x-hdf5, image/png, …), or as multipart/form-data field \"file\"")
		return
	}

	id := uuid.NewString()
	// The file is received into a local file (its format is sniffed from
	// it) and published once accepted.
	staged, err := storage.Stage(s.cfg.Artifacts, "uploads/"+id)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	defer staged.Abort()
	tmpPath := staged.Path
	n, sum, err := receive(tmpPath, src)
	var (
		stored *storeError
		tooBig *http.MaxBytesError
	)
	switch {
	case errors.As(err, &stored):
		s.internalError(w, r, fmt.Errorf("storing upload %s: %w", id, stored.err))
		return
	case errors.As(err, &tooBig):
		writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("upload exceeds the limit of %d bytes", s.cfg.MaxUploadBytes))
		return
	case err != nil:
		// The connection's error names the server's address: keep it in the log.
		s.log.Info("upload broke off", "upload", id, "bytes", n, "err", err)
		writeProblem(w, http.StatusBadRequest, fmt.Sprintf("the upload broke off after %d bytes", n))
		return
	case n == 0:
		writeProblem(w, http.StatusBadRequest, "empty upload")
		return
	}

	if s.overQuota(w, r, false, n) {
		return
	}
	format, datasets, err := fileformat.Inspect(r.Context(), tmpPath, fileformat.Limits{MaxInflated: s.cfg.MaxInflatedBytes})
	var refused *fileformat.Error
	switch {
	case errors.As(err, &refused):
		s.log.Info("upload refused", "upload", id, "reason", refused.Msg, "cause", refused.Cause)
		status := http.StatusUnprocessableEntity
		if errors.Is(err, fileformat.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		writeProblem(w, status, refused.Msg)
		return
	case err != nil && r.Context().Err() != nil:
		// The client left, or the time to answer ran out.
		s.log.Info("upload inspection interrupted", "upload", id, "err", err)
		writeProblem(w, http.StatusServiceUnavailable, "the upload could not be inspected in time")
		return
	case err != nil:
		s.internalError(w, r, fmt.Errorf("inspecting upload %s: %w", id, err))
		return
	}

	key := "uploads/" + id + "." + uploadExt[format]
	if err := staged.Commit(r.Context(), key); err != nil {
		s.internalError(w, r, fmt.Errorf("storing upload %s: %w", id, err))
		return
	}
	ds := make([]storage.Dataset, len(datasets))
	for i, d := range datasets {
		ds[i] = storage.Dataset{Name: d.Name, Shape: d.Shape, Dtype: d.Dtype}
	}
	u := &storage.Upload{ID: id, Filename: filename, Format: string(format), Bytes: n, SHA256: sum,
		Datasets: ds, Path: key, CreatedAt: time.Now().UTC(), Owner: callerOf(r).owner}
	if err := storage.InsertUpload(r.Context(), s.cfg.DB.SQL, u); err != nil {
		s.cfg.Artifacts.Remove(key)
		s.internalError(w, r, fmt.Errorf("recording upload %s: %w", id, err))
		return
	}
	w.Header().Set("Location", "/v1/uploads/"+id)
	writeJSON(w, http.StatusCreated, uploadViewOf(u))
}

// storeError is a failure to write the received file: the server's, not the
// client's.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }

// fileWriter writes to f and keeps its first error as a *storeError.
type fileWriter struct {
	f   *os.File
	err error
}

func (w *fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil && w.err == nil {
		w.err = &storeError{err}
	}
	return n, err
}

// receive streams src into a new file at path, synced to stable storage, and
// returns its size and SHA-256. Errors of the file are *storeError; other
// errors are the client's (a body that breaks off or exceeds the limit).
func receive(path string, src io.Reader) (int64, string, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, "", &storeError{err}
	}
	h := sha256.New()
	out := &fileWriter{f: f}
	n, err := io.Copy(io.MultiWriter(out, h), src)
	if out.err != nil {
		err = out.err
	}
	if err == nil {
		if serr := f.Sync(); serr != nil {
			err = &storeError{serr}
		}
	}
	if cerr := f.Close(); cerr != nil && err == nil {
		err = &storeError{cerr}
	}
	return n, hex.EncodeToString(h.Sum(nil)), err
}

func (s *server) getUpload(w http.ResponseWriter, r *http.Request) {
	u, err := storage.GetUpload(r.Context(), s.cfg.DB.SQL, chi.URLParam(r, "id"))
	if errors.Is(err, storage.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, "no such upload")
		return
	}
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, uploadViewOf(u))
}

// deleteUpload removes an upload, its record and its file, unless a queued or
// running job references it (409, naming that job).
func (s *server) deleteUpload(w http.ResponseWriter, r *http.Request) {
	err := s.cfg.Jobs.DeleteUpload(r.Context(), chi.URLParam(r, "id"))
	if errors.Is(err, storage.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, "no such upload")
		return
	}
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
