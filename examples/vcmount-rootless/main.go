// vcmount-rootless: how a container runtime written in Go uses vc-mount's
// fd-based interface (org.vc.Mount on the system bus, through godbus): it
// opens the rootfs directory itself (in its own mount and user namespaces,
// where a host path would name something else), mounts it by descriptor
// with an ID map, follows the service's signals with generation checks (a
// gap, or a new owner of the bus name, means listing again), checks the
// ID-mapped owner of the mounted tree, and unmounts.
//
// Build with Debian's golang-go and golang-dbus-dev, nothing downloaded:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o vcmount-rootless .
//
// Run: vcmount-rootless -sandbox sb1 -container ctr1 -rootfs ./rootfs -idmap b:100000:0:65536
//
// (the files stored as the subordinate IDs 100000 to 165535 shown as 0 to
// 65535: a caller that is not root maps only IDs on the filesystem that are
// its own or delegated to it)
//
// Each line of its output is an event: "listed", "mounted", "signal",
// "gap", "owner", "followed", "unmounted", "gone".
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/godbus/dbus"
)

const (
	busName    = "org.vc.Mount"
	objectPath = "/org/vc/Mount"
	iface      = "org.vc.Mount"
)

// idRange is one line of an ID map: (first ID on the filesystem, first host
// ID it is shown as, count), the interface's (uuu).
type idRange struct {
	Inside, Outside, Count uint32
}

// parseIDMap reads "u:100000:0:65536,g:100000:0:65536" ("b:" for both):
// ranges (first ID on the filesystem, first ID it is shown as, count).
func parseIDMap(text string) (uids, gids []idRange, err error) {
	for _, item := range strings.Split(text, ",") {
		parts := strings.Split(item, ":")
		if len(parts) != 4 || (parts[0] != "u" && parts[0] != "g" && parts[0] != "b") {
			return nil, nil, fmt.Errorf("idmap: %q is not u:INSIDE:OUTSIDE:COUNT, g:… or b:…", item)
		}
		var v [3]uint32
		for i := range v {
			n, err := strconv.ParseUint(parts[i+1], 10, 32)
			if err != nil {
				return nil, nil, fmt.Errorf("idmap: %q: %v", item, err)
			}
			v[i] = uint32(n)
		}
		r := idRange{v[0], v[1], v[2]}
		if parts[0] != "g" {
			uids = append(uids, r)
		}
		if parts[0] != "u" {
			gids = append(gids, r)
		}
	}
	if len(uids) == 0 || len(gids) == 0 {
		return nil, nil, errors.New("idmap: both a uid and a gid range are needed")
	}
	return uids, gids, nil
}

// mountSet is what the service has mounted, by mount point, as last listed
// and then updated by the signals, and the generation it is valid for.
type mountSet struct {
	generation uint64
	mounts     map[string]map[string]dbus.Variant
	owner      string // the service instance the set is of
}

func str(info map[string]dbus.Variant, key string) string {
	if v, ok := info[key]; ok {
		if s, ok := v.Value().(string); ok {
			return s
		}
	}
	return ""
}

func u64(info map[string]dbus.Variant, key string) uint64 {
	if v, ok := info[key]; ok {
		switch n := v.Value().(type) {
		case uint64:
			return n
		case uint32:
			return uint64(n)
		}
	}
	return 0
}

func describe(info map[string]dbus.Variant) string {
	unique := false
	if v, ok := info["mount-id-unique"]; ok {
		unique, _ = v.Value().(bool)
	}
	return fmt.Sprintf("mount-point=%s kind=%s mount-id=%d unique=%t source=%s caller-uid=%d",
		str(info, "mount-point"), str(info, "kind"), u64(info, "mount-id"), unique,
		str(info, "source"), u64(info, "caller-uid"))
}

type runtime struct {
	conn    *dbus.Conn
	service dbus.BusObject
	signals chan *dbus.Signal
	set     mountSet
	relist  func(why string) error // list, but for the tests
}

// list reads the whole set again: at the start, after a gap, after a restart.
func (r *runtime) list(why string) error {
	if r.relist != nil {
		return r.relist(why)
	}
	var generation uint64
	var mounts []map[string]dbus.Variant
	var owner string

	if err := r.conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, busName).Store(&owner); err != nil {
		return fmt.Errorf("GetNameOwner: %w", err)
	}
	call := r.service.Call(iface+".ListMounts", 0, map[string]dbus.Variant{})
	if err := call.Store(&generation, &mounts); err != nil {
		return fmt.Errorf("ListMounts: %w", err)
	}
	r.set = mountSet{generation: generation, mounts: map[string]map[string]dbus.Variant{}, owner: owner}
	for _, m := range mounts {
		r.set.mounts[str(m, "mount-point")] = m
	}
	fmt.Printf("listed why=%s generation=%d mounts=%d\n", why, generation, len(mounts))
	return nil
}

// apply takes one signal of the service. Every rootfs change bumps the
// generation by one: a signal at or below the set's generation is already
// in it, one above the next means a signal was lost (list again).
// MountAdded and MountRemoved carry the same generation as the rootfs
// signal that goes with them (whichever comes first applies it), or the
// unchanged one for a general bind.
func (r *runtime) apply(sig *dbus.Signal) error {
	if sig.Name == "org.freedesktop.DBus.NameOwnerChanged" {
		if len(sig.Body) == 3 && sig.Body[0] == busName && sig.Body[2] != r.set.owner {
			fmt.Printf("owner old=%q new=%q\n", r.set.owner, sig.Body[2])
			if sig.Body[2] == "" {
				r.set.owner = ""
				return nil
			}
			return r.list("new-owner")
		}
		return nil
	}
	if sig.Sender != r.set.owner || !strings.HasPrefix(sig.Name, iface+".") || len(sig.Body) < 2 {
		return nil // another instance's last words, or not ours
	}
	member := strings.TrimPrefix(sig.Name, iface+".")
	generation, ok := sig.Body[0].(uint64)
	if !ok {
		return fmt.Errorf("%s: generation of type %T", member, sig.Body[0])
	}
	if generation > r.set.generation+1 {
		fmt.Printf("gap signal=%s generation=%d expected=%d\n", member, generation, r.set.generation+1)
		return r.list("gap")
	}
	switch member {
	case "MountAdded", "MountRemoved":
		info, ok := sig.Body[1].(map[string]dbus.Variant)
		if !ok {
			return fmt.Errorf("%s: mount info of type %T", member, sig.Body[1])
		}
		if member == "MountAdded" {
			r.set.mounts[str(info, "mount-point")] = info
		} else {
			delete(r.set.mounts, str(info, "mount-point"))
		}
		fmt.Printf("signal %s generation=%d %s\n", member, generation, describe(info))
	default: // RootfsMounted, RootfsUnmounted, RootfsChanged
		if generation <= r.set.generation {
			return nil
		}
		mountPoint, _ := sig.Body[3].(string)
		fmt.Printf("signal %s generation=%d mount-point=%s\n", member, generation, mountPoint)
		if member == "RootfsChanged" {
			// a change behind the service's back: what it is now, the listing says
			r.set.generation = generation
			return r.list("foreign-change")
		}
		if member == "RootfsUnmounted" {
			delete(r.set.mounts, mountPoint)
		}
	}
	if generation > r.set.generation {
		r.set.generation = generation
	}
	return nil
}

// follow applies signals until done() holds, or fails after timeout.
func (r *runtime) follow(what string, timeout time.Duration, done func() bool) error {
	deadline := time.After(timeout)
	for !done() {
		select {
		case sig, ok := <-r.signals:
			if !ok {
				return errors.New("the bus connection closed")
			}
			if err := r.apply(sig); err != nil {
				return err
			}
		case <-deadline:
			return fmt.Errorf("%s: not seen within %v", what, timeout)
		}
	}
	return nil
}

// printOwners shows what the sandbox sees: the ID-mapped owners of the
// rootfs's files (the mount point must be visible in this mount namespace).
func printOwners(mountPoint string) error {
	var names []string
	entries, err := os.ReadDir(mountPoint)
	if err != nil {
		return err
	}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range append([]string{"."}, names...) {
		var st syscall.Stat_t
		if err := syscall.Lstat(mountPoint+"/"+name, &st); err != nil {
			return err
		}
		fmt.Printf("owner path=%s uid=%d gid=%d\n", name, st.Uid, st.Gid)
	}
	return nil
}

func run() error {
	sandbox := flag.String("sandbox", "", "sandbox ID")
	container := flag.String("container", "", "container ID")
	rootfs := flag.String("rootfs", "", "the rootfs directory (opened here, in this process's namespaces)")
	idmap := flag.String("idmap", "", "ID map: u:INSIDE:OUTSIDE:COUNT,g:… (b: for both)")
	userns := flag.String("userns", "", "ID-map with the maps of this user namespace (/proc/PID/ns/user)")
	readOnly := flag.Bool("read-only", false, "mount read-only")
	interactive := flag.Bool("interactive", false, "let polkit ask for a password")
	timeout := flag.Duration("timeout", 30*time.Second, "how long to wait for each signal")
	owners := flag.Bool("owners", true, "print the owners seen below the mount point (the shared dir must be visible here)")
	pause := flag.Bool("pause", false, "print \"ready\" and wait for a line on standard input before unmounting")
	flag.Parse()
	if *sandbox == "" || *container == "" || *rootfs == "" {
		flag.Usage()
		os.Exit(2)
	}

	options := map[string]dbus.Variant{}
	if *readOnly {
		options["read-only"] = dbus.MakeVariant(true)
	}
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	switch {
	case *idmap != "" && *userns != "":
		return errors.New("-idmap and -userns exclude each other")
	case *idmap != "":
		uids, gids, err := parseIDMap(*idmap)
		if err != nil {
			return err
		}
		options["idmap"] = dbus.MakeVariant(map[string]dbus.Variant{
			"uid-map": dbus.MakeVariant(uids),
			"gid-map": dbus.MakeVariant(gids),
		})
	case *userns != "":
		ns, err := os.Open(*userns)
		if err != nil {
			return err
		}
		files = append(files, ns)
		options["idmap"] = dbus.MakeVariant(map[string]dbus.Variant{
			"userns": dbus.MakeVariant(dbus.UnixFD(ns.Fd())),
		})
	}

	// A real open of the directory, here: holding it proves we could open it.
	dir, err := os.OpenFile(*rootfs, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	files = append(files, dir)

	conn, err := dbus.SystemBus()
	if err != nil {
		return fmt.Errorf("system bus: %w", err)
	}
	if !conn.SupportsUnixFDs() {
		return errors.New("the bus connection cannot pass file descriptors")
	}
	r := &runtime{conn: conn, service: conn.Object(busName, objectPath), signals: make(chan *dbus.Signal, 256)}
	conn.Signal(r.signals)
	// Subscribe first, then list: no change falls between the two.
	if err := conn.AddMatchSignal(dbus.WithMatchObjectPath(objectPath), dbus.WithMatchInterface(iface)); err != nil {
		return err
	}
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, busName)); err != nil {
		return err
	}
	if err := r.list("start"); err != nil {
		return err
	}

	var flags dbus.Flags
	if *interactive {
		flags = dbus.FlagAllowInteractiveAuthorization
	}
	var mountPoint string
	var info map[string]dbus.Variant
	call := r.service.Call(iface+".MountRootfsFd", flags, *sandbox, *container, dbus.UnixFD(dir.Fd()), options)
	if err := call.Store(&mountPoint, &info); err != nil {
		return fmt.Errorf("MountRootfsFd: %w", err)
	}
	fmt.Printf("mounted %s\n", describe(info))
	mountID := u64(info, "mount-id")

	// The signals bring it into the followed set, with the same identity.
	err = r.follow("the new mount", *timeout, func() bool {
		m, ok := r.set.mounts[mountPoint]
		return ok && u64(m, "mount-id") == mountID
	})
	if err != nil {
		return err
	}
	fmt.Printf("followed mount-point=%s mount-id=%d generation=%d\n", mountPoint, mountID, r.set.generation)

	if *owners {
		if err := printOwners(mountPoint); err != nil {
			return err
		}
	}
	if *pause {
		fmt.Println("ready")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return fmt.Errorf("waiting on standard input: %w", err)
		}
	}

	var detached []string
	if err := r.service.Call(iface+".UnmountRootfs", flags, *sandbox, *container).Store(&detached); err != nil {
		return fmt.Errorf("UnmountRootfs: %w", err)
	}
	fmt.Printf("unmounted detached=%s\n", strings.Join(detached, ","))
	err = r.follow("the unmount", *timeout, func() bool {
		_, ok := r.set.mounts[mountPoint]
		return !ok
	})
	if err != nil {
		return err
	}
	fmt.Printf("gone mount-point=%s generation=%d\n", mountPoint, r.set.generation)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "vcmount-rootless: %v\n", err)
		os.Exit(1)
	}
}
