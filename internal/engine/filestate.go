package engine

import (
	"encoding/json"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// A file backend is a gocloud fileblob bucket. fileblob writes each object
// to a temporary file and renames it into place, which a killed process
// cannot tear, but by default it also writes a ".attrs" sidecar next to the
// object with os.Create and then encodes JSON into it. A process killed in
// between leaves an empty sidecar, and every later read of the object fails
// with "EOF": the stack can no longer be selected or listed, and every tenant
// on the backend is stuck (seen when a create was killed by SIGKILL).
//
// So tenantctl never writes sidecars ("metadata=skip": Pulumi reads no
// attribute of its own files), and sweepSidecars removes the torn ones an
// earlier version or another tool left before any Pulumi command reads them.

// pulumiBackendURL is the URL handed to Pulumi for backendURL: file URLs get
// metadata=skip unless they say otherwise.
func pulumiBackendURL(backendURL string) string {
	if !strings.HasPrefix(backendURL, "file://") {
		return backendURL
	}
	path, query, _ := strings.Cut(backendURL, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return backendURL // Pulumi will report the malformed URL itself
	}
	if _, set := q["metadata"]; !set {
		q.Set("metadata", "skip")
	}
	return path + "?" + q.Encode()
}

// FileBackendDir is the directory of a file:// backend URL, without its
// query; ok is false for other backends.
func FileBackendDir(backendURL string) (dir string, ok bool) {
	rest, ok := strings.CutPrefix(backendURL, "file://")
	if !ok {
		return "", false
	}
	dir, _, _ = strings.Cut(rest, "?")
	return dir, true
}

// sweepSidecars removes the sidecars under a file backend's .pulumi
// directory that do not hold a JSON object. A missing sidecar is what
// fileblob expects for an object written without one, so removing a torn
// one loses nothing. It returns the paths it removed.
func sweepSidecars(stateDir string) ([]string, error) {
	root := filepath.Join(stateDir, ".pulumi")
	var removed []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			// History and backups are only read by `pulumi stack history`
			// and by hand; walking them would cost every command more as
			// the fleet ages.
			if path != root && (d.Name() == "history" || d.Name() == "backups") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".attrs") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var obj map[string]any
		if json.Unmarshal(b, &obj) == nil {
			return nil
		}
		if err := os.Remove(path); err != nil {
			return err
		}
		removed = append(removed, path)
		return nil
	})
	return removed, err
}
