#!/usr/bin/python3
# test_spine: org.vc.Mount over D-Bus against the real vcmountd, the real
# polkitd and a private system bus (vcmtest.World). Every method's success and
# errors, the signals and generations, foreign mounts below a rootfs, read-only
# mounts, the device queries checked against findmnt and stat, authorization of
# unprivileged callers by polkit and by the bus policy, and the introspection.
# Every failing call is checked to leave the mount table as it was.

import errno
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from vcmtest import WorldCase, DBusCallError, top_mount  # noqa: E402

E = vcmtest.ERROR_PREFIX
INVALID, NOT_AUTHORIZED, NOT_FOUND = E + 'InvalidArgument', E + 'NotAuthorized', E + 'NotFound'
ALREADY_MOUNTED, NOT_MOUNTED, FAILED = E + 'AlreadyMounted', E + 'NotMounted', E + 'Failed'
AUTH_REQUIRED = vcmtest.INTERACTIVE_AUTHORIZATION_REQUIRED
NOBODY = vcmtest.NOBODY_UID
TEST_UID = vcmtest.TEST_UID
DEFAULT_SHM_SIZE = 64 * 1024 * 1024

BAD_IDS = ['', '.', '..', 'a/b', '/abs', '-x', '_x', '.hidden', 'x' * 129, 'a b', 'a\nb',
           'caf\u00e9', 'a:b', 'a*']
GOOD_IDS = ['a', 'A.b_c-9', '0', 'x' * 128]

DESCRIBE_KEYS = {
    'major': 'u', 'minor': 'u', 'mount-point': 's', 'device': 's', 'fs-type': 's',
    'mount-id': 't', 'read-only': 'b', 'device-mapper': 'b', 'system-mount': 'b',
    'host-device': 'b', 'propagation': 's',
}


def run(*cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, **kw).stdout


def findmnt_target(path):
    """(mount point, major, minor) of the mount holding @path, per findmnt."""
    out = run('findmnt', '-n', '-o', 'TARGET,MAJ:MIN', '-T', path).strip()
    target, majmin = out.rsplit(None, 1)
    major, minor = majmin.split(':')
    return target, int(major), int(minor)


def project_version():
    with open(os.path.join(vcmtest.source_root(), 'meson.build')) as f:
        m = re.search(r"project\([^)]*?version\s*:\s*'([^']+)'", f.read(), re.S)
    return m.group(1) if m else None


class SpineCase(WorldCase):
    """One World for each class; each test leaves nothing mounted behind it."""

    def _clean(self):
        self.clean_world()

    # -- helpers ----------------------------------------------------------

    def make_rootfs(self, name='rootfs', dirs=('sub', 'etc'), files=None):
        root = self.path(name)
        os.makedirs(root, 0o755)
        for d in dirs:
            os.makedirs(os.path.join(root, d), exist_ok=True)
        files = files if files is not None else {'etc/hostname': name + '\n', 'hello': 'hello\n'}
        for rel, text in files.items():
            p = os.path.join(root, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, 'w') as f:
                f.write(text)
        return root

    def mp(self, sandbox_id, container_id):
        return os.path.join(self.shared, sandbox_id, container_id, 'rootfs')

    def mount_rootfs(self, sandbox_id, container_id, rootfs=None, read_only=False):
        rootfs = rootfs or self.make_rootfs(f'rootfs-{sandbox_id}-{container_id}')
        mp = self.w.call('MountRootfs', sandbox_id, container_id, rootfs, read_only)
        self.assertEqual(mp, self.mp(sandbox_id, container_id))
        return mp

    def assertError(self, name, method, *args, uid=None, arg=None, **kw):
        """The call fails with @name and the mount table is exactly as before;
        @arg, when given, is named in the message. Returns the message."""
        before = vcmtest.mount_table()
        if uid is None:
            try:
                res = self.w.call(method, *args, **kw)
            except DBusCallError as e:
                got, message = e.name, e.message
            else:
                self.fail(f'{method}{args!r} succeeded ({res!r}); expected {name}')
        else:
            ok, got, message = self.w.call_as(uid, method, *args, **kw)
            self.assertFalse(ok, f'{method}{args!r} as uid {uid} succeeded ({got!r}); expected {name}')
        self.assertEqual(got, name, f'{method}{args!r}: {message}')
        self.assertEqual(vcmtest.mount_table(), before,
                         f'{method}{args!r} failed with {name} but changed the mount table')
        if arg is not None:
            self.assertIn(arg, message, f'{method}{args!r}: the message does not name {arg}')
        return message

    def assertMounted(self, path):
        self.assertIsNotNone(top_mount(path), f'nothing is mounted at {path}')

    def assertNothingBeneath(self, path):
        left = [m['mount_point'] for m in self.w.mounts_beneath(path)]
        self.assertEqual(left, [], f'mounts left beneath {path}')

    def foreign_bind(self, source, target):
        run('mount', '--bind', source, target)

    def list_rootfs(self, sandbox_id=''):
        generation, entries = self.w.call('ListRootfs', sandbox_id)
        return generation, sorted(tuple(e) for e in entries)


class TestBusSurface(SpineCase):
    def test_properties(self):
        props = self.w.get_all_properties()
        self.assertEqual(set(props), {'Version', 'SharedDir', 'DefaultShmSize', 'Generation'})
        self.assertEqual(props['SharedDir'], self.shared)
        self.assertEqual(props['DefaultShmSize'], DEFAULT_SHM_SIZE)
        self.assertIsInstance(props['Generation'], int)
        version = project_version()
        self.assertTrue(props['Version'])
        if version:
            self.assertEqual(props['Version'], version)
        raw = self.w.call_raw('GetAll', 'org.vc.Mount', signature='s',
                              interface='org.freedesktop.DBus.Properties').get_child_value(0)
        types = {raw.get_child_value(i).get_child_value(0).get_string():
                 raw.get_child_value(i).get_child_value(1).get_variant().get_type_string()
                 for i in range(raw.n_children())}
        self.assertEqual(types, {'Version': 's', 'SharedDir': 's', 'DefaultShmSize': 't',
                                 'Generation': 't'})

    def test_properties_are_read_only(self):
        with self.assertRaises(DBusCallError):
            self.w.call('Set', 'org.vc.Mount', 'SharedDir', vcmtest.GLib.Variant('s', '/'),
                        signature='ssv', interface='org.freedesktop.DBus.Properties')
        self.assertEqual(self.w.get_property('SharedDir'), self.shared)

    def test_busctl_introspect_shows_the_whole_interface(self):
        out = run('busctl', f'--address={self.w.bus_address}', 'introspect', '--no-pager',
                  'org.vc.Mount', '/org/vc/Mount', 'org.vc.Mount')
        rows = {}
        for line in out.splitlines():
            fields = line.split()
            if fields and fields[0].startswith('.'):
                rows[fields[0][1:]] = fields[1:]
        iface = ET.parse(os.path.join(vcmtest.source_root(), 'introspection',
                                      'org.vc.Mount.xml')).getroot().find("interface[@name='org.vc.Mount']")
        expected = {}
        for m in iface.findall('method'):
            ins = ''.join(a.get('type') for a in m.findall('arg') if a.get('direction', 'in') == 'in')
            outs = ''.join(a.get('type') for a in m.findall('arg') if a.get('direction') == 'out')
            expected[m.get('name')] = ['method', ins or '-', outs or '-']
        for p in iface.findall('property'):
            expected[p.get('name')] = ['property', p.get('type')]
        for s in iface.findall('signal'):
            expected[s.get('name')] = ['signal', ''.join(a.get('type') for a in s.findall('arg')) or '-']
        # whatever the XML holds: no count to keep in step with it
        self.assertEqual({w[0] for w in expected.values()}, {'method', 'property', 'signal'}, expected)
        for name, want in expected.items():
            with self.subTest(member=name):
                self.assertIn(name, rows, f'busctl introspect lacks {name}:\n{out}')
                self.assertEqual(rows[name][:len(want)], want, out)
        self.assertEqual(set(rows), set(expected), out)

    def test_introspection_matches_the_xml(self):
        xml = self.w.call('Introspect', signature='', interface='org.freedesktop.DBus.Introspectable')
        live = ET.fromstring(xml).find("interface[@name='org.vc.Mount']")
        self.assertIsNotNone(live, xml)
        ref = ET.parse(os.path.join(vcmtest.source_root(), 'introspection',
                                    'org.vc.Mount.xml')).getroot().find("interface[@name='org.vc.Mount']")

        def members(iface):
            out = set()
            for kind in ('method', 'signal', 'property'):
                for m in iface.findall(kind):
                    args = tuple((a.get('name'), a.get('type'), a.get('direction', 'in' if kind == 'method' else 'out'))
                                 for a in m.findall('arg'))
                    out.add((kind, m.get('name'), args, m.get('type'), m.get('access')))
            return out
        self.assertEqual(members(live), members(ref))

    def test_unprivileged_process_cannot_own_the_name(self):
        owner = self.w.name_owner_pid('org.vc.Mount')
        for uid in (NOBODY, TEST_UID):
            with self.subTest(uid=uid):
                # REPLACE_EXISTING | DO_NOT_QUEUE: would take the name from the daemon.
                ok, name, message = self.w.call_as(
                    uid, 'RequestName', 'org.vc.Mount', 6, signature='su',
                    destination='org.freedesktop.DBus', object_path='/org/freedesktop/DBus',
                    interface='org.freedesktop.DBus')
                self.assertFalse(ok, f'uid {uid} was allowed to own org.vc.Mount: {name!r}')
                self.assertEqual(name, 'org.freedesktop.DBus.Error.AccessDenied', message)
        self.assertEqual(self.w.name_owner_pid('org.vc.Mount'), owner)
        self.assertTrue(self.w.daemon_running())

    def test_unknown_method(self):
        with self.assertRaises(DBusCallError) as cm:
            self.w.call('NoSuchMethod', signature='')
        self.assertEqual(cm.exception.name, 'org.freedesktop.DBus.Error.UnknownMethod')


class TestMountRootfs(SpineCase):
    def test_mount_then_unmount(self):
        rootfs = self.make_rootfs()
        before = vcmtest.mount_table()
        mp = self.w.call('MountRootfs', 'sb1', 'c1', rootfs, False)
        self.assertEqual(mp, self.mp('sb1', 'c1'))
        m = top_mount(mp)
        self.assertIsNotNone(m, 'no mount at the returned mount point')
        self.assertIn('rw', m['options'])
        self.assertEqual(m['propagation'], 'private', m['line'])
        with open(os.path.join(mp, 'hello')) as f:
            self.assertEqual(f.read(), 'hello\n')
        st_mp, st_src = os.stat(mp), os.stat(rootfs)
        self.assertEqual((st_mp.st_dev, st_mp.st_ino), (st_src.st_dev, st_src.st_ino))
        with open(os.path.join(mp, 'written'), 'w') as f:   # a writable mount
            f.write('x')
        self.assertTrue(os.path.exists(os.path.join(rootfs, 'written')))

        detached = self.w.call('UnmountRootfs', 'sb1', 'c1')
        self.assertEqual(detached, [mp])
        self.assertEqual(vcmtest.mount_table(), before)
        self.assertNothingBeneath(self.shared)
        # The directories the service made are gone; the rootfs is untouched.
        self.assertFalse(os.path.exists(os.path.join(self.shared, 'sb1')),
                         os.listdir(self.shared))
        self.assertTrue(os.path.exists(os.path.join(rootfs, 'etc', 'hostname')))

    def test_read_only_rootfs_refuses_writes(self):
        rootfs = self.make_rootfs()
        mp = self.w.call('MountRootfs', 'sbro', 'c1', rootfs, True)
        m = top_mount(mp)
        self.assertIsNotNone(m)
        self.assertIn('ro', m['options'], m['line'])
        for attempt in (lambda: open(os.path.join(mp, 'new'), 'w'),
                        lambda: open(os.path.join(mp, 'hello'), 'a'),
                        lambda: os.mkdir(os.path.join(mp, 'newdir')),
                        lambda: os.unlink(os.path.join(mp, 'hello'))):
            with self.assertRaises(OSError) as cm:
                attempt()
            self.assertEqual(cm.exception.errno, errno.EROFS)
        with open(os.path.join(mp, 'hello')) as f:
            self.assertEqual(f.read(), 'hello\n')
        # The source itself stays writable.
        with open(os.path.join(rootfs, 'still-writable'), 'w') as f:
            f.write('x')
        self.assertEqual(self.list_rootfs('sbro')[1], [('sbro', 'c1', mp, True)])
        self.assertEqual(self.w.call('UnmountRootfs', 'sbro', 'c1'), [mp])

    def test_symlinked_rootfs_is_resolved(self):
        target = self.make_rootfs('real')
        link = self.path('link')
        os.symlink(target, link)
        mp = self.w.call('MountRootfs', 'sbl', 'c1', link, False)
        st_mp, st_t = os.stat(mp), os.stat(target)
        self.assertEqual((st_mp.st_dev, st_mp.st_ino), (st_t.st_dev, st_t.st_ino))
        self.assertFalse(os.path.islink(mp))

    def test_good_ids(self):
        rootfs = self.make_rootfs()
        for ident in GOOD_IDS:
            with self.subTest(id=ident):
                mp = self.w.call('MountRootfs', ident, ident, rootfs, False)
                self.assertEqual(mp, self.mp(ident, ident))
                self.assertMounted(mp)
                self.assertEqual(self.w.call('UnmountRootfs', ident, ident), [mp])

    def test_bad_ids(self):
        rootfs = self.make_rootfs()
        for bad in BAD_IDS:
            with self.subTest(sandbox_id=bad):
                self.assertError(INVALID, 'MountRootfs', bad, 'c1', rootfs, False, arg='sandbox_id')
            with self.subTest(container_id=bad):
                self.assertError(INVALID, 'MountRootfs', 'sb1', bad, rootfs, False, arg='container_id')
            with self.subTest(unmount_sandbox_id=bad):
                self.assertError(INVALID, 'UnmountRootfs', bad, 'c1', arg='sandbox_id')
            with self.subTest(unmount_container_id=bad):
                self.assertError(INVALID, 'UnmountRootfs', 'sb1', bad, arg='container_id')
        self.assertEqual(os.listdir(self.shared), [])

    def test_bad_rootfs(self):
        for bad in ('', 'relative/rootfs', '.', 'rootfs'):
            with self.subTest(rootfs=bad):
                self.assertError(INVALID, 'MountRootfs', 'sb1', 'c1', bad, False, arg='rootfs')

    def test_missing_rootfs(self):
        self.assertError(NOT_FOUND, 'MountRootfs', 'sb1', 'c1', self.path('missing'), False,
                         arg='rootfs')
        dangling = self.path('dangling')
        os.symlink(self.path('nowhere'), dangling)
        self.assertError(NOT_FOUND, 'MountRootfs', 'sb1', 'c1', dangling, False, arg='rootfs')
        self.assertNothingBeneath(self.shared)

    def test_already_mounted(self):
        mp = self.mount_rootfs('sb1', 'c1')
        other = self.make_rootfs('other')
        m = top_mount(mp)
        self.assertError(ALREADY_MOUNTED, 'MountRootfs', 'sb1', 'c1', other, False)
        self.assertError(ALREADY_MOUNTED, 'MountRootfs', 'sb1', 'c1', other, True)
        self.assertEqual(top_mount(mp)['id'], m['id'])
        with open(os.path.join(mp, 'etc', 'hostname')) as f:
            self.assertEqual(f.read(), 'rootfs-sb1-c1\n')

    def test_unmount_not_mounted(self):
        self.assertError(NOT_MOUNTED, 'UnmountRootfs', 'sb1', 'c1')
        mp = self.mount_rootfs('sb1', 'c1')
        self.assertError(NOT_MOUNTED, 'UnmountRootfs', 'sb1', 'c2')
        self.assertError(NOT_MOUNTED, 'UnmountRootfs', 'sb2', 'c1')
        self.assertEqual(self.w.call('UnmountRootfs', 'sb1', 'c1'), [mp])
        self.assertError(NOT_MOUNTED, 'UnmountRootfs', 'sb1', 'c1')

    def test_foreign_submounts_are_detached(self):
        mp = self.mount_rootfs('sb1', 'c1')
        extra = self.path('extra')
        os.mkdir(extra)
        with open(os.path.join(extra, 'f'), 'w') as f:
            f.write('extra\n')
        os.mkdir(os.path.join(mp, 'tmp'))
        # A docker-style bind mount below the rootfs, a tmpfs, and one nested deeper.
        self.foreign_bind(extra, os.path.join(mp, 'sub'))
        run('mount', '-t', 'tmpfs', 'vcmtest-sub', os.path.join(mp, 'tmp'))
        os.mkdir(os.path.join(mp, 'tmp', 'deeper'))
        self.foreign_bind(extra, os.path.join(mp, 'tmp', 'deeper'))
        # Something keeps the submount busy: a process whose cwd is in it.
        busy = subprocess.Popen(['sleep', '60'], cwd=os.path.join(mp, 'sub'))
        self.addCleanup(busy.wait)
        self.addCleanup(busy.kill)
        self.assertEqual(len(self.w.mounts_beneath(mp)), 4)

        detached = self.w.call('UnmountRootfs', 'sb1', 'c1')
        self.assertEqual(detached[0], mp)
        self.assertEqual(sorted(detached[1:]),
                         sorted([os.path.join(mp, 'sub'), os.path.join(mp, 'tmp'),
                                 os.path.join(mp, 'tmp', 'deeper')]))
        self.assertEqual(len(detached), 4)
        self.assertNothingBeneath(self.shared)
        with open(os.path.join(extra, 'f')) as f:
            self.assertEqual(f.read(), 'extra\n')

    def test_unmount_sandbox(self):
        mps = [self.mount_rootfs('sbx', 'c1'), self.mount_rootfs('sbx', 'c2', read_only=True),
               self.mount_rootfs('sbx', 'c3')]
        keep = self.mount_rootfs('sby', 'c1')
        self.foreign_bind(self.scratch, os.path.join(mps[2], 'sub'))
        ids = self.w.call('UnmountSandbox', 'sbx')
        self.assertEqual(sorted(ids), ['c1', 'c2', 'c3'])
        self.assertNothingBeneath(os.path.join(self.shared, 'sbx'))
        self.assertMounted(keep)
        self.assertEqual(self.list_rootfs()[1], [('sby', 'c1', keep, False)])
        self.assertEqual(self.w.call('UnmountSandbox', 'sbx'), [])
        self.assertEqual(self.w.call('UnmountSandbox', 'never-mounted'), [])
        for bad in BAD_IDS:
            with self.subTest(sandbox_id=bad):
                self.assertError(INVALID, 'UnmountSandbox', bad, arg='sandbox_id')
        self.assertMounted(keep)


class TestListRootfs(SpineCase):
    def test_list(self):
        self.assertEqual(self.list_rootfs()[1], [])
        a = self.mount_rootfs('sb1', 'c1')
        b = self.mount_rootfs('sb1', 'c2', read_only=True)
        c = self.mount_rootfs('sb2', 'c1')
        generation, entries = self.list_rootfs()
        self.assertEqual(entries, [('sb1', 'c1', a, False), ('sb1', 'c2', b, True),
                                   ('sb2', 'c1', c, False)])
        self.assertEqual(generation, self.w.get_property('Generation'))
        self.assertEqual(self.list_rootfs('sb1')[1], [('sb1', 'c1', a, False), ('sb1', 'c2', b, True)])
        self.assertEqual(self.list_rootfs('sb2')[1], [('sb2', 'c1', c, False)])
        self.assertEqual(self.list_rootfs('sb3')[1], [])
        raw = self.w.call_raw('ListRootfs', '')
        self.assertEqual(raw.get_type_string(), '(ta(sssb))')

    def test_list_is_right_straight_after_each_change(self):
        # The answer reflects every call that has returned, however soon it is asked.
        rootfs = self.make_rootfs()
        for i in range(25):
            sb = f'sbq{i}'
            mp = self.w.call('MountRootfs', sb, 'c1', rootfs, i % 2 == 1)
            generation, entries = self.list_rootfs(sb)
            self.assertEqual(entries, [(sb, 'c1', mp, i % 2 == 1)], f'round {i}')
            self.assertEqual(self.w.call('DescribePath', mp)['read-only'], i % 2 == 1, f'round {i}')
            self.w.call('UnmountRootfs', sb, 'c1')
            self.assertEqual(self.list_rootfs(sb)[1], [], f'round {i}')
            self.assertGreater(self.list_rootfs(sb)[0], generation)

    def test_list_bad_sandbox(self):
        for bad in BAD_IDS[1:]:
            with self.subTest(sandbox_id=bad):
                self.assertError(INVALID, 'ListRootfs', bad, arg='sandbox_id')

    def test_list_is_read_from_the_kernel_after_restart(self):
        a = self.mount_rootfs('sb1', 'c1')
        b = self.mount_rootfs('sb1', 'c2', read_only=True)
        want = [('sb1', 'c1', a, False), ('sb1', 'c2', b, True)]
        for kill9 in (True, False):
            with self.subTest(kill9=kill9):
                self.w.restart_daemon(kill9=kill9)
                self.assertEqual(self.list_rootfs()[1], want)
                self.assertMounted(a)
                self.assertMounted(b)
        self.assertError(ALREADY_MOUNTED, 'MountRootfs', 'sb1', 'c1', self.make_rootfs('again'), False)
        self.assertEqual(self.w.call('UnmountRootfs', 'sb1', 'c1'), [a])
        self.assertEqual(sorted(self.w.call('UnmountSandbox', 'sb1')), ['c2'])
        self.assertNothingBeneath(self.shared)

    def test_foreign_mount_at_a_rootfs_mount_point_is_listed(self):
        src = self.make_rootfs()
        mp = self.mp('sbf', 'c1')
        os.makedirs(mp)
        self.foreign_bind(src, mp)
        self.assertEqual(self.list_rootfs('sbf')[1], [('sbf', 'c1', mp, False)])


class TestSignals(SpineCase):
    def setUp(self):
        super().setUp()
        # Start from a quiet service: no signal of an earlier test still on
        # its way (a ListRootfs reports what is pending before it answers).
        self.w.call('ListRootfs', '')

    def test_mounted_then_unmounted(self):
        with self.w.subscribe() as sigs:
            g0 = self.w.get_property('Generation')
            mp = self.mount_rootfs('sbs', 'c1', read_only=True)
            (member, args), = sigs.wait_for(lambda m, a: m == 'RootfsMounted')
            self.assertEqual(args, (g0 + 1, 'sbs', 'c1', mp, True))
            self.assertEqual(self.list_rootfs()[0], g0 + 1)
            detached = self.w.call('UnmountRootfs', 'sbs', 'c1')
            (member, args), = sigs.wait_for(lambda m, a: m == 'RootfsUnmounted')
            self.assertEqual(args, (g0 + 2, 'sbs', 'c1', mp, detached))
            self.assertEqual(self.w.get_property('Generation'), g0 + 2)
            sigs.sync()   # anything else would be a duplicate
            self.assertEqual([m for m, _ in sigs.signals], ['RootfsMounted', 'RootfsUnmounted'])

    def test_generation_increases_across_rootfs(self):
        with self.w.subscribe() as sigs:
            g0 = self.w.get_property('Generation')
            self.mount_rootfs('sbg', 'c1')
            self.mount_rootfs('sbg', 'c2')
            self.w.call('UnmountSandbox', 'sbg')
            got = sigs.wait_for(count=4)
            gens = [a[0] for _, a in got]
            self.assertEqual(gens, list(range(g0 + 1, g0 + 5)), got)
            self.assertEqual(sorted(m for m, _ in got),
                             ['RootfsMounted', 'RootfsMounted', 'RootfsUnmounted', 'RootfsUnmounted'])

    def test_failed_calls_emit_nothing(self):
        mp = self.mount_rootfs('sbn', 'c1')
        with self.w.subscribe() as sigs:
            g0 = self.w.get_property('Generation')
            self.assertError(ALREADY_MOUNTED, 'MountRootfs', 'sbn', 'c1', self.make_rootfs('x'), False)
            self.assertError(NOT_MOUNTED, 'UnmountRootfs', 'sbn', 'c2')
            self.assertError(INVALID, 'MountRootfs', '..', 'c1', mp, False)
            self.assertError(AUTH_REQUIRED, 'UnmountRootfs', 'sbn', 'c1', uid=NOBODY)
            sigs.sync()
            self.assertEqual(sigs.signals, [])
            self.assertEqual(self.w.get_property('Generation'), g0)

    def test_foreign_changes_emit_rootfs_changed(self):
        mp = self.mount_rootfs('sbc', 'c1')
        with self.w.subscribe() as sigs:
            g0 = self.w.get_property('Generation')
            sub = os.path.join(mp, 'sub')
            self.foreign_bind(self.scratch, sub)
            (_, args), = sigs.wait_for(lambda m, a: m == 'RootfsChanged')
            self.assertEqual(args, (g0 + 1, 'sbc', 'c1', mp, 'submount-added'))
            run('umount', sub)
            got = sigs.wait_for(lambda m, a: m == 'RootfsChanged', count=2)
            self.assertEqual(got[1][1], (g0 + 2, 'sbc', 'c1', mp, 'submount-removed'))
            self.assertEqual(self.list_rootfs()[0], g0 + 2)
            self.w.call('UnmountRootfs', 'sbc', 'c1')
            (_, args), = sigs.wait_for(lambda m, a: m == 'RootfsUnmounted')
            self.assertEqual(args[0], g0 + 3)
            sigs.sync()
            self.assertEqual([m for m, _ in sigs.signals],
                             ['RootfsChanged', 'RootfsChanged', 'RootfsUnmounted'])

    def test_foreign_remount_and_unmount_of_a_rootfs(self):
        mp = self.mount_rootfs('sbv', 'c1')
        with self.w.subscribe() as sigs:
            g0 = self.w.get_property('Generation')
            run('mount', '-o', 'remount,bind,ro', mp)
            (_, args), = sigs.wait_for(lambda m, a: m == 'RootfsChanged')
            self.assertEqual(args, (g0 + 1, 'sbv', 'c1', mp, 'remounted'))
            self.assertEqual(self.list_rootfs('sbv')[1], [('sbv', 'c1', mp, True)])
            run('umount', mp)
            got = sigs.wait_for(lambda m, a: m == 'RootfsChanged', count=2)
            self.assertEqual(got[1][1], (g0 + 2, 'sbv', 'c1', mp, 'vanished'))
            self.assertEqual(self.list_rootfs('sbv'), (g0 + 2, []))
            sigs.sync()
            self.assertEqual(len(sigs.signals), 2, sigs.signals)


class TestBindMount(SpineCase):
    def test_bind_directory(self):
        src = self.make_rootfs('srcdir')
        dest = os.path.join(self.shared, 'binds', 'a', 'b')
        self.assertEqual(self.w.call('BindMount', src, dest, False), dest)
        m = top_mount(dest)
        self.assertIsNotNone(m)
        self.assertIn('rw', m['options'])
        with open(os.path.join(dest, 'hello')) as f:
            self.assertEqual(f.read(), 'hello\n')
        with open(os.path.join(dest, 'new'), 'w') as f:
            f.write('x')
        self.assertTrue(os.path.exists(os.path.join(src, 'new')))
        self.assertEqual(self.w.call('Unmount', dest), [dest])
        self.assertIsNone(top_mount(dest))
        self.assertNothingBeneath(self.shared)

    def test_bind_file(self):
        src = self.path('file.txt')
        with open(src, 'w') as f:
            f.write('content\n')
        dest = os.path.join(self.shared, 'files', 'f.txt')
        self.assertEqual(self.w.call('BindMount', src, dest, False), dest)
        self.assertIsNotNone(top_mount(dest))
        self.assertTrue(stat.S_ISREG(os.stat(dest).st_mode))
        with open(dest) as f:
            self.assertEqual(f.read(), 'content\n')
        self.assertEqual(self.w.call('Unmount', dest), [dest])
        self.assertIsNone(top_mount(dest))
        # what the unmount left empty of the layout is gone again
        self.assertFalse(os.path.exists(os.path.join(self.shared, 'files')))
        # Onto an existing file (not empty: it stays after the unmount).
        os.makedirs(os.path.dirname(dest))
        with open(dest, 'w') as f:
            f.write('placeholder\n')
        self.assertEqual(self.w.call('BindMount', src, dest, True), dest)
        with open(dest) as f:
            self.assertEqual(f.read(), 'content\n')
        with self.assertRaises(OSError) as cm:
            open(dest, 'a')
        self.assertEqual(cm.exception.errno, errno.EROFS)
        self.assertEqual(self.w.call('Unmount', dest), [dest])
        with open(dest) as f:
            self.assertEqual(f.read(), 'placeholder\n')

    def test_bind_read_only(self):
        src = self.make_rootfs('srcdir')
        dest = os.path.join(self.shared, 'ro')
        self.assertEqual(self.w.call('BindMount', src, dest, True), dest)
        self.assertIn('ro', top_mount(dest)['options'])
        with self.assertRaises(OSError) as cm:
            open(os.path.join(dest, 'new'), 'w')
        self.assertEqual(cm.exception.errno, errno.EROFS)

    def test_bind_symlinked_source(self):
        src = self.make_rootfs('srcdir')
        link = self.path('srclink')
        os.symlink(src, link)
        dest = os.path.join(self.shared, 'vialink')
        self.assertEqual(self.w.call('BindMount', link, dest, False), dest)
        st_d, st_s = os.stat(dest), os.stat(src)
        self.assertEqual((st_d.st_dev, st_d.st_ino), (st_s.st_dev, st_s.st_ino))

    def test_bind_errors(self):
        src = self.make_rootfs('srcdir')
        outside = self.path('outside')
        os.mkdir(outside)
        cases = [
            (INVALID, src, outside, 'destination'),
            (INVALID, src, self.shared, 'destination'),
            (INVALID, src, os.path.join(self.shared, '..', 'escape'), 'destination'),
            (INVALID, src, os.path.join(self.shared, 'x', '..', '..', 'escape'), 'destination'),
            (INVALID, src, self.shared + 'foo', 'destination'),
            (INVALID, src, 'relative/dest', 'destination'),
            (INVALID, src, '', 'destination'),
            (INVALID, 'relative/src', os.path.join(self.shared, 'd'), 'source'),
            (INVALID, '', os.path.join(self.shared, 'd'), 'source'),
            (NOT_FOUND, self.path('missing'), os.path.join(self.shared, 'd'), 'source'),
        ]
        for name, source, dest, arg in cases:
            with self.subTest(source=source, destination=dest):
                self.assertError(name, 'BindMount', source, dest, False, arg=arg)
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(self.shared), 'escape')))
        self.assertFalse(os.path.exists(os.path.join(self.shared, 'd')))
        self.assertEqual(os.listdir(outside), [])

    def test_bind_refuses_a_symlink_in_the_destination(self):
        src = self.make_rootfs('srcdir')
        outside = self.path('outside')
        os.mkdir(outside)
        os.symlink(outside, os.path.join(self.shared, 'link'))
        before = vcmtest.mount_table()
        for dest in (os.path.join(self.shared, 'link', 'x'), os.path.join(self.shared, 'link')):
            with self.subTest(destination=dest):
                with self.assertRaises(DBusCallError) as cm:
                    self.w.call('BindMount', src, dest, False)
                self.assertIn(cm.exception.name, (INVALID, FAILED), cm.exception.message)
                self.assertEqual(vcmtest.mount_table(), before)
                self.assertEqual(os.listdir(outside), [])

    def test_unmount_with_submounts(self):
        src = self.make_rootfs('srcdir')
        dest = os.path.join(self.shared, 'withsub')
        self.w.call('BindMount', src, dest, False)
        run('mount', '-t', 'tmpfs', 'vcmtest-sub', os.path.join(dest, 'sub'))
        detached = self.w.call('Unmount', dest)
        self.assertEqual(detached, [dest, os.path.join(dest, 'sub')])
        self.assertNothingBeneath(self.shared)

    def test_unmount_foreign_mount_beneath_shared_dir(self):
        target = os.path.join(self.shared, 'foreign')
        os.mkdir(target)
        run('mount', '-t', 'tmpfs', 'vcmtest-foreign', target)
        self.assertEqual(self.w.call('Unmount', target), [target])
        self.assertIsNone(top_mount(target))

    def test_unmount_errors(self):
        # A mount outside the shared dir, reachable through '..' and a symlink.
        outside = self.path('outside')
        os.mkdir(outside)
        run('mount', '-t', 'tmpfs', 'vcmtest-outside', outside)
        os.symlink(outside, os.path.join(self.shared, 'link'))
        rel = os.path.relpath(outside, self.shared)
        cases = [
            (INVALID, outside),
            (INVALID, '/proc'),
            (INVALID, '/'),
            (INVALID, os.path.join(self.shared, rel)),
            (INVALID, 'relative'),
            (INVALID, ''),
            (INVALID, self.shared),
            (NOT_MOUNTED, os.path.join(self.shared, 'nothing-here')),
        ]
        for name, path in cases:
            with self.subTest(mount_point=path):
                self.assertError(name, 'Unmount', path, arg='mount_point')
        with self.subTest(mount_point='symlink to outside'):
            before = vcmtest.mount_table()
            with self.assertRaises(DBusCallError) as cm:
                self.w.call('Unmount', os.path.join(self.shared, 'link'))
            self.assertIn(cm.exception.name, (INVALID, NOT_MOUNTED), cm.exception.message)
            self.assertEqual(vcmtest.mount_table(), before)
        self.assertIsNotNone(top_mount(outside))
        os.mkdir(os.path.join(self.shared, 'plain-dir'))
        self.assertError(NOT_MOUNTED, 'Unmount', os.path.join(self.shared, 'plain-dir'))


class TestQueries(SpineCase):
    def setUp(self):
        super().setUp()
        self.fs = self.path('fs')
        os.mkdir(self.fs)
        run('mount', '-t', 'tmpfs', '-o', 'size=1m', 'vcmtestfs', self.fs)
        os.makedirs(os.path.join(self.fs, 'sub', 'dir'))
        self.file = os.path.join(self.fs, 'sub', 'file')
        with open(self.file, 'w') as f:
            f.write('x')
        self.bind = self.path('bind')
        os.mkdir(self.bind)
        self.foreign_bind(os.path.join(self.fs, 'sub'), self.bind)

    def test_get_device_for_path_matches_findmnt_and_stat(self):
        for path in (self.fs, self.file, os.path.join(self.fs, 'sub', 'dir'), self.bind,
                     os.path.join(self.bind, 'file'), '/proc', '/proc/self/status', '/', '/dev/null',
                     self.scratch):
            with self.subTest(path=path):
                major, minor, mount_point = self.w.call('GetDeviceForPath', path)
                target, fmaj, fmin = findmnt_target(path)
                self.assertEqual(mount_point, target)
                if not path.startswith('/proc/self'):
                    st = os.stat(path)
                    self.assertEqual((major, minor), (os.major(st.st_dev), os.minor(st.st_dev)))
                if path != '/dev/null':
                    self.assertEqual((major, minor), (fmaj, fmin))
        # The bind mount is the same filesystem: same device, its own mount point.
        a = self.w.call('GetDeviceForPath', self.file)
        b = self.w.call('GetDeviceForPath', os.path.join(self.bind, 'file'))
        self.assertEqual(a[:2], b[:2])
        self.assertEqual((a[2], b[2]), (self.fs, self.bind))

    def test_get_device_for_path_normalizes(self):
        want = self.w.call('GetDeviceForPath', os.path.join(self.fs, 'sub'))
        for path in (self.fs + '//sub/', self.fs + '/./sub', self.fs + '/sub/dir/..',
                     '/..' + self.fs + '/sub'):
            with self.subTest(path=path):
                self.assertEqual(self.w.call('GetDeviceForPath', path), want)
        self.assertEqual(self.w.call('GetDeviceForPath', '/proc//')[2], '/proc')

    def test_get_device_for_path_errors(self):
        self.assertError(NOT_FOUND, 'GetDeviceForPath', self.path('missing'), arg='path')
        self.assertError(INVALID, 'GetDeviceForPath', 'relative', arg='path')
        self.assertError(INVALID, 'GetDeviceForPath', '', arg='path')

    def test_get_device_path_and_fs_type(self):
        self.assertEqual(tuple(self.w.call('GetDevicePathAndFsType', self.fs)), ('vcmtestfs', 'tmpfs'))
        self.assertEqual(tuple(self.w.call('GetDevicePathAndFsType', self.bind)), ('vcmtestfs', 'tmpfs'))
        self.assertEqual(tuple(self.w.call('GetDevicePathAndFsType', '/proc')), ('proc', 'proc'))
        self.assertEqual(tuple(self.w.call('GetDevicePathAndFsType', self.fs + '//')),
                         ('vcmtestfs', 'tmpfs'))
        root = top_mount('/')
        self.assertEqual(tuple(self.w.call('GetDevicePathAndFsType', '/')), (root['source'], root['fs_type']))
        # Stacked mounts: the top one answers.
        run('mount', '-t', 'tmpfs', 'vcmtestfs-top', self.fs)
        self.assertEqual(tuple(self.w.call('GetDevicePathAndFsType', self.fs)), ('vcmtestfs-top', 'tmpfs'))

    def test_get_device_path_and_fs_type_errors(self):
        self.assertError(NOT_MOUNTED, 'GetDevicePathAndFsType', os.path.join(self.fs, 'sub'),
                         arg='mount_point')
        # A missing path: nothing is mounted there, and it does not exist either.
        with self.assertRaises(DBusCallError) as cm:
            self.w.call('GetDevicePathAndFsType', self.path('missing'))
        self.assertIn(cm.exception.name, (NOT_MOUNTED, NOT_FOUND), cm.exception.message)
        self.assertError(INVALID, 'GetDevicePathAndFsType', 'proc', arg='mount_point')
        self.assertError(INVALID, 'GetDevicePathAndFsType', '', arg='mount_point')

    def test_is_device_mapper_reads_the_sysfs_tree(self):
        for (major, minor), dm in vcmtest.FAKE_BLOCK_DEVICES.items():
            with self.subTest(major=major, minor=minor):
                self.assertIs(self.w.call('IsDeviceMapper', major, minor), dm)
        self.assertIs(self.w.call('IsDeviceMapper', 1, 3), False)
        self.assertIs(self.w.call('IsDeviceMapper', 0xffffffff, 0xffffffff), False)
        # The answer follows the tree: a new dm device appears.
        d = os.path.join(self.w.sysfs_root, 'dev', 'block', '254:7', 'dm')
        os.makedirs(d)
        self.addCleanup(shutil.rmtree, os.path.dirname(d))
        self.assertIs(self.w.call('IsDeviceMapper', 254, 7), True)

    def test_is_system_mount(self):
        cases = {'/proc': True, '/proc/x': True, '/proc/self/mounts': True, '/sys': True,
                 '/sys/x': True, '/sys//': True, '/../sys/block': True, '///proc': True,
                 '/procfoo': False, '/sysfoo': False, '/': False, '///': False, '/dev': False,
                 '/tmp/proc': False, '/proc/../etc': False, '/dev/../proc': True}
        for path, want in cases.items():
            with self.subTest(path=path):
                self.assertIs(self.w.call('IsSystemMount', path), want)
        self.assertError(INVALID, 'IsSystemMount', 'proc', arg='path')
        self.assertError(INVALID, 'IsSystemMount', '', arg='path')

    def test_is_host_device(self):
        # A regular file below /dev, on a tmpfs of this mount namespace only.
        shm = '/dev/shm'
        if not os.path.isdir(shm):
            self.skipTest('no /dev/shm')
        run('mount', '-t', 'tmpfs', 'vcmtest-shm', shm)
        self.addCleanup(run, 'umount', '-l', shm)
        regular = os.path.join(shm, 'regular')
        with open(regular, 'w') as f:
            f.write('x')
        cases = {'/dev': True, '/dev/null': True, '/dev//null': True, '/../dev/null': True,
                 '/dev/': True, '/devfoo': False, '/': False, '/proc': False, '/tmp': False,
                 regular: False, '/dev/shm': True, '/dev/vcmtest-missing': False}
        for path, want in cases.items():
            with self.subTest(path=path):
                self.assertIs(self.w.call('IsHostDevice', path), want)
        self.assertError(INVALID, 'IsHostDevice', 'dev/null', arg='path')
        self.assertError(INVALID, 'IsHostDevice', '', arg='path')

    def describe_raw(self, path):
        raw = self.w.call_raw('DescribePath', path).get_child_value(0)
        out = {}
        for i in range(raw.n_children()):
            entry = raw.get_child_value(i)
            out[entry.get_child_value(0).get_string()] = entry.get_child_value(1).get_variant()
        return out

    def test_describe_path(self):
        raw = self.describe_raw(self.file)
        self.assertEqual({k: v.get_type_string() for k, v in raw.items()}, DESCRIBE_KEYS)
        d = {k: v.unpack() for k, v in raw.items()}
        major, minor, mount_point = self.w.call('GetDeviceForPath', self.file)
        m = top_mount(self.fs)
        self.assertEqual(d['major'], major)
        self.assertEqual(d['minor'], minor)
        self.assertEqual(d['mount-point'], self.fs)
        self.assertEqual(d['device'], 'vcmtestfs')
        self.assertEqual(d['fs-type'], 'tmpfs')
        self.assertEqual(d['mount-id'], m['id'])
        self.assertIs(d['read-only'], False)
        self.assertIs(d['device-mapper'], False)
        self.assertIs(d['system-mount'], False)
        self.assertIs(d['host-device'], False)
        self.assertEqual(d['propagation'], 'private')

        # Through the bind mount: the bind mount's own mount.
        d = self.w.call('DescribePath', os.path.join(self.bind, 'file'))
        self.assertEqual(d['mount-point'], self.bind)
        self.assertEqual(d['mount-id'], top_mount(self.bind)['id'])

    def test_describe_path_follows_the_mount(self):
        run('mount', '--make-shared', self.fs)
        self.assertEqual(self.w.call('DescribePath', self.fs)['propagation'], 'shared')
        run('mount', '--make-unbindable', self.fs)
        self.assertEqual(self.w.call('DescribePath', self.fs)['propagation'], 'unbindable')
        run('mount', '--make-private', self.fs)
        run('mount', '-o', 'remount,bind,ro', self.bind)
        d = self.w.call('DescribePath', self.bind)
        self.assertIs(d['read-only'], True)
        self.assertEqual(d['propagation'], 'private')
        d = self.w.call('DescribePath', '/proc/self')
        self.assertIs(d['system-mount'], True)
        self.assertEqual(d['mount-point'], '/proc')
        self.assertEqual(d['fs-type'], 'proc')
        d = self.w.call('DescribePath', '/dev/null')
        self.assertIs(d['host-device'], True)
        self.assertIs(d['system-mount'], False)

    def test_describe_path_slave(self):
        # A slave of a shared peer group.
        run('mount', '--make-shared', self.fs)
        slave = self.path('slave')
        os.mkdir(slave)
        run('mount', '--bind', self.fs, slave)
        run('mount', '--make-slave', slave)
        self.assertEqual(self.w.call('DescribePath', slave)['propagation'], 'slave')

    def test_describe_path_errors(self):
        self.assertError(NOT_FOUND, 'DescribePath', self.path('missing'), arg='path')
        self.assertError(INVALID, 'DescribePath', 'relative', arg='path')
        self.assertError(INVALID, 'DescribePath', '', arg='path')

    def test_unprivileged_queries_learn_nothing_unreachable(self):
        hidden = self.path('hidden')
        os.mkdir(hidden, 0o700)
        with open(os.path.join(hidden, 'secret'), 'w') as f:
            f.write('x')
        # Allowed: a query of a path nobody can reach.
        ok, res, msg = self.w.call_as(NOBODY, 'GetDeviceForPath', self.file)
        self.assertTrue(ok, f'{res}: {msg}')
        self.assertEqual(tuple(res)[2], self.fs)
        for method in ('GetDeviceForPath', 'DescribePath'):
            with self.subTest(method=method):
                ok1, err1, msg1 = self.w.call_as(NOBODY, method, os.path.join(hidden, 'secret'))
                ok2, err2, msg2 = self.w.call_as(NOBODY, method, os.path.join(hidden, 'absent'))
                self.assertFalse(ok1, f'nobody learnt about a file it cannot reach: {err1!r}')
                self.assertFalse(ok2)
                self.assertEqual(err1, err2, f'{msg1} / {msg2}')


class TestAuthorization(SpineCase):
    def test_unprivileged_callers_are_refused(self):
        rootfs = self.make_rootfs()
        os.chmod(self.scratch, 0o755)
        mp = self.mount_rootfs('sbr', 'c1')
        dest = os.path.join(self.shared, 'sbr', 'c1', 'bound')
        for uid in (NOBODY, TEST_UID):
            with self.subTest(uid=uid):
                msg = self.assertError(AUTH_REQUIRED, 'MountRootfs', 'sba', 'c1', rootfs, False, uid=uid)
                self.assertIn('org.vc.mount.manage-rootfs', msg)   # the refusal names the action
                self.assertError(AUTH_REQUIRED, 'UnmountRootfs', 'sbr', 'c1', uid=uid)
                self.assertError(AUTH_REQUIRED, 'UnmountSandbox', 'sbr', uid=uid)
                self.assertError(AUTH_REQUIRED, 'BindMount', rootfs, dest, False, uid=uid)
                self.assertError(AUTH_REQUIRED, 'Unmount', dest, uid=uid)
                # a rootfs is the rootfs methods' alone: refused before polkit
                self.assertError(INVALID, 'Unmount', mp, uid=uid, arg='mount_point')
        self.assertMounted(mp)
        self.assertFalse(os.path.exists(os.path.join(self.shared, 'sba')))
        self.assertFalse(os.path.exists(dest))

    def test_authentication_required_and_no_are_told_apart(self):
        # A rule that wants a password from one user and says no to the other.
        rule = self.w.add_rule('''
polkit.addRule(function(action, subject) {
    if (action.id != "org.vc.mount.manage-rootfs")
        return polkit.Result.NOT_HANDLED;
    if (subject.user == "vcmtest")
        return polkit.Result.AUTH_ADMIN;
    if (subject.user == "nobody")
        return polkit.Result.NO;
});
''')
        self.addCleanup(self.w.remove_rule, rule)
        # polkit's default is a challenge too: wait for the "no" to be live
        self.w.wait_for_refusal(NOBODY, 'org.vc.mount.manage-rootfs')
        rootfs = self.make_rootfs()
        self.w.mark_logs()
        # Without the flag: the one who could authenticate is told to call
        # again allowing it; the one polkit refuses is refused.
        msg = self.assertError(AUTH_REQUIRED, 'MountRootfs', 'sbt', 'c1', rootfs, False, uid=TEST_UID)
        self.assertIn('org.vc.mount.manage-rootfs', msg)
        self.assertError(NOT_AUTHORIZED, 'MountRootfs', 'sbt', 'c1', rootfs, False, uid=NOBODY)
        # With the flag and no agent to ask: both refused, neither told to retry.
        for uid in (TEST_UID, NOBODY):
            with self.subTest(uid=uid):
                ok, got, msg = self.w.call_as(uid, 'MountRootfs', 'sbt', 'c1', rootfs, False,
                                              interactive=True)
                self.assertEqual((ok, got), (False, NOT_AUTHORIZED), msg)
                self.assertIn('org.vc.mount.manage-rootfs', msg)
        self.assertFalse(os.path.exists(os.path.join(self.shared, 'sbt')))
        # Every refusal is in the journal, naming its caller.
        log = self.w.logs_text(since_mark=True)
        for uid in (TEST_UID, NOBODY):
            self.assertEqual(len(re.findall(rf'MountRootfs refused: .*\(caller uid {uid} pid ', log)), 2, log)

    def test_queries_are_open_to_everyone(self):
        mp = self.mount_rootfs('sbq', 'c1')
        for uid in (NOBODY, TEST_UID):
            with self.subTest(uid=uid):
                ok, res, msg = self.w.call_as(uid, 'ListRootfs', 'sbq')
                self.assertTrue(ok, f'{res}: {msg}')
                self.assertEqual([tuple(e) for e in res[1]], [('sbq', 'c1', mp, False)])
                ok, res, msg = self.w.call_as(uid, 'IsSystemMount', '/proc/1')
                self.assertEqual((ok, res), (True, (True,)), msg)
                ok, res, msg = self.w.call_as(uid, 'IsDeviceMapper', 253, 0)
                self.assertEqual((ok, res), (True, (True,)), msg)
                ok, res, msg = self.w.call_as(uid, 'Get', 'org.vc.Mount', 'SharedDir', signature='ss',
                                              interface='org.freedesktop.DBus.Properties')
                self.assertEqual((ok, res), (True, (self.shared,)), msg)

    def test_polkit_rule_allows_one_user_one_sandbox(self):
        rule = self.w.add_rule(vcmtest.polkit_rule('org.vc.mount.manage-rootfs', 'nobody',
                                                   sandbox_id='sb-nobody'))
        self.addCleanup(self.w.remove_rule, rule)
        self.w.wait_for_rule(NOBODY, 'org.vc.mount.manage-rootfs', {'sandbox_id': 'sb-nobody'})
        rootfs = self.make_rootfs()
        ok, res, msg = self.w.call_as(NOBODY, 'MountRootfs', 'sb-nobody', 'c1', rootfs, True)
        self.assertTrue(ok, f'{res}: {msg}')
        mp = self.mp('sb-nobody', 'c1')
        self.assertEqual(res, (mp,))
        self.assertMounted(mp)
        # Not another sandbox, not another user, not another action.
        self.assertError(AUTH_REQUIRED, 'MountRootfs', 'sb-other', 'c1', rootfs, False, uid=NOBODY)
        self.assertError(AUTH_REQUIRED, 'MountRootfs', 'sb-nobody', 'c2', rootfs, False, uid=TEST_UID)
        self.assertError(AUTH_REQUIRED, 'BindMount', rootfs, os.path.join(self.shared, 'sbx', 'c1', 'b'),
                         False, uid=NOBODY)
        ok, res, msg = self.w.call_as(NOBODY, 'UnmountRootfs', 'sb-nobody', 'c1')
        self.assertTrue(ok, f'{res}: {msg}')
        self.assertEqual(res, ([mp],))
        self.assertNothingBeneath(self.shared)

    def test_allowed_caller_cannot_mount_what_it_cannot_reach(self):
        rule = self.w.add_rule('''
polkit.addRule(function(action, subject) {
    if ((action.id == "org.vc.mount.manage-rootfs" || action.id == "org.vc.mount.bind") &&
        subject.user == "nobody")
        return polkit.Result.YES;
});
''')
        self.addCleanup(self.w.remove_rule, rule)
        self.w.wait_for_rule(NOBODY, 'org.vc.mount.manage-rootfs')
        self.w.wait_for_rule(NOBODY, 'org.vc.mount.bind')
        secret = os.path.join(self.scratch, 'secret')         # root's, 0700
        os.makedirs(os.path.join(secret, 'rootfs', 'etc'))
        with open(os.path.join(secret, 'key'), 'w') as f:
            f.write('root only\n')
        os.chmod(secret, 0o700)
        hidden_rootfs = os.path.join(secret, 'rootfs')
        # The same answer as for a path that does not exist: nothing learnt, nothing mounted.
        msg = self.assertError(NOT_FOUND, 'MountRootfs', 'sbs', 'c1', hidden_rootfs, True,
                               uid=NOBODY, arg='rootfs')
        _, _, missing = self.w.call_as(NOBODY, 'MountRootfs', 'sbs', 'c1',
                                       os.path.join(self.scratch, 'nope', 'rootfs'), True)
        self.assertEqual(msg.replace(hidden_rootfs, 'P'),
                         missing.replace(os.path.join(self.scratch, 'nope', 'rootfs'), 'P'))
        self.assertError(NOT_FOUND, 'BindMount', os.path.join(secret, 'key'),
                         os.path.join(self.shared, 'sbk', 'c1', 'k'), True, uid=NOBODY, arg='source')
        self.assertNothingBeneath(self.shared)
        self.assertFalse(os.path.exists(os.path.join(self.shared, 'sbs')))
        # Root may, and so may nobody for what it can reach.
        self.assertEqual(self.mount_rootfs('sbs', 'c1', hidden_rootfs), self.mp('sbs', 'c1'))
        ok, res, msg = self.w.call_as(NOBODY, 'MountRootfs', 'sbs', 'c2', self.make_rootfs('open'), True)
        self.assertTrue(ok, f'{res}: {msg}')

    def test_polkit_rule_for_bind_sees_the_mount_point(self):
        allowed = os.path.join(self.shared, 'sbx', 'c1', 'allowed')
        rule = self.w.add_rule(vcmtest.polkit_rule('org.vc.mount.bind', 'vcmtest',
                                                   mount_point=allowed))
        self.addCleanup(self.w.remove_rule, rule)
        self.w.wait_for_rule(TEST_UID, 'org.vc.mount.bind', {'mount_point': allowed})
        src = self.make_rootfs('src')
        os.chown(src, TEST_UID, TEST_UID)  # writable: of a tree of the caller's own
        ok, res, msg = self.w.call_as(TEST_UID, 'BindMount', src, allowed, False)
        self.assertTrue(ok, f'{res}: {msg}')
        self.assertMounted(allowed)
        self.assertError(AUTH_REQUIRED, 'BindMount', src, os.path.join(self.shared, 'sbx', 'c1', 'other'), False,
                         uid=TEST_UID)

    def test_polkit_rule_for_bind_sees_read_only(self):
        rule = self.w.add_rule(vcmtest.polkit_rule('org.vc.mount.bind', 'vcmtest', read_only='true'))
        self.addCleanup(self.w.remove_rule, rule)
        dest = os.path.join(self.shared, 'sbx', 'c1', 'ro-only')
        self.w.wait_for_rule(TEST_UID, 'org.vc.mount.bind', {'read_only': 'true'})
        src = self.make_rootfs('src')
        self.assertError(AUTH_REQUIRED, 'BindMount', src, dest, False, uid=TEST_UID)
        self.assertNothingBeneath(self.shared)
        ok, res, msg = self.w.call_as(TEST_UID, 'BindMount', src, dest, True)
        self.assertTrue(ok, f'{res}: {msg}')
        self.assertMounted(dest)
        self.assertIn('ro', top_mount(dest)['options'])

    def test_root_needs_no_polkit_and_others_fail_closed(self):
        self.w.stop_polkitd()
        self.addCleanup(self.w.start_polkitd)
        rootfs = self.make_rootfs()
        # (a check would be refused with polkitd gone, not wait for it)
        mp = self.mount_rootfs('sbroot', 'c1')
        self.assertError(NOT_AUTHORIZED, 'MountRootfs', 'sbp', 'c1', rootfs, False, uid=NOBODY)
        self.assertEqual(self.w.call('UnmountRootfs', 'sbroot', 'c1'), [mp])

    def test_hung_polkit_does_not_block_the_service(self):
        pid = self.w.polkitd_pid
        os.kill(pid, signal.SIGSTOP)
        self.addCleanup(os.kill, pid, signal.SIGCONT)
        rootfs = self.make_rootfs()
        # A caller waiting on polkit...
        before = set(self.w.bus_connections())
        waiter = subprocess.Popen(
            ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'gdbus', 'call', '--system',
             '--dest', 'org.vc.Mount', '--object-path', '/org/vc/Mount', '--method',
             'org.vc.Mount.MountRootfs', 'sbh', 'c1', rootfs, 'false'],
            env=dict(os.environ, **self.w.env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(waiter.wait)
        self.addCleanup(waiter.kill)
        vcmtest.wait_until(lambda: set(self.w.bus_connections()) - before, 30,
                           'the waiting caller to be on the bus')
        # ...does not stop the main loop from serving others: they are served
        # while it still waits (its check is answered only when polkit is or
        # after the daemon's polkit timeout of 25 s).
        self.assertIs(self.w.call('IsSystemMount', '/proc'), True)
        mp = self.mount_rootfs('sbroot', 'c1')
        self.assertIsNone(waiter.poll(), 'the caller waiting on polkit was answered before the others')
        self.assertEqual(self.w.call('UnmountRootfs', 'sbroot', 'c1'), [mp])
        self.assertIsNone(top_mount(self.mp('sbh', 'c1')))


class TestLogging(SpineCase):
    def test_mutating_calls_and_refusals_name_the_caller(self):
        rootfs = self.make_rootfs()
        self.w.mark_logs()
        mp = self.mount_rootfs('sblog', 'c1', rootfs)
        self.assertError(AUTH_REQUIRED, 'UnmountRootfs', 'sblog', 'c1', uid=TEST_UID)
        self.assertEqual(self.w.call('UnmountRootfs', 'sblog', 'c1'), [mp])
        log = self.w.logs_text(since_mark=True)
        self.assertRegex(log, rf'Mounted rootfs {re.escape(rootfs)} at {re.escape(mp)} '
                              r'\(caller uid 0 pid [1-9][0-9]* :[0-9.]+\)')
        self.assertRegex(log, rf'UnmountRootfs refused: .*\(caller uid {TEST_UID} pid [1-9][0-9]* :[0-9.]+\)')
        self.assertRegex(log, rf'Unmounted rootfs sblog/c1 at {re.escape(mp)} \(1 mounts detached\) '
                              r'\(caller uid 0 pid [1-9][0-9]* :[0-9.]+\)')


if __name__ == '__main__':
    unittest.main()
