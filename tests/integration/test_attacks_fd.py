#!/usr/bin/python3
"""test_attacks_fd: an unprivileged caller attacks the fd-based methods
(MountRootfsFd, BindMountFd, OpenMount): what it holds must not become more
than it holds. Each test is an attack that must fail."""
import errno
import json
import os
import re
import signal
import subprocess
import time
import unittest

import test_rootless
import vcmtest
from vcmtest import WorldCase


class TestOpenMountAttacks(test_rootless.RootlessBase):

    def hidden_tree(self):
        """A directory of root's that the caller can read, with a file of
        root's under it that a mount hides (as a service hides a path)."""
        d = self.user_dir('roots', uid=0)
        sub = os.path.join(d, 'sub')
        os.mkdir(sub, 0o755)
        with open(os.path.join(sub, 'hidden'), 'w') as f:
            f.write('secret\n')
        os.chmod(os.path.join(sub, 'hidden'), 0o644)
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'vcm-cover', sub], check=True)
        return d

    def test_submount_of_open_mount_not_unmountable(self):
        """The caller opens a directory on the host, gets its mount from
        OpenMount, attaches it in a user and mount namespace of its own
        (where it has every capability) and unmounts a submount on its own:
        refused, so what the submount hides stays hidden."""
        d = self.hidden_tree()
        target = self.user_dir('target')
        ok, value, message, rest = self.fdcall('OpenMount', 'dir', d,
                                               "(handle 0, @a{sv} {'read-only': <true>})",
                                               prefix=self.as_user(), attach='userns:' + target,
                                               unmount='sub')
        self.assertTrue(ok, (value, message))
        self.assertEqual(rest[0], 'attached sub', rest)
        self.assertTrue(rest[1].startswith('unmount-failed'), rest)

    def test_own_submounts_of_open_mount_still_the_callers(self):
        """What the caller mounted in its own namespace is its own to
        unmount: the lock is not on everything."""
        d = self.user_dir('own')
        target = self.user_dir('target')
        ok, value, message, rest = self.fdcall(
            'OpenMount', 'dir', d, "(handle 0, @a{sv} {})",
            prefix=self.in_own_namespaces(), attach=target, unmount='sub',
            shell=f'mkdir {d}/sub; mount -t tmpfs vcm-own {d}/sub')
        self.assertTrue(ok, (value, message))
        self.assertEqual(rest[0], 'attached sub', rest)
        self.assertEqual(rest[1].split()[0], 'unmounted', rest)



class TestWritableByOwnershipAttacks(test_rootless.RootlessBase):

    def test_foreign_tree_under_own_top_not_writable(self):
        """The caller owns the top of its source, but in a user and mount
        namespace of its own it has bound a directory of root's below that
        top: a writable MountRootfsFd brings the bind along, and what uses
        the shared dir (with root's rights) must not be able to write root's
        directory through it."""
        roots = self.user_dir('roots', uid=0)
        d = self.user_dir('own')
        ok, value, message, _ = self.fdcall(
            'MountRootfsFd', 'dir', d, "('rl', 'c1', handle 0, @a{sv} {})",
            prefix=self.in_own_namespaces(),
            shell=f'mkdir {d}/sub; mount --bind {roots} {d}/sub')
        self.assertTrue(ok, (value, message))
        mount_point = value[0]
        self.assertTrue(os.path.samestat(os.stat(os.path.join(mount_point, 'sub')), os.stat(roots)))
        with self.assertRaises(OSError) as cm:
            with open(os.path.join(mount_point, 'sub', 'written-by-root'), 'w'):
                pass
        self.assertEqual(cm.exception.errno, errno.EROFS)
        self.assertEqual(os.listdir(roots), [])
        # the top is the caller's and stays writable
        with open(os.path.join(mount_point, 'own-file'), 'w'):
            pass

    def test_foreign_submount_of_bind_not_writable(self):
        """The same with BindMountFd, and a submount of root's that is not
        a bind: a tmpfs root mounted below the caller's directory."""
        d = self.user_dir('own')
        sub = os.path.join(d, 'sub')
        os.mkdir(sub)
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'vcm-roots', sub], check=True)
        dest = os.path.join(self.shared, 'rl', 'c2', 'b')
        ok, value, message, _ = self.fdcall('BindMountFd', 'dir', d, f"(handle 0, '{dest}', @a{{sv}} {{}})",
                                            prefix=self.as_user())
        self.assertTrue(ok, (value, message))
        with self.assertRaises(OSError) as cm:
            with open(os.path.join(value[0], 'sub', 'written-by-root'), 'w'):
                pass
        self.assertEqual(cm.exception.errno, errno.EROFS)



# Lets the test user have a writable mount of what it does not own only as
# a detached mount handed to it (no mount point), and logs what polkit was
# shown of that write-foreign check.
OPEN_RULE = '''
polkit.addRule(function(action, subject) {
    if (action.id != "org.vc.mount.write-foreign" || subject.user != "%(user)s")
        return polkit.Result.NOT_HANDLED;
    var d = {};
    ["mount_point", "sandbox_id", "container_id", "source", "read_only", "source_owned",
     "source_owner", "recursive", "polkit.message"].forEach(function(k) { d[k] = action.lookup(k); });
    polkit.log("VCMOPEN " + JSON.stringify(d));
    if (action.lookup("mount_point") === "" && action.lookup("source_owned") == "false")
        return polkit.Result.YES;
    return polkit.Result.NOT_HANDLED;
});
'''


class TestOpenMountRequest(test_rootless.RootlessBase):
    """What polkit is asked for OpenMount is computed from what is done:
    a detached mount handed to the caller, with no mount point, checked by
    the mount policy as any other mount (write-foreign for a writable mount
    of what the caller does not own), shown with the same details."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import pwd
        cls.w.add_rule(OPEN_RULE % {'user': pwd.getpwuid(test_rootless.USER).pw_name},
                       name='49-vcmtest-open.rules')
        cls.w.wait_for_rule(test_rootless.USER, 'org.vc.mount.write-foreign',
                            {'mount_point': '', 'source_owned': 'false'})

    def logged(self, since):
        return [json.loads(m.group(1))
                for m in re.finditer(r'VCMOPEN (\{.*\})', self.w.polkit_log_since(since))]

    def test_write_foreign_asked_of_what_is_handed_over(self):
        d = self.user_dir('roots', uid=0)
        since = self.w.polkit_log_offset()
        ok, value, message, _ = self.fdcall('OpenMount', 'dir', d, "(handle 0, @a{sv} {})",
                                            prefix=self.as_user())
        self.assertTrue(ok, (value, message))
        checks = self.logged(since)
        self.assertEqual(len(checks), 1, checks)
        got = checks[0]
        self.assertEqual({k: got.get(k) for k in ('mount_point', 'sandbox_id', 'container_id', 'source',
                                                  'read_only', 'source_owned', 'source_owner',
                                                  'recursive')},
                         {'mount_point': '', 'sandbox_id': '', 'container_id': '', 'source': d,
                          'read_only': 'false', 'source_owned': 'false', 'source_owner': '0',
                          'recursive': 'true'})
        msg = got['polkit.message']
        self.assertTrue(msg.startswith('Get a mount of a directory or file'), msg)
        self.assertIn('Access: writable, of what the caller does not own', msg)
        self.assertNotIn('Mount point', msg)
        # read-only, or of its own: write-foreign is not asked
        since = self.w.polkit_log_offset()
        ok, value, message, _ = self.fdcall('OpenMount', 'dir', d, "(handle 0, @a{sv} {'read-only': <true>})",
                                            prefix=self.as_user())
        self.assertTrue(ok, (value, message))
        ok, value, message, _ = self.fdcall('OpenMount', 'dir', self.user_dir('own'),
                                            "(handle 0, @a{sv} {})", prefix=self.as_user())
        self.assertTrue(ok, (value, message))
        self.assertEqual(self.logged(since), [])


class TestFdSourceAttacks(test_rootless.RootlessBase):

    def test_proc_refused_also_through_own_bind(self):
        """/proc as a source: the host's procfs in the shared dir would let
        what uses it, with root's rights, read every process's environment
        and memory. Refused as for a path, also when the caller binds /proc
        below a directory of its own in a mount namespace of its own, so
        that the fd's path says nothing of /proc."""
        d = self.user_dir('own')
        dest = os.path.join(self.shared, 'rl', 'c4', 'p')
        args = f"(handle 0, '{dest}', @a{{sv}} {{'read-only': <true>}})"
        self.assert_user_fdcall_refused('BindMountFd', 'dir', '/proc', args, test_rootless.INVALID)
        ok, name, message, _ = self.fdcall('BindMountFd', 'dir', f'{d}/p', args,
                                           prefix=self.in_own_namespaces(),
                                           shell=f'mkdir {d}/p; mount --rbind /proc {d}/p')
        self.assertEqual((ok, name), (False, test_rootless.INVALID), message)
        self.assertIn('/proc', message)
        self.assertEqual(self.w.mounts_beneath(self.shared), [])


# The README's narrow rule, for the fd methods: read-only binds from beneath
# a directory of the user's own, and nothing else.
SOURCE_RULE = """
polkit.addRule(function(action, subject) {
    if (action.id == "org.vc.mount.bind" && subject.user == "%(user)s" &&
        action.lookup("read_only") == "true" &&
        (action.lookup("source") || "").indexOf("%(own)s") == 0)
        return polkit.Result.YES;
});
"""


class TestSourceRuleAttacks(test_rootless.RootlessBase):
    """With the README's narrow bind rule only (not the suite's wide one)."""

    @classmethod
    def setUpClass(cls):
        # the world, without RootlessBase's rule that grants every action
        super(test_rootless.RootlessBase, cls).setUpClass()

    def test_source_of_own_namespace_matches_no_host_path_rule(self):
        """In a user and mount namespace of its own the caller can bind any
        tree it can read (root's /etc, say) at a path that a narrow rule
        grants, /srv/alice/x as it were: the fd's path then names the
        caller's choice. What polkit is shown must not match a rule written
        for the host's paths; here a rule that grants read-only binds from
        beneath the caller's own directory must not grant root's tree."""
        roots = self.user_dir('etc-like', uid=0)
        with open(os.path.join(roots, 'shadow-like'), 'w') as f:
            f.write('secret\n')
        own = self.user_dir('own')
        import pwd
        user = pwd.getpwuid(test_rootless.USER).pw_name
        rule = self.w.add_rule(SOURCE_RULE % {'user': user, 'own': own + '/'},
                               name='40-vcmtest-source.rules')
        try:
            self.w.wait_for_rule(test_rootless.USER, 'org.vc.mount.bind',
                                 {'read_only': 'true', 'source': own + '/mine'})
            dest = os.path.join(self.shared, 'rl', 'c5', 'x')
            args = f"(handle 0, '{dest}', @a{{sv}} {{'read-only': <true>}})"
            # the rule works for what lies beneath the caller's directory on the host
            os.mkdir(os.path.join(own, 'mine'))
            os.chown(os.path.join(own, 'mine'), test_rootless.USER, test_rootless.USER)
            ok, value, message, _ = self.fdcall('BindMountFd', 'dir', f'{own}/mine', args,
                                                prefix=self.as_user())
            self.assertTrue(ok, (value, message))
            self.w.call('Unmount', dest)
            # root's tree bound there in the caller's namespace is not granted
            ok, name, message, _ = self.fdcall('BindMountFd', 'dir', f'{own}/x', args,
                                               prefix=self.in_own_namespaces(),
                                               shell=f'mkdir {own}/x; mount --bind {roots} {own}/x')
            self.assertFalse(ok, (name, message))
            self.assertIn(name, (test_rootless.NOT_AUTHORIZED,
                                 'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired'), message)
            self.assertEqual(self.w.mounts_beneath(self.shared), [])
        finally:
            self.w.remove_rule(rule)


if __name__ == '__main__':
    unittest.main()


# Run by the caller (as itself, no rule needed: the namespace's maps are read
# before polkit is asked): OpenMount of a directory of its own, ID-mapped by
# a user namespace of its own, again and again until the test stops it.
NS_CALLER = r'''
import os, sys
from gi.repository import Gio, GLib
address, ns_fd, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bus = Gio.DBusConnection.new_for_address_sync(
    address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
    Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
for _ in range(20000):
    fds = Gio.UnixFDList.new()
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    fds.append(dir_fd)
    fds.append(ns_fd)
    os.close(dir_fd)
    args = GLib.Variant('(ha{sv})', (0, {'idmap': GLib.Variant('a{sv}', {'userns': GLib.Variant('h', 1)})}))
    try:
        bus.call_with_unix_fd_list_sync('org.vc.Mount', '/org/vc/Mount', 'org.vc.Mount', 'OpenMount',
                                        args, None, 0, 20000, fds, None)
    except GLib.Error:
        pass
'''

# Run by the caller in its own user namespace (all-capable there) at the
# service's helper PID: takes what descriptors it can from it
# (pidfd_getfd(2), which asks only what ptrace(2) asks) and says which.
GRAB = r'''
import ctypes, errno, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pidfd = libc.syscall(434, int(sys.argv[1]), 0)
got, err = {}, 0
for n in range(0, 128) if pidfd >= 0 else ():
    fd = libc.syscall(438, pidfd, n, 0)
    if fd >= 0:
        got[n] = os.readlink(f'/proc/self/fd/{fd}')
    elif ctypes.get_errno() == errno.ESRCH:
        err = -errno.ESRCH
        break
    elif ctypes.get_errno() != errno.EBADF:
        err = ctypes.get_errno()
print(json.dumps({'got': got, 'errno': err if pidfd >= 0 else -ctypes.get_errno()}))
'''


class TestHelperChildAttacks(WorldCase):
    """The service's short-lived helper that enters a caller's user
    namespace (to read its ID maps) runs as root with the service's
    descriptors: the caller, all-capable in its own namespace, must not be
    able to ptrace it or open its /proc files."""

    def _clean(self):
        self.clean_world()

    def children_of_daemon(self, pid):
        kids = []
        try:
            tids = os.listdir(f'/proc/{pid}/task')
        except OSError:
            return kids
        for tid in tids:
            try:
                with open(f'/proc/{pid}/task/{tid}/children') as f:
                    kids += [int(k) for k in f.read().split()]
            except OSError:
                pass
        return kids

    @staticmethod
    def in_ns(pid, ino):
        try:
            with open(f'/proc/{pid}/stat') as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
            return state not in ('Z', 'X') and os.stat(f'/proc/{pid}/ns/user').st_ino == ino
        except OSError:
            return False

    def test_helper_in_callers_userns_not_ptraceable(self):
        uid = vcmtest.TEST_UID
        holder = subprocess.Popen(self.w.setpriv(uid) + ['unshare', '--user', '--map-root-user',
                                                         'sleep', 'infinity'], cwd='/')
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        vcmtest.wait_until(lambda: os.stat(f'/proc/{holder.pid}/ns/user').st_ino !=
                           os.stat('/proc/self/ns/user').st_ino, vcmtest.WAIT_TIMEOUT,
                           "the caller's user namespace")
        ns_fd = os.open(f'/proc/{holder.pid}/ns/user', os.O_RDONLY | os.O_CLOEXEC)
        self.addCleanup(os.close, ns_fd)
        ino = os.fstat(ns_fd).st_ino
        d = os.path.join(self.scratch, 'tree')
        os.mkdir(d, 0o755)
        os.chown(d, uid, uid)
        caller = subprocess.Popen(self.w.setpriv(uid) + [vcmtest.PYTHON, '-c', NS_CALLER,
                                                         self.w.bus_address, str(ns_fd), d],
                                  env=self.w._child_env(), cwd='/', pass_fds=(ns_fd,),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(caller.wait)
        self.addCleanup(caller.kill)
        daemon = self.w.daemon_pid
        caught = None
        deadline = vcmtest.scaled(60)
        end = time.monotonic() + deadline
        while caught is None and time.monotonic() < end and caller.poll() is None:
            for kid in self.children_of_daemon(daemon):
                if not self.in_ns(kid, ino):
                    continue
                # hold the service still so that its helper stays as it is
                os.kill(daemon, signal.SIGSTOP)
                try:
                    if self.in_ns(kid, ino):
                        # the caller, all-capable in its own namespace, at the helper
                        p = subprocess.run(
                            self.w.setpriv(uid) + ['nsenter', '--user', '--preserve-credentials', f'--target={holder.pid}',
                                                   vcmtest.PYTHON, '-c', GRAB, str(kid)],
                            cwd='/', capture_output=True, text=True, timeout=60)
                        if p.returncode != 0 or json.loads(p.stdout)['errno'] != -errno.ESRCH:
                            caught = (p.returncode, p.stdout, p.stderr)
                finally:
                    os.kill(daemon, signal.SIGCONT)
                break
        self.assertIsNotNone(caught, "no helper of the service in the caller's namespace was seen")
        self.assertEqual(caught[0], 0, caught[2])
        self.assertEqual(json.loads(caught[1]), {'got': {}, 'errno': errno.EPERM},
                         "the caller took the service's descriptors from its helper")


# Run by the caller in a user and mount namespace of its own (unshare -r):
# stacks N tmpfs mounts on TOP/sub there, then MountRootfsFd of TOP (the
# tree with them) into sandbox SANDBOX, container CONTAINER. Prints
# [error name or "", message or the mount point].
MANY_MOUNTS = r'''
import os, sys, json
sys.path.insert(0, sys.argv[1])
import rootless
from gi.repository import Gio, GLib
address, top, n, sandbox, container = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
rootless.check(rootless.libc.unshare(rootless.CLONE_NEWNS), 'unshare')
rootless.mount(None, '/', flags=rootless.MS_REC | rootless.MS_PRIVATE)
for _ in range(n):
    rootless.mount('tmpfs', os.path.join(top, 'sub'), 'tmpfs', data='size=4k')
fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
params = GLib.Variant('(ssha{sv})', (sandbox, container, 0, {}))
reply = rootless.RawBus(address).call('org.vc.Mount', '/org/vc/Mount', 'org.vc.Mount',
                                      'MountRootfsFd', params, [fd])
if reply.get_message_type() == Gio.DBusMessageType.ERROR:
    print(json.dumps([reply.get_error_name(), reply.get_body().unpack()[0]]))
else:
    print(json.dumps(['', reply.get_body().unpack()[0]]))
'''


class TestTreeBounds(WorldCase):
    """A caller whose rule lets it manage one sandbox's rootfs brings a tree
    of its own mount namespace with hundreds of mounts stacked in it: one
    call adds at most 256 mounts to the service's mount namespace."""

    RULE = '''
polkit.addRule(function(action, subject) {
    if (action.id == "org.vc.mount.manage-rootfs" && subject.user == "vcmtest" &&
        action.lookup("sandbox_id") == "sb1")
        return polkit.Result.YES;
});
'''

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.w.add_rule(cls.RULE, name='50-vcmtest-tree.rules')
        cls.w.wait_for_rule(vcmtest.TEST_UID, 'org.vc.mount.manage-rootfs', {'sandbox_id': 'sb1'})

    def _clean(self):
        self.clean_world()

    def mount_tree(self, n, container):
        uid = vcmtest.TEST_UID
        top = os.path.join(self.scratch, f'tree{n}')
        os.makedirs(os.path.join(top, 'sub'), 0o755)
        for d in (top, os.path.join(top, 'sub')):
            os.chown(d, uid, uid)
        p = subprocess.run(self.w.setpriv(uid) + ['unshare', '--user', '--map-root-user', vcmtest.PYTHON,
                                                  '-c', MANY_MOUNTS, os.path.dirname(os.path.abspath(__file__)),
                                                  self.w.bus_address, top, str(n), 'sb1', container],
                           env=self.w._child_env(), cwd='/', capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout.strip().splitlines()[-1])

    def test_a_tree_of_many_mounts_is_refused(self):
        table = vcmtest.mount_table()
        name, message = self.mount_tree(300, 'c1')
        self.assertEqual(name, 'org.vc.Mount.Error.LimitsExceeded', message)
        self.assertTrue(message.startswith('source:') and '301 mounts' in message, message)
        self.assertEqual(vcmtest.mount_table(), table)
        self.assertFalse(os.path.exists(os.path.join(self.shared, 'sb1')))
        # a tree within the bound is mounted, its submounts with it
        name, mount_point = self.mount_tree(200, 'c2')
        self.assertEqual(name, '', mount_point)
        self.assertEqual(len(self.w.mounts_beneath(mount_point)), 201)
