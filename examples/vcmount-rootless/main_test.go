// The example's own logic without a bus: the ID-map syntax, and how the
// signals are followed by their generations.
package main

import (
	"testing"

	"github.com/godbus/dbus"
)

func TestParseIDMap(t *testing.T) {
	uids, gids, err := parseIDMap("u:0:100000:65536,g:0:200000:1,b:70000:300000:10")
	if err != nil {
		t.Fatal(err)
	}
	if len(uids) != 2 || uids[0] != (idRange{0, 100000, 65536}) || uids[1] != (idRange{70000, 300000, 10}) {
		t.Errorf("uids: %v", uids)
	}
	if len(gids) != 2 || gids[0] != (idRange{0, 200000, 1}) {
		t.Errorf("gids: %v", gids)
	}
	for _, bad := range []string{"", "u:0:1", "x:0:1:1", "u:0:100000:65536", "u:a:1:1", "u:0:1:4294967296"} {
		if _, _, err := parseIDMap(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func info(mountPoint string, id uint64) map[string]dbus.Variant {
	return map[string]dbus.Variant{
		"mount-point": dbus.MakeVariant(mountPoint),
		"kind":        dbus.MakeVariant("rootfs"),
		"mount-id":    dbus.MakeVariant(id),
	}
}

func sig(sender, member string, body ...interface{}) *dbus.Signal {
	return &dbus.Signal{Sender: sender, Name: iface + "." + member, Body: body}
}

func TestFollowByGeneration(t *testing.T) {
	var lists []string
	r := &runtime{set: mountSet{generation: 3, owner: ":1.5", mounts: map[string]map[string]dbus.Variant{}}}
	r.relist = func(why string) error {
		lists = append(lists, why)
		r.set.generation = 10
		return nil
	}
	steps := []struct {
		sig        *dbus.Signal
		generation uint64
		mounted    bool
		lists      int
	}{
		// the rootfs signal first, then its MountAdded: one generation
		{sig(":1.5", "RootfsMounted", uint64(4), "sb", "c1", "/s/sb/c1/rootfs", false), 4, false, 0},
		{sig(":1.5", "MountAdded", uint64(4), info("/s/sb/c1/rootfs", 77)), 4, true, 0},
		// already in the set: stale, and another instance's, are dropped
		{sig(":1.5", "RootfsUnmounted", uint64(2), "sb", "c1", "/s/sb/c1/rootfs", []string{}), 4, true, 0},
		{sig(":1.9", "MountRemoved", uint64(5), info("/s/sb/c1/rootfs", 77), []string{}), 4, true, 0},
		// MountRemoved first this time
		{sig(":1.5", "MountRemoved", uint64(5), info("/s/sb/c1/rootfs", 77), []string{}), 5, false, 0},
		{sig(":1.5", "RootfsUnmounted", uint64(5), "sb", "c1", "/s/sb/c1/rootfs", []string{}), 5, false, 0},
		// a lost signal: generation 7 after 5 means listing again
		{sig(":1.5", "RootfsMounted", uint64(7), "sb", "c2", "/s/sb/c2/rootfs", false), 10, false, 1},
		// a new owner: a new instance, listing again
		{&dbus.Signal{Name: "org.freedesktop.DBus.NameOwnerChanged", Body: []interface{}{busName, ":1.5", ":1.7"}}, 10, false, 2},
	}
	for i, s := range steps {
		if err := r.apply(s.sig); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		_, mounted := r.set.mounts["/s/sb/c1/rootfs"]
		if r.set.generation != s.generation || mounted != s.mounted || len(lists) != s.lists {
			t.Fatalf("step %d: generation %d mounted %t lists %v", i, r.set.generation, mounted, lists)
		}
	}
	if lists[0] != "gap" || lists[1] != "new-owner" {
		t.Errorf("lists: %v", lists)
	}
}
