#!/usr/bin/python3
# test_attacks: the promises of the threat model, each tried by an
# unprivileged caller out to get more than a narrow polkit rule grants, against
# the real vcmountd, the real polkitd and a private system bus (vcmtest.World).
#
# The rules are the README's: the test user ("alice" below: vcmtest) may manage
# the rootfs of sandbox "alice", make read-only binds of what lies under her
# own directory SRV into its container directories beside their rootfs
# (SHARED/alice/CONTAINER/NAME..., here SHARED/alice/vol/...), and unmount
# there. Every attack ends in
# the documented error with the mount table and the host's files unchanged,
# the service still on the bus and other callers served.
#
# Promise 1 (what polkit is asked is what is done): TestWhatIsAsked.
# Promise 2 (no reach beyond the caller's own):     TestReach.
# Promise 3 (nothing invisible):                    TestNothingInvisible.
# Promise 4, 5 (bounded cost, no denial):           TestBounds, TestHeldMounts.
# Promise 6 (honest prompts):                       TestWhatIsAsked.test_prompt_*,
#                                                   and test_interactive.py.
# Promise 7 (least privilege):                      TestPrivileges.

import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from vcmtest import WorldCase, DBusCallError, top_mount  # noqa: E402

E = vcmtest.ERROR_PREFIX
INVALID, NOT_AUTHORIZED, NOT_FOUND = E + 'InvalidArgument', E + 'NotAuthorized', E + 'NotFound'
# what a call the narrow rules leave to polkit's default (auth_admin) gets
AUTH_REQUIRED = vcmtest.INTERACTIVE_AUTHORIZATION_REQUIRED
FAILED, LIMITS = E + 'Failed', E + 'LimitsExceeded'
ALICE = vcmtest.TEST_UID
BOB = vcmtest.NOBODY_UID
ATTACKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'attacker.py')
FUSE_TREE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fuse_tree.py')
DETAIL_KEYS = ['sandbox_id', 'container_id', 'source', 'mount_point', 'read_only', 'source_owned',
               'path', 'polkit.message']

# The README's narrow rules, and one that logs what every check carries.
LOG_RULE = '''
polkit.addRule(function(action, subject) {
    if (action.id.indexOf("org.vc.mount.") == 0) {
        var d = {};
        %s.forEach(function(k) { var v = action.lookup(k); if (v !== undefined) d[k] = v; });
        polkit.log("VCMDETAILS " + action.id + " " + subject.user + " " + JSON.stringify(d));
    }
});
''' % json.dumps(DETAIL_KEYS)

ALICE_RULES = '''
polkit.addRule(function(action, subject) {
    if (subject.user != "vcmtest")
        return polkit.Result.NOT_HANDLED;
    if (action.id == "org.vc.mount.manage-rootfs" && action.lookup("sandbox_id") == "alice")
        return polkit.Result.YES;
    if (action.id != "org.vc.mount.bind" || action.lookup("sandbox_id") != "alice" ||
        !action.lookup("container_id"))
        return polkit.Result.NOT_HANDLED;
    var dir = "%(shared)s/alice/" + action.lookup("container_id") + "/";
    var mp = action.lookup("mount_point") || "";
    var src = action.lookup("source");
    if (mp.indexOf(dir) != 0 || mp == dir + "rootfs" || mp.indexOf(dir + "rootfs/") == 0)
        return polkit.Result.NOT_HANDLED;
    if (src === undefined)                                       /* Unmount */
        return polkit.Result.YES;
    if (action.lookup("read_only") == "true" && src.indexOf("%(srv)s/") == 0)
        return polkit.Result.YES;
    return polkit.Result.NOT_HANDLED;
});
'''


def listmount_count():
    """The number of mounts in this mount namespace as listmount(2) counts
    them: every mount, also one whose mount point lies out of reach and that
    /proc/self/mountinfo therefore leaves out. None if the kernel lacks it."""
    libc = ctypes.CDLL(None, use_errno=True)

    class Req(ctypes.Structure):
        _fields_ = [('size', ctypes.c_uint32), ('spare', ctypes.c_uint32),
                    ('mnt_id', ctypes.c_uint64), ('param', ctypes.c_uint64)]
    total, last = 0, 0
    buf = (ctypes.c_uint64 * 4096)()
    while True:
        req = Req(ctypes.sizeof(Req), 0, 0xffffffffffffffff, last)
        n = libc.syscall(458, ctypes.byref(req), buf, len(buf), 0)
        if n < 0:
            return None
        total += n
        if n < len(buf):
            return total
        last = buf[n - 1]


def invisible_mounts():
    n = listmount_count()
    return None if n is None else n - len(vcmtest.mountinfo())


class AttackCase(WorldCase):
    """One World for the class, the rules in force, alice's own directory SRV."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.w
        cls.srv = os.path.join(w.tmp, 'srv-alice')
        os.makedirs(os.path.join(cls.srv, 'data', 'sub'))
        with open(os.path.join(cls.srv, 'data', 'hello'), 'w') as f:
            f.write('alice\n')
        for dirpath, dirnames, filenames in os.walk(cls.srv):
            for n in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
                os.chown(n, ALICE, ALICE)
        os.chmod(cls.srv, 0o755)
        cls.log_rule = w.add_rule(LOG_RULE, name='00-vcmtest-log.rules')
        cls.alice_rule = w.add_rule(ALICE_RULES % {'shared': cls.shared, 'srv': cls.srv},
                                    name='50-vcmtest-alice.rules')
        w.wait_for_rule(ALICE, 'org.vc.mount.manage-rootfs', {'sandbox_id': 'alice'})
        os.makedirs(os.path.join(cls.shared, 'alice'), exist_ok=True)

    def _clean(self):
        self.clean_world(empty_dirs=('alice',))

    # -- helpers ----------------------------------------------------------

    def alice_path(self, *parts):
        """Her bind area: a container directory of sandbox alice's, beside
        the rootfs (the README's rule)."""
        return os.path.join(self.shared, 'alice', 'vol', *parts)

    def refused(self, name, method, *args, uid=ALICE, arg=None, **kw):
        """@method as @uid fails with @name; the mount table and the shared
        dir's tree are as before. Returns the message."""
        table = vcmtest.mount_table()
        tree = self.tree(self.shared)
        ok, got, message = self.calls_as(uid, [(method,) + args], **kw)[0]
        self.assertFalse(ok, f'{method}{args!r} as {uid} succeeded ({got!r}); expected {name}')
        self.assertEqual(got, name, f'{method}{args!r}: {message}')
        self.assertEqual(vcmtest.mount_table(), table, f'{method}{args!r} changed the mount table')
        self.assertEqual(self.tree(self.shared), tree, f'{method}{args!r} changed the shared dir')
        if arg is not None:
            self.assertIn(arg, message)
        return message

    def allowed(self, method, *args, uid=ALICE, **kw):
        ok, res, message = self.calls_as(uid, [(method,) + args], **kw)[0]
        self.assertTrue(ok, f'{method}{args!r} as {uid}: {res}: {message}')
        return res

    @staticmethod
    def tree(top):
        """Every name beneath @top (not descending into mounts), with its kind."""
        out = []
        top_dev = os.lstat(top).st_dev
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames
                           if os.lstat(os.path.join(dirpath, d)).st_dev == top_dev and
                           not os.path.ismount(os.path.join(dirpath, d))]
            for n in dirnames + filenames:
                out.append(os.path.relpath(os.path.join(dirpath, n), top))
        return sorted(out)

    def details_logged(self, since, action=None):
        """The details polkit was asked with since log offset @since."""
        out = []
        for m in re.finditer(r'VCMDETAILS (\S+) (\S+) (\{.*\})', self.w.polkit_log_since(since)):
            if action is None or m.group(1) == action:
                out.append(json.loads(m.group(3)))
        return out

    def log_offset(self):
        return self.w.polkit_log_offset()

    def wait_for_details(self, since, action, count=1):
        vcmtest.wait_until(lambda: len(self.details_logged(since, action)) >= count, 30,
                           f'{count} polkit check(s) of {action} in the polkit log')
        return self.details_logged(since, action)

    def attacker(self, uid, *args, groups=None, timeout=300):
        cmd = self.w.setpriv(uid, groups=groups) + [vcmtest.PYTHON, ATTACKER, self.w.bus_address] + \
            [str(a) for a in args]
        p = subprocess.run(cmd, env=self.w._child_env(), stdin=subprocess.DEVNULL, cwd='/',
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            self.fail(f'attacker {args[0]} failed: {p.stderr}')
        return p.stdout

    def calls_as(self, uid, calls, groups=None):
        """Many calls on one connection of @uid (with the supplementary
        @groups): [(ok, result, message)], results as JSON gives them."""
        spec = json.dumps([[m, vcmtest.in_signature(m),
                            vcmtest.GLib.Variant(f'({vcmtest.in_signature(m)})', tuple(a)).print_(True)]
                           for m, *a in calls])
        with tempfile.NamedTemporaryFile('w', dir=self.w.tmp, suffix='.json', delete=False) as f:
            f.write(spec)
        os.chmod(f.name, 0o644)
        try:
            out = self.attacker(uid, 'calls', '@' + f.name, groups=groups)
        finally:
            os.unlink(f.name)
        return [json.loads(line) for line in out.splitlines()]


class TestWhatIsAsked(AttackCase):
    """Promise 1 and 6: details from resolved values, acted on as resolved."""

    def test_source_with_dotdot_is_asked_as_resolved(self):
        # /srv-alice/../<outside> matched "source under SRV/" when the rule saw
        # the raw string; the service asks with the resolved path.
        outside = self.path('readable-elsewhere')
        os.makedirs(outside, 0o755)
        raw = os.path.join(self.srv, '..', os.path.relpath(outside, self.w.tmp))
        self.refused(AUTH_REQUIRED, 'BindMount', raw, self.alice_path('x'), True)
        self.assertFalse(os.path.exists(self.alice_path('x')))

    def test_source_through_own_symlink_is_asked_as_resolved(self):
        link = os.path.join(self.srv, 'to-etc')
        os.symlink('/etc', link)
        self.addCleanup(os.unlink, link)
        at = self.log_offset()
        self.refused(AUTH_REQUIRED, 'BindMount', link, self.alice_path('etc'), True)
        self.assertEqual(self.details_logged(at, 'org.vc.mount.bind')[0]['source'], '/etc')

    def test_destination_with_dotdot_into_another_sandbox(self):
        victim = self.mp_of_root('sb2', 'c1')
        os.makedirs(os.path.join(victim, 'usr', 'bin'), exist_ok=True)
        dest = self.alice_path('..', '..', 'sb2', 'c1', 'rootfs', 'usr', 'bin')
        at = self.log_offset()
        self.refused(AUTH_REQUIRED, 'BindMount', os.path.join(self.srv, 'data'), dest, True)
        d = self.details_logged(at, 'org.vc.mount.bind')[0]
        self.assertEqual(d['mount_point'], os.path.join(self.shared, 'sb2', 'c1', 'rootfs', 'usr', 'bin'))
        self.assertEqual((d['sandbox_id'], d['container_id']), ('sb2', 'c1'))

    def test_unmount_of_another_sandbox_with_dotdot(self):
        # a rootfs is the rootfs methods' to unmount: refused before polkit
        victim = self.mp_of_root('sb2', 'c1')
        self.refused(INVALID, 'Unmount', self.alice_path('..', '..', 'sb2', 'c1', 'rootfs'),
                     arg='mount_point')
        self.refused(AUTH_REQUIRED, 'Unmount', self.alice_path('..', '..', 'sb2', 'c1', 'rootfs', 'usr'))
        self.assertIsNotNone(top_mount(victim))

    def test_preempting_another_sandboxs_rootfs(self):
        dest = self.alice_path('..', '..', 'sb3', 'c1', 'rootfs')
        self.refused(INVALID, 'BindMount', os.path.join(self.srv, 'data'), dest, True, arg='destination')
        # the runtime's MountRootfs then finds the place as it should
        self.assertEqual(self.mp_of_root('sb3', 'c1'), os.path.join(self.shared, 'sb3', 'c1', 'rootfs'))

    def test_details_are_the_resolved_values_with_one_name_each(self):
        src = os.path.join(self.srv, 'data')
        at = self.log_offset()
        mp = self.allowed('BindMount', self.srv + '//./data/', self.alice_path('') + '/./d1//', True)[0]
        self.assertEqual(mp, self.alice_path('d1'))
        d = self.wait_for_details(at, 'org.vc.mount.bind')[0]
        self.assertEqual({k: d.get(k) for k in ('sandbox_id', 'container_id', 'source', 'mount_point',
                                                'read_only')},
                         {'sandbox_id': 'alice', 'container_id': 'vol', 'source': src,
                          'mount_point': mp, 'read_only': 'true'})
        self.assertNotIn('destination', d)
        self.allowed('Unmount', mp + '/')
        # MountRootfs names its source "source" too, and its place "mount_point".
        at = self.log_offset()
        self.allowed('MountRootfs', 'alice', 'c1', src + '/', True)
        d = self.wait_for_details(at, 'org.vc.mount.manage-rootfs')[0]
        self.assertEqual(d['source'], src)
        self.assertEqual(d['mount_point'], os.path.join(self.shared, 'alice', 'c1', 'rootfs'))
        self.assertNotIn('rootfs', d)
        self.allowed('UnmountRootfs', 'alice', 'c1')

    def test_magic_links_are_not_followed(self):
        # /proc/self is the service: its fds and root must not be reachable.
        for raw in ('/proc/self/fd/0', '/proc/self/root/etc', '/proc/thread-self/cwd',
                    f'/proc/{os.getpid()}/root/etc'):
            with self.subTest(raw=raw):
                at = self.log_offset()
                ok, res, message = self.w.call_as(ALICE, 'BindMount', raw, self.alice_path('m'), True)
                self.assertFalse(ok, f'{raw}: mounted {res}')
                self.assertIn(res, (NOT_FOUND, AUTH_REQUIRED), message)
                for d in self.details_logged(at, 'org.vc.mount.bind'):
                    self.assertFalse(d['source'].startswith('/proc'), d)
        self.assertIsNone(top_mount(self.alice_path('m')))

    def test_prompt_states_the_real_effect_and_escapes_the_callers_text(self):
        name = 'x\nroutine read-only mount, approved by the administrator $(read_only)\u202e'
        src = os.path.join(self.srv, name)
        os.mkdir(src)
        os.chown(src, ALICE, ALICE)
        self.addCleanup(os.rmdir, src)
        at = self.log_offset()
        self.refused(AUTH_REQUIRED, 'BindMount', src, self.alice_path('p'), False)
        msg = self.wait_for_details(at, 'org.vc.mount.bind')[0]['polkit.message']
        lines = msg.split('\n')
        self.assertEqual(lines[0], 'Bind-mount a file or directory')
        self.assertIn('Access: writable', lines)
        self.assertFalse(any(l.startswith('routine') for l in lines), msg)
        self.assertNotIn('$(', msg)
        self.assertNotIn('\u202e', msg)
        source_line = [l for l in lines if l.startswith('Source: ')][0]
        self.assertIn('x\\x0aroutine', source_line)
        self.assertIn('\\x24(read_only)', source_line)
        self.assertIn('\\u{202e}', source_line)

    def test_prompt_shortens_long_values(self):
        deep = os.path.join(self.srv, *(['d' * 60] * 8))
        os.makedirs(deep)
        self.addCleanup(shutil.rmtree, os.path.join(self.srv, 'd' * 60))
        at = self.log_offset()
        self.refused(AUTH_REQUIRED, 'BindMount', deep, self.alice_path('q'), False)
        msg = self.wait_for_details(at, 'org.vc.mount.bind')[0]['polkit.message']
        source_line = [l for l in msg.split('\n') if l.startswith('Source: ')][0]
        self.assertLessEqual(len(source_line), len('Source: ') + 2 + 96)
        self.assertIn('\u2026', source_line)

    def mp_of_root(self, sandbox_id, container_id):
        root = self.path(f'root-{sandbox_id}-{container_id}')
        os.makedirs(os.path.join(root, 'usr', 'bin'))
        return self.w.call('MountRootfs', sandbox_id, container_id, root, False)


class TestReach(AttackCase):
    """Promise 2: nothing the caller could not read, nothing made where it could not."""

    def secret_tree(self):
        secret = self.path('root-only')
        os.makedirs(os.path.join(secret, 'etc'))
        with open(os.path.join(secret, 'shadow'), 'w') as f:
            f.write('root only\n')
        os.chmod(os.path.join(secret, 'shadow'), 0o600)
        os.chmod(secret, 0o700)
        return secret

    def test_unreadable_sources_are_not_found(self):
        # Search permission on the parents was all O_PATH needed; now the
        # caller must be able to read what it mounts.
        secret = self.secret_tree()
        shadow_like = self.path('shadow-like')
        with open(shadow_like, 'w') as f:
            f.write('root only\n')
        os.chmod(shadow_like, 0o600)
        unreadable_dir = self.path('no-read')
        os.makedirs(unreadable_dir, 0o711)
        os.chmod(unreadable_dir, 0o711)
        for src in (shadow_like, unreadable_dir, secret, os.path.join(secret, 'shadow')):
            with self.subTest(src=src):
                self.refused(NOT_FOUND, 'MountRootfs', 'alice', 'c1', src, True, arg='rootfs')
        # the same answer as for a path that does not exist
        _, _, m1 = self.w.call_as(ALICE, 'MountRootfs', 'alice', 'c1', shadow_like, True)
        _, _, m2 = self.w.call_as(ALICE, 'MountRootfs', 'alice', 'c1', shadow_like + '-nope', True)
        self.assertEqual(m1.replace(shadow_like, 'P'), m2.replace(shadow_like + '-nope', 'P'))

    def test_writable_only_what_the_caller_owns(self):
        # What uses the shared dir (a sandbox's virtiofsd, running as root)
        # writes with root's rights: alice's rule lets her mount "/", /etc or
        # another sandbox's rootfs, but writable only with the write-foreign
        # action too (auth_admin, which her rules do not grant); read-only, or
        # of a tree she owns, her rule is enough.
        other = self.path('other-rootfs')
        os.makedirs(os.path.join(other, 'etc'))
        other_mp = self.w.call('MountRootfs', 'sb2', 'c1', other, False)
        since = self.log_offset()
        for src in ('/', '/etc', other_mp):
            with self.subTest(src=src):
                self.refused(AUTH_REQUIRED, 'MountRootfs', 'alice', 'c1', src, False)
        details = self.wait_for_details(since, 'org.vc.mount.write-foreign', 3)
        self.assertEqual({d['source'] for d in details}, {'/', '/etc', other_mp})
        self.assertEqual({(d['read_only'], d['source_owned']) for d in details}, {('false', 'false')})
        # asked only after the method's own action allowed it
        self.assertEqual(len(self.details_logged(since, 'org.vc.mount.manage-rootfs')), 3)
        mp = self.allowed('MountRootfs', 'alice', 'c1', '/', True)[0]
        self.assertIn('ro', top_mount(mp)['options'])
        self.allowed('UnmountRootfs', 'alice', 'c1')
        own = os.path.join(self.srv, 'data')
        mp = self.allowed('MountRootfs', 'alice', 'c1', own, False)[0]
        self.assertNotIn('ro', top_mount(mp)['options'])
        self.allowed('UnmountRootfs', 'alice', 'c1')
        self.w.call('UnmountRootfs', 'sb2', 'c1')

    def hide_under_tmpfs(self, where):
        """Root hides a file (readable by all) at @where/secret under a 0700
        tmpfs mounted on @where. Returns the hidden file's path."""
        os.makedirs(where, exist_ok=True)
        secret = os.path.join(where, 'secret')
        with open(secret, 'w') as f:
            f.write('hidden by root\n')
        os.chmod(secret, 0o644)
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'mode=0700', 'vcmtest-hide', where], check=True)
        self.addCleanup(shutil.rmtree, where, ignore_errors=True)
        self.addCleanup(subprocess.run, ['umount', '-l', where], capture_output=True)
        return secret

    def alice_reads(self, path):
        p = subprocess.run(self.w.setpriv(ALICE) + ['cat', path], capture_output=True, text=True)
        return p.stdout if p.returncode == 0 else None

    def test_a_bind_never_uncovers_what_its_source_hides(self):
        # Root hides a file under a 0700 tmpfs, in a tree alice may mount (by
        # her rootfs rule) and in her own directory (by her bind rule). A
        # bind of the parent shows what the mount in it shows, never what it
        # covers, and she cannot unmount that submount on its own.
        pub = self.path('pub')
        secret = self.hide_under_tmpfs(os.path.join(pub, 'hide'))
        own_secret = self.hide_under_tmpfs(os.path.join(self.srv, 'data', 'cover'))
        self.assertIsNone(self.alice_reads(secret))
        self.assertIsNone(self.alice_reads(own_secret))
        mp = self.allowed('MountRootfs', 'alice', 'c1', pub, True)[0]
        bmp = self.allowed('BindMount', os.path.join(self.srv, 'data'), self.alice_path('b'), True)[0]
        for top in (mp, bmp):
            through = os.path.join(top, 'hide' if top == mp else 'cover')
            with self.subTest(top=top):
                self.assertIsNone(self.alice_reads(os.path.join(through, 'secret')),
                                  f'{through}/secret: read through the bind')
                # in a rootfs the README's bind rule grants nothing (the layout
                # is the rootfs methods'); beside it the service refuses
                if top == mp:
                    self.refused(AUTH_REQUIRED, 'Unmount', through)
                else:
                    self.refused(INVALID, 'Unmount', through, arg='mount_point')
                self.assertIsNone(self.alice_reads(os.path.join(through, 'secret')))
        self.allowed('Unmount', bmp)
        self.allowed('UnmountRootfs', 'alice', 'c1')

    def test_nothing_learnt_or_covered_in_a_tree_the_caller_cannot_look_into(self):
        # root bound a root-only tree into alice's part; she cannot list it,
        # and the service looks into it as she would: existing and missing
        # names answer alike, and she covers nothing in it.
        secret = self.secret_tree()
        self.w.call('BindMount', secret, self.alice_path('host'), False)
        data = os.path.join(self.srv, 'data')
        hello = os.path.join(data, 'hello')
        answers = set()
        for name, src in (('etc', data), ('shadow', hello), ('missing', data), ('missing', hello)):
            ok, res, message = self.w.call_as(ALICE, 'BindMount', src, self.alice_path('host', name), True)
            self.assertFalse(ok, f'{name}: mounted in a tree alice cannot look into')
            answers.add((res, message.replace(name, 'NAME')))
        self.assertEqual(len(answers), 1, answers)
        self.assertEqual(self.w.mounts_beneath(self.alice_path('host'), inclusive=False), [])

    def test_the_services_own_proc_entries_are_not_a_source(self):
        # /proc/self is vcmountd: its fds and maps pass a read check that
        # exempts the process itself, and are not a caller's to mount.
        for raw in ('/proc/self/fd', '/proc/self/fdinfo', '/proc/thread-self/fd',
                    f'/proc/{self.w.daemon_pid}/fd', '/proc/self/map_files'):
            with self.subTest(raw=raw):
                ok, res, message = self.w.call_as(ALICE, 'MountRootfs', 'alice', 'c1', raw, True)
                self.assertFalse(ok, f'{raw}: mounted')
                self.assertIn(res, (INVALID, NOT_FOUND), message)
        self.assertEqual(self.w.call('ListRootfs', '')[1], [])

    def test_a_source_whose_path_is_not_utf8(self):
        # alice's UTF-8 link leads to a directory whose name is not UTF-8:
        # refused (a rule could not be shown it), and the service lives on.
        raw = os.path.join(self.srv.encode(), b'bad-\xff')
        os.mkdir(raw)
        os.chown(raw, ALICE, ALICE)
        self.addCleanup(os.rmdir, raw)
        link = os.path.join(self.srv, 'to-bad')
        os.symlink(raw, link.encode())
        self.addCleanup(os.unlink, link)
        message = self.refused(INVALID, 'MountRootfs', 'alice', 'c1', link, True, arg='rootfs')
        self.assertIn('UTF-8', message)
        self.refused(INVALID, 'MountRootfs', 'sb9', 'c1', link, True, uid=BOB, arg='rootfs')
        self.assertTrue(self.w.daemon_running())

    def test_another_sandboxs_private_rootfs(self):
        victim_src = self.secret_tree()
        mp = self.w.call('MountRootfs', 'sb2', 'c1', victim_src, False)
        self.refused(NOT_FOUND, 'MountRootfs', 'alice', 'c1', mp, True)

    def test_groups_come_from_the_bus_not_the_user_database(self):
        # alice is in TEST_GROUP per /etc/group; a process of hers that
        # dropped it does not get the group's access through the service.
        gsrc = self.path('group-only')
        os.makedirs(gsrc)
        os.chown(gsrc, 0, vcmtest.TEST_GROUP_GID)
        os.chmod(gsrc, 0o750)
        self.refused(NOT_FOUND, 'MountRootfs', 'alice', 'c1', gsrc, True)
        res = self.allowed('MountRootfs', 'alice', 'c1', gsrc, True, groups=[vcmtest.TEST_GROUP_GID])
        self.assertEqual(res[0], os.path.join(self.shared, 'alice', 'c1', 'rootfs'))
        self.allowed('UnmountRootfs', 'alice', 'c1')

    def test_nothing_is_made_in_a_tree_the_caller_cannot_write(self):
        # Root put a root-only host directory and a root-owned 0755 one in
        # alice's part of the shared dir.
        secret = self.secret_tree()
        pub = self.path('root-0755')
        os.makedirs(pub)
        self.w.call('BindMount', secret, self.alice_path('host'), False)
        self.w.call('BindMount', pub, self.alice_path('pub'), False)
        before_secret, before_pub = self.tree(secret), self.tree(pub)
        data = os.path.join(self.srv, 'data')
        for dest in (self.alice_path('host', 'newdir'), self.alice_path('host', 'etc', 'newdir'),
                     self.alice_path('pub', 'newdir', 'deeper')):
            with self.subTest(dest=dest):
                ok, res, message = self.w.call_as(ALICE, 'BindMount', data, dest, True)
                self.assertFalse(ok, f'{dest}: mounted')
                self.assertIn(res, (FAILED, NOT_FOUND, INVALID), message)
        file_src = os.path.join(self.srv, 'data', 'hello')
        ok, res, message = self.w.call_as(ALICE, 'BindMount', file_src, self.alice_path('pub', 'f'), True)
        self.assertFalse(ok)
        self.assertEqual(self.tree(secret), before_secret)
        self.assertEqual(self.tree(pub), before_pub)

    def test_nothing_is_made_in_the_callers_own_tree_either(self):
        # Inside a mount alice can write, what the service makes would be hers
        # to move: refused (promise 3), and what it made is gone again.
        self.w.call('BindMount', self.srv, self.alice_path('own'), False)
        before = self.tree(self.srv)
        message = self.refused(INVALID, 'BindMount', os.path.join(self.srv, 'data'),
                               self.alice_path('own', 'newdir'), True, arg='destination')
        self.assertIn('others than root may write', message)
        self.assertEqual(self.tree(self.srv), before)


class TestNothingInvisible(AttackCase):
    """Promise 3: a mount lies where it is reported, visible, beneath the shared dir."""

    def fuse_tree(self):
        """alice's FUSE filesystem at SRV/fuse, whose directories a, a/b and
        a/b/c say they are root's, 0755. Returns (mount point, server)."""
        mnt = os.path.join(self.srv, 'fuse')
        os.makedirs(mnt, exist_ok=True)
        server = subprocess.Popen([vcmtest.PYTHON, FUSE_TREE, mnt, str(ALICE)], stdout=subprocess.PIPE,
                                  text=True)
        self.addCleanup(os.rmdir, mnt)
        self.addCleanup(lambda: vcmtest.umount(mnt))
        self.addCleanup(server.wait)
        self.addCleanup(server.kill)
        self.assertEqual(server.stdout.readline().strip(), 'ready')
        st = os.stat(os.path.join(mnt, 'a', 'b'))
        self.assertEqual((st.st_uid, st.st_mode & 0o7777), (0, 0o755))
        return mnt, server

    def test_nothing_is_mounted_on_or_beneath_a_filesystem_the_caller_controls(self):
        # alice's FUSE says its directories are root's, 0755: she binds a
        # subtree of it into her area (a read-only bind of something of hers:
        # allowed), then tries to bind beneath that bind, and on it. Her
        # server could rename "a" at any moment (it does, below), and a mount
        # beneath would drop out of mountinfo and out of the service's sight.
        mnt, server = self.fuse_tree()
        f = self.allowed('BindMount', os.path.join(mnt, 'a'), self.alice_path('f'), True)[0]
        self.assertEqual(os.stat(os.path.join(f, 'b')).st_uid, 0)
        data = os.path.join(self.srv, 'data')
        for dest in (os.path.join(f, 'b'), os.path.join(f, 'b', 'c'), f):
            with self.subTest(dest=dest):
                message = self.refused(INVALID, 'BindMount', data, dest, True, arg='destination')
                self.assertRegex(message, 'FUSE|root of a mount')
        before = invisible_mounts()
        server.send_signal(signal.SIGUSR1)  # her server "renames" a
        self.assertFalse(os.path.exists(os.path.join(mnt, 'a', 'b')))
        self.assertEqual(invisible_mounts(), before)
        self.allowed('Unmount', f)

    def test_mount_points_in_a_tree_the_caller_can_rename_are_refused(self):
        self.w.call('BindMount', self.srv, self.alice_path('own'), False)
        os.makedirs(os.path.join(self.srv, 'x'), exist_ok=True)
        os.chown(os.path.join(self.srv, 'x'), ALICE, ALICE)
        self.addCleanup(shutil.rmtree, os.path.join(self.srv, 'x'), True)
        self.refused(INVALID, 'BindMount', os.path.join(self.srv, 'data'), self.alice_path('own', 'x'),
                     True, arg='destination')

    def test_a_tree_the_caller_owns_is_refused_even_read_only(self):
        # alice makes her own directories read-only before she asks, then
        # would make them writable again and rename: what she owns never
        # counts as fixed, whatever its mode at the time of the call.
        self.w.call('BindMount', os.path.join(self.srv, 'data'), self.alice_path('own'), True)
        a = os.path.join(self.srv, 'data', 'a')
        os.makedirs(a, exist_ok=True)
        os.chown(a, ALICE, ALICE)
        self.addCleanup(shutil.rmtree, a, True)
        for d in (os.path.join(self.srv, 'data'), a):
            os.chmod(d, 0o555)
        self.addCleanup(os.chmod, os.path.join(self.srv, 'data'), 0o755)
        self.refused(INVALID, 'BindMount', os.path.join(self.srv, 'data', 'sub'),
                     self.alice_path('own', 'a'), True, arg='destination')

    def test_a_tree_writable_through_a_group_is_refused_without_it(self):
        # root's directory, writable by a group alice is in; alice asks from a
        # process without the group (so it cannot write it now), and could
        # rename from another that has it.
        gdir = self.path('group-writable')
        os.makedirs(os.path.join(gdir, 'm'))
        os.chown(gdir, 0, vcmtest.TEST_GROUP_GID)
        os.chmod(gdir, 0o775)
        self.w.call('BindMount', gdir, self.alice_path('grp'), False)
        self.refused(INVALID, 'BindMount', os.path.join(self.srv, 'data'), self.alice_path('grp', 'm'),
                     True, arg='destination')

    def start_swapper(self, directory, a, b, stopfile):
        """alice's swapper (attacker.py swap), once it is exchanging: the
        race starts with the attacker at work, however it was scheduled."""
        swapper = subprocess.Popen(self.w.setpriv(ALICE) + [vcmtest.PYTHON, ATTACKER, '-', 'swap',
                                                           directory, a, b, stopfile],
                                   stdout=subprocess.PIPE, text=True, env=self.w._child_env())
        line = swapper.stdout.readline()
        if line != 'started\n':
            swapper.kill()
            swapper.wait()
            self.fail(f'the swapper did not start: {line!r}')
        return swapper

    @staticmethod
    def swaps_of(swapper):
        """The number of exchanges the swapper made (it stops at its stop file)."""
        out = swapper.communicate(timeout=vcmtest.scaled(60))[0]
        return int(out.split()[-1]) if out.split() else 0

    def test_destination_rename_race(self):
        # alice exchanges two directories of her own tree, bound into her part
        # of the shared dir, as fast as she can while she asks for mounts in
        # them: thousands of attempts, nothing mounted out of sight.
        self.w.call('BindMount', self.srv, self.alice_path('own'), False)
        for d in ('a', 'b'):
            os.makedirs(os.path.join(self.srv, d, 'm'), exist_ok=True)
            for p in (os.path.join(self.srv, d), os.path.join(self.srv, d, 'm')):
                os.chown(p, ALICE, ALICE)
        self.addCleanup(lambda: [shutil.rmtree(os.path.join(self.srv, d), True) for d in 'ab'])
        stop = os.path.join(self.w.tmp, 'stop-swap')
        swapper = self.start_swapper(self.srv, 'a', 'b', stop)
        invisible_before = invisible_mounts()
        try:
            n = 2000
            results = self.calls_as(ALICE, [('BindMount', os.path.join(self.srv, 'data'),
                                             self.alice_path('own', 'a', 'm'), True)] * n)
        finally:
            open(stop, 'w').close()
            swaps = self.swaps_of(swapper)
            os.unlink(stop)
        ok = [r for r in results if r[0]]
        self.assertEqual(len(results), n)
        self.assertGreater(swaps, 0)
        self.assertEqual(ok, [], f'{len(ok)} of {n} mounts were made in a tree alice can rename')
        self.assertEqual({r[1] for r in results} - {INVALID, NOT_FOUND}, set(), results[:3])
        self.assertEqual(self.w.mounts_beneath(self.alice_path('own'), inclusive=False), [])
        if invisible_before is not None:
            self.assertEqual(invisible_mounts(), invisible_before, 'a mount went out of sight')
        print(f'# destination race: {n} attempts, {swaps} exchanges, 0 mounts, 0 escapes')

    def test_source_swap_race(self):
        # alice exchanges her source with a symlink to a root-only tree while
        # asking for read-only binds of it: what is mounted is always hers.
        secret = self.path('secret')
        os.makedirs(secret)
        with open(os.path.join(secret, 'hello'), 'w') as f:
            f.write('root only\n')
        os.chmod(secret, 0o700)
        src_dir = os.path.join(self.srv, 'race')
        os.makedirs(src_dir, exist_ok=True)
        os.chown(src_dir, ALICE, ALICE)
        real = os.path.join(src_dir, 'src')
        os.makedirs(real, exist_ok=True)
        with open(os.path.join(real, 'hello'), 'w') as f:
            f.write('alice\n')
        os.symlink(secret, os.path.join(src_dir, 'evil'))
        for p in (real, os.path.join(real, 'hello')):
            os.chown(p, ALICE, ALICE)
        os.lchown(os.path.join(src_dir, 'evil'), ALICE, ALICE)
        self.addCleanup(shutil.rmtree, src_dir, True)
        stop = os.path.join(self.w.tmp, 'stop-swap-src')
        swapper = self.start_swapper(src_dir, 'src', 'evil', stop)
        n, mounted, escapes = 1000, 0, 0
        try:
            for i in range(0, n, 100):
                calls = []
                for j in range(i, i + 100):
                    calls.append(('BindMount', real, self.alice_path(f's{j}'), True))
                for j, r in enumerate(self.calls_as(ALICE, calls), i):
                    if r[0]:
                        mounted += 1
                        with open(os.path.join(self.alice_path(f's{j}'), 'hello')) as f:
                            if f.read() != 'alice\n':
                                escapes += 1
                    else:
                        self.assertIn(r[1], (NOT_FOUND, AUTH_REQUIRED), r)
                self.w.unmount_all_beneath(self.alice_path(''))
        finally:
            open(stop, 'w').close()
            swaps = self.swaps_of(swapper)
            os.unlink(stop)
        self.assertGreater(swaps, 0)
        self.assertGreater(mounted, 0, 'the race never let a call through')
        self.assertEqual(escapes, 0, f'{escapes} of {mounted} mounts showed the root-only tree')
        print(f'# source race: {n} attempts, {swaps} exchanges, {mounted} mounted, {escapes} escapes')

    def test_staging_dir_is_the_services_own(self):
        for dest in (os.path.join(self.shared, '.vcm-staging'),
                     os.path.join(self.shared, '.vcm-staging', 'm1')):
            with self.subTest(dest=dest):
                with self.assertRaises(DBusCallError) as cm:
                    self.w.call('BindMount', self.path(), dest, False)
                self.assertEqual(cm.exception.name, INVALID)


class TestBounds(AttackCase):
    """Promises 4 and 5: bounded cost before authorization; nobody holds up others."""

    def test_oversized_arguments_are_refused_before_polkit(self):
        at = self.log_offset()
        rss = self.daemon_rss_kib()
        for big in ('/' + 'a' * 4096, '/' + 'b/' * 300000):
            with self.subTest(size=len(big)):
                self.refused(INVALID, 'BindMount', big, self.alice_path('o'), True, uid=BOB)
                self.refused(INVALID, 'MountRootfs', 'alice', 'c1', big, True, uid=BOB)
        self.refused(INVALID, 'MountRootfs', 'x' * 200000, 'c1', '/', True, uid=BOB)
        # nothing of them reached polkit (the log rule sees every check)
        self.assertEqual(self.details_logged(at), [])
        self.assertLess(self.daemon_rss_kib() - rss, 16 * 1024)
        self.assertTrue(self.w.daemon_running())

    def test_mounts_one_call_adds_are_bounded(self):
        """A caller's bind is recursive: a rootfs whose source is her
        sandbox's directory copies every mount already in it, so each
        MountRootfs of it doubles the mounts there (17 calls would fill the
        service's mount namespace to fs.mount-max, and nobody could mount
        anything in it). One call brings at most 256 mounts along: the
        doubling stops there, refused, with nothing left of it."""
        sandbox = os.path.join(self.shared, 'alice')
        first = self.path('first')
        os.mkdir(first, 0o755)
        self.allowed('MountRootfs', 'alice', 'c0', first, True)
        for k in range(1, 12):
            before = len(self.w.mounts_beneath(sandbox))
            if before >= 256:
                break
            self.allowed('MountRootfs', 'alice', f'c{k}', sandbox, True)
            self.assertEqual(len(self.w.mounts_beneath(sandbox)), 2 * before + 1)
        self.assertEqual(before, 511)
        message = self.refused(LIMITS, 'MountRootfs', 'alice', f'c{k + 1}', sandbox, True,
                               arg='source:')
        self.assertIn('256', message)
        self.assertTrue(self.w.daemon_running())

    def daemon_rss_kib(self):
        with open(f'/proc/{self.w.daemon_pid}/status') as f:
            return int(re.search(r'VmRSS:\s+(\d+)', f.read()).group(1))

    def flood(self, uid, n, call, interactive=False, agent=False):
        method, *args = call
        sig = vcmtest.in_signature(method)
        spec = json.dumps([method, sig, vcmtest.GLib.Variant(f'({sig})', tuple(args)).print_(True)])
        extra = (['--interactive'] if interactive else []) + (['--agent'] if agent else [])
        cmd = self.w.setpriv(uid) + [vcmtest.PYTHON, ATTACKER, self.w.bus_address, 'flood', str(n),
                                     spec] + extra
        return subprocess.Popen(cmd, env=self.w._child_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd='/', text=True)

    @staticmethod
    def _next(proc, what):
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f'the attacker ended before {what}: {proc.stderr.read()}')
        return json.loads(line)

    def replies_until(self, proc, name, count, timeout=120):
        """Reads the attacker's replies until @count of them are @name (the
        event the test needs); returns every reply seen so far, counted."""
        seen = {}
        deadline = time.monotonic() + vcmtest.scaled(timeout)
        while seen.get(name, 0) < count:
            self.assertLess(time.monotonic(), deadline, f'waiting for {count} x {name}: {seen}')
            obj = self._next(proc, f'{count} x {name} (seen {seen})')
            self.assertIn('reply', obj, obj)
            seen[obj['reply']] = seen.get(obj['reply'], 0) + 1
        return seen

    def final(self, proc):
        """Every reply of the attacker, counted, once all are in."""
        while True:
            obj = self._next(proc, 'its final line')
            if 'final' in obj:
                return obj['final']

    def freeze_polkitd(self):
        """SIGSTOPs polkitd (every check waits); returns the function that
        resumes it, also registered as a cleanup."""
        pid = self.w.polkitd_pid
        os.kill(pid, signal.SIGSTOP)
        resumed = [False]

        def resume():
            if not resumed[0]:
                os.kill(pid, signal.SIGCONT)
                resumed[0] = True
        self.addCleanup(resume)
        return resume

    def test_pending_checks_are_bounded_per_caller(self):
        # polkitd hangs: every check waits. bob sends 70 calls at once: 64
        # are taken (8 checks wait for polkit, the rest their turn), the
        # rest refused at once.
        resume = self.freeze_polkitd()
        # (a call that names no path of the caller's: only the bound on
        # waiting checks applies, not the one on paths being resolved)
        bob = self.flood(BOB, 70, ('UnmountRootfs', 'bob', 'c1'))
        seen = self.replies_until(bob, LIMITS, 70 - 64)
        self.assertEqual(seen, {LIMITS: 6})
        # alice is another caller: her checks are still taken (and wait too)
        alice = self.flood(ALICE, 3, ('UnmountRootfs', 'sb9', 'c1'))
        # root is never held up
        self.assertIs(self.w.call('IsSystemMount', '/proc'), True)
        resume()
        final = self.final(bob)
        self.assertEqual(sum(final.values()), 70)
        self.assertEqual(final.get(LIMITS), 6, final)
        final = self.final(alice)
        self.assertEqual(sum(final.values()), 3)
        self.assertNotIn(LIMITS, final)
        for p in (bob, alice):
            p.wait(timeout=vcmtest.scaled(60))
        self.assertTrue(self.w.daemon_running())

    def test_a_silent_agent_holds_up_nobody_else(self):
        # bob registers an authentication agent that never answers and sends
        # interactive calls: at most two of them wait; the rest are refused at
        # once, and alice's calls are decided as usual meanwhile.
        bob = self.flood(BOB, 30, ('UnmountRootfs', 'bob', 'c1'), interactive=True, agent=True)
        self.assertEqual(self.replies_until(bob, LIMITS, 28), {LIMITS: 28})
        started = time.monotonic()
        res = self.allowed('MountRootfs', 'alice', 'c1', os.path.join(self.srv, 'data'), True)
        self.assertEqual(res[0], os.path.join(self.shared, 'alice', 'c1', 'rootfs'))
        self.allowed('UnmountRootfs', 'alice', 'c1')
        self.refused(AUTH_REQUIRED, 'MountRootfs', 'sb9', 'c1', os.path.join(self.srv, 'data'), True)
        print(f'# alice served in {time.monotonic() - started:.2f} s while bob\'s agent stayed silent')
        bob.kill()
        bob.wait(timeout=vcmtest.scaled(30))
        self.assertTrue(self.w.daemon_running())


    def test_a_hung_filesystem_holds_up_nobody_else(self):
        # alice names paths on a filesystem that never answers (a FUSE server
        # of hers, or a hung network mount): resolving them as alice holds up
        # a worker thread each, at most 4 of hers; 60 more of her calls wait
        # their turn, the rest are refused at once, and everyone else is
        # served meanwhile.
        mnt, server = self.hung_filesystem('hung')
        alice = self.flood(ALICE, 66, ('DescribePath', os.path.join(mnt, 'x')))
        self.assertEqual(self.replies_until(alice, LIMITS, 2), {LIMITS: 2})
        # root and bob go through; alice, with 64 calls in progress, is
        # refused at once whatever she calls
        self.assertIs(self.w.call('IsSystemMount', '/proc'), True)
        self.assertEqual(self.w.call('ListRootfs', '')[1], [])
        ok, res, message = self.w.call_as(BOB, 'DescribePath', '/')
        self.assertTrue(ok, message)
        self.refused(LIMITS, 'IsDeviceMapper', 1, 1)
        self.refused(LIMITS, 'MountRootfs', 'alice', 'c1', os.path.join(self.srv, 'data'), True)
        # the server goes away: the held lookups fail, the calls are answered
        server.kill()
        final = self.final(alice)
        self.assertEqual(sum(final.values()), 66, final)
        self.assertEqual(final.get(LIMITS), 2, final)
        self.assertNotIn('ok', final)
        alice.wait(timeout=vcmtest.scaled(60))
        mp = self.allowed('MountRootfs', 'alice', 'c1', os.path.join(self.srv, 'data'), True)[0]
        self.assertEqual(mp, os.path.join(self.shared, 'alice', 'c1', 'rootfs'))
        self.allowed('UnmountRootfs', 'alice', 'c1')
        self.assertTrue(self.w.daemon_running())


    def test_a_users_calls_beyond_its_threads_wait_their_turn(self):
        # a user's calls beyond the 4 threads it may hold wait, in order,
        # instead of being refused: an agent starting 8 containers at once
        # (as many as may wait for polkit) is served, not told to retry.
        alice = self.flood(ALICE, 8, ('DescribePath', self.srv))
        final = self.final(alice)
        self.assertEqual(final, {'ok': 8})
        alice.wait(timeout=vcmtest.scaled(60))

    def test_stopping_answers_calls_waiting_for_a_thread(self):
        # alice's 4 threads hang on her FUSE server, 60 calls wait their
        # turn; the service is told to stop: the waiting calls are answered
        # at once, the held ones when their lookups fail, and it exits 0.
        self.w.mark_logs()
        self.addCleanup(lambda: self.w.daemon_running() or self.w.start_daemon())
        mnt, server = self.hung_filesystem('hung-stop')
        alice = self.flood(ALICE, 65, ('DescribePath', os.path.join(mnt, 'x')))
        self.assertEqual(self.replies_until(alice, LIMITS, 1), {LIMITS: 1})
        stopping = 'org.vc.Mount.Error.Failed'
        os.kill(self.w.daemon_pid, signal.SIGTERM)
        # the waiting ones at once, while the 4 threads are still held
        self.assertEqual(self.replies_until(alice, stopping, 60), {stopping: 60})
        server.kill()
        self.assertEqual(self.final(alice), {LIMITS: 1, stopping: 64})
        alice.wait(timeout=vcmtest.scaled(60))
        status = self.w.wait_daemon_exit()
        self.assertEqual(status, 0, '\n'.join(vcmtest._tail(self.w.daemon_log)))
        log = self.w.logs_text(since_mark=True)
        self.assertNotIn('Sanitizer', log)
        self.assertNotIn('CRITICAL', log)

    def test_stopping_with_checks_and_reads_in_flight(self):
        # Every check waits (polkitd hangs) while a rootfs made behind the
        # service's back keeps changing, so the watch reads in worker threads;
        # then the service is stopped. Every call in flight is answered, the
        # daemon exits 0, and (in the sanitizer build) clean: no use of what
        # shutdown freed, no leak.
        self.w.mark_logs()
        self.addCleanup(lambda: self.w.daemon_running() or self.w.start_daemon())
        self.freeze_polkitd()
        stop = threading.Event()
        rootfs = os.path.join(self.shared, 'alice', 'churn', 'rootfs')
        os.makedirs(rootfs, exist_ok=True)
        churned = [0]

        def churn():
            while not stop.is_set():
                vcmtest.mount('tmpfs', rootfs, 'tmpfs')
                vcmtest.umount(rootfs)
                churned[0] += 1
        t = threading.Thread(target=churn)
        t.start()
        self.addCleanup(t.join)
        self.addCleanup(stop.set)
        bob = self.flood(BOB, 68, ('UnmountRootfs', 'bob', 'c1'))
        self.assertEqual(self.replies_until(bob, LIMITS, 4), {LIMITS: 4})   # 8 wait, 56 their turn
        alice = self.flood(ALICE, 66, ('UnmountRootfs', 'alice', 'c1'))
        self.assertEqual(self.replies_until(alice, LIMITS, 2), {LIMITS: 2})   # 8 wait, 56 their turn
        # the watch has followed changes meanwhile: the service answers root
        # with what it knows while the checks wait
        vcmtest.wait_until(lambda: churned[0] >= 20, vcmtest.scaled(60), 'the foreign rootfs to change 20 times')
        self.assertEqual(self.w.call('ListRootfs', 'nobody')[1], [])
        status = self.w.stop_daemon(check=False)
        stop.set()
        self.assertEqual(status, 0, '\n'.join(vcmtest._tail(self.w.daemon_log)))
        stopping = 'org.vc.Mount.Error.Failed'
        self.assertEqual(self.final(bob), {LIMITS: 4, stopping: 64})
        self.assertEqual(self.final(alice), {LIMITS: 2, stopping: 64})
        log = self.w.logs_text(since_mark=True)
        self.assertNotIn('Sanitizer', log)
        self.assertNotIn('CRITICAL', log)


class TestHeldMounts(AttackCase):
    """Promise 5: one user's mounts cannot fill the service's mount namespace.
    Each MountRootfs of alice's brings at most 256 mounts (TestBounds), but
    nothing counted the mounts she holds: call after call she could reach the
    kernel's fs.mount-max (100000) in the service's namespace, after which
    nobody, root included, could mount anything. She holds at most 4096,
    the submounts that came with each mount counted, across a restart."""

    MAX_HELD = 4096
    TREE = 256  # the tree's top and its 255 submounts: the most one call brings

    def make_tree(self, top=None):
        """A directory of alice's (@top, else in the scratch dir) with TREE - 1
        submounts (binds of her own subdirectories onto themselves, made by
        root in this namespace, undone at the end of the test)."""
        libc = ctypes.CDLL(None, use_errno=True)
        top = top or self.path('tree')
        os.mkdir(top, 0o755)

        def undo():
            for i in range(self.TREE - 1):
                subprocess.run(['umount', '-l', os.path.join(top, f's{i}')], capture_output=True)
            shutil.rmtree(top, ignore_errors=True)
        self.addCleanup(undo)
        os.chown(top, ALICE, ALICE)
        for i in range(self.TREE - 1):
            d = os.path.join(top, f's{i}')
            os.mkdir(d, 0o755)
            os.chown(d, ALICE, ALICE)
            if libc.mount(d.encode(), d.encode(), None, 4096, None) != 0:  # MS_BIND
                raise OSError(ctypes.get_errno(), f'bind {d}')
        return top

    def daemon_read_bytes(self):
        with open(f'/proc/{self.w.daemon_pid}/io') as f:
            return int(re.search(r'^rchar: (\d+)', f.read(), re.M).group(1))

    def test_mounts_one_user_holds_are_bounded(self):
        tree = self.make_tree()
        sandbox = os.path.join(self.shared, 'alice')
        calls = self.MAX_HELD // self.TREE
        for k in range(calls):
            mount_point = self.allowed('MountRootfs', 'alice', f'h{k}', tree, True)[0]
            # (the mount table's name of it: the shared dir may be configured through a symlink)
            self.assertEqual(len(self.w.mounts_beneath(os.path.realpath(mount_point))), self.TREE)
        self.assertEqual(len(self.w.mounts_beneath(sandbox)), self.MAX_HELD)
        # at the bound: refused, naming the source, with her own figures only
        message = self.refused(LIMITS, 'MountRootfs', 'alice', f'h{calls}', tree, True,
                               arg='source:')
        self.assertIn(f'the {self.MAX_HELD} you hold', message)
        self.assertIn(str(self.MAX_HELD), message)
        # a mount of a single mount is refused too: she holds all she may
        single = self.path('single')
        os.mkdir(single, 0o755)
        os.chown(single, ALICE, ALICE)
        self.refused(LIMITS, 'MountRootfs', 'alice', 'one', single, True, arg='source:')
        # her calls at the bound do not each have the daemon read the mount
        # table (to see whether mounts of hers went): once a second at most
        with open('/proc/self/mountinfo', 'rb') as f:
            table = len(f.read())
        read, started = self.daemon_read_bytes(), time.monotonic()
        for _ in range(10):
            self.refused(LIMITS, 'MountRootfs', 'alice', 'one', single, True, arg='source:')
        read, seconds = self.daemon_read_bytes() - read, time.monotonic() - started
        print(f'# 10 calls at the bound in {seconds:.1f} s: the daemon read {read / table:.1f} '
              f'mount tables\' worth')
        self.assertLess(read, (int(seconds) + 2) * table)
        # root is never bounded (and can mount at all: the namespace is not full)
        for k in range(2):
            self.w.call('MountRootfs', 'alice', f'root{k}', single, True)
            self.assertIsNotNone(top_mount(self.w.rootfs_mount_point('alice', f'root{k}')))
        # an unmount gives back what it held: she may mount again, once
        self.allowed('UnmountRootfs', 'alice', 'h0')
        self.allowed('MountRootfs', 'alice', f'h{calls}', tree, True)
        self.refused(LIMITS, 'MountRootfs', 'alice', f'h{calls + 1}', tree, True, arg='source:')
        # killed and started again: what she holds is still counted
        self.w.restart_daemon(kill9=True)
        self.refused(LIMITS, 'MountRootfs', 'alice', f'h{calls + 1}', tree, True, arg='source:')
        self.refused(LIMITS, 'MountRootfs', 'alice', 'one', single, True, arg='source:')
        self.allowed('UnmountRootfs', 'alice', 'h1')
        self.allowed('MountRootfs', 'alice', f'h{calls + 1}', tree, True)
        self.refused(LIMITS, 'MountRootfs', 'alice', f'h{calls + 2}', tree, True, arg='source:')
        # one of hers unmounted behind the service's back (by root): given back
        mp = self.w.rootfs_mount_point('alice', 'h2')
        with self.w.subscribe() as sigs:
            subprocess.run(['umount', '-l', mp], check=True)
            sigs.wait_for(lambda member, args: member == 'RootfsChanged' and mp in args and
                          'vanished' in args)
        self.allowed('MountRootfs', 'alice', f'h{calls + 2}', tree, True)
        self.refused(LIMITS, 'MountRootfs', 'alice', f'h{calls + 3}', tree, True, arg='source:')
        # a general bind of hers (which no watch follows) unmounted behind
        # the service's back: given back when she meets the bound
        self.allowed('UnmountRootfs', 'alice', 'h3')
        bind = self.allowed('BindMount', self.make_tree(os.path.join(self.srv, 'tree')),
                            self.alice_path('b'), True)[0]
        self.assertEqual(len(self.w.mounts_beneath(bind)), self.TREE)
        self.refused(LIMITS, 'MountRootfs', 'alice', 'one', single, True, arg='source:')
        subprocess.run(['umount', '-l', bind], check=True)
        # (her refused call just now read the table: the next read is due
        # a second after it)
        vcmtest.wait_until(lambda: self.calls_as(ALICE, [('MountRootfs', 'alice', 'one', single,
                                                          True)])[0][0],
                           10, 'her bind unmounted behind the service\'s back given back',
                           interval=0.2)
        self.assertTrue(self.w.daemon_running())


    def test_a_mount_made_at_hers_before_a_restart_is_not_hers(self):
        """What she held is read back after a restart from the record on
        each mount point, which must name that mount: the kernel gives the
        32-bit ID of a mount unmounted behind the stopped service's back to
        the next mount made, and root's mount made at her mount point would
        otherwise be counted as hers (and shown as hers)."""
        tree = self.make_tree()
        for k in range(self.MAX_HELD // self.TREE):
            self.allowed('MountRootfs', 'alice', f'h{k}', tree, True)
        self.refused(LIMITS, 'MountRootfs', 'alice', 'more', tree, True, arg='source:')
        mp = self.w.rootfs_mount_point('alice', 'h0')
        first = top_mount(mp)['id']
        self.w.stop_daemon()
        root_tree = self.path('root-tree')
        os.mkdir(root_tree, 0o755)
        subprocess.run(['umount', '-l', mp], check=True)
        self.addCleanup(self.w.unmount_all_beneath, self.path('ids'))
        if not vcmtest.mount_with_freed_id(root_tree, mp, first, self.path('ids')):
            self.w.start_daemon()
            self.skipTest('the kernel did not give the freed mount ID to the next mount')
        self.w.start_daemon()
        # she holds what is still hers: one more tree of hers, not two
        self.allowed('MountRootfs', 'alice', 'more', tree, True)
        self.refused(LIMITS, 'MountRootfs', 'alice', 'more2', tree, True, arg='source:')
        listed, = [m for m in self.w.call('ListMounts', {})[1] if m.get('mount-point') == mp]
        self.assertNotIn('caller-uid', listed, f'root\'s mount at {mp} listed as hers: {listed}')
        self.assertNotIn('recovered', listed)


class TestHeldMountsSharedDirLink(TestHeldMounts):
    """TestHeldMounts with the shared dir configured through a symlink of a
    directory above it (as /var/run -> /run): the mount table names her
    mounts by the real path, and the service must too, or its check of
    what she still holds finds none of them and gives her whole count back
    (and so does its read-back after a restart)."""

    world_args = {'shared_dir_link': True}

class TestSharedDirAlias(AttackCase):
    """Promises 1 and 2 with the shared dir configured through a symlink of a
    directory above it (as /var/run -> /run): the service names its mounts
    by the real path, and a caller may name a destination or a mount point
    through either. Named through the configured path, what polkit is asked
    is the real path (the one the README's rules are written with), and the
    same place is confined the same way."""

    world_args = {'shared_dir_link': True}
    mp_of_root = TestWhatIsAsked.mp_of_root
    hide_under_tmpfs = TestReach.hide_under_tmpfs
    alice_reads = TestReach.alice_reads

    def via_link(self, *parts):
        """Her bind area named through the configured path."""
        return os.path.join(self.w.shared_dir_configured, 'alice', 'vol', *parts)

    def test_named_through_the_link_is_asked_and_done_as_the_real_path(self):
        self.assertNotEqual(self.via_link('d1'), self.alice_path('d1'))
        at = self.log_offset()
        mp = self.allowed('BindMount', os.path.join(self.srv, 'data'), self.via_link('d1'), True)[0]
        self.assertEqual(mp, self.alice_path('d1'))
        d = self.wait_for_details(at, 'org.vc.mount.bind')[0]
        self.assertEqual((d['mount_point'], d['sandbox_id'], d['container_id']),
                         (mp, 'alice', 'vol'))
        self.assertIsNotNone(top_mount(mp))
        at = self.log_offset()
        self.assertEqual(self.allowed('Unmount', self.via_link('d1') + '/')[0][0], mp)
        self.assertEqual(self.wait_for_details(at, 'org.vc.mount.bind')[0]['mount_point'], mp)
        self.assertIsNone(top_mount(mp))

    def test_another_sandbox_through_the_link(self):
        victim = self.mp_of_root('sb2', 'c1')
        at = self.log_offset()
        self.refused(AUTH_REQUIRED, 'BindMount', os.path.join(self.srv, 'data'),
                     self.via_link('..', '..', 'sb2', 'c1', 'rootfs', 'usr', 'bin'), True)
        d = self.details_logged(at, 'org.vc.mount.bind')[0]
        self.assertEqual(d['mount_point'], os.path.join(victim, 'usr', 'bin'))
        self.assertEqual((d['sandbox_id'], d['container_id']), ('sb2', 'c1'))
        # a rootfs is the rootfs methods' to unmount or to cover, by either name
        self.refused(INVALID, 'Unmount', self.via_link('..', '..', 'sb2', 'c1', 'rootfs'),
                     arg='mount_point')
        self.refused(INVALID, 'BindMount', os.path.join(self.srv, 'data'),
                     self.via_link('..', '..', 'sb3', 'c1', 'rootfs'), True, arg='destination')
        self.assertIsNotNone(top_mount(victim))
        self.w.call('UnmountRootfs', 'sb2', 'c1')

    def test_a_submount_that_came_along_stays_by_either_name(self):
        own_secret = self.hide_under_tmpfs(os.path.join(self.srv, 'data', 'cover'))
        bmp = self.allowed('BindMount', os.path.join(self.srv, 'data'), self.via_link('b'), True)[0]
        self.assertEqual(bmp, self.alice_path('b'))
        for name in (self.via_link('b', 'cover'), os.path.join(bmp, 'cover')):
            with self.subTest(name=name):
                self.refused(INVALID, 'Unmount', name, arg='mount_point')
                self.assertIsNone(self.alice_reads(os.path.join(bmp, 'cover', 'secret')))
        self.assertIsNone(self.alice_reads(own_secret))
        self.allowed('Unmount', self.via_link('b'))
        self.assertIsNone(top_mount(bmp))


class TestPrivileges(AttackCase):
    """Promise 7: only the capabilities needed, whoever started the service."""

    # SYS_ADMIN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, SETUID, SETGID, SETFCAP (as the unit)
    KEPT = {21, 1, 2, 3, 7, 6, 31}
    DORMANT = {19, 18}           # SYS_PTRACE, SYS_CHROOT: permitted, raised by one thread for one step

    def test_capabilities_are_dropped_at_start(self):
        # The harness starts vcmountd as root with every capability, as bus
        # activation without systemd or a start by hand would.
        with open(f'/proc/{self.w.daemon_pid}/status') as f:
            status = f.read()
        caps = {k: int(v, 16) for k, v in re.findall(r'^(Cap\w+):\s+([0-9a-f]+)$', status, re.M)}
        want = sum(1 << c for c in self.KEPT)
        permitted = want | sum(1 << c for c in self.DORMANT)
        self.assertEqual(caps['CapEff'], want, status)
        self.assertEqual(caps['CapPrm'], permitted)
        self.assertEqual(caps['CapBnd'], permitted)
        self.assertEqual(caps['CapInh'], 0)
        self.assertEqual(caps['CapAmb'], 0)
        self.assertRegex(status, r'NoNewPrivs:\s+1')

    def test_proc_links_of_other_users_are_not_followed(self):
        # bob's process sits in a directory only bob may enter; alice names
        # its /proc/PID/cwd. Without CAP_SYS_PTRACE the kernel refuses the
        # service, switched to alice's credentials, as it would refuse alice.
        private = self.path('bobs')
        os.makedirs(os.path.join(private, 'inside'))
        os.chown(private, BOB, BOB)
        os.chmod(private, 0o700)
        sleeper = subprocess.Popen(self.w.setpriv(BOB) + ['sleep', '600'], cwd=os.path.join(private, 'inside'))
        self.addCleanup(sleeper.wait)
        self.addCleanup(sleeper.kill)
        cwd = f'/proc/{sleeper.pid}/cwd'
        vcmtest.wait_until(lambda: os.path.exists(cwd) and os.readlink(cwd).endswith('inside'), 10,
                           'the sleeper to start')
        ok, res, message = self.w.call_as(ALICE, 'DescribePath', cwd)
        self.assertEqual((ok, res), (False, NOT_FOUND), message)
        ok, res, message = self.w.call_as(ALICE, 'GetDeviceForPath', cwd + '/')
        self.assertEqual((ok, res), (False, NOT_FOUND), message)
        self.refused(NOT_FOUND, 'MountRootfs', 'alice', 'c1', cwd, True)
        # bob himself may
        ok, res, message = self.w.call_as(BOB, 'DescribePath', cwd)
        self.assertTrue(ok, message)


class TestLayoutModes(unittest.TestCase):
    """The layout the service makes is 0755 whatever umask it was started
    with: a caller looks its mount point up with its own credentials (0700
    would refuse it), and relies on the layout being root's alone."""

    def test_layout_is_0755_under_a_tight_umask(self):
        with vcmtest.World(start_daemon=False) as w:
            old = os.umask(0o077)        # what vcmountd is started with
            try:
                w.start_daemon()
            finally:
                os.umask(old)
            src = os.path.join(w.tmp, 'src')
            os.makedirs(src, 0o755)
            w.add_rule('polkit.addRule(function(a, s) { if (s.user == "nobody" && '
                       'a.id == "org.vc.mount.bind") return polkit.Result.YES; });')
            w.wait_for_rule(BOB, 'org.vc.mount.bind')
            dest = os.path.join(w.shared_dir, 'lay', 'out', 'here')
            ok, res, message = w.call_as(BOB, 'BindMount', src, dest, True)
            self.assertTrue(ok, message)
            self.assertEqual(os.stat(os.path.join(w.shared_dir, 'lay')).st_mode & 0o7777, 0o755)
            w.unmount_all_beneath(w.shared_dir)


class TestFirstCheck(unittest.TestCase):
    """Item 6: the first check after start keeps to AuthTimeoutSeconds too."""

    def test_first_check_with_polkitd_hung_is_bounded(self):
        with vcmtest.World(start_daemon=False) as w:
            with open(w.config_file, 'w') as f:
                f.write('[vcmountd]\nAuthTimeoutSeconds=2\n')
            os.kill(w.polkitd_pid, signal.SIGSTOP)
            try:
                w.start_daemon()
                started = time.monotonic()
                ok, res, message = w.call_as(BOB, 'MountRootfs', 'sbt', 'c1', '/', True)
                elapsed = time.monotonic() - started
            finally:
                os.kill(w.polkitd_pid, signal.SIGCONT)
        self.assertEqual((ok, res), (False, NOT_AUTHORIZED), message)
        self.assertIn('did not answer in time', message)
        # The promise is a bound: 2 s and the start of a process, far from the
        # 25 s of the daemon's default (and of D-Bus's), however loaded the
        # machine; 20 s tells the two apart with room.
        self.assertLess(elapsed, 20, message)


if __name__ == '__main__':
    unittest.main()
