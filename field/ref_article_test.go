package field

import "testing"

// The article before a kind follows its first letter: "an unmix job",
// "a poisson.solve job", and AcceptedText uses it.
func TestArticle(t *testing.T) {
	for word, want := range map[string]string{"unmix": "an", "upload": "an", "element": "an", "poisson.solve": "a", "navier_stokes.simulate": "a", "": "a"} {
		if got := Article(word); got != want {
			t.Errorf("Article(%q) = %q, want %q", word, got, want)
		}
	}
	r := Ref{Accepts: []string{AcceptsUpload, "unmix", "poisson.solve"}}
	if got, want := r.AcceptedText(), "an upload or an unmix job or a poisson.solve job"; got != want {
		t.Errorf("AcceptedText = %q, want %q", got, want)
	}
}
