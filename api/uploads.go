package api

import (
	"bytes"
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

	"eddy/hdf5io"
	"eddy/storage"
)

// File signatures of the accepted upload formats.
var (
	hdf5Magic = []byte("\x89HDF\r\n\x1a\n")
	matMagic  = []byte("MATLAB 5.0 MAT-file")
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

// upload stores a raw HDF5 body, or the multipart field "file", after checking that
// it opens as HDF5 (or reads as a MATLAB v5 MAT-file), and reports its datasets.
func (s *server) upload(w http.ResponseWriter, r *http.Request) {
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
	case "application/x-hdf5", "application/octet-stream", "application/x-matlab-data", "":
	default:
		writeProblem(w, http.StatusUnsupportedMediaType,
			"send the file as application/x-hdf5 (or application/octet-stream), or as multipart/form-data field \"file\"")
		return
	}

	id := uuid.NewString()
	tmpKey := "uploads/" + id + ".part"
	tmpPath, err := s.cfg.Artifacts.LocalPath(tmpKey)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer os.Remove(tmpPath)
	f, err := os.Create(tmpPath)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, err.Error())
		return
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("upload exceeds the limit of %d bytes", s.cfg.MaxUploadBytes))
		return
	case err != nil:
		writeProblem(w, http.StatusBadRequest, "reading upload: "+err.Error())
		return
	case n == 0:
		writeProblem(w, http.StatusBadRequest, "empty upload")
		return
	}

	format, datasets, err := inspectUpload(tmpPath)
	if err != nil {
		writeProblem(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	key := "uploads/" + id + "." + map[string]string{"hdf5": "h5", "mat": "mat"}[format]
	finalPath, err := s.cfg.Artifacts.LocalPath(key)
	if err == nil {
		err = os.Rename(tmpPath, finalPath)
	}
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, err.Error())
		return
	}
	u := &storage.Upload{ID: id, Filename: filename, Format: format, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil)),
		Datasets: datasets, Path: key, CreatedAt: time.Now().UTC()}
	if err := storage.InsertUpload(r.Context(), s.cfg.DB.SQL, u); err != nil {
		s.cfg.Artifacts.Remove(key)
		writeProblem(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Location", "/v1/uploads/"+id)
	writeJSON(w, http.StatusCreated, uploadViewOf(u))
}

// inspectUpload recognises the file's format and lists its arrays.
func inspectUpload(path string) (string, []storage.Dataset, error) {
	head := make([]byte, 128)
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, hdf5Magic):
		infos, err := hdf5io.Inspect(path)
		if err != nil {
			return "", nil, fmt.Errorf("not a readable HDF5 file: %v", err)
		}
		out := make([]storage.Dataset, len(infos))
		for i, d := range infos {
			out[i] = storage.Dataset{Name: d.Name, Shape: d.Shape, Dtype: d.Dtype}
		}
		return "hdf5", out, nil
	case bytes.HasPrefix(head, matMagic):
		return inspectMAT(path)
	default:
		return "", nil, errors.New("unrecognised file: expected HDF5 (signature \\x89HDF) or a MATLAB v5 MAT-file")
	}
}

func (s *server) getUpload(w http.ResponseWriter, r *http.Request) {
	u, err := storage.GetUpload(r.Context(), s.cfg.DB.SQL, chi.URLParam(r, "id"))
	if errors.Is(err, storage.ErrNotFound) {
		writeProblem(w, http.StatusNotFound, "no such upload")
		return
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, uploadViewOf(u))
}
