package jobs

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"eddy/field"
	"eddy/storage"
)

// checkOwners refuses the references and inputs of req that name another
// owner's upload or job (see SubmitRequest.Owner), with the message of a
// reference to nothing: an owner learns nothing of what others hold.
func (s *Service) checkOwners(ctx context.Context, req SubmitRequest, params any) error {
	if req.AnyOwner {
		return nil
	}
	owner := req.Owner
	if owner == "" {
		owner = storage.AnonymousOwner
	}
	type named struct{ path, id string }
	var refs []named
	for _, ref := range field.References(params) {
		refs = append(refs, named{"/params" + ref.Path, ref.ID})
	}
	for name, id := range req.Inputs {
		refs = append(refs, named{"/inputs/" + name, id})
	}
	var errs ValidationError
	for _, ref := range refs {
		o, err := storage.UploadOwner(ctx, s.db.SQL, ref.id)
		if errors.Is(err, storage.ErrNotFound) {
			o, err = storage.RunOwner(ctx, s.db.SQL, ref.id)
		}
		if errors.Is(err, storage.ErrNotFound) {
			continue // reported as missing by the checks that follow
		}
		if err != nil {
			return err
		}
		if o != owner {
			errs = append(errs, FieldError{Path: ref.path, Message: fmt.Sprintf("no upload or job with id %q", ref.id)})
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Path < errs[j].Path })
		return errs
	}
	return nil
}
