package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"eddy/codec/walloc"
	"eddy/codec/wav"
	"eddy/fileformat"
	"eddy/hdf5io"
)

// encode codes a local PNG, JPEG or WAV file into a .wlc file with a WaLLoC
// model file (the result of a walloc.train job), without a server.
func (c *cli) encode(ctx context.Context, args []string) error {
	fs := c.newFlagSet("encode")
	modelPath := fs.String("m", "", "model file (HDF5, the result of walloc.train)")
	coding := fs.String("coding", "range", "entropy coding of the latents: range or png")
	pos, err := c.parse(fs, args, 2, 2)
	if err != nil {
		return err
	}
	if *modelPath == "" {
		return &usageError{cmd: "encode", msg: "-m MODEL is required"}
	}
	if *coding != "range" && *coding != "png" {
		return &usageError{cmd: "encode", msg: "--coding must be range or png"}
	}
	m, err := loadModel(*modelPath)
	if err != nil {
		return err
	}
	format, err := fileformat.SniffFile(pos[0])
	if err != nil {
		return err
	}
	return writeAtomic(pos[1], func(w *bufio.Writer) error {
		switch format {
		case fileformat.PNG, fileformat.JPEG:
			img, err := fileformat.ReadImage(pos[0])
			if err != nil {
				return err
			}
			return walloc.EncodeWith(w, img, m, walloc.Coding(*coding))
		case fileformat.WAV:
			a, err := fileformat.ReadWAV(pos[0])
			if err != nil {
				return err
			}
			return walloc.EncodeAudioWith(w, a, m, walloc.Coding(*coding))
		}
		return fmt.Errorf("%s: not a PNG, JPEG or WAV file", pos[0])
	})
}

// decode reconstructs a .wlc file as PNG (image) or WAV (audio) with the
// model that made it.
func (c *cli) decode(ctx context.Context, args []string) error {
	fs := c.newFlagSet("decode")
	modelPath := fs.String("m", "", "model file (HDF5, the result of walloc.train)")
	pos, err := c.parse(fs, args, 2, 2)
	if err != nil {
		return err
	}
	if *modelPath == "" {
		return &usageError{cmd: "decode", msg: "-m MODEL is required"}
	}
	m, err := loadModel(*modelPath)
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	h, q, err := walloc.ReadLatents(bufio.NewReader(f))
	if err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(pos[1]))
	switch h.Signal {
	case walloc.Image:
		if ext != ".png" {
			return fmt.Errorf("%s codes an image: write it as .png", pos[0])
		}
		img, err := m.DecodeImageLatents(h, q)
		if err != nil {
			return err
		}
		return writeAtomic(pos[1], func(w *bufio.Writer) error { return png.Encode(w, img) })
	default:
		if ext != ".wav" {
			return fmt.Errorf("%s codes audio: write it as .wav", pos[0])
		}
		a, err := m.DecodeAudioLatents(h, q)
		if err != nil {
			return err
		}
		return writeAtomic(pos[1], func(w *bufio.Writer) error { return wav.Encode(w, a) })
	}
}

// loadModel reads the walloc.train model of the HDF5 file at path. A file
// without the model group is named as such: the reader's own "not found"
// would not say which object, nor that the file is the wrong one.
func loadModel(path string) (*walloc.Model, error) {
	f, err := hdf5io.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable HDF5 model file: %w", path, err)
	}
	_, err = f.AttrNames(walloc.ModelGroup)
	f.Close()
	if errors.Is(err, hdf5io.ErrNotFound) {
		return nil, fmt.Errorf("%s is not a walloc.train model (no %s group)", path, walloc.ModelGroup)
	}
	m, err := walloc.Load(path)
	if errors.Is(err, hdf5io.ErrNotFound) {
		return nil, fmt.Errorf("%s is not a complete walloc.train model: %w", path, err)
	}
	return m, err
}

// writeAtomic writes path through a temporary file renamed into place when
// write succeeds.
func writeAtomic(path string, write func(w *bufio.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	if err := write(w); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
