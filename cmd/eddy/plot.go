package main

import (
	"context"

	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// plot fetches a plot the server renders from a job's result
// (GET /v1/jobs/{id}/plots/{name}) and writes it to a file; without NAME it
// lists the job's plots with the axes they take an index on.
func (c *cli) plot(ctx context.Context, args []string) error {
	fs := c.newFlagSet("plot")
	out := fs.String("o", "", "write the plot to `file` (default ID_NAME.FORMAT; \"-\": standard output)")
	format := fs.String("format", "", "png or svg (default: from the -o file's extension, else png)")
	var sels listFlag
	fs.Var(&sels, "s", "choose an index on an axis, `axis=index` (e.g. -s sample=1 -s t=4); repeatable")
	pos, cl, err := c.start(fs, args, 1, 2)
	if err != nil {
		return err
	}
	id := pos[0]
	if len(pos) == 1 {
		var doc struct {
			Plots []struct {
				Name      string `json:"name"`
				Kind      string `json:"kind"`
				Selectors []struct {
					Name string `json:"name"`
					Size int    `json:"size"`
				} `json:"selectors"`
			} `json:"plots"`
		}
		if _, _, err := cl.call(ctx, "GET", jobPath(id)+"/plots", nil, &doc, 200); err != nil {
			return err
		}
		for _, p := range doc.Plots {
			var axes []string
			for _, s := range p.Selectors {
				axes = append(axes, fmt.Sprintf("%s=0..%d", s.Name, s.Size-1))
			}
			fmt.Fprintf(c.stdout, "%-28s %-8s %s\n", p.Name, p.Kind, strings.Join(axes, " "))
		}
		return nil
	}
	name := pos[1]
	if *format == "" {
		*format = "png"
		if strings.HasSuffix(strings.ToLower(*out), ".svg") {
			*format = "svg"
		}
	}
	if *format != "png" && *format != "svg" {
		return &usageError{cmd: "plot", msg: "--format must be png or svg"}
	}
	q := url.Values{"format": {*format}}
	for _, s := range sels {
		axis, index, ok := strings.Cut(s, "=")
		if !ok || axis == "" {
			return &usageError{cmd: "plot", msg: fmt.Sprintf("-s %q: want axis=index", s)}
		}
		q.Set(axis, index)
	}
	req, err := cl.newRequest(ctx, "GET", jobPath(id)+"/plots/"+escapeName(name)+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := cl.do(req, 200)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	path := *out
	if path == "" {
		path = id + "_" + strings.ReplaceAll(name, "/", "_") + "." + *format
	}
	if path == "-" {
		_, err := io.Copy(c.stdout, resp.Body)
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fmt.Fprintf(c.stdout, "%s written: %d bytes\n", path, n)
	return nil
}

// escapeName escapes each slash-separated part of a dataset name for a URL
// path, keeping the slashes.
func escapeName(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
