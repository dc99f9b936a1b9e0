#!/usr/bin/python3
# vcmount-agent: a management agent's view of the rootfs mounts, kept equal to
# the kernel's set by libvcmount's VcMount.RootfsSet, with one log line per
# change. The set lists the mounts, follows the service's signals, lists again
# after a lost signal and starts over when the service restarts; the agent
# only reacts. It also logs every mount the service makes or unmounts, by
# any method, with its identity (the client's mount-added and mount-removed
# signals).
#
#   vcmount-agent.py [--sandbox ID] [--address BUS_ADDRESS]
#
# Stops on SIGINT or SIGTERM.
import argparse
import signal
import sys
import time

import gi
gi.require_version('Gio', '2.0')
gi.require_version('VcMount', '1')
from gi.repository import Gio, GLib, VcMount  # noqa: E402


def log(what, **fields):
    text = ' '.join(f'{k.replace("_", "-")}={v}' for k, v in fields.items())
    print(f'{time.strftime("%H:%M:%S")} {what} {text}'.rstrip(), flush=True)


def describe(rootfs):
    return dict(sandbox=rootfs.props.sandbox_id, container=rootfs.props.container_id,
                mount_point=rootfs.props.mount_point,
                read_only='yes' if rootfs.props.read_only else 'no')


def main():
    parser = argparse.ArgumentParser(description='Mirror the rootfs mounts of vc-mount.')
    parser.add_argument('--sandbox', help='follow this sandbox only')
    parser.add_argument('--address', help='the bus address (default: the system bus)')
    args = parser.parse_args()

    connection = None
    if args.address:
        connection = Gio.DBusConnection.new_for_address_sync(
            args.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
    client = VcMount.Client.new_sync(connection, None)
    rootfs_set = VcMount.RootfsSet.new(client, args.sandbox)
    loop = GLib.MainLoop()

    def on_added(s, rootfs):
        log('added', generation=s.props.generation, **describe(rootfs))

    def on_removed(s, rootfs, detached):
        log('removed', generation=s.props.generation, **describe(rootfs),
            detached=','.join(detached) if detached else '-')

    def on_changed(s, rootfs, change):
        log('changed', generation=s.props.generation, change=change, **describe(rootfs))

    def on_resynced(s):
        log('resynced', generation=s.props.generation, count=s.get_n_items(),
            owner=client.props.name_owner)

    def identity(info):
        return dict(mount_point=info.get_mount_point(), kind=info.get_kind(),
                    mount_id=info.get_mount_id(), source=info.get_source() or '-',
                    caller_uid=info.get_caller_uid(),
                    recovered='yes' if info.get_recovered() else 'no')

    def on_mount_added(c, generation, info):
        log('mount-added', generation=generation, **identity(info))

    def on_mount_removed(c, generation, info, detached):
        log('mount-removed', generation=generation, **identity(info),
            detached=','.join(detached))

    def on_synced(s, pspec):
        if not s.props.synced and client.props.name_owner is None:
            log('service-gone', keeping=s.get_n_items())

    rootfs_set.connect('added', on_added)
    rootfs_set.connect('removed', on_removed)
    rootfs_set.connect('changed', on_changed)
    rootfs_set.connect('resynced', on_resynced)
    rootfs_set.connect('notify::synced', on_synced)
    client.connect('mount-added', on_mount_added)
    client.connect('mount-removed', on_mount_removed)
    for signum in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)

    log('started', sandbox=args.sandbox or '*')
    loop.run()
    log('stopped', count=rootfs_set.get_n_items())
    return 0


if __name__ == '__main__':
    sys.exit(main())
