package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// progressBar draws a job's progress on one line: a bar, the percentage, the state
// or message, and a few metrics. On a terminal the line is redrawn in place; on
// anything else a line is written when the state changes and at most every
// quiet interval otherwise, so that logs stay short.
type progressBar struct {
	w     io.Writer
	tty   bool
	width int // terminal columns
	quiet time.Duration

	last      string
	lastState string
	lastWrite time.Time
	drawn     bool
}

const (
	barCells   = 24
	barMetrics = 3
)

func newProgressBar(w io.Writer, getenv func(string) string) *progressBar {
	b := &progressBar{w: w, tty: isTerminal(w, getenv), width: 80, quiet: 2 * time.Second}
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 20 {
		b.width = n
	}
	return b
}

// isTerminal reports whether w is a character device on a terminal that
// understands carriage returns and erase-line.
func isTerminal(w io.Writer, getenv func(string) string) bool {
	f, ok := w.(*os.File)
	if !ok || getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Update shows the job's current progress.
func (b *progressBar) Update(j *Job) {
	line := progressLine(j)
	if line == b.last {
		return
	}
	now := time.Now()
	if b.tty {
		if r := []rune(line); len(r) > b.width-1 {
			line = string(r[:b.width-2]) + "…"
		}
		fmt.Fprint(b.w, "\r\x1b[K"+line)
		b.drawn = true
	} else {
		if j.State == b.lastState && !j.Final() && now.Sub(b.lastWrite) < b.quiet {
			return
		}
		fmt.Fprintln(b.w, line)
	}
	b.last, b.lastState, b.lastWrite = line, j.State, now
}

// Done ends the bar's line.
func (b *progressBar) Done() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}

// progressLine renders "[#####-----]  42%  running: iteration 120  residual=1.2e-05".
func progressLine(j *Job) string {
	frac := 0.0
	var msg string
	var metrics map[string]float64
	if p := j.Progress; p != nil {
		frac, msg, metrics = p.Fraction, p.Message, p.Metrics
	}
	if j.State == "succeeded" {
		frac = 1
	}
	if math.IsNaN(frac) {
		frac = 0
	}
	frac = min(max(frac, 0), 1)
	full := int(math.Round(frac * barCells))
	var s strings.Builder
	s.WriteString("[" + strings.Repeat("#", full) + strings.Repeat("-", barCells-full) + "]")
	fmt.Fprintf(&s, " %3.0f%%  %s", 100*frac, j.State)
	if msg != "" {
		s.WriteString(": " + truncate(msg, 48))
	}
	keys := make([]string, 0, len(metrics))
	for k := range metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == barMetrics {
			break
		}
		s.WriteString("  " + k + "=" + formatNumber(metrics[k]))
	}
	return s.String()
}

// formatNumber prints a metric compactly: integers as integers, others with four
// significant digits.
func formatNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
