package devplatform

import (
	"os"
	"reflect"
	"testing"
)

func TestCanSearch(t *testing.T) {
	const root, pg, pgGroup, other = 0, 101, 104, 200
	named := grantSearch(aclFromMode(0o700), pg)
	tests := []struct {
		name         string
		acl          []aclEntry
		owner, group uint32
		uid, gid     uint32
		want         bool
	}{
		{"root's 0700 home, postgres", aclFromMode(0o700), root, root, pg, pgGroup, false},
		{"0711", aclFromMode(0o711), root, root, pg, pgGroup, true},
		{"0750 group member", aclFromMode(0o750), root, pgGroup, pg, pgGroup, true},
		{"0705 group member: group bits decide, not other", aclFromMode(0o705), root, pgGroup, pg, pgGroup, false},
		{"owned by postgres", aclFromMode(0o700), pg, pgGroup, pg, pgGroup, true},
		{"named entry for postgres", named, root, root, pg, pgGroup, true},
		{"named entry is for postgres only", named, root, root, other, other, false},
		{"named entry under a mask without x", []aclEntry{{aclUserObj, 7, aclNoID}, {aclUser, 1, pg}, {aclGroupObj, 0, aclNoID}, {aclMask, 6, aclNoID}, {aclOther, 0, aclNoID}}, root, root, pg, pgGroup, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := canSearch(tt.acl, tt.owner, tt.group, tt.uid, tt.gid); got != tt.want {
				t.Errorf("canSearch = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGrantSearchIsMinimal(t *testing.T) {
	got := grantSearch(aclFromMode(0o750), 101)
	want := []aclEntry{
		{aclUserObj, 7, aclNoID},
		{aclGroupObj, 5, aclNoID},
		{aclOther, 0, aclNoID},
		{aclUser, 1, 101},     // search only
		{aclMask, 5, aclNoID}, // the group keeps r-x, nothing more
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("grantSearch = %v, want %v", got, want)
	}
	back, err := parseACL(encodeACL(got))
	if err != nil {
		t.Fatal(err)
	}
	// encodeACL sorts by tag, as the kernel requires.
	wantSorted := []aclEntry{want[0], want[3], want[1], want[4], want[2]}
	if !reflect.DeepEqual(back, wantSorted) {
		t.Errorf("round trip = %v, want %v", back, wantSorted)
	}
	// Granting twice changes nothing.
	if again := grantSearch(back, 101); !reflect.DeepEqual(again, back) {
		t.Errorf("second grant = %v, want %v", again, back)
	}
}

func TestEnsureSearchable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("granting another user access needs root") // the grant is only used as root
	}
	dir := t.TempDir() // 0700, like /root
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	const uid, gid = 65534, 65534 // nobody
	changed, err := ensureSearchable(dir, uid, gid)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) == 0 || changed[0] != dir {
		t.Fatalf("changed = %v, want %s first", changed, dir)
	}
	fi, _ := os.Stat(dir)
	es, err := readACL(dir, fi.Mode())
	if err != nil {
		t.Fatal(err)
	}
	if !canSearch(es, 0, 0, uid, gid) {
		t.Errorf("after the grant, %s is still not searchable: %v", dir, es)
	}
	if canSearch(es, 0, 0, 12345, 12345) {
		t.Errorf("the grant opened %s to other users too: %v", dir, es)
	}
	if again, err := ensureSearchable(dir, uid, gid); err != nil || len(again) != 0 {
		t.Errorf("second ensureSearchable changed %v (%v), want nothing", again, err)
	}
}
