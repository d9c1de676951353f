package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"eddy/storage"
)

// caller is who sent a request: the owner a token acts for, and whether it
// may see every owner's data. The zero caller sees nothing.
type caller struct {
	owner string
	admin bool
	// tokenID names the token ("" when the API runs open).
	tokenID string
}

type callerKey struct{}

// callerOf returns the caller that auth found for r.
func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

// sees reports whether the caller may see what owner holds.
func (c caller) sees(owner string) bool { return c.admin || (c.owner != "" && c.owner == owner) }

// tokenAuth authenticates requests against the tokens stored in the
// database. With no valid token stored, and unless tokens are required, the
// API runs open: every request acts for storage.AnonymousOwner with admin
// rights, as one user on a loopback address expects.
type tokenAuth struct {
	db      *storage.DB
	require bool

	mu sync.Mutex
	// openUntil caches the answer "no token is stored" for a second, so that
	// an open API does not count tokens on every request, and a token created
	// while it runs closes it within that second.
	openUntil time.Time
	// touched is when each token's last use was last recorded: at most once a
	// minute, so that a busy client does not make a write of every request.
	touched map[string]time.Time
}

// touchEvery is how often a token's last use is recorded.
const touchEvery = time.Minute

// authenticate returns the caller of r, or ok false when r carries no valid
// token and the API does not run open. err is a database failure.
func (a *tokenAuth) authenticate(r *http.Request) (c caller, ok bool, err error) {
	ctx := r.Context()
	// The scheme is case-insensitive (RFC 9110 §11.1).
	if scheme, secret, found := strings.Cut(r.Header.Get("Authorization"), " "); found && strings.EqualFold(scheme, "Bearer") {
		if secret = strings.TrimSpace(secret); secret != "" {
			t, err := storage.TokenBySecret(ctx, a.db.Read, secret)
			switch {
			case err == nil:
				a.touch(t.ID)
				return caller{owner: t.Owner, admin: t.Scope == storage.ScopeAdmin, tokenID: t.ID}, true, nil
			case !errors.Is(err, storage.ErrNotFound):
				return caller{}, false, err
			}
		}
	}
	open, err := a.open(ctx)
	if err != nil || !open {
		return caller{}, false, err
	}
	return caller{owner: storage.AnonymousOwner, admin: true}, true, nil
}

// open reports whether the API runs open: tokens are not required and none
// is stored.
func (a *tokenAuth) open(ctx context.Context) (bool, error) {
	if a.require {
		return false, nil
	}
	a.mu.Lock()
	cached := time.Now().Before(a.openUntil)
	a.mu.Unlock()
	if cached {
		return true, nil
	}
	n, err := storage.CountValidTokens(ctx, a.db.Read)
	if err != nil || n > 0 {
		return false, err
	}
	a.mu.Lock()
	a.openUntil = time.Now().Add(time.Second)
	a.mu.Unlock()
	return true, nil
}

// touch records the use of token id, at most once per touchEvery, in the
// background: the request does not wait for the write.
func (a *tokenAuth) touch(id string) {
	now := time.Now()
	a.mu.Lock()
	if a.touched == nil {
		a.touched = map[string]time.Time{}
	}
	due := now.Sub(a.touched[id]) >= touchEvery
	if due {
		a.touched[id] = now
	}
	a.mu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		storage.TouchToken(ctx, a.db.SQL, id, now)
	}()
}

// auth lets through the requests of a valid token (or, when the API runs
// open, every request), with their caller in the context.
func (s *server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok, err := s.tokens.authenticate(r)
		if err != nil {
			s.log.Warn("authentication: database not reachable", "err", err)
			w.Header().Set("Retry-After", "5")
			writeProblem(w, http.StatusServiceUnavailable, "the database is not reachable; try again shortly")
			return
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="eddy"`)
			writeProblem(w, http.StatusUnauthorized, "a valid bearer token is required")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	})
}

// adminOnly lets through the requests of an admin token (every request of an
// API that runs open); it follows auth.
func adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !callerOf(r).admin {
			writeProblem(w, http.StatusForbidden, "this endpoint needs a token of scope admin")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// EnvTokenOwner owns the jobs and uploads of the tokens imported from
// Config.Tokens (EDDY_TOKENS).
const EnvTokenOwner = "admin"

// ImportTokens stores tokens (EDDY_TOKENS) as admin tokens of EnvTokenOwner,
// hashed; a token stored already, even revoked, is left as it is. It returns
// how many were new.
func ImportTokens(ctx context.Context, db *storage.DB, tokens []string) (int, error) {
	n := 0
	for _, secret := range tokens {
		_, err := storage.InsertToken(ctx, db.SQL, secret, "EDDY_TOKENS", EnvTokenOwner, storage.ScopeAdmin, time.Now())
		switch {
		case err == nil:
			n++
		case !errors.Is(err, storage.ErrTokenExists):
			return n, fmt.Errorf("api: importing EDDY_TOKENS: %w", err)
		}
	}
	return n, nil
}

// Loopback reports whether addr (host:port) listens on a loopback address only.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckAuth refuses to serve on anything but a loopback address when no
// valid token is stored in db (after ImportTokens): such an API would be open.
func CheckAuth(ctx context.Context, db *storage.DB, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("api: address %q: %w", addr, err)
	}
	if Loopback(addr) {
		return nil
	}
	n, err := storage.CountValidTokens(ctx, db.Read)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("api: refusing to listen on %s without tokens (create one with \"api token create\", or set EDDY_TOKENS): an open API is allowed on loopback addresses only", addr)
	}
	return nil
}
