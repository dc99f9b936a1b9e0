#!/usr/bin/python3
# test_signals: the rootfs signals and the Generation counter against the real
# vcmountd (vcmtest.World). Foreign changes (mounts the service did not make)
# are each reported once as RootfsChanged or RootfsMounted; the service's own
# changes are never echoed; a client that lists once and then follows the
# signals ends up with the kernel's rootfs set after a random mix of changes;
# a burst of foreign mounts gives one signal per change from few table
# re-reads (none when the daemon follows mount notifications); a service call
# right after a foreign change, or a mount that reuses a freed mount ID,
# swallows no signal; the daemon follows mount notifications exactly where the
# kernel has them and no filter refuses them, recovers from a lost event
# (queue overflow) with one table re-read, and reports a remount that comes
# among other mount events; and a restart (even kill -9) forgets nothing.
#
# The random mix takes its seed from $VCM_TEST_SEED when set (the seed used is
# printed). The re-read count of the burst test is taken with strace (skipped
# when strace is not installed). Run under `unshare -m --propagation private`
# (meson test does, through taprunner.py).

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from vcmtest import WorldCase, DBusCallError, mountinfo  # noqa: E402

MS_RDONLY = 1
MS_REMOUNT = 32
MS_BIND = vcmtest.MS_BIND
MNT_DETACH = vcmtest.MNT_DETACH

ID_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$')
FOREIGN_KINDS = ('submount-added', 'submount-removed', 'remounted', 'vanished')
SIGNAL_TIMEOUT = 30.0   # a bound, stretched by VCM_TEST_TIMEOUT_MULTIPLIER (vcmtest.scaled)
N_RANDOM_CHANGES = 500
N_BURST = 1000
N_PACED = 200
PACE_S = 0.002
MIN_REREAD_INTERVAL_S = 0.005   # the daemon waits 10 ms; half that, for slack


def sh(*cmd):
    """Runs a command (mount/umount of util-linux); raises on failure."""
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True,
                   stdin=subprocess.DEVNULL)


def kernel_rootfs(shared, table=None):
    """{(sandbox_id, container_id): (mount_point, read_only)} of every rootfs
    in this namespace's mount table: the top mount at SHARED/SBX/CID/rootfs."""
    return {key: (m['mount_point'], 'ro' in m['options'])
            for key, m in kernel_rootfs_mounts(shared, table).items()}


def kernel_rootfs_mounts(shared, table=None):
    """{(sandbox_id, container_id): mountinfo entry of the top mount}."""
    stacks = {}
    for m in table if table is not None else mountinfo():
        rel = os.path.relpath(m['mount_point'], shared)
        parts = rel.split('/')
        if (rel.startswith('..') or len(parts) != 3 or parts[2] != 'rootfs' or
                not ID_RE.match(parts[0]) or not ID_RE.match(parts[1])):
            continue
        stacks.setdefault((parts[0], parts[1]), []).append(m)
    result = {}
    for key, stack in stacks.items():
        ids = {m['parent_id'] for m in stack}
        tops = [m for m in stack if m['id'] not in ids]
        assert len(tops) == 1, f'cannot tell the top mount of {key}: {stack}'
        if not covered(table if table is not None else mountinfo(), shared, key, tops[0]):
            result[key] = tops[0]
    return result


def covered(table, shared, key, rootfs):
    """Whether a mount on SHARED/SBX or SHARED/SBX/CID that @rootfs does not
    lie in covers it (its path leads into that mount: out of reach)."""
    by_id = {m['id']: m for m in table}
    for d in (os.path.join(shared, key[0]), os.path.join(shared, *key)):
        stack = [m for m in table if m['mount_point'] == d]
        if not stack:
            continue
        ids = {m['parent_id'] for m in stack}
        top = [m for m in stack if m['id'] not in ids][0]
        m, within = rootfs, False
        while m is not None and not within:
            within = m['parent_id'] == top['id']
            m = by_id.get(m['parent_id']) if m['parent_id'] != m['id'] else None
        if not within:
            return True
    return False


def descendants(table, mount_id):
    """The mounts below mount @mount_id in @table (children, their children...)."""
    children = {}
    for m in table:
        children.setdefault(m['parent_id'], []).append(m)
    result, todo = [], [mount_id]
    while todo:
        for m in children.get(todo.pop(), []):
            result.append(m)
            todo.append(m['id'])
    return result


def watch_log_lines(world):
    """The daemon's "Mount watch:" log lines, oldest first (every start says how it follows the kernel)."""
    with open(world.daemon_log, errors='replace') as f:
        return [line for line in f if 'Mount watch: ' in line]


def follows_notifications(world):
    """Whether the running vcmountd said at its start that it follows mount notifications."""
    starts = [line for line in watch_log_lines(world)
              if 'following mount notifications' in line or 're-reading the mount table on every' in line]
    assert starts, 'vcmountd did not say how it follows the mount table'
    return 'following mount notifications' in starts[-1]


def notifications_expected():
    """Mount notifications need Linux 6.15, statmount(2) and fanotify not refused by the test's filter."""
    release = tuple(int(x) for x in re.findall(r'\d+', os.uname().release)[:2])
    refused = os.environ.get('VCM_TEST_REFUSE_SYSCALLS', '')
    return (release >= (6, 15) and
            'fanotify' not in refused and 'statmount' not in refused and 'listmount' not in refused)


def gen_of(sig):
    return sig[1][0]


def describe(signals):
    return '\n'.join(f'  {member}{args!r}' for member, args in signals)


class SignalsCase(WorldCase):
    """One World per class; every test starts and ends with nothing beneath the
    shared dir and no signal pending."""

    maxDiff = None

    def _clean(self):
        self.w.unmount_all_beneath(self.shared)
        self.w.unmount_all_beneath(self.scratch)
        if not self.w.daemon_running():
            self.w.start_daemon()
        # ListRootfs re-reads the table first: the signals of the unmounts
        # above go out now, before the next test subscribes.
        self.w.call('ListRootfs', '')
        for name in os.listdir(self.shared):
            shutil.rmtree(os.path.join(self.shared, name))
        shutil.rmtree(self.scratch)

    # -- helpers ----------------------------------------------------------

    def make_tree(self, name, subdirs=('sub', 'etc')):
        root = self.path(name)
        os.makedirs(root, 0o755)
        for d in subdirs:
            os.makedirs(os.path.join(root, d), exist_ok=True)
        with open(os.path.join(root, 'hello'), 'w') as f:
            f.write(name + '\n')
        return root

    def mp(self, sandbox_id, container_id):
        return self.w.rootfs_mount_point(sandbox_id, container_id)

    def list_rootfs(self, sandbox_id=''):
        gen, entries = self.w.call('ListRootfs', sandbox_id)
        listed = {}
        for sbx, cid, mount_point, ro in entries:
            self.assertNotIn((sbx, cid), listed, f'ListRootfs lists {sbx}/{cid} twice: {entries}')
            listed[(sbx, cid)] = (mount_point, ro)
        return gen, listed

    def assert_listed_as_kernel(self):
        gen, listed = self.list_rootfs()
        self.assertEqual(listed, kernel_rootfs(self.shared),
                         'ListRootfs differs from the kernel mount table')
        return gen, listed

    def quiet(self, sigs):
        """Collects every signal still on its way for the changes made so far."""
        sigs.sync()

    def expect(self, sigs, expected, g0):
        """Waits for len(@expected) signals, then for quiet; asserts exactly
        @expected arrived, as (member, args without the generation), with
        generations g0+1, g0+2, ... and that Generation is the last one."""
        if expected:
            try:
                sigs.wait_for(count=len(expected), timeout=SIGNAL_TIMEOUT)
            except AssertionError:
                pass   # too few: the comparison below says which
        self.quiet(sigs)
        got = [(member, tuple(args[1:])) for member, args in sigs.signals]
        self.assertEqual(got, expected, 'signals:\n' + describe(sigs.signals))
        self.assertEqual([gen_of(s) for s in sigs.signals],
                         list(range(g0 + 1, g0 + 1 + len(expected))),
                         'generations not consecutive from ' + str(g0) + ':\n' + describe(sigs.signals))
        self.assertEqual(self.w.get_property('Generation'), g0 + len(expected))
        self.assertEqual(self.list_rootfs()[0], g0 + len(expected))
        sigs.signals.clear()
        return g0 + len(expected)

    def mount_rootfs_seen(self, sigs, g, sandbox_id, container_id, source, read_only):
        """MountRootfs, then exactly its RootfsMounted (see expect()): returns
        the mount point and the generation after it."""
        mp = self.w.call('MountRootfs', sandbox_id, container_id, source, read_only)
        return mp, self.expect(sigs, [('RootfsMounted', (sandbox_id, container_id, mp, read_only))], g)


class TestForeignChanges(SignalsCase):
    def mounted_rootfs(self, sbx, cid, read_only=False):
        with self.w.subscribe() as sigs:
            g0 = self.w.get_property('Generation')
            src = self.make_tree(f'rootfs-{sbx}-{cid}')
            mp = self.w.call('MountRootfs', sbx, cid, src, read_only)
            self.assertEqual(mp, self.mp(sbx, cid))
            g = self.expect(sigs, [('RootfsMounted', (sbx, cid, mp, read_only))], g0)
        return mp, g

    def test_submount_added_and_removed(self):
        mp, g = self.mounted_rootfs('sbf', 'c1')
        vol = self.make_tree('volume')
        with self.w.subscribe() as sigs:
            sh('mount', '--bind', vol, os.path.join(mp, 'sub'))
            g = self.expect(sigs, [('RootfsChanged', ('sbf', 'c1', mp, 'submount-added'))], g)
            sh('umount', os.path.join(mp, 'sub'))
            g = self.expect(sigs, [('RootfsChanged', ('sbf', 'c1', mp, 'submount-removed'))], g)
            # one below a submount is below the rootfs too
            sh('mount', '--bind', vol, os.path.join(mp, 'sub'))
            sh('mount', '--bind', vol, os.path.join(mp, 'sub', 'etc'))
            g = self.expect(sigs, [('RootfsChanged', ('sbf', 'c1', mp, 'submount-added'))] * 2, g)
        self.assert_listed_as_kernel()

    def test_remount_read_only_and_back(self):
        mp, g = self.mounted_rootfs('sbf', 'c2')
        with self.w.subscribe() as sigs:
            sh('mount', '-o', 'remount,bind,ro', mp)
            g = self.expect(sigs, [('RootfsChanged', ('sbf', 'c2', mp, 'remounted'))], g)
            self.assertEqual(self.list_rootfs()[1][('sbf', 'c2')], (mp, True))
            sh('mount', '-o', 'remount,bind,rw', mp)
            g = self.expect(sigs, [('RootfsChanged', ('sbf', 'c2', mp, 'remounted'))], g)
            self.assertEqual(self.list_rootfs()[1][('sbf', 'c2')], (mp, False))
        self.assert_listed_as_kernel()

    def test_remount_of_read_only_rootfs_to_rw_and_back(self):
        mp, g = self.mounted_rootfs('sbf', 'c3', read_only=True)
        self.assertEqual(self.list_rootfs()[1][('sbf', 'c3')], (mp, True))
        with self.w.subscribe() as sigs:
            sh('mount', '-o', 'remount,bind,rw', mp)
            g = self.expect(sigs, [('RootfsChanged', ('sbf', 'c3', mp, 'remounted'))], g)
            sh('mount', '-o', 'remount,bind,ro', mp)
            g = self.expect(sigs, [('RootfsChanged', ('sbf', 'c3', mp, 'remounted'))], g)
        self.assert_listed_as_kernel()

    def test_lazy_umount_vanishes(self):
        mp, g = self.mounted_rootfs('sbf', 'c4')
        keep, g = self.mounted_rootfs('sbf', 'c5')
        vol = self.make_tree('volume')
        with self.w.subscribe() as sigs:
            sh('mount', '--bind', vol, os.path.join(mp, 'sub'))
            g = self.expect(sigs, [('RootfsChanged', ('sbf', 'c4', mp, 'submount-added'))], g)
            # the submount goes with it: one signal, for the rootfs
            sh('umount', '-l', mp)
            g = self.expect(sigs, [('RootfsChanged', ('sbf', 'c4', mp, 'vanished'))], g)
        gen, listed = self.assert_listed_as_kernel()
        self.assertEqual(listed, {('sbf', 'c5'): (keep, False)})
        with self.assertRaises(DBusCallError) as cm:
            self.w.call('UnmountRootfs', 'sbf', 'c4')
        self.assertEqual(cm.exception.name, vcmtest.ERROR_PREFIX + 'NotMounted')
        self.assertEqual(self.w.get_property('Generation'), gen)

    def test_foreign_rootfs_mount_is_reported_and_listed(self):
        src = self.make_tree('foreign')
        mp = self.mp('sbx-f', 'cf')
        os.makedirs(mp)
        with self.w.subscribe() as sigs:
            g0 = self.w.get_property('Generation')
            sh('mount', '--bind', src, mp)
            g = self.expect(sigs, [('RootfsMounted', ('sbx-f', 'cf', mp, False))], g0)
            self.assertEqual(self.list_rootfs('sbx-f')[1], {('sbx-f', 'cf'): (mp, False)})
            self.assert_listed_as_kernel()
            # the service can take it down like one of its own
            detached = self.w.call('UnmountRootfs', 'sbx-f', 'cf')
            self.assertEqual(detached, [mp])
            g = self.expect(sigs, [('RootfsUnmounted', ('sbx-f', 'cf', mp, [mp]))], g)
        self.assertEqual(self.w.mounts_beneath(self.shared), [])
        self.assertEqual(self.list_rootfs()[1], {})

    def test_foreign_mount_stacked_on_a_rootfs(self):
        mp, g = self.mounted_rootfs('sbs', 'c1')
        other = self.make_tree('other')
        with self.w.subscribe() as sigs:
            sh('mount', '--bind', other, mp)
            # the top mount is the rootfs now: the old one is gone from view
            g = self.expect(sigs, [('RootfsChanged', ('sbs', 'c1', mp, 'vanished')),
                                   ('RootfsMounted', ('sbs', 'c1', mp, False))], g)
            self.assertTrue(os.path.exists(os.path.join(mp, 'hello')))
            with open(os.path.join(mp, 'hello')) as f:
                self.assertEqual(f.read(), 'other\n')
            self.assert_listed_as_kernel()
            sh('umount', mp)
            g = self.expect(sigs, [('RootfsChanged', ('sbs', 'c1', mp, 'vanished')),
                                   ('RootfsMounted', ('sbs', 'c1', mp, False))], g)
        self.assert_listed_as_kernel()

    def test_foreign_mount_over_its_layout_is_a_change(self):
        # a mount made behind the service's back on the rootfs's container
        # (or sandbox) directory covers it: its path leads into that mount,
        # so the rootfs is out of reach, reported gone and no longer listed;
        # when the cover goes the rootfs is there again, and reported
        mp, g = self.mounted_rootfs('sbcov', 'c1')
        other = self.make_tree('cover', subdirs=('rootfs',))
        for cover in (os.path.dirname(mp), os.path.dirname(os.path.dirname(mp))):
            with self.subTest(cover=cover), self.w.subscribe() as sigs:
                sh('mount', '--bind', other, cover)
                g = self.expect(sigs, [('RootfsChanged', ('sbcov', 'c1', mp, 'vanished'))], g)
                self.assertEqual(self.list_rootfs('sbcov')[1], {})
                self.assert_listed_as_kernel()
                # what the path shows is not the rootfs: UnmountRootfs says why
                with self.assertRaises(DBusCallError) as cm:
                    self.w.call('UnmountRootfs', 'sbcov', 'c1')
                self.assertEqual(cm.exception.name, vcmtest.ERROR_PREFIX + 'InvalidArgument')
                self.assertIn('sandbox_id/container_id', str(cm.exception))
                self.assertEqual(self.w.get_property('Generation'), g)
                sh('umount', cover)
                g = self.expect(sigs, [('RootfsMounted', ('sbcov', 'c1', mp, False))], g)
                self.assertEqual(self.list_rootfs('sbcov')[1], {('sbcov', 'c1'): (mp, False)})
                self.assert_listed_as_kernel()


class TestNoEcho(SignalsCase):
    def test_service_changes_are_signalled_once(self):
        a = self.make_tree('a')
        b = self.make_tree('b')
        vol = self.make_tree('volume')
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            mp1, g = self.mount_rootfs_seen(sigs, g, 'sbn', 'c1', a, False)
            mp2, g = self.mount_rootfs_seen(sigs, g, 'sbn', 'c2', b, True)
            self.assert_listed_as_kernel()

            detached = self.w.call('UnmountRootfs', 'sbn', 'c1')
            self.assertEqual(detached, [mp1])
            g = self.expect(sigs, [('RootfsUnmounted', ('sbn', 'c1', mp1, [mp1]))], g)

            # a foreign submount: reported once; the unmount that takes it
            # along is the service's, so no submount-removed follows
            sh('mount', '--bind', vol, os.path.join(mp2, 'sub'))
            g = self.expect(sigs, [('RootfsChanged', ('sbn', 'c2', mp2, 'submount-added'))], g)
            detached = self.w.call('UnmountRootfs', 'sbn', 'c2')
            self.assertEqual(detached, [mp2, os.path.join(mp2, 'sub')])
            g = self.expect(sigs, [('RootfsUnmounted', ('sbn', 'c2', mp2, detached))], g)
            self.assertEqual(self.w.mounts_beneath(self.shared), [])

    def test_unmount_sandbox_signals_each_rootfs_once(self):
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            mps = {}
            for cid in ('c1', 'c2', 'c3'):
                mps[cid] = self.w.call('MountRootfs', 'sbu', cid, self.make_tree(cid), cid == 'c2')
            other = self.w.call('MountRootfs', 'sbother', 'c1', self.make_tree('other'), False)
            g = self.expect(sigs, [('RootfsMounted', ('sbu', c, mps[c], c == 'c2')) for c in mps] +
                            [('RootfsMounted', ('sbother', 'c1', other, False))], g)
            done = self.w.call('UnmountSandbox', 'sbu')
            self.assertEqual(sorted(done), ['c1', 'c2', 'c3'])
            g = self.expect(sigs, [('RootfsUnmounted', ('sbu', c, mps[c], [mps[c]])) for c in done], g)
            self.assertEqual(self.list_rootfs()[1], {('sbother', 'c1'): (other, False)})
            self.assertEqual(self.w.call('UnmountSandbox', 'sbu'), [])
            self.expect(sigs, [], g)
            self.assert_listed_as_kernel()

    def test_refused_calls_signal_nothing(self):
        a = self.make_tree('a')
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            mp, g = self.mount_rootfs_seen(sigs, g, 'sbr', 'c1', a, False)
            for call in (('MountRootfs', 'sbr', 'c1', a, False),
                         ('MountRootfs', 'sbr', 'c2', self.path('missing'), False),
                         ('UnmountRootfs', 'sbr', 'c9'),
                         ('UnmountRootfs', 'sbr', '..')):
                with self.assertRaises(DBusCallError, msg=call):
                    self.w.call(*call)
            self.expect(sigs, [], g)


class TestServiceCallRightAfterForeignChange(SignalsCase):
    """A service call that comes before the daemon has re-read the table
    (within its coalescing delay) must not swallow or reorder the foreign
    change's signal for the same rootfs."""

    def test_foreign_rootfs_then_unmount_rootfs(self):
        mp = self.mp('sbq', 'c1')
        os.makedirs(mp)
        src = self.make_tree('foreign')
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            vcmtest.mount(src, mp, flags=MS_BIND)
            detached = self.w.call('UnmountRootfs', 'sbq', 'c1')
            self.assertEqual(detached, [mp])
            self.expect(sigs, [('RootfsMounted', ('sbq', 'c1', mp, False)),
                               ('RootfsUnmounted', ('sbq', 'c1', mp, [mp]))], g)

    def test_foreign_submount_then_unmount_rootfs(self):
        src = self.make_tree('rootfs')
        vol = self.make_tree('volume')
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            mp, g = self.mount_rootfs_seen(sigs, g, 'sbq', 'c2', src, False)
            vcmtest.mount(vol, os.path.join(mp, 'sub'), flags=MS_BIND)
            detached = self.w.call('UnmountRootfs', 'sbq', 'c2')
            self.assertEqual(detached, [mp, os.path.join(mp, 'sub')])
            self.expect(sigs, [('RootfsChanged', ('sbq', 'c2', mp, 'submount-added')),
                               ('RootfsUnmounted', ('sbq', 'c2', mp, detached))], g)

    def test_foreign_remount_then_unmount_rootfs(self):
        src = self.make_tree('rootfs')
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            mp, g = self.mount_rootfs_seen(sigs, g, 'sbq', 'c3', src, False)
            vcmtest.mount(None, mp, flags=MS_REMOUNT | MS_BIND | MS_RDONLY)
            self.w.call('UnmountRootfs', 'sbq', 'c3')
            self.expect(sigs, [('RootfsChanged', ('sbq', 'c3', mp, 'remounted')),
                               ('RootfsUnmounted', ('sbq', 'c3', mp, [mp]))], g)

    def test_foreign_vanish_then_mount_rootfs(self):
        src = self.make_tree('rootfs')
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            mp, g = self.mount_rootfs_seen(sigs, g, 'sbq', 'c4', src, True)
            vcmtest.umount(mp, MNT_DETACH)
            self.assertEqual(self.w.call('MountRootfs', 'sbq', 'c4', src, False), mp)
            self.expect(sigs, [('RootfsChanged', ('sbq', 'c4', mp, 'vanished')),
                               ('RootfsMounted', ('sbq', 'c4', mp, False))], g)
        self.assert_listed_as_kernel()

    def test_foreign_rootfs_then_mount_rootfs_refused(self):
        mp = self.mp('sbq', 'c5')
        os.makedirs(mp)
        src = self.make_tree('foreign')
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            vcmtest.mount(src, mp, flags=MS_BIND)
            with self.assertRaises(DBusCallError) as cm:
                self.w.call('MountRootfs', 'sbq', 'c5', src, False)
            self.assertEqual(cm.exception.name, vcmtest.ERROR_PREFIX + 'AlreadyMounted')
            self.expect(sigs, [('RootfsMounted', ('sbq', 'c5', mp, False))], g)
        self.assert_listed_as_kernel()


class TestMountIdReuse(SignalsCase):
    """The kernel hands a freed mount ID (the one /proc/self/mountinfo shows)
    to the next new mount at once: a rootfs that went and came back within
    one re-read of the table can carry the same ID, and is still two changes."""

    def test_foreign_rootfs_replaced_under_the_same_mount_id(self):
        src = self.make_tree('foreign')
        mp = self.mp('sbi', 'c1')
        os.makedirs(mp)
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            for attempt in range(5):
                vcmtest.mount(src, mp, flags=MS_BIND)
                g = self.expect(sigs, [('RootfsMounted', ('sbi', 'c1', mp, False))], g)
                first = vcmtest.top_mount(mp)['id']
                vcmtest.umount(mp, MNT_DETACH)
                vcmtest.mount(src, mp, flags=MS_BIND)
                if vcmtest.top_mount(mp)['id'] == first:
                    break
                # a lower ID was free: the one now used is the lowest, try again
                g = self.expect(sigs, [('RootfsChanged', ('sbi', 'c1', mp, 'vanished')),
                                       ('RootfsMounted', ('sbi', 'c1', mp, False))], g)
                vcmtest.umount(mp, MNT_DETACH)
                g = self.expect(sigs, [('RootfsChanged', ('sbi', 'c1', mp, 'vanished'))], g)
            else:
                self.skipTest('the kernel did not reuse the mount ID')
            self.expect(sigs, [('RootfsChanged', ('sbi', 'c1', mp, 'vanished')),
                               ('RootfsMounted', ('sbi', 'c1', mp, False))], g)

    def test_mount_rootfs_after_foreign_umount_under_the_same_mount_id(self):
        src = self.make_tree('rootfs')
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            for attempt in range(5):
                mp, g = self.mount_rootfs_seen(sigs, g, 'sbi', 'c2', src, False)
                first = vcmtest.top_mount(mp)['id']
                vcmtest.umount(mp, MNT_DETACH)
                self.w.call('MountRootfs', 'sbi', 'c2', src, True)
                if vcmtest.top_mount(mp)['id'] == first:
                    break
                g = self.expect(sigs, [('RootfsChanged', ('sbi', 'c2', mp, 'vanished')),
                                       ('RootfsMounted', ('sbi', 'c2', mp, True))], g)
                self.w.call('UnmountRootfs', 'sbi', 'c2')
                g = self.expect(sigs, [('RootfsUnmounted', ('sbi', 'c2', mp, [mp]))], g)
            else:
                self.skipTest('the kernel did not reuse the mount ID')
            self.expect(sigs, [('RootfsChanged', ('sbi', 'c2', mp, 'vanished')),
                               ('RootfsMounted', ('sbi', 'c2', mp, True))], g)


    def replace_under_the_same_mount_id(self, mp, src, restart):
        """Unmounts the rootfs at @mp behind the service's back (stopped
        first when @restart) and binds @src there as the mount of the 32-bit
        ID freed (skips when another mount took it); returns
        the new mount's mountinfo entry, the daemon running again."""
        first = vcmtest.top_mount(mp)['id']
        if restart:
            self.w.stop_daemon()
        vcmtest.umount(mp, MNT_DETACH)
        if not vcmtest.mount_with_freed_id(src, mp, first, self.path('ids')):
            if restart:
                self.w.start_daemon()
            self.skipTest('the kernel did not give the freed mount ID to the next mount')
        if restart:
            self.w.start_daemon()
        return vcmtest.top_mount(mp)

    def assert_listed_from_the_kernel_only(self, mp, foreign):
        listed = [m for m in self.w.call('ListMounts', {})[1] if m.get('mount-point') == mp]
        self.assertEqual(len(listed), 1, listed)
        m = listed[0]
        for key in ('recovered', 'source', 'source-inode', 'caller-uid'):
            self.assertNotIn(key, m, f'the mount made at {mp} since is listed with the old one\'s '
                                     f'identity: {m}')
        self.assertEqual((m['kind'], m['mount-id'], m['mount-id-unique']),
                         ('rootfs', foreign['id'], False))
        self.assert_listed_as_kernel()

    def test_restart_after_rootfs_replaced_under_the_same_mount_id(self):
        """The record on a rootfs' mount point names that mount only: another
        made there behind the stopped service's back with the same 32-bit ID
        is not taken for it after the restart."""
        mp = self.w.call('MountRootfs', 'sbq', 'c1', self.make_tree('mine'), False)
        info, = [m for m in self.w.call('ListMounts', {})[1] if m.get('mount-point') == mp]
        self.assertEqual(info['caller-uid'], 0)
        foreign = self.replace_under_the_same_mount_id(mp, self.make_tree('foreign'), restart=True)
        self.assert_listed_from_the_kernel_only(mp, foreign)
        # and the record that was is no longer taken for it after another restart
        self.w.restart_daemon(kill9=True)
        self.assert_listed_from_the_kernel_only(mp, foreign)

    def test_kept_identity_after_rootfs_replaced_under_the_same_mount_id(self):
        """What the running service keeps of a mount it made names that mount
        only: another made at its place behind its back under the same
        32-bit ID is listed with the kernel's facts."""
        mp = self.w.call('MountRootfs', 'sbq', 'c2', self.make_tree('mine'), False)
        listed = [m for m in self.w.call('ListMounts', {})[1] if m.get('mount-point') == mp]
        self.assertEqual(len(listed), 1)
        foreign = self.replace_under_the_same_mount_id(mp, self.make_tree('foreign'), restart=False)
        self.assert_listed_from_the_kernel_only(mp, foreign)
        # nor is its unmount told as the old one's
        with self.w.subscribe('MountRemoved') as removed:
            self.assertEqual(self.w.call('UnmountRootfs', 'sbq', 'c2'), [mp])
            (_, (_, info, detached)), = removed.wait_for()
        self.assertEqual(detached, [mp])
        self.assertEqual(info.get('mount-point'), mp)
        for key in ('recovered', 'source', 'source-inode', 'caller-uid'):
            self.assertNotIn(key, info, f'the unmount of the mount made at {mp} since is told as '
                                        f'the old one\'s: {info}')


class Follower:
    """A client as the contract describes it: subscribes, lists once, then
    applies each signal to its set; checks the generations as it goes.
    @history is a list the test appends what it does to: a failure message
    shows its end next to the last signals."""

    def __init__(self, test, world, history):
        self.test = test
        self.history = history
        self.sigs = world.subscribe()
        self.gen0, listed = test.list_rootfs()
        self.set = {key: mp for key, (mp, _) in listed.items()}
        self.last = self.gen0
        self.applied = 0
        self.counts = {}
        self.recent = []

    def close(self):
        self.sigs.close()

    def apply_pending(self):
        self.sigs.pump()
        pending, self.sigs.signals[:] = list(self.sigs.signals), []
        for member, args in pending:
            self._apply(member, args)

    def _context(self):
        return ('\nlast changes made:\n  ' + '\n  '.join(self.history[-25:]) +
                '\nlast signals applied:\n' + describe(self.recent[-15:]))

    def _check(self, ok, message, member, args):
        if not ok:
            self.test.fail(f'{message}: {member}{args!r} (after generation {self.last}, '
                           f'seed {self.test.seed}){self._context()}')

    def _apply(self, member, args):
        gen, sbx, cid, mount_point = args[:4]
        key = (sbx, cid)
        kind = member if member != 'RootfsChanged' else args[4]
        self._check(gen > self.gen0, 'a signal at or below the listed generation', member, args)
        self._check(gen == self.last + 1, 'generation gap or repeat', member, args)
        if member == 'RootfsMounted':
            self._check(key not in self.set, 'mounted again without having gone', member, args)
            self.set[key] = mount_point
        elif member == 'RootfsUnmounted' or kind == 'vanished':
            self._check(self.set.get(key) == mount_point, 'gone without having been there',
                        member, args)
            del self.set[key]
        else:
            self._check(kind in FOREIGN_KINDS, 'unknown change', member, args)
            self._check(key in self.set, 'a change to a rootfs that is not there', member, args)
        self.last = gen
        self.applied += 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.recent.append((member, args))
        del self.recent[:-20]


class TestFollower(SignalsCase):
    SANDBOXES = ('sb0', 'sb1', 'sb2')
    CONTAINERS = ('c0', 'c1', 'c2', 'c3', 'c4')
    SUBDIRS = ('d0', 'd1', 'd2', 'd3')

    def test_follower_matches_kernel_after_random_changes(self):
        self.seed = int(os.environ.get('VCM_TEST_SEED', random.randrange(1 << 32)))
        sys.stderr.write(f'test_follower: seed {self.seed} (set VCM_TEST_SEED to repeat)\n')
        rng = random.Random(self.seed)
        sources = [self.make_tree(f'src{i}', self.SUBDIRS) for i in range(4)]
        keys = [(s, c) for s in self.SANDBOXES for c in self.CONTAINERS]
        history = []
        done = {}
        follower = Follower(self, self.w, history)
        self.addCleanup(follower.close)

        def rel(path):
            return os.path.relpath(path, self.shared)

        # Each op makes one change and returns what it did, or None when it
        # has nothing to work on.
        def op_mount_rootfs():
            free = [k for k in keys if k not in kernel]
            if not free:
                return None
            sbx, cid = rng.choice(free)
            ro = rng.random() < 0.3
            self.w.call('MountRootfs', sbx, cid, rng.choice(sources), ro)
            return f'MountRootfs {sbx} {cid} ro={ro}'

        def op_unmount_rootfs():
            if not kernel:
                return None
            sbx, cid = rng.choice(sorted(kernel))
            self.w.call('UnmountRootfs', sbx, cid)
            return f'UnmountRootfs {sbx} {cid}'

        def op_unmount_sandbox():
            sbx = rng.choice(self.SANDBOXES)
            return f'UnmountSandbox {sbx} -> {self.w.call("UnmountSandbox", sbx)}'

        def op_foreign_rootfs():
            # at a free rootfs path mostly, sometimes stacked on one
            key = rng.choice(keys)
            mp = self.mp(*key)
            os.makedirs(mp, exist_ok=True)
            vcmtest.mount(rng.choice(sources), mp, flags=MS_BIND)
            return f'foreign mount --bind at {rel(mp)}' + (' (stacked)' if key in kernel else '')

        def op_foreign_vanish():
            if not kernel:
                return None
            mp = kernel[rng.choice(sorted(kernel))][0]
            vcmtest.umount(mp, MNT_DETACH)
            return f'foreign umount -l {rel(mp)}'

        def op_submount_add():
            if not kernel:
                return None
            target = os.path.join(kernel[rng.choice(sorted(kernel))][0], rng.choice(self.SUBDIRS))
            vcmtest.mount(rng.choice(sources), target, flags=MS_BIND)
            return f'foreign submount at {rel(target)}'

        def op_submount_remove():
            subs = [m for top in tops.values() for m in descendants(table, top['id'])]
            if not subs:
                return None
            target = rng.choice(subs)['mount_point']
            vcmtest.umount(target, MNT_DETACH)
            return f'foreign umount -l {rel(target)}'

        def op_remount():
            if not kernel:
                return None
            mp, ro = kernel[rng.choice(sorted(kernel))]
            vcmtest.mount(None, mp, flags=MS_REMOUNT | MS_BIND | (0 if ro else MS_RDONLY))
            return f'foreign remount {"rw" if ro else "ro"} {rel(mp)}'

        ops = [(op_mount_rootfs, 5), (op_unmount_rootfs, 3), (op_unmount_sandbox, 1),
               (op_foreign_rootfs, 3), (op_foreign_vanish, 2), (op_submount_add, 4),
               (op_submount_remove, 3), (op_remount, 3)]
        funcs = [f for f, _ in ops]
        weights = [w for _, w in ops]
        n = 0
        while n < N_RANDOM_CHANGES:
            table = mountinfo()
            tops = kernel_rootfs_mounts(self.shared, table)
            kernel = kernel_rootfs(self.shared, table)
            op = rng.choices(funcs, weights)[0]
            what = op()
            if what is None:
                continue
            n += 1
            history.append(f'{n}: {what}')
            done[op.__name__] = done.get(op.__name__, 0) + 1
            if rng.random() < 0.2:
                pause = rng.choice((0.001, 0.005, 0.02))   # let some changes be seen alone
                history.append(f'(pause {pause * 1000:.0f} ms)')
                time.sleep(pause)
            follower.apply_pending()   # as it goes: a failure shows the changes just made

        # Another client's ListRootfs makes the daemon catch up; its
        # generation is the one the follower's last signal must carry.
        gen, listed = self.list_rootfs()
        history.append(f'ListRootfs -> generation {gen}')
        wait_deadline = time.monotonic() + vcmtest.scaled(SIGNAL_TIMEOUT)
        while follower.last < gen and time.monotonic() < wait_deadline:
            follower.apply_pending()
            time.sleep(0.005)
        follower.sigs.sync()   # and nothing more after it
        follower.apply_pending()
        sys.stderr.write(f'test_follower: changes made {done}; signals {follower.counts}; '
                         f'generations {follower.gen0} -> {follower.last}\n')

        kernel = kernel_rootfs(self.shared)
        kernel_set = {k: mp for k, (mp, _) in kernel.items()}
        listed_set = {k: mp for k, (mp, _) in listed.items()}
        msg = f'(seed {self.seed})'
        self.assertEqual(listed, kernel, 'ListRootfs differs from the kernel table ' + msg)
        self.assertEqual(follower.set, kernel_set, 'the follower differs from the kernel table ' + msg)
        self.assertEqual(follower.set, listed_set, msg)
        self.assertEqual(follower.last, gen, 'the last signal does not carry ListRootfs generation ' + msg)
        self.assertEqual(self.w.get_property('Generation'), gen, msg)
        self.assertGreater(follower.applied, N_RANDOM_CHANGES // 2,
                           'too few signals for the changes made ' + msg)


class TestBurst(SignalsCase):
    def burst(self, mp, targets, src):
        t0 = time.monotonic()
        for t in targets:
            vcmtest.mount(src, t, flags=MS_BIND)
        return time.monotonic() - t0

    def prepare(self, name, n=N_BURST):
        src = self.make_tree(name, ())
        subs = [f'm{i:04d}' for i in range(n)]
        for s in subs:
            os.mkdir(os.path.join(src, s))
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            mp, g = self.mount_rootfs_seen(sigs, g, 'sbb', name, src, False)
        return mp, [os.path.join(mp, s) for s in subs], self.make_tree('volume-' + name), g

    def check_burst_signals(self, sigs, name, mp, g, n=N_BURST):
        try:
            sigs.wait_for(count=n, timeout=60)
        except AssertionError:
            pass   # too few: said below
        self.quiet(sigs)
        expected = [('RootfsChanged', (g + 1 + i, 'sbb', name, mp, 'submount-added'))
                    for i in range(n)]
        got = [(m, tuple(a)) for m, a in sigs.signals]
        if got != expected:
            self.fail(f'{len(got)} signals for {n} submounts; the first that differ:\n' +
                      describe([s for s, e in zip(got, expected) if s != e][:10]))
        self.assertEqual(self.w.get_property('Generation'), g + n)
        sigs.signals.clear()
        return g + n

    def unmount_burst(self, name, mp, n=N_BURST):
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            detached = self.w.call('UnmountRootfs', 'sbb', name)
            self.assertEqual(len(detached), n + 1)
            self.assertEqual(detached[0], mp)
            self.expect(sigs, [('RootfsUnmounted', ('sbb', name, mp, detached))], g)
        self.assertEqual(self.w.mounts_beneath(self.shared), [])

    def test_burst_gives_one_signal_per_change(self):
        mp, targets, vol, g = self.prepare('c1')
        pid = self.w.daemon_pid
        cpu0 = cpu_seconds(pid)
        with self.w.subscribe() as sigs:
            took = self.burst(mp, targets, vol)
            self.check_burst_signals(sigs, 'c1', mp, g)
        sys.stderr.write(f'test_burst: {N_BURST} mounts in {took:.3f} s; daemon CPU '
                         f'{cpu_seconds(pid) - cpu0:.2f} s for them\n')
        self.unmount_burst('c1', mp)

    def test_burst_is_read_from_few_table_rereads(self):
        strace = shutil.which('strace')
        if strace is None:
            self.skipTest('strace is not installed: cannot count the table re-reads')
        mp, targets, vol, g = self.prepare('c2', N_BURST + N_PACED)
        notify = follows_notifications(self.w)
        paced = targets[N_BURST:]
        targets = targets[:N_BURST]
        pid = self.w.daemon_pid
        log = self.path('strace.log')
        tracer = subprocess.Popen([strace, '-f', '-qq', '-e', 'trace=open,openat', '-o', log,
                                   '-p', str(pid)], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            vcmtest.wait_until(lambda: tracer.poll() is not None or traced_by(pid) == tracer.pid,
                               SIGNAL_TIMEOUT, 'strace to attach to vcmountd')
            if tracer.poll() is not None:
                self.skipTest('strace cannot attach: ' + tracer.stderr.read().decode(errors='replace'))
            # calibration: one foreign change, one re-read, one open of the table
            # (with mount notifications: none, the mount is read by itself)
            with self.w.subscribe() as sigs:
                before = count_table_opens(log)
                vcmtest.mount(vol, paced[0], flags=MS_BIND)
                sigs.wait_for(timeout=SIGNAL_TIMEOUT)
                if not notify:
                    vcmtest.wait_until(lambda: count_table_opens(log) > before, SIGNAL_TIMEOUT,
                                       'strace to see the daemon open its mount table')
                sigs.sync()   # (nothing is pending: it reads nothing)
                self.assertEqual(count_table_opens(log) - before, 0 if notify else 1,
                                 'calibration: one foreign mount, ' +
                                 ('no re-read (mount notifications)' if notify else 'one re-read'))
                vcmtest.umount(paced[0])
                sigs.wait_for(count=2, timeout=SIGNAL_TIMEOUT)
                g += 2
            with self.w.subscribe() as sigs:
                before = count_table_opens(log)
                t0 = time.monotonic()
                took = self.burst(mp, targets, vol)
                g = self.check_burst_signals(sigs, 'c2', mp, g)
                # every re-read for the burst came between its start and now
                burst_span = time.monotonic() - t0
                rereads = count_table_opens(log) - before
                # the same, spread out
                before = count_table_opens(log)
                t0 = time.monotonic()
                for t in paced:
                    vcmtest.mount(vol, t, flags=MS_BIND)
                    time.sleep(PACE_S)
                paced_took = time.monotonic() - t0
                self.check_burst_signals(sigs, 'c2', mp, g, N_PACED)
                paced_span = time.monotonic() - t0
                paced_rereads = count_table_opens(log) - before
        finally:
            if tracer.poll() is None:
                tracer.send_signal(signal.SIGINT)
                tracer.wait(timeout=vcmtest.scaled(SIGNAL_TIMEOUT))
        sys.stderr.write(f'test_burst: {N_BURST} mounts in {took:.3f} s read from {rereads} '
                         f'table re-reads (strace attached)\n')
        sys.stderr.write(f'test_burst: {N_PACED} mounts {PACE_S * 1000:.0f} ms apart in '
                         f'{paced_took:.3f} s read from {paced_rereads} table re-reads\n')
        if notify:
            self.assertEqual((rereads, paced_rereads), (0, 0),
                             'table re-reads while following mount notifications')
            self.unmount_burst('c2', mp, N_BURST + N_PACED)
            return
        # Coalesced: at most one re-read per few milliseconds, however long
        # the machine took for the changes (so not one per change), and the
        # final one for the ListRootfs of check_burst_signals.
        self.assertGreaterEqual(rereads, 1)
        self.assertLessEqual(rereads, burst_span / MIN_REREAD_INTERVAL_S + 3,
                             f'{rereads} table re-reads for a burst of {N_BURST} mounts in '
                             f'{burst_span:.3f} s')
        self.assertLessEqual(paced_rereads, paced_span / MIN_REREAD_INTERVAL_S + 3,
                             f'{paced_rereads} table re-reads for {N_PACED} mounts in '
                             f'{paced_span:.3f} s')
        self.unmount_burst('c2', mp, N_BURST + N_PACED)


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def traced_by(pid):
    with open(f'/proc/{pid}/status') as f:
        return int(re.search(r'^TracerPid:\s*(\d+)', f.read(), re.M).group(1))


def count_table_opens(log):
    try:
        with open(log) as f:
            return sum(1 for line in f if re.search(r'open(at)?\(.*"/proc/self/mountinfo"', line)
                       and 'resumed' not in line)
    except FileNotFoundError:
        return 0


class TestBusyService(SignalsCase):
    """A foreign change is reported while the service is kept busy with its
    own changes: table readings overtaken by service calls must not starve
    the watch (the mount table is made large, so each reading takes a while)."""

    EXTRA_MOUNTS = 3000

    def test_foreign_change_reported_under_sustained_load(self):
        many = self.path('many')
        os.makedirs(many)
        vcmtest.mount('vcmtest-many', many, 'tmpfs')
        self.addCleanup(vcmtest.umount, many)           # lazy: takes the binds with it
        for i in range(self.EXTRA_MOUNTS):
            d = os.path.join(many, str(i))
            os.mkdir(d)
            vcmtest.mount(many, d, flags=MS_BIND)
        target = self.make_tree('target')
        mp = self.w.call('MountRootfs', 'sbb', 'c1', target, False)
        busy_src = self.make_tree('busy')
        stop = threading.Event()
        errors, pairs = [], [0]

        def churn():
            conn = self.w.new_connection()
            try:
                while not stop.is_set():
                    self.w.call_raw('MountRootfs', 'sbl', 'c1', busy_src, False, connection=conn)
                    self.w.call_raw('UnmountRootfs', 'sbl', 'c1', connection=conn)
                    pairs[0] += 1
            except Exception as e:   # noqa: BLE001 - reported by the test
                errors.append(e)
            finally:
                conn.close_sync(None)

        with self.w.subscribe('RootfsChanged') as sigs:
            worker = threading.Thread(target=churn)
            worker.start()
            try:
                # the load is on before the foreign change is made ...
                vcmtest.wait_until(lambda: pairs[0] >= 3 or errors, SIGNAL_TIMEOUT, 'the load to start')
                self.assertEqual(errors, [])
                before = pairs[0]
                vcmtest.mount(self.make_tree('vol'), os.path.join(mp, 'sub'), flags=MS_BIND)
                # only signals are pumped here: nothing that would force a table read
                got = sigs.wait_for(lambda member, args: args[1:3] == ('sbb', 'c1') and
                                    args[4] == 'submount-added', timeout=SIGNAL_TIMEOUT)
                self.assertEqual(len(got), 1)
                self.assertTrue(worker.is_alive(), 'the load stopped before the signal came')
                # ... and goes on after it: the service kept serving calls throughout
                vcmtest.wait_until(lambda: pairs[0] >= before + 2 or errors, SIGNAL_TIMEOUT,
                                   'service calls after the signal')
                sys.stderr.write(f'test_busy: {before} pairs before the foreign change, '
                                 f'{pairs[0]} when done\n')
            finally:
                stop.set()
                worker.join(timeout=vcmtest.scaled(SIGNAL_TIMEOUT))
        self.assertEqual(errors, [])

class TestMountNotifications(SignalsCase):
    """How the daemon follows the kernel: mount notifications where the kernel
    has them (and no filter refuses them), full re-reads elsewhere; a lost
    event (queue overflow) costs one full re-read and no signal; a remount
    that comes together with mount events is still reported."""

    def test_follows_the_kernel_as_expected(self):
        self.assertEqual(follows_notifications(self.w), notifications_expected(),
                         'the daemon said:\n' + ''.join(watch_log_lines(self.w)))

    def test_remount_among_mount_events_is_reported(self):
        src = self.make_tree('rm-src')
        vol = self.make_tree('rm-vol')
        others = [self.path(f'rm-{i}') for i in range(20)]
        for d in others:
            os.makedirs(d)
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            mp, g = self.mount_rootfs_seen(sigs, g, 'sbn', 'c1', src, False)
            # foreign mounts elsewhere around the remount: one wake-up may bring all
            for d in others[:10]:
                vcmtest.mount(vol, d, flags=MS_BIND)
            vcmtest.mount(None, mp, flags=MS_REMOUNT | MS_BIND | MS_RDONLY)
            for d in others[10:]:
                vcmtest.mount(vol, d, flags=MS_BIND)
            g = self.expect(sigs, [('RootfsChanged', ('sbn', 'c1', mp, 'remounted'))], g)
            self.assertEqual(self.list_rootfs()[1][('sbn', 'c1')], (mp, True))
        self.assert_listed_as_kernel()

    def test_queue_overflow_rereads_the_table_once(self):
        if not follows_notifications(self.w):
            self.skipTest('the daemon re-reads the table on every change here (no mount notifications)')
        with open('/proc/sys/fs/fanotify/max_queued_events') as f:
            limit = int(f.read())
        src = self.make_tree('ov-src')
        vol = self.make_tree('ov-vol')
        flood = self.path('ov-flood')
        os.makedirs(flood)
        pid = self.w.daemon_pid
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            mp, g = self.mount_rootfs_seen(sigs, g, 'sbo', 'c1', src, False)
            overflows = sum('overflowed' in line for line in watch_log_lines(self.w))
            os.kill(pid, signal.SIGSTOP)
            try:
                # more mount events than the kernel queues: the later ones are lost ...
                for _ in range(limit // 2 + 100):
                    vcmtest.mount(vol, flood, flags=MS_BIND)
                    vcmtest.umount(flood, 0)
                # ... among them this one, which must still be reported
                vcmtest.mount(vol, os.path.join(mp, 'sub'), flags=MS_BIND)
            finally:
                os.kill(pid, signal.SIGCONT)
            g = self.expect(sigs, [('RootfsChanged', ('sbo', 'c1', mp, 'submount-added'))], g)
        vcmtest.wait_until(lambda: sum('overflowed' in line for line in watch_log_lines(self.w)) > overflows,
                           SIGNAL_TIMEOUT, 'the daemon to report the queue overflow')
        self.assert_listed_as_kernel()


class TestRestart(SignalsCase):
    def test_kill9_and_restart_forgets_nothing(self):
        vol = self.make_tree('volume')
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            expected = []
            for sbx, cid, ro in (('sbr1', 'c1', False), ('sbr1', 'c2', True), ('sbr1', 'c3', False),
                                 ('sbr2', 'c1', True), ('sbr2', 'c2', False)):
                mp = self.w.call('MountRootfs', sbx, cid, self.make_tree(f'{sbx}-{cid}'), ro)
                expected.append(('RootfsMounted', (sbx, cid, mp, ro)))
            # a foreign rootfs and a foreign submount: the new daemon knows them too
            g = self.expect(sigs, expected, g)
            foreign = self.mp('sbr3', 'cf')
            os.makedirs(foreign)
            sh('mount', '--bind', self.make_tree('foreign'), foreign)
            g = self.expect(sigs, [('RootfsMounted', ('sbr3', 'cf', foreign, False))], g)
            sh('mount', '--bind', vol, os.path.join(self.mp('sbr1', 'c1'), 'sub'))
            self.expect(sigs, [('RootfsChanged', ('sbr1', 'c1', self.mp('sbr1', 'c1'), 'submount-added'))], g)
        gen_before, before = self.assert_listed_as_kernel()
        self.assertEqual(len(before), 6)
        table_before = [(m['id'], m['mount_point'], m['options']) for m in self.w.mounts_beneath(self.shared)]

        status = self.w.restart_daemon(kill9=True)
        self.assertEqual(status, -signal.SIGKILL)
        self.assertEqual([(m['id'], m['mount_point'], m['options'])
                          for m in self.w.mounts_beneath(self.shared)], table_before,
                         'the restart changed the mount table')

        with self.w.subscribe() as sigs:
            gen, after = self.assert_listed_as_kernel()
            self.assertEqual(after, before, 'ListRootfs after the restart differs from before')
            self.assertEqual(self.w.get_property('Generation'), gen)
            # nothing is news to the new daemon: no signal for what was there
            self.quiet(sigs)
            self.assertEqual(sigs.signals, [], 'signals for mounts made before the restart')
            self.assertEqual(self.list_rootfs()[0], gen)

            mp11 = self.mp('sbr1', 'c1')
            detached = self.w.call('UnmountRootfs', 'sbr1', 'c1')
            self.assertEqual(detached, [mp11, os.path.join(mp11, 'sub')])
            sh('umount', '-l', self.mp('sbr2', 'c2'))
            sh('mount', '-o', 'remount,bind,rw', self.mp('sbr2', 'c1'))
            g = gen
            g = self.expect(sigs, [('RootfsUnmounted', ('sbr1', 'c1', mp11, detached)),
                                   ('RootfsChanged', ('sbr2', 'c2', self.mp('sbr2', 'c2'), 'vanished')),
                                   ('RootfsChanged', ('sbr2', 'c1', self.mp('sbr2', 'c1'), 'remounted'))],
                            gen)
            done = self.w.call('UnmountSandbox', 'sbr1')
            self.assertEqual(sorted(done), ['c2', 'c3'])
            g = self.expect(sigs, [('RootfsUnmounted', ('sbr1', c, self.mp('sbr1', c), [self.mp('sbr1', c)]))
                                   for c in done], g)
            self.assertEqual(self.w.call('UnmountSandbox', 'sbr2'), ['c1'])
            self.assertEqual(self.w.call('UnmountRootfs', 'sbr3', 'cf'), [foreign])
            g = self.expect(sigs, [('RootfsUnmounted', ('sbr2', 'c1', self.mp('sbr2', 'c1'),
                                                        [self.mp('sbr2', 'c1')])),
                                   ('RootfsUnmounted', ('sbr3', 'cf', foreign, [foreign]))], g)
        self.assertEqual(self.w.mounts_beneath(self.shared), [])
        self.assertEqual(self.list_rootfs(), (g, {}))

    def test_sigterm_restart_lists_the_same(self):
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            mp = self.w.call('MountRootfs', 'sbt', 'c1', self.make_tree('t'), True)
            self.expect(sigs, [('RootfsMounted', ('sbt', 'c1', mp, True))], g)
        _, before = self.assert_listed_as_kernel()
        self.w.restart_daemon()
        _, after = self.assert_listed_as_kernel()
        self.assertEqual(after, before)
        self.assertEqual(self.w.call('UnmountSandbox', 'sbt'), ['c1'])
        self.assertEqual(self.w.mounts_beneath(self.shared), [])


class TestSharedDirThroughSymlink(SignalsCase):
    """The shared dir is configured through a symlink of a directory above it
    (as /var/run -> /run): the mount table names it by its real path, and so
    does the service. Its rootfs are listed, signalled (those made behind its
    back too) and found again after a restart, and a bind's identity is
    recovered; a destination named through the configured path is accepted."""

    world_args = {'shared_dir_link': True}

    def test_rootfs_and_binds_are_found_by_the_real_path(self):
        configured = self.w.shared_dir_configured
        self.assertNotEqual(configured, self.shared)
        self.assertEqual(os.path.realpath(configured), self.shared)
        with self.w.subscribe() as sigs:
            g = self.w.get_property('Generation')
            mp, g = self.mount_rootfs_seen(sigs, g, 'sbl', 'c1', self.make_tree('t1'), True)
            # named by the real path, as the mount table names it
            self.assertEqual(mp, self.mp('sbl', 'c1'))
            self.assertEqual(self.w.get_property('SharedDir'), self.shared)
            # one made behind the service's back, at the real path
            foreign = self.mp('sbl', 'cf')
            os.makedirs(foreign)
            sh('mount', '--bind', self.make_tree('foreign'), foreign)
            g = self.expect(sigs, [('RootfsMounted', ('sbl', 'cf', foreign, False))], g)
            # a bind whose destination is named through the configured path
            dest = self.w.call('BindMount', self.make_tree('vol'),
                               os.path.join(configured, 'sbl', 'c1', 'vol'), True)
            self.assertEqual(dest, os.path.join(self.shared, 'sbl', 'c1', 'vol'))
            self.assertIn(dest, [m['mount-point'] for m in self.w.call('ListMounts', {})[1]])
        _, before = self.assert_listed_as_kernel()
        self.assertEqual(sorted(before), [('sbl', 'c1'), ('sbl', 'cf')])

        self.w.restart_daemon(kill9=True)
        with self.w.subscribe() as sigs:
            gen, after = self.assert_listed_as_kernel()
            self.assertEqual(after, before, 'ListRootfs after the restart differs from before')
            self.quiet(sigs)
            self.assertEqual(sigs.signals, [], 'signals for mounts made before the restart')
            mounts = {m['mount-point']: m for m in self.w.call('ListMounts', {})[1]}
            for point in (dest, mp):
                self.assertTrue(mounts[point].get('recovered'), mounts[point])
            self.assertEqual(mounts[dest]['kind'], 'bind')
            # an unmount named through the configured path
            self.assertEqual(self.w.call('Unmount', os.path.join(configured, 'sbl', 'c1', 'vol')), [dest])
            sh('umount', '-l', foreign)
            g = self.expect(sigs, [('RootfsChanged', ('sbl', 'cf', foreign, 'vanished'))], gen)
            self.assertEqual(self.w.call('UnmountSandbox', 'sbl'), ['c1'])
            g = self.expect(sigs, [('RootfsUnmounted', ('sbl', 'c1', mp, [mp]))], g)
        self.assertEqual(self.w.mounts_beneath(self.shared), [])
        self.assertEqual(self.list_rootfs(), (g, {}))



if __name__ == '__main__':
    unittest.main()
