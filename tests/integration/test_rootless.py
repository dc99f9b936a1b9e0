#!/usr/bin/python3
"""test_rootless: the fd-based methods (MountRootfsFd, BindMountFd,
OpenMount, ListMounts) as a rootless runtime calls them: from its own
mount namespace (and user namespace), with fds it opened itself; what fds
and options are refused; the identity of each mount, also after kill -9;
and the path methods' refusal for a caller in another mount namespace."""
import json
import os
import re
import socket
import stat
import subprocess
import unittest

import vcmtest
from vcmtest import WorldCase

E = 'org.vc.Mount.Error.'
INVALID, NOT_AUTHORIZED, FOREIGN = E + 'InvalidArgument', E + 'NotAuthorized', E + 'ForeignMountNamespace'
USER = vcmtest.TEST_UID
OTHER = vcmtest.NOBODY_UID
FDCALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fdcall.py')

RULES = '''
polkit.addRule(function(action, subject) {
    if (action.id.indexOf("org.vc.mount.") == 0 && action.id != "org.vc.mount.write-foreign" &&
        subject.user == "%(user)s")
        return polkit.Result.YES;
});
'''


class RootlessBase(WorldCase):
    """The world with the rootless rule and the helpers; no tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import pwd
        try:
            name = pwd.getpwuid(USER).pw_name
        except KeyError:
            name = str(USER)
        cls.w.add_rule(RULES % {'user': name}, name='50-vcmtest-rootless.rules')
        cls.w.wait_for_rule(USER, 'org.vc.mount.open')

    def _clean(self):
        self.clean_world()

    # -- helpers ----------------------------------------------------------

    def assert_user_fdcall_refused(self, method, kind, path, args, error, *fragments):
        """fdcall() as the test user fails with the D-Bus error @error, and its
        message holds each of @fragments."""
        ok, name, message, _ = self.fdcall(method, kind, path, args, prefix=self.as_user())
        self.assertEqual((ok, name), (False, error), message)
        for fragment in fragments:
            self.assertIn(fragment, message)

    def fdcall(self, method, kind, path, args, prefix=(), attach=None, pass_fds=(), shell=None,
               unmount=None):
        """Runs fdcall.py (behind @prefix: setpriv, unshare); with @shell, a
        shell script that ends by running it (as "$@"). Returns (ok, value or
        error name, message or None, the rest of its output)."""
        cmd = [vcmtest.PYTHON, FDCALL, self.w.bus_address, method, kind, path, args]
        if attach:
            cmd.append(attach)
            if unmount:
                cmd.append(unmount)
        if shell is not None:
            cmd = ['sh', '-ec', shell + '\nexec "$@"', 'sh'] + cmd
        p = subprocess.run(list(prefix) + cmd, env=self.w._child_env(), capture_output=True, text=True,
                           pass_fds=pass_fds, timeout=120, cwd='/')
        lines = p.stdout.split('\n')
        if p.returncode != 0 or lines[0] not in ('ok', 'error'):
            self.fail(f'fdcall failed: {p.returncode}\n{p.stdout}\n{p.stderr}')
        if lines[0] == 'ok':
            from gi.repository import GLib
            return True, GLib.Variant.parse(None, lines[1], None, None).unpack(), None, lines[2:]
        return False, lines[1], lines[2], lines[3:]

    def as_user(self, uid=USER):
        return self.w.setpriv(uid)

    def in_own_namespaces(self, uid=USER):
        """@uid in a user namespace of its own (mapping itself, so that the
        bus's EXTERNAL authentication still matches) with a mount namespace
        of its own, and the capabilities it has there."""
        return self.w.setpriv(uid) + ['unshare', '-U', '-m', f'--map-user={uid}', f'--map-group={uid}',
                                      '--keep-caps']

    def user_dir(self, name, uid=USER, mode=0o755):
        d = os.path.join(self.scratch, name)
        os.makedirs(d)
        os.chown(d, uid, uid)
        os.chmod(d, mode)
        return d

    def mountinfo(self, mount_point):
        with open('/proc/self/mountinfo') as f:
            for line in f:
                fields = line.split()
                if fields[4] == mount_point:
                    found = fields
        return found


class RootlessCase(RootlessBase):

    # -- refusals ---------------------------------------------------------

    def test_fd_kinds_refused(self):
        """O_PATH, socket, memfd, pidfd, device, and a file for a rootfs: InvalidArgument naming it."""
        d = self.user_dir('src')
        f = os.path.join(d, 'file')
        open(f, 'w').close()
        os.chown(f, USER, USER)
        cases = [('opath', d, 'O_PATH'), ('socket', '', 'a socket'), ('memfd', '', 'a regular file'),
                 ('pidfd', '', 'anonymous inode'), ('device', '/dev/null', 'character device'),
                 ('file', f, 'a regular file')]
        for kind, path, what in cases:
            with self.subTest(kind=kind):
                self.assert_user_fdcall_refused('MountRootfsFd', kind, path, "('rl', 'c1', handle 0, @a{sv} {})",
                                                INVALID, 'rootfs:', what)
        for kind, path, what in cases[:5]:
            what = 'memfd' if kind == 'memfd' else what
            with self.subTest(kind=kind, method='BindMountFd'):
                self.assert_user_fdcall_refused('BindMountFd', kind, path,
                                                f"(handle 0, '{self.shared}/rl/x', @a{{sv}} {{}})",
                                                INVALID, 'source:', what)
        self.assertEqual(self.w.mounts_beneath(self.shared), [])

    def test_no_fd_in_message(self):
        self.assert_user_fdcall_refused('OpenMount', 'none', '', "(handle 0, @a{sv} {})",
                                        INVALID, 'source: the message carries no file descriptor')

    def test_options_refused(self):
        d = self.user_dir('src')
        for opts, err, what in [("{'frobnicate': <true>}", INVALID, "unknown key 'frobnicate'"),
                                ("{'read-only': <'yes'>}", INVALID, "'read-only' must be of type b, not s"),
                                ("{'propagation': <'sideways'>}", INVALID, "'propagation' must be"),
                                ("{'idmap': <'0:1000:1'>}", INVALID, "'idmap' must be of type a{sv}"),
                                ("{'nosuid': <false>}", NOT_AUTHORIZED, "'nosuid' cannot be turned off"),
                                ("{'recursive': <false>}", NOT_AUTHORIZED, "'recursive' cannot be turned off")]:
            with self.subTest(opts=opts):
                self.assert_user_fdcall_refused('MountRootfsFd', 'dir', d,
                                                f"('rl', 'c1', handle 0, @a{{sv}} {opts})",
                                                err, 'options:', what)
        self.assertEqual(self.w.mounts_beneath(self.shared), [])

    def test_writable_only_what_the_caller_owns(self):
        """A directory the caller can read but does not own: read-only yes;
        writable only where polkit grants org.vc.mount.write-foreign too
        (which the rule here does not)."""
        d = self.user_dir('roots', uid=0)
        for method, args in [('MountRootfsFd', "('rl', 'c1', handle 0, @a{sv} {})"),
                             ('BindMountFd', f"(handle 0, '{self.shared}/rl/c1/w', @a{{sv}} {{}})"),
                             ('OpenMount', "(handle 0, @a{sv} {})")]:
            with self.subTest(method=method):
                ok, name, message, _ = self.fdcall(method, 'dir', d, args, prefix=self.as_user())
                self.assertFalse(ok)
                self.assertIn(name, (NOT_AUTHORIZED, 'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired'),
                              message)
        self.assertEqual(self.w.mounts_beneath(self.shared), [])
        ok, value, _, _ = self.fdcall('MountRootfsFd', 'dir', d,
                                      "('rl', 'c1', handle 0, @a{sv} {'read-only': <true>})",
                                      prefix=self.as_user())
        self.assertTrue(ok, value)

    def test_private_tree_passed_along(self):
        """Root opens another user's private directory and hands the fd to
        the caller: refused, since the caller could not read it itself."""
        d = self.user_dir('private', uid=OTHER, mode=0o700)
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        try:
            ok, name, message, _ = self.fdcall('MountRootfsFd', 'inherited', str(fd),
                                               "('rl', 'c1', handle 0, @a{sv} {'read-only': <true>})",
                                               prefix=self.as_user(), pass_fds=(fd,))
        finally:
            os.close(fd)
        self.assertEqual((ok, name), (False, NOT_AUTHORIZED), message)
        self.assertIn('cannot read', message)
        self.assertEqual(self.w.mounts_beneath(self.shared), [])

    # -- namespaces -------------------------------------------------------

    def test_root_in_own_mount_namespace(self):
        """A tmpfs that exists only in the caller's mount namespace appears beneath the shared dir."""
        d = os.path.join(self.scratch, 'only-there')
        os.makedirs(d)
        ok, value, _, _ = self.fdcall('MountRootfsFd', 'dir', d, "('rl', 'c1', handle 0, @a{sv} {})",
                                      prefix=['unshare', '-m', '--propagation', 'private'],
                                      shell=f'mount -t tmpfs vcm-only {d}; echo there > {d}/marker')
        self.assertTrue(ok, value)
        mount_point, info = value
        self.assertEqual(mount_point, self.w.rootfs_mount_point('rl', 'c1'))
        self.assertEqual(os.listdir(d), [])  # not here
        with open(os.path.join(mount_point, 'marker')) as f:
            self.assertEqual(f.read(), 'there\n')
        fields = self.mountinfo(mount_point)
        self.assertEqual(fields[fields.index('-') + 1], 'tmpfs')
        self.assertEqual(info['kind'], 'rootfs')
        self.assertEqual(info['caller-uid'], 0)

    def test_rootless_user_and_mount_namespace(self):
        """The unprivileged flow: a user in its own user and mount namespaces
        mounts a directory that exists only there; it shows beneath the
        shared dir in the host's namespace, owned by the user."""
        d = self.user_dir('only-there')
        ok, value, message, _ = self.fdcall(
            'MountRootfsFd', 'dir', d, "('rl', 'c2', handle 0, @a{sv} {})",
            prefix=self.in_own_namespaces(),
            shell=f'mount -t tmpfs -o mode=0755 vcm-userns {d}; mkdir {d}/etc; echo ns > {d}/etc/marker')
        self.assertTrue(ok, (value, message))
        mount_point, info = value
        st = os.stat(os.path.join(mount_point, 'etc', 'marker'))
        self.assertEqual(st.st_uid, USER)
        self.assertEqual(info['caller-uid'], USER)
        self.assertEqual(info['source-owner'], USER)
        fields = self.mountinfo(mount_point)
        self.assertIn('nosuid', fields[5].split(','))
        self.assertIn('nodev', fields[5].split(','))
        self.assertEqual(os.listdir(d), [])

    def test_open_mount_attached_by_caller(self):
        """OpenMount: the user attaches the configured mount in its own namespaces."""
        d = self.user_dir('src')
        with open(os.path.join(d, 'hello'), 'w') as f:
            f.write('hi\n')
        target = self.user_dir('target')
        ok, value, message, rest = self.fdcall(
            'OpenMount', 'dir', d, "(handle 0, @a{sv} {'read-only': <true>})",
            prefix=self.in_own_namespaces(), shell='true', attach=target)
        self.assertTrue(ok, (value, message))
        self.assertEqual(rest[0], 'attached hello', rest)
        info = value[1]
        self.assertEqual(info['kind'], 'detached')
        self.assertTrue(info['options']['read-only'])
        self.assertNotIn('mount-point', info)
        self.assertFalse(os.path.exists(os.path.join(target, 'hello')))  # attached only there

    def test_path_methods_refused_from_another_mount_namespace(self):
        d = os.path.join(self.scratch, 'src')
        os.makedirs(d)
        for method, args, fd_method in [('MountRootfs', f"('rl', 'c1', '{d}', false)", 'MountRootfsFd'),
                                        ('BindMount', f"('{d}', '{self.shared}/rl/c1/b', false)", 'BindMountFd')]:
            with self.subTest(method=method):
                sig = vcmtest.in_signature(method)
                p = subprocess.run(['unshare', '-m', vcmtest.PYTHON, '-c', vcmtest._CALL_AS_PROGRAM,
                                    self.w.bus_address, 'org.vc.Mount', '/org/vc/Mount', 'org.vc.Mount',
                                    method, sig, args, '60000', 'plain'],
                                   env=self.w._child_env(), capture_output=True, text=True, timeout=120)
                lines = p.stdout.split('\n')
                self.assertEqual(lines[0], 'error', p.stdout + p.stderr)
                self.assertEqual(lines[1], FOREIGN, lines[2])
                self.assertIn(fd_method, lines[2])
        self.assertEqual(self.w.mounts_beneath(self.shared), [])
        # from the service's namespace, as before
        self.w.call('MountRootfs', 'rl', 'c1', d, False)

    # -- options and identity ------------------------------------------------

    def test_each_option_in_mountinfo(self):
        d = self.user_dir('src', uid=0)
        for i, (opts, want_vfs, want_prop) in enumerate([
                ("{'read-only': <true>, 'noexec': <true>}", {'ro', 'noexec', 'nosuid', 'nodev'}, None),
                ("{'nosuid': <false>, 'nodev': <false>}", {'rw'}, None),
                ("{'propagation': <'shared'>}", {'rw', 'nosuid', 'nodev'}, 'shared:'),
                ("{'propagation': <'unbindable'>}", {'rw', 'nosuid', 'nodev'}, 'unbindable'),
                ("{'propagation': <'slave'>}", {'rw', 'nosuid', 'nodev'}, None)]):
            with self.subTest(opts=opts):
                dest = f'{self.shared}/rl/o{i}'
                ok, value, message, _ = self.fdcall('BindMountFd', 'dir', d,
                                                    f"(handle 0, '{dest}', @a{{sv}} {opts})")
                self.assertTrue(ok, message)
                fields = self.mountinfo(dest)
                vfs = set(fields[5].split(','))
                self.assertTrue(want_vfs <= vfs, (want_vfs, vfs))
                self.assertEqual(value[1]['options']['nosuid'], 'nosuid' in want_vfs)
                optional = fields[6:fields.index('-')]
                if want_prop is not None:
                    self.assertTrue(any(o.startswith(want_prop) for o in optional), optional)
                else:
                    # slave of a private mount: nothing to follow, private
                    self.assertEqual(optional, [])
                listed, = [m for m in self.w.call('ListMounts', {})[1] if m.get('mount-point') == dest]
                self.assertEqual(listed['options']['propagation'],
                                 {'shared:': 'shared', 'unbindable': 'unbindable'}.get(want_prop, 'private'))

    def test_slave_of_a_shared_source(self):
        """propagation=slave follows the source's peer group where it has
        one (documented: of a private source the mount stays private, as
        test_each_option_in_mountinfo shows): a mount made later below the
        source appears in the slave."""
        d = self.user_dir('shared-src', uid=0)
        subprocess.run(['mount', '--bind', d, d], check=True)
        subprocess.run(['mount', '--make-shared', d], check=True)
        self.addCleanup(subprocess.run, ['umount', '-l', d])
        dest = f'{self.shared}/rl/slave'
        ok, value, message, _ = self.fdcall('BindMountFd', 'dir', d,
                                            f"(handle 0, '{dest}', @a{{sv}} {{'propagation': <'slave'>}})")
        self.assertTrue(ok, message)
        fields = self.mountinfo(dest)
        optional = fields[6:fields.index('-')]
        self.assertTrue(any(o.startswith('master:') for o in optional), optional)
        listed, = [m for m in self.w.call('ListMounts', {})[1] if m.get('mount-point') == dest]
        self.assertEqual(listed['options']['propagation'], 'slave')
        later = os.path.join(d, 'later')
        os.mkdir(later)
        subprocess.run(['mount', '-t', 'tmpfs', 'vcm-later', later], check=True)
        self.assertTrue(os.path.ismount(os.path.join(dest, 'later')))

    def test_recursive_by_default(self):
        """A non-root caller's bind brings the submounts along (nothing they hide is uncovered)."""
        d = self.user_dir('src')
        sub = os.path.join(d, 'sub')
        os.makedirs(sub)
        os.chown(sub, USER, USER)
        subprocess.run(['mount', '-t', 'tmpfs', 'vcm-sub', sub], check=True)
        try:
            with open(os.path.join(sub, 'in-submount'), 'w'):
                pass
            ok, value, message, _ = self.fdcall('MountRootfsFd', 'dir', d, "('rl', 'c3', handle 0, @a{sv} {})",
                                                prefix=self.as_user())
            self.assertTrue(ok, message)
            self.assertTrue(os.path.exists(os.path.join(value[0], 'sub', 'in-submount')))
            self.assertTrue(value[1]['options']['recursive'])
        finally:
            self.w.unmount_all_beneath(self.shared)
            subprocess.run(['umount', '-l', sub])

    def test_identity_survives_kill9(self):
        d = self.user_dir('src')
        ok, value, message, _ = self.fdcall('MountRootfsFd', 'dir', d,
                                            "('rl', 'c4', handle 0, @a{sv} {'read-only': <true>})",
                                            prefix=self.as_user())
        self.assertTrue(ok, message)
        mount_point, info = value
        for key in ('mount-id', 'mount-id-unique', 'source', 'source-inode', 'source-owner', 'caller-uid', 'options'):
            self.assertIn(key, info)
        # statx(2) gives the unique mount ID from Linux 6.8 on; before (Debian
        # 12's 6.1) the 32-bit one, which the recovery below must make do with.
        release = tuple(int(x) for x in re.findall(r'\d+', os.uname().release)[:2])
        self.assertEqual(info['mount-id-unique'], release >= (6, 8), os.uname().release)
        listed = [m for m in self.w.call('ListMounts', {})[1] if m.get('mount-point') == mount_point]
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]['mount-id'], info['mount-id'])
        self.w.restart_daemon(kill9=True)
        listed = [m for m in self.w.call('ListMounts', {})[1] if m.get('mount-point') == mount_point]
        self.assertEqual(len(listed), 1, listed)
        m = listed[0]
        self.assertTrue(m['recovered'])
        for key in ('mount-id', 'mount-id-unique', 'source', 'source-major', 'source-minor', 'source-inode',
                    'source-owner', 'caller-uid', 'kind', 'sandbox-id', 'container-id'):
            self.assertEqual(m[key], info[key], key)
        self.assertTrue(m['options']['read-only'])
        self.assertTrue(m['options']['recursive'])
        # the filter
        self.assertEqual(self.w.call('ListMounts', {'sandbox-id': GLibVariant('s', 'nope')})[1], [])
        self.assertEqual(len(self.w.call('ListMounts', {'kind': GLibVariant('s', 'rootfs')})[1]), 1)

    def test_identity_in_signals(self):
        """MountAdded and MountRemoved carry the identity, also for the path
        methods, and also for a mount made before a restart."""
        d = self.user_dir('src', uid=0)
        dest = f'{self.shared}/rl/sig'
        with self.w.subscribe('MountAdded') as added:
            ok, value, message, _ = self.fdcall('BindMountFd', 'dir', d, f"(handle 0, '{dest}', @a{{sv}} {{}})")
            self.assertTrue(ok, message)
            (_, (generation, info)), = added.wait_for()
        self.assertEqual(info, value[1])
        self.assertEqual(info['mount-point'], dest)
        self.assertEqual(info['kind'], 'bind')
        with self.w.subscribe('MountAdded') as added:
            mp = self.w.call('MountRootfs', 'rl', 'path', d, True)
            (_, (generation, info)), = added.wait_for()
        self.assertEqual((info['mount-point'], info['kind'], info['source'], info['caller-uid']),
                         (mp, 'rootfs', d, 0))
        self.assertTrue(info['options']['read-only'])
        self.w.restart_daemon(kill9=True)
        with self.w.subscribe('MountRemoved') as removed:
            detached = self.w.call('Unmount', dest)
            (_, (generation, info, sig_detached)), = removed.wait_for()
        self.assertEqual(sig_detached, detached)
        self.assertEqual((info['mount-point'], info['source'], info['recovered']), (dest, d, True))

    def test_identity_in_signals_of_unmount_sandbox(self):
        """UnmountSandbox's MountRemoved of rootfs made before a kill -9
        carries the identity the service recovered, as Unmount's does."""
        d = self.user_dir('src')
        infos = {}
        for c in ('c1', 'c2'):
            ok, value, message, _ = self.fdcall('MountRootfsFd', 'dir', d,
                                                f"('rlsb', '{c}', handle 0, @a{{sv}} {{'read-only': <true>}})",
                                                prefix=self.as_user())
            self.assertTrue(ok, message)
            infos[value[0]] = value[1]
        self.w.restart_daemon(kill9=True)
        with self.w.subscribe('MountRemoved') as removed:
            self.assertEqual(sorted(self.w.call('UnmountSandbox', 'rlsb')), ['c1', 'c2'])
            signals = removed.wait_for(count=2)
        self.assertEqual(len(signals), 2)
        for _, (generation, info, detached) in signals:
            mp = info['mount-point']
            self.assertEqual(detached[0], mp)
            self.assertIn(mp, infos)
            self.assertTrue(info.get('recovered'), info)
            for key in ('mount-id', 'mount-id-unique', 'source', 'source-inode', 'source-owner',
                        'caller-uid', 'kind', 'sandbox-id', 'container-id'):
                self.assertEqual(info.get(key), infos[mp][key], key)
            self.assertTrue(info['options']['read-only'])

    def test_list_mounts_filter_refusals(self):
        for filt, what in [({'frob': GLibVariant('s', 'x')}, "unknown key 'frob'"),
                           ({'kind': GLibVariant('b', True)}, "'kind' must be of type s")]:
            with self.assertRaises(vcmtest.DBusCallError) as cm:
                self.w.call('ListMounts', filt)
            self.assertEqual(cm.exception.name, INVALID)
            self.assertIn(what, str(cm.exception))


def GLibVariant(t, v):
    from gi.repository import GLib
    return GLib.Variant(t, v)


if __name__ == '__main__':
    unittest.main()
