package daemon

import (
	"flag"
	"maps"
	"testing"

	"eddy/jobs"
)

// EDDY_WORKERS (or -workers) is a plain count or a count per job class.
func TestWorkersByClass(t *testing.T) {
	for _, tc := range []struct {
		env, flag, dbURL string
		def              int
		want             map[string]int // nil: Resolve fails
	}{
		{def: -1, want: map[string]int{jobs.ClassSolve: 2, jobs.ClassTrain: 1}},
		{def: -1, dbURL: "postgres://db/eddy", want: map[string]int{jobs.ClassSolve: 0, jobs.ClassTrain: 0}},
		{def: 2, dbURL: "postgres://db/eddy", want: map[string]int{jobs.ClassSolve: 2, jobs.ClassTrain: 1}},
		{env: "3", def: -1, want: map[string]int{jobs.ClassSolve: 3, jobs.ClassTrain: 1}},
		{env: "0", def: 2, want: map[string]int{jobs.ClassSolve: 0, jobs.ClassTrain: 0}},
		{env: "solve:2,train:1", def: -1, want: map[string]int{jobs.ClassSolve: 2, jobs.ClassTrain: 1}},
		{env: " solve : 4 , train:0 ", def: -1, want: map[string]int{jobs.ClassSolve: 4, jobs.ClassTrain: 0}},
		{env: "train:1", def: 2, want: map[string]int{jobs.ClassSolve: 0, jobs.ClassTrain: 1}},
		{env: "3", flag: "solve:1", def: -1, want: map[string]int{jobs.ClassSolve: 1, jobs.ClassTrain: 0}},
		{env: "gpu:1", def: -1},
		{env: "solve:-1", def: -1},
		{env: "solve:x", def: -1},
		{env: "solve:1,solve:2", def: -1},
		{env: "solve", def: -1},
		{env: "many", def: -1},
	} {
		t.Setenv("EDDY_WORKERS", tc.env)
		t.Setenv("DATABASE_URL", tc.dbURL)
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		c := Flags(fs, tc.def)
		var args []string
		if tc.flag != "" {
			args = []string{"-workers", tc.flag}
		}
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		c.DataDir = t.TempDir()
		err := c.Resolve()
		name := "EDDY_WORKERS=" + tc.env + " -workers=" + tc.flag
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: accepted as %v", name, c.ClassWorkers)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		total := 0
		for _, n := range tc.want {
			total += n
		}
		if !maps.Equal(c.ClassWorkers, tc.want) || c.Workers != total {
			t.Errorf("%s (default %d, database %q): workers %v, total %d; want %v, total %d",
				name, tc.def, tc.dbURL, c.ClassWorkers, c.Workers, tc.want, total)
		}
	}
}
