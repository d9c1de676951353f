package api_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"eddy/api"
)

// The OpenAPI document lints clean with Redocly CLI's recommended rules: an
// operationId on every operation, a 4xx answer on each, a licence, valid
// schemas and examples. The CLI is pinned in testdata/redocly
// (package-lock.json); without it, or without node, the test skips.
func TestOpenAPILintsClean(t *testing.T) {
	cli, _ := filepath.Abs(filepath.Join("testdata", "redocly", "node_modules", ".bin", "redocly"))
	if _, err := os.Stat(cli); err != nil {
		t.Skip("Redocly CLI not installed: npm ci --prefix api/testdata/redocly")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node to run Redocly CLI")
	}
	b, err := json.Marshal(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(doc, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cli, "lint", "--extends", "recommended", "--format", "json", doc)
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
	out, runErr := cmd.Output()
	var report struct {
		Totals struct {
			Errors   int `json:"errors"`
			Warnings int `json:"warnings"`
		} `json:"totals"`
		Problems []struct {
			RuleID   string `json:"ruleId"`
			Message  string `json:"message"`
			Location []struct {
				Pointer string `json:"pointer"`
			} `json:"location"`
		} `json:"problems"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		var stderr []byte
		if ee, ok := runErr.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("redocly lint: %v, output %.500s %.2000s", runErr, out, stderr)
	}
	for _, p := range report.Problems {
		where := ""
		if len(p.Location) > 0 {
			where = p.Location[0].Pointer
		}
		t.Errorf("%s at %s: %s", p.RuleID, where, p.Message)
	}
	if runErr != nil || report.Totals.Errors+report.Totals.Warnings != 0 {
		t.Errorf("redocly lint: %v; %d errors, %d warnings", runErr, report.Totals.Errors, report.Totals.Warnings)
	}
}
