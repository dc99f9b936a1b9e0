#!/usr/bin/python3
# test_load: vcmountd under load. Many sandboxes of four containers each are
# mounted and unmounted by eight concurrent clients (threads, each with a bus
# connection of its own), with queries and ListRootfs mixed in. Every call must
# succeed, a subscriber must see exactly RootfsMounted then RootfsUnmounted for
# every container with contiguous generations, and the mount table beneath the
# shared dir must be back to where it started.
#
# Size: the full 1,000 sandboxes x 4 containers (about 10 s here);
# VCM_LOAD_SANDBOXES overrides it.

import collections
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vcmtest import DBusCallError, World  # noqa: E402

SANDBOXES = int(os.environ.get('VCM_LOAD_SANDBOXES', '1000'))
CONTAINERS = 4
CLIENTS = 8
WINDOW = 3            # sandboxes each client keeps mounted at once
SOURCES = 16          # rootfs source directories shared by the containers


class Client(threading.Thread):
    """One client: its own connection, a share of the sandboxes."""

    def __init__(self, world, index, sandboxes, sources):
        super().__init__(name=f'load-client-{index}', daemon=True)
        self.w = world
        self.index = index
        self.sandboxes = sandboxes
        self.sources = sources
        self.errors = []
        self.calls = 0
        self.conn = None

    def call(self, method, *args):
        self.calls += 1
        try:
            return self.w.call_raw(method, *args, connection=self.conn).unpack()
        except DBusCallError as e:
            self.errors.append(f'{method}{args!r}: {e}')
            return None

    def expect(self, what, got, want):
        if got != want:
            self.errors.append(f'{what}: expected {want!r}, got {got!r}')

    def mount_sandbox(self, n, sandbox_id):
        for c in range(CONTAINERS):
            container_id = f'c{c}'
            source = self.sources[(n * CONTAINERS + c) % len(self.sources)]
            read_only = (n + c) % 2 == 1
            res = self.call('MountRootfs', sandbox_id, container_id, source, read_only)
            if res is not None:
                self.expect(f'MountRootfs {sandbox_id}/{container_id}', res[0],
                            self.w.rootfs_mount_point(sandbox_id, container_id))
        # queries mixed in
        res = self.call('ListRootfs', sandbox_id)
        if res is not None:
            got = sorted((s, c, mp, ro) for s, c, mp, ro in res[1])
            want = sorted((sandbox_id, f'c{c}', self.w.rootfs_mount_point(sandbox_id, f'c{c}'),
                           (n + c) % 2 == 1) for c in range(CONTAINERS))
            self.expect(f'ListRootfs {sandbox_id}', got, want)
        mp = self.w.rootfs_mount_point(sandbox_id, 'c0')
        res = self.call('GetDeviceForPath', mp)
        if res is not None:
            self.expect(f'GetDeviceForPath {mp} mount point', res[2], mp)
        if n % 4 == 0:
            self.call('DescribePath', mp)
            self.call('IsSystemMount', mp)
            self.call('GetDevicePathAndFsType', mp)
        if n % 8 == 0:
            self.call('ListRootfs', '')

    def unmount_sandbox(self, n, sandbox_id):
        if n % 2 == 0:
            res = self.call('UnmountSandbox', sandbox_id)
            if res is not None:
                self.expect(f'UnmountSandbox {sandbox_id}', sorted(res[0]),
                            [f'c{c}' for c in range(CONTAINERS)])
        else:
            for c in range(CONTAINERS):
                container_id = f'c{c}'
                res = self.call('UnmountRootfs', sandbox_id, container_id)
                if res is not None:
                    self.expect(f'UnmountRootfs {sandbox_id}/{container_id}', res[0][:1],
                                [self.w.rootfs_mount_point(sandbox_id, container_id)])

    def run(self):
        try:
            self.conn = self.w.new_connection()
            live = collections.deque()
            for n, sandbox_id in self.sandboxes:
                self.mount_sandbox(n, sandbox_id)
                live.append((n, sandbox_id))
                if len(live) > WINDOW:
                    self.unmount_sandbox(*live.popleft())
            while live:
                self.unmount_sandbox(*live.popleft())
        except Exception as e:   # anything unexpected is an error of this client
            self.errors.append(f'client {self.index} raised {e!r}')
        finally:
            if self.conn is not None:
                self.conn.close_sync(None)


class LoadTest(unittest.TestCase):

    def test_concurrent_mount_unmount(self):
        with World(verbose=False) as w:
            sources = []
            for i in range(SOURCES):
                d = os.path.join(w.tmp, 'sources', f'src{i}')
                os.makedirs(os.path.join(d, 'etc'))
                with open(os.path.join(d, 'etc', 'hostname'), 'w') as f:
                    f.write(f'src{i}\n')
                sources.append(d)
            start_mounts = [m['line'] for m in w.mounts_beneath(w.shared_dir)]

            sandboxes = [(n, f'sbx-{n:05d}') for n in range(SANDBOXES)]
            clients = [Client(w, i, sandboxes[i::CLIENTS], sources) for i in range(CLIENTS)]
            collector = w.subscribe()
            self.addCleanup(collector.close)
            gen0 = w.get_property('Generation')

            t0 = time.monotonic()
            for c in clients:
                c.start()
            while any(c.is_alive() for c in clients):
                collector.pump(0.05)
                self.assertTrue(w.daemon_running(), 'vcmountd died under load')
            for c in clients:
                c.join()
            elapsed = time.monotonic() - t0
            calls = sum(c.calls for c in clients)

            expected_signals = SANDBOXES * CONTAINERS * 2
            collector.wait_for(count=expected_signals, timeout=60)
            collector.sync()   # and nothing more after them
            sys.stderr.write(f'load: {SANDBOXES} sandboxes x {CONTAINERS} containers, '
                             f'{CLIENTS} clients, {calls} calls in {elapsed:.1f} s '
                             f'({calls / elapsed:.0f} calls/s)\n')

            errors = [e for c in clients for e in c.errors]
            self.assertEqual(errors[:20], [], f'{len(errors)} errors')

            # The signals: per container exactly Mounted then Unmounted, the
            # generations contiguous from where we started.
            per_container = collections.defaultdict(list)
            generations = []
            for member, args in collector.signals:
                generations.append(args[0])
                per_container[(args[1], args[2])].append((member, args))
            self.assertEqual(len(collector.signals), expected_signals,
                             'signals: ' + repr(collections.Counter(m for m, _ in collector.signals)))
            self.assertEqual(generations, list(range(gen0 + 1, gen0 + 1 + expected_signals)),
                             'generations are not contiguous and increasing')
            self.assertEqual(len(per_container), SANDBOXES * CONTAINERS)
            for (sandbox_id, container_id), sigs in per_container.items():
                members = [m for m, _ in sigs]
                self.assertEqual(members, ['RootfsMounted', 'RootfsUnmounted'],
                                 f'{sandbox_id}/{container_id}')
                mp = w.rootfs_mount_point(sandbox_id, container_id)
                mounted, unmounted = sigs[0][1], sigs[1][1]
                self.assertEqual(mounted[3], mp)
                n = int(sandbox_id.split('-')[1])
                self.assertEqual(mounted[4], (n + int(container_id[1:])) % 2 == 1)
                self.assertEqual(unmounted[3], mp)
                self.assertEqual(list(unmounted[4])[:1], [mp])
            self.assertEqual(w.get_property('Generation'), gen0 + expected_signals)

            # Back to the start.
            self.assertEqual([m['line'] for m in w.mounts_beneath(w.shared_dir)], start_mounts)
            self.assertEqual(w.call('ListRootfs', '')[1], [])
            self.assertEqual(os.listdir(w.shared_dir), [],
                             'directories the service made were left behind')
            self.assertTrue(w.daemon_running())


if __name__ == '__main__':
    unittest.main()
