package devplatform

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// stateVersion is the layout version of state.json; a platform written by a
// newer tenantctl is refused rather than misread.
const stateVersion = 1

// State is what a platform keeps in state.json: the ports chosen on its first
// up, the generated admin credentials, and the PIDs of the processes it
// started. The file holds passwords, so it is written with mode 0600 and a
// more open file is refused.
type State struct {
	Version   int            `json:"version"`
	Created   time.Time      `json:"created"`
	Ports     Ports          `json:"ports"`
	Postgres  Credentials    `json:"postgres"`
	Redis     Credentials    `json:"redis"`
	Processes map[string]int `json:"processes,omitempty"`
}

// Credentials are an admin user name and its generated password.
type Credentials struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// LoadState reads the state file in dir. It fails with an error wrapping
// fs.ErrNotExist when there is none, and refuses a file that group or others
// may read, because it holds passwords.
func LoadState(dir string) (*State, error) {
	path := filepath.Join(dir, stateFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("state file %s has mode %04o but holds passwords; run \"chmod 600 %s\" and try again", path, perm, path)
	}
	var st State
	dec := json.NewDecoder(f)
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("reading %s: %w; if it is damaged, run \"tenantctl dev down --purge\" to start over (this deletes the platform's data)", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%s has layout version %d, this tenantctl understands %d; use the tenantctl that created it, or run \"tenantctl dev down --purge\"", path, st.Version, stateVersion)
	}
	if err := st.Ports.validate(true); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Postgres.User == "" || st.Postgres.Password == "" || st.Redis.User == "" || st.Redis.Password == "" {
		return nil, fmt.Errorf("%s lacks admin credentials; run \"tenantctl dev down --purge\" to start over", path)
	}
	return &st, nil
}

// SaveState writes st to dir atomically (a reader sees the old file or the
// new one, never a mix) with mode 0600.
func SaveState(dir string, st *State) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".state-*.json") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, stateFile))
}

// newState returns the state of a new platform on ports (all set) with
// fresh admin passwords.
func newState(ports Ports) (*State, error) {
	pgPass, err := password()
	if err != nil {
		return nil, err
	}
	redisPass, err := password()
	if err != nil {
		return nil, err
	}
	return &State{
		Version:   stateVersion,
		Created:   time.Now().UTC().Truncate(time.Second),
		Ports:     ports,
		Postgres:  Credentials{User: "admin", Password: pgPass},
		Redis:     Credentials{User: "admin", Password: redisPass},
		Processes: map[string]int{},
	}, nil
}

// password returns 32 random alphanumeric characters (about 190 bits). The
// alphabet needs no quoting in pgbouncer's userlist, Redis's ACL file or a
// URL, so no escaping bug can leak or break it.
func password() (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	return randomString(alphabet, 32)
}

func randomString(alphabet string, n int) (string, error) {
	out := make([]byte, n)
	buf := make([]byte, 1)
	for i := 0; i < n; {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		// Rejection sampling keeps every character equally likely.
		if int(buf[0]) >= 256-256%len(alphabet) {
			continue
		}
		out[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(out), nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
