#!/bin/busybox sh
# init.sh: /init of the kernel61 guest's initramfs (run by busybox). Loads
# the 9p and overlay modules of the guest's own kernel, mounts the host's
# tree (shared read-only over 9p) under a tmpfs overlay as the new root, the
# results share at /run/vcm-kernel61, lays the test's files over the root,
# and hands over to systemd as PID 1. Its settings come from /config, which
# guest.py writes next to it:
#   KEEP      paths under /tmp and /var/tmp to keep visible from the host
#   BUS       dbus-daemon or dbus-broker: the unit that is dbus.service
# Anything that fails here drops to a shell on the console and powers off.

/bin/busybox --install -s /bin
export PATH=/bin

fail() {
    echo "vcm-kernel61 init: $*"
    poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /config

while read -r m; do
    insmod "/modules/$m" || fail "insmod $m"
done < /modules.order

mkdir -p /lower /rw /newroot
# The host's tree does not change while the guest runs: cache=loose lets the
# guest keep what it read (9p's uncached default would ask the host for
# every lookup, which is slow under emulation).
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /lower ||
    fail "mount of the host tree over 9p"
mount -t tmpfs -o mode=0755,size=2g vcm-rw /rw || fail "tmpfs"
mkdir /rw/upper /rw/work
cp -a /seed/. /rw/upper/ || fail "seed"
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work vcm-root /newroot ||
    fail "overlay"

# The host's /.dockerenv would make systemd think it runs in a container.
rm -f /newroot/.dockerenv /newroot/run/.containerenv
# Without it man-db's dpkg trigger does not rebuild its caches (minutes of
# work under emulation) when the test installs the package.
rm -f /newroot/var/lib/man-db/auto-update
# The system bus systemd starts as dbus.service.
case "$BUS" in
dbus-daemon) rm -f /newroot/etc/systemd/system/dbus.service ;;
dbus-broker) ln -sfn /lib/systemd/system/dbus-broker.service /newroot/etc/systemd/system/dbus.service ;;
esac

# API file systems and a fresh /run, /tmp and /var/tmp (the host's own, read
# over 9p, would only slow systemd-tmpfiles down).
mount -t tmpfs -o mode=0755,nosuid,nodev vcm-run /newroot/run
mount -t tmpfs -o mode=1777,nosuid,nodev vcm-tmp /newroot/tmp
mount -t tmpfs -o mode=1777,nosuid,nodev vcm-var-tmp /newroot/var/tmp
for p in $KEEP; do
    mkdir -p "/newroot$p" && mount --bind "/lower$p" "/newroot$p" || fail "keep $p"
done
mkdir -p /newroot/run/vcm-kernel61 /newroot/run/vcm-overlay
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /newroot/run/vcm-kernel61 ||
    fail "mount of the results share"
# The overlay's layers, for the purge check (what the package left behind).
mount --move /rw /newroot/run/vcm-overlay
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys

echo "vcm-kernel61 init: root ready, starting systemd"
exec switch_root /newroot /lib/systemd/systemd
