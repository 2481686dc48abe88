package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"sync"
)

// Apply makes the fleet match file: it creates the tenants the file lists
// that do not exist, updates those that differ, and deletes the tenants it
// does not list only when prune is set. The whole file is validated before
// anything changes. Up to parallel tenants are worked on at once; each has
// its own stack, so they share no lock.
func (s *Service) Apply(ctx context.Context, file FleetFile, prune bool, parallel int, progress io.Writer) (*ApplyReport, error) {
	seen, existing, have, err := s.fleetState(ctx, file, parallel)
	if err != nil {
		return nil, err
	}

	rep := &ApplyReport{Created: []string{}, Updated: []string{}, Deleted: []string{}, Unchanged: []string{}, Failed: map[string]string{}}
	var mu sync.Mutex
	record := func(list *[]string, name string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			rep.Failed[name] = err.Error()
			return
		}
		*list = append(*list, name)
	}
	var jobs []func()
	for _, spec := range file.Tenants {
		cur, ok := have[spec.Name]
		switch {
		case !ok || cur.Status == StatusIncomplete:
			jobs = append(jobs, func() { _, err := s.Create(ctx, spec, progress); record(&rep.Created, spec.Name, err) })
		default:
			jobs = append(jobs, func() {
				t, err := s.Get(ctx, spec.Name)
				if err == nil && reflect.DeepEqual(t.Spec, spec) {
					record(&rep.Unchanged, spec.Name, nil)
					return
				}
				if err == nil {
					_, err = s.Update(ctx, spec, progress)
				}
				record(&rep.Updated, spec.Name, err)
			})
		}
	}
	if prune {
		for _, t := range existing {
			if !seen[t.Name] {
				jobs = append(jobs, func() { _, err := s.Delete(ctx, t.Name, "", progress); record(&rep.Deleted, t.Name, err) })
			}
		}
	}
	run(jobs, parallel)
	for _, l := range [][]string{rep.Created, rep.Updated, rep.Deleted, rep.Unchanged} {
		sort.Strings(l)
	}
	if len(rep.Failed) > 0 {
		var errs []error
		for n, e := range rep.Failed {
			errs = append(errs, fmt.Errorf("%s: %s", n, e))
		}
		return rep, fmt.Errorf("%d of the fleet's tenants failed; run apply again to retry them: %w", len(rep.Failed), errors.Join(errs...))
	}
	rep.Failed = nil
	return rep, nil
}

// run runs jobs with at most n at a time.
func run(jobs []func(), n int) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			j()
		}()
	}
	wg.Wait()
}

// fleetState validates file and parallel as Apply and PlanApply take them,
// and returns the names the file lists, the fleet's tenants, and those by
// name. Nothing is changed.
func (s *Service) fleetState(ctx context.Context, file FleetFile, parallel int) (map[string]bool, []Tenant, map[string]Tenant, error) {
	if parallel < 1 {
		return nil, nil, nil, fmt.Errorf("%w: --parallel must be at least 1", ErrInvalid)
	}
	seen := map[string]bool{}
	for i := range file.Tenants {
		if err := ValidateSpec(&file.Tenants[i]); err != nil {
			return nil, nil, nil, fmt.Errorf("tenant %d of the fleet file: %w", i+1, err)
		}
		n := file.Tenants[i].Name
		if seen[n] {
			return nil, nil, nil, fmt.Errorf("%w: tenant %q is listed twice in the fleet file", ErrInvalid, n)
		}
		seen[n] = true
	}
	existing, err := s.List(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	have := map[string]Tenant{}
	for _, t := range existing {
		have[t.Name] = t
	}
	return seen, existing, have, nil
}
