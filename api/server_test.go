package api_test

import (
	"net/http"
	"testing"

	"eddy/api"
)

// The authentication scheme is case-insensitive (RFC 9110 §11.1).
func TestBearerSchemeCaseInsensitive(t *testing.T) {
	e := start(t, "sqlite", func(c *api.Config) { c.Tokens = []string{"s3cret"} })
	for _, h := range []string{"bearer s3cret", "BEARER s3cret"} {
		req, _ := http.NewRequest("GET", e.url+"/v1/kinds", nil)
		req.Header.Set("Authorization", h)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("Authorization: %s → %d", h, resp.StatusCode)
		}
	}
}
