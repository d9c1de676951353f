package api_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"eddy/storage"
)

// uploadPage is one page of GET /v1/uploads.
type uploadPage struct {
	Uploads []struct {
		ID        string            `json:"id"`
		Format    string            `json:"format"`
		Bytes     int64             `json:"bytes"`
		Datasets  []storage.Dataset `json:"datasets"`
		CreatedAt time.Time         `json:"created_at"`
	} `json:"uploads"`
	NextCursor *string `json:"next_cursor"`
}

func (e *env) uploadPage(t *testing.T, path string) uploadPage {
	t.Helper()
	resp, b := e.do(t, "GET", path, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	var p uploadPage
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// allUploads follows the cursors of GET path from its first page to its last.
func (e *env) allUploads(t *testing.T, path string, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 20 {
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		p := e.uploadPage(t, path+sep+q.Encode())
		if len(p.Uploads) > limit {
			t.Fatalf("a page of limit %d has %d uploads", limit, len(p.Uploads))
		}
		for _, u := range p.Uploads {
			ids = append(ids, u.ID)
		}
		if p.NextCursor == nil {
			return ids
		}
		cursor = *p.NextCursor
	}
	t.Fatal("the listing did not end")
	return nil
}

// GET /v1/uploads lists the caller's uploads newest first, with the datasets
// the upload's own GET gives, in pages that together hold each upload once;
// an admin sees every owner's or those of ?owner=, a user naming another is a 400.
func TestListUploads(t *testing.T) {
	forDialects(t, testListUploads)
}

func testListUploads(t *testing.T, dialect string) {
	o := startOwned(t, dialect)
	alice := o.token(t, "alice", storage.ScopeUser)
	bob := o.token(t, "bob", storage.ScopeUser)
	root := o.token(t, "root", storage.ScopeAdmin)

	var mine []string // alice's, oldest first
	for i := range 5 {
		mine = append(mine, alice.h5Upload(t, map[string][]int{"Y": {3, 4 + i}}))
	}
	theirs := bob.h5Upload(t, map[string][]int{"X": {2, 2}})

	first := alice.uploadPage(t, "/v1/uploads")
	if len(first.Uploads) != 5 || first.NextCursor != nil {
		t.Fatalf("alice lists %d uploads (next %v), want her 5 and no cursor", len(first.Uploads), first.NextCursor)
	}
	newest := first.Uploads[0]
	if newest.ID != mine[4] || newest.Format != "hdf5" || newest.Bytes <= 0 ||
		len(newest.Datasets) != 1 || newest.Datasets[0].Name != "/Y" || !slices.Equal(newest.Datasets[0].Shape, []int{3, 8}) {
		t.Fatalf("newest upload listed as %+v, want %s: hdf5, /Y [3 8]", newest, mine[4])
	}
	for i := 1; i < len(first.Uploads); i++ {
		if first.Uploads[i].CreatedAt.After(first.Uploads[i-1].CreatedAt) {
			t.Fatalf("uploads not newest first: %v after %v", first.Uploads[i].CreatedAt, first.Uploads[i-1].CreatedAt)
		}
	}
	paged := alice.allUploads(t, "/v1/uploads", 2)
	want := slices.Clone(mine)
	slices.Reverse(want)
	if !slices.Equal(paged, want) {
		t.Fatalf("pages of 2 list %v, want %v", paged, want)
	}

	if got := bob.allUploads(t, "/v1/uploads", 50); !slices.Equal(got, []string{theirs}) {
		t.Fatalf("bob lists %v, want only %s", got, theirs)
	}
	if got := root.allUploads(t, "/v1/uploads", 4); len(got) != 6 || got[0] != theirs {
		t.Fatalf("admin lists %v, want all 6 with bob's newest first", got)
	}
	if got := root.allUploads(t, "/v1/uploads?owner=alice", 3); !slices.Equal(got, want) {
		t.Fatalf("admin ?owner=alice lists %v, want %v", got, want)
	}
	for _, bad := range []string{"?owner=alice", "?limit=0", "?limit=501", "?cursor=%21%21", "?cursor=" + url.QueryEscape("eA")} {
		if resp, b := bob.do(t, "GET", "/v1/uploads"+bad, "", nil); resp.StatusCode != 400 {
			t.Errorf("GET /v1/uploads%s: %d %s, want 400", bad, resp.StatusCode, b)
		}
	}
}
