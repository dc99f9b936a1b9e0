#!/usr/bin/python3
# test_layout: the layout SHARED/SANDBOX/CONTAINER/rootfs is the rootfs
# methods' alone, and a rootfs cannot be covered (the threat model's promises
# 1-3 for the layout), tried by an unprivileged caller against the real
# vcmountd, the real polkitd and a private system bus.
#
# The rules in force are the README's narrow ones (test_attacks.ALICE_RULES)
# and, beside them, the bind rule the README gave before: read-only binds of
# SRV into anything beneath SHARED/alice/, the layout of sandbox "alice"
# included. Hosts that copied it still have it, so the service itself must
# hold the layout, whatever a bind rule allows. Bob (no rule of the README)
# has that old bind rule too, and no right to manage any rootfs.

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from vcmtest import DBusCallError, top_mount  # noqa: E402
from test_attacks import AttackCase, ALICE, BOB, INVALID, AUTH_REQUIRED  # noqa: E402

OLD_README_BIND_RULE = '''
polkit.addRule(function(action, subject) {
    if (action.id != "org.vc.mount.bind" ||
        (subject.user != "vcmtest" && subject.user != "nobody"))
        return polkit.Result.NOT_HANDLED;
    var mp = action.lookup("mount_point") || "";
    var src = action.lookup("source");
    if (mp.indexOf("%(shared)s/alice/") != 0)
        return polkit.Result.NOT_HANDLED;
    if (src === undefined)                                       /* Unmount */
        return polkit.Result.YES;
    if (action.lookup("read_only") == "true" && src.indexOf("%(srv)s/") == 0)
        return polkit.Result.YES;
    return polkit.Result.NOT_HANDLED;
});
'''

MADE_XATTR = 'trusted.vc-mount.made'


class TestLayout(AttackCase):
    """Binds and unmounts cannot cover, take or make a rootfs, and the
    service removes only what it made."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.w
        cls.old_rule = w.add_rule(OLD_README_BIND_RULE % {'shared': cls.shared, 'srv': cls.srv},
                                  name='51-vcmtest-old-readme.rules')
        w.wait_for_rule(BOB, 'org.vc.mount.bind',
                        {'mount_point': os.path.join(cls.shared, 'alice', 'x')})
        # her own tree, with an init of her own
        cls.evil = os.path.join(cls.srv, 'evil')
        os.makedirs(os.path.join(cls.evil, 'sbin'))
        os.makedirs(os.path.join(cls.evil, 'rootfs', 'sbin'))
        for p in (os.path.join(cls.evil, 'sbin', 'init'), os.path.join(cls.evil, 'rootfs', 'sbin', 'init')):
            with open(p, 'w') as f:
                f.write('alice\'s init\n')
        for dirpath, dirnames, filenames in os.walk(cls.evil):
            for n in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
                os.chown(n, ALICE, ALICE)

    # -- helpers ----------------------------------------------------------

    def trusted_rootfs(self, container_id):
        """Root mounts a trusted image as rootfs alice/@container_id."""
        image = self.path(f'image-{container_id}')
        os.makedirs(os.path.join(image, 'sbin'))
        os.makedirs(os.path.join(image, 'mnt'))
        with open(os.path.join(image, 'sbin', 'init'), 'w') as f:
            f.write('root\'s init\n')
        return self.w.call('MountRootfs', 'alice', container_id, image, True)

    def assert_trusted(self, container_id, mp):
        gen, listed = self.w.call('ListRootfs', 'alice')
        self.assertIn(['alice', container_id, mp, True], [list(r) for r in listed])
        with open(os.path.join(mp, 'sbin', 'init')) as f:
            self.assertEqual(f.read(), 'root\'s init\n')
        return gen

    def root_refused(self, name, method, *args, arg=None):
        table = vcmtest.mount_table()
        tree = self.tree(self.shared)
        with self.assertRaises(DBusCallError) as cm:
            self.w.call(method, *args)
        self.assertEqual(cm.exception.name, name, str(cm.exception))
        self.assertEqual(vcmtest.mount_table(), table, f'{method}{args!r} changed the mount table')
        self.assertEqual(self.tree(self.shared), tree, f'{method}{args!r} changed the shared dir')
        if arg is not None:
            self.assertIn(arg, str(cm.exception))
        return str(cm.exception)

    def bind_fd_as(self, uid, source, dest):
        """vcmountctl bind-fd as @uid: (exit status, stderr)."""
        ctl = os.environ.get('VCM_CLIENT')
        if not ctl:
            self.skipTest('VCM_CLIENT is not set')
        p = subprocess.run(self.w.setpriv(uid) + [ctl, '--no-ask-password', 'bind-fd', source, dest,
                                                   '--read-only'],
                           env=self.w._child_env(), stdin=subprocess.DEVNULL, cwd='/',
                           capture_output=True, text=True, timeout=vcmtest.scaled(60))
        return p.returncode, p.stderr

    # -- a rootfs cannot be covered -----------------------------------------

    def test_a_bind_at_or_above_a_rootfs_is_refused(self):
        # the attack: her tree bound onto SHARED/alice/c1, above root's
        # rootfs alice/c1, would show her sbin/init at .../c1/rootfs while
        # ListRootfs still reported root's
        mp = self.trusted_rootfs('c1')
        gen = self.assert_trusted('c1', mp)
        for dest in (os.path.dirname(mp), os.path.dirname(os.path.dirname(mp)), mp):
            with self.subTest(dest=dest):
                self.refused(INVALID, 'BindMount', self.evil, dest, True, arg='destination')
                table, tree = vcmtest.mount_table(), self.tree(self.shared)
                status, err = self.bind_fd_as(ALICE, self.evil, dest)
                self.assertNotEqual(status, 0, f'bind-fd at {dest} succeeded')
                self.assertIn('destination: ', err)
                self.assertEqual(vcmtest.mount_table(), table)
                self.assertEqual(self.tree(self.shared), tree)
        self.assertEqual(self.assert_trusted('c1', mp), gen)
        self.assertEqual(self.w.get_property('Generation'), gen)

    def test_b_an_unmount_at_a_rootfs_is_refused(self):
        # Unmount is a general method: a rootfs is UnmountRootfs's
        mp = self.trusted_rootfs('c1')
        gen = self.assert_trusted('c1', mp)
        for uid in (ALICE, BOB):
            with self.subTest(uid=uid):
                self.refused(INVALID, 'Unmount', mp, uid=uid, arg='mount_point')
        self.root_refused(INVALID, 'Unmount', mp, arg='mount_point')
        self.assertEqual(self.assert_trusted('c1', mp), gen)

    def test_c_roots_general_calls_above_a_rootfs_are_refused(self):
        # root may bind on a sandbox's or container's directory (it is root),
        # but never above a rootfs, nor take one away with Unmount
        mp = self.trusted_rootfs('c1')
        gen = self.assert_trusted('c1', mp)
        for dest in (os.path.dirname(mp), os.path.dirname(os.path.dirname(mp))):
            with self.subTest(dest=dest):
                self.root_refused(INVALID, 'BindMount', self.evil, dest, True, arg='destination')
        self.assertEqual(self.assert_trusted('c1', mp), gen)

    def test_d_a_bind_on_the_layout_takes_no_rootfs_place(self):
        # a bind of root's at SHARED/alice/c9 (no rootfs there yet): the
        # rootfs of alice/c9 is then not mounted into that tree, by nobody
        cover = self.w.call('BindMount', self.evil, os.path.join(self.shared, 'alice', 'c9'), True)
        data = os.path.join(self.srv, 'data')
        self.refused(INVALID, 'MountRootfs', 'alice', 'c9', data, True, arg='sandbox_id/container_id')
        self.root_refused(INVALID, 'MountRootfs', 'alice', 'c9', data, True, arg='sandbox_id/container_id')
        self.assertEqual(self.w.call('ListRootfs', 'alice')[1], [])
        self.w.call('Unmount', cover)
        mp = self.allowed('MountRootfs', 'alice', 'c9', data, True)[0]
        self.assertEqual(mp, os.path.join(self.shared, 'alice', 'c9', 'rootfs'))

    # -- the layout is the rootfs methods' alone ------------------------------

    def test_e_a_bind_makes_no_rootfs(self):
        # SHARED/alice/c3/rootfs is where MountRootfs mounts: a bind there
        # would be taken for the rootfs of alice/c3
        dest = os.path.join(self.shared, 'alice', 'c3', 'rootfs')
        for uid in (ALICE, BOB):
            with self.subTest(uid=uid):
                self.refused(INVALID, 'BindMount', self.evil, dest, True, uid=uid, arg='destination')
        self.root_refused(INVALID, 'BindMount', self.evil, dest, True, arg='destination')
        self.assertEqual(self.w.call('ListRootfs', 'alice')[1], [])

    def test_f_sandbox_and_container_dirs_are_not_a_callers(self):
        # a caller's bind on a sandbox's or container's directory would have
        # a rootfs mounted into its tree later (or hide one): refused, also
        # where no rootfs is yet; and the unmount of root's there too
        for dest in (os.path.join(self.shared, 'alice', 'x'), os.path.join(self.shared, 'alice')):
            with self.subTest(dest=dest):
                self.refused(INVALID, 'BindMount', self.evil, dest, True, arg='destination')
        roots = self.w.call('BindMount', self.evil, os.path.join(self.shared, 'alice', 'x'), True)
        self.refused(INVALID, 'Unmount', roots, arg='mount_point')
        self.w.call('Unmount', roots)

    def test_g_a_bind_in_a_rootfs_needs_its_managers_right(self):
        # bob may bind beneath SHARED/alice/ but manages no rootfs: into
        # root's rootfs alice/c1 he would put his tree over its sbin
        mp = self.trusted_rootfs('c1')
        gen = self.assert_trusted('c1', mp)
        data = os.path.join(self.srv, 'data')
        at = self.log_offset()
        self.refused(AUTH_REQUIRED, 'BindMount', data, os.path.join(mp, 'sbin'), True, uid=BOB)
        d = self.wait_for_details(at, 'org.vc.mount.manage-rootfs')[-1]
        self.assertEqual((d['sandbox_id'], d['container_id'], d['mount_point']),
                         ('alice', 'c1', os.path.join(mp, 'sbin')))
        status, err = self.bind_fd_as(BOB, data, os.path.join(mp, 'sbin'))
        self.assertNotEqual(status, 0, 'bind-fd into the rootfs succeeded')
        self.assertEqual(self.assert_trusted('c1', mp), gen)
        # alice manages the rootfs of sandbox alice: she may (on an empty
        # directory, so that she may unmount it again)
        sub = self.allowed('BindMount', data, os.path.join(mp, 'mnt'), True)[0]
        self.refused(AUTH_REQUIRED, 'Unmount', sub, uid=BOB)
        self.assertEqual(self.allowed('Unmount', sub)[0], [sub])

    # -- the service removes only what it made ---------------------------------

    def test_h_unmount_removes_only_what_the_service_made(self):
        # the administrator made SHARED/alice (setUpClass) and
        # SHARED/alice/vol2; the service makes the rest, marked, and an
        # Unmount removes only that, also after a restart (even kill -9)
        admins = os.path.join(self.shared, 'alice', 'vol2')
        os.makedirs(admins)
        data = os.path.join(self.srv, 'data')
        a = self.allowed('BindMount', data, os.path.join(admins, 'x', 'y'), True)[0]
        b = self.allowed('BindMount', data, os.path.join(self.shared, 'alice', 'vol3', 'z'), True)[0]
        self.assertEqual(self.allowed('Unmount', a)[0], [a])
        self.assertFalse(os.path.exists(os.path.join(admins, 'x')))
        self.assertTrue(os.path.isdir(admins))
        # the marks: what the service made, not the administrator's
        self.assertEqual(os.getxattr(os.path.join(self.shared, 'alice', 'vol3'), MADE_XATTR), b'1')
        for theirs in (admins, os.path.join(self.shared, 'alice')):
            with self.assertRaises(OSError):
                os.getxattr(theirs, MADE_XATTR)
        self.w.restart_daemon(kill9=True)
        self.assertEqual(self.allowed('Unmount', b)[0], [b])
        self.assertFalse(os.path.exists(os.path.join(self.shared, 'alice', 'vol3')))
        self.assertTrue(os.path.isdir(admins))
        self.assertTrue(os.path.isdir(os.path.join(self.shared, 'alice')))

    def test_i_unmount_rootfs_keeps_the_administrators_directories(self):
        # the same for the rootfs methods: SHARED/alice is the
        # administrator's, SHARED/alice/c5 the service's
        data = os.path.join(self.srv, 'data')
        mp = self.allowed('MountRootfs', 'alice', 'c5', data, True)[0]
        self.w.restart_daemon()
        self.assertEqual(self.allowed('UnmountRootfs', 'alice', 'c5')[0], [mp])
        self.assertFalse(os.path.exists(os.path.join(self.shared, 'alice', 'c5')))
        self.assertTrue(os.path.isdir(os.path.join(self.shared, 'alice')))


if __name__ == '__main__':
    unittest.main()
