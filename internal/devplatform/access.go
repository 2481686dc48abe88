package devplatform

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
)

// PostgreSQL refuses to run as root, and PgBouncer too. When tenantctl runs
// as root they run as the "postgres" system user (the Debian packages create
// it), and that user must be able to reach its directories under
// TENANTSTACK_HOME, which is often under /root (mode 0700).
//
// We grant the least that works: search permission (x, never read or write)
// for that one user, as a POSIX ACL entry "user:postgres:--x", on exactly the
// ancestors it cannot already search. Its own directories inside the state
// directory are owned by it. Rejected alternatives: "chmod o+x" on /root
// opens it to every local user; putting the data outside TENANTSTACK_HOME
// breaks "everything under one directory" (and two homes side by side); a
// bind mount needs a mount namespace per service. The grant is not removed by
// "down --purge": another platform under the same parent may rely on it, and
// it gives nothing beyond passing through.

const aclXattr = "system.posix_acl_access"

// POSIX ACL xattr tags (linux/posix_acl_xattr.h).
const (
	aclUserObj  = 0x01
	aclUser     = 0x02
	aclGroupObj = 0x04
	aclGroup    = 0x08
	aclMask     = 0x10
	aclOther    = 0x20
	aclVersion  = 2
	aclNoID     = 0xffffffff
)

type aclEntry struct {
	tag  uint16
	perm uint16
	id   uint32
}

func parseACL(b []byte) ([]aclEntry, error) {
	if len(b) < 4 || (len(b)-4)%8 != 0 || binary.LittleEndian.Uint32(b) != aclVersion {
		return nil, errors.New("malformed POSIX ACL")
	}
	var es []aclEntry
	for b = b[4:]; len(b) > 0; b = b[8:] {
		es = append(es, aclEntry{binary.LittleEndian.Uint16(b), binary.LittleEndian.Uint16(b[2:]), binary.LittleEndian.Uint32(b[4:])})
	}
	return es, nil
}

func encodeACL(es []aclEntry) []byte {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].tag != es[j].tag {
			return es[i].tag < es[j].tag
		}
		return es[i].id < es[j].id
	})
	b := binary.LittleEndian.AppendUint32(nil, aclVersion)
	for _, e := range es {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return b
}

// aclFromMode is the minimal ACL equivalent to mode.
func aclFromMode(mode os.FileMode) []aclEntry {
	m := uint16(mode.Perm())
	return []aclEntry{
		{aclUserObj, m >> 6 & 7, aclNoID},
		{aclGroupObj, m >> 3 & 7, aclNoID},
		{aclOther, m & 7, aclNoID},
	}
}

// canSearch reports whether uid with primary group gid may search a
// directory owned by owner:group with the given ACL, following the POSIX
// ACL access check order (owner, named user, groups, other).
func canSearch(es []aclEntry, owner, group, uid, gid uint32) bool {
	const x = 1
	mask := uint16(7)
	for _, e := range es {
		if e.tag == aclMask {
			mask = e.perm
		}
	}
	get := func(tag uint16, id uint32) (uint16, bool) {
		for _, e := range es {
			if e.tag == tag && (id == aclNoID || e.id == id) {
				return e.perm, true
			}
		}
		return 0, false
	}
	if uid == owner {
		p, _ := get(aclUserObj, aclNoID)
		return p&x != 0
	}
	if p, ok := get(aclUser, uid); ok {
		return p&mask&x != 0
	}
	groupMatched := false
	if gid == group {
		groupMatched = true
		if p, _ := get(aclGroupObj, aclNoID); p&mask&x != 0 {
			return true
		}
	}
	if p, ok := get(aclGroup, gid); ok {
		groupMatched = true
		if p&mask&x != 0 {
			return true
		}
	}
	if groupMatched {
		return false
	}
	p, _ := get(aclOther, aclNoID)
	return p&x != 0
}

// grantSearch adds search permission for uid to es: a named-user entry
// with x, and x in the mask so the entry takes effect. Nothing else changes.
func grantSearch(es []aclEntry, uid uint32) []aclEntry {
	out := append([]aclEntry(nil), es...)
	found, hasMask := false, false
	for i := range out {
		switch {
		case out[i].tag == aclUser && out[i].id == uid:
			out[i].perm |= 1
			found = true
		case out[i].tag == aclMask:
			out[i].perm |= 1
			hasMask = true
		}
	}
	if !found {
		out = append(out, aclEntry{aclUser, 1, uid})
	}
	if !hasMask {
		// A new mask must not take away what the group had.
		var g uint16
		for _, e := range out {
			if e.tag == aclGroupObj || e.tag == aclGroup || e.tag == aclUser {
				g |= e.perm
			}
		}
		out = append(out, aclEntry{aclMask, g | 1, aclNoID})
	}
	return out
}

// ensureSearchable makes dir and all its ancestors searchable by uid:gid,
// adding an ACL entry where needed, and returns the directories changed.
func ensureSearchable(dir string, uid, gid uint32) ([]string, error) {
	var changed []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return changed, err
		}
		st := fi.Sys().(*syscall.Stat_t)
		es, err := readACL(d, fi.Mode())
		if err != nil {
			return changed, err
		}
		if !canSearch(es, st.Uid, st.Gid, uid, gid) {
			if err := syscall.Setxattr(d, aclXattr, encodeACL(grantSearch(es, uid)), 0); err != nil {
				return changed, fmt.Errorf("granting the postgres user search permission on %s: %w; set TENANTSTACK_HOME to a directory on a file system with POSIX ACLs, or one that user can reach", d, err)
			}
			changed = append(changed, d)
		}
		if d == filepath.Dir(d) {
			return changed, nil
		}
	}
}

func readACL(path string, mode os.FileMode) ([]aclEntry, error) {
	buf := make([]byte, 1024)
	n, err := syscall.Getxattr(path, aclXattr, buf)
	switch {
	case errors.Is(err, syscall.ENODATA), errors.Is(err, syscall.EOPNOTSUPP):
		return aclFromMode(mode), nil
	case err != nil:
		return nil, fmt.Errorf("reading the ACL of %s: %w", path, err)
	}
	return parseACL(buf[:n])
}
