#!/usr/bin/python3
# test_frozen: promise 5, "the main loop never touches a filesystem a caller
# controls", tried route by route by alice (the README's narrow rules, as in
# test_attacks.py) with a FUSE server of hers (fuse_hang.py, allow_other)
# that answers everyone but vcmountd's main thread. While her filesystem
# hangs, root's, bob's and her own calls that name no path (ListRootfs, a
# property Get, IsDeviceMapper) are answered within a second; a restart takes
# the bus name within 5 s; once her server is dead, root unmounts a rootfs
# that lies on it.

import os
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from gi.repository import Gio, GLib  # noqa: E402
from test_attacks import AttackCase, ALICE, BOB, INVALID  # noqa: E402
from vcmtest import top_mount  # noqa: E402

# what a call that names no path may take while her filesystem hangs
SERVED_WITHIN = vcmtest.scaled(1.0)
# what a restart may take to own the bus name while it hangs
RESTART_WITHIN = vcmtest.scaled(5.0)


class HerFilesystem:
    """fuse_hang.py at @mnt: answers everyone until freeze(), then never again
    the threads it was told (all when none). Requests are logged."""

    def __init__(self, case, mnt, hang_for=None):
        os.makedirs(mnt)
        case.addCleanup(os.rmdir, mnt)
        self.requests = []
        self.frozen = threading.Event()
        cmd = [vcmtest.PYTHON, vcmtest.FUSE_HANG, mnt, '--later', '--log']
        if hang_for is not None:
            cmd += ['--hang-for', str(hang_for)]
        self.server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        case.addCleanup(lambda: vcmtest.umount(mnt))
        case.addCleanup(self.server.wait)
        case.addCleanup(self.kill)
        case.assertEqual(self.server.stdout.readline().strip(), 'ready')
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.server.stdout:
            words = line.split()
            if words == ['hanging']:
                self.frozen.set()
            elif len(words) == 3 and words[0] == 'request' and self.frozen.is_set():
                self.requests.append((int(words[1]), int(words[2])))

    def freeze(self):
        # the signal again while it has not said so (once, one run in many
        # on a busy machine, the server never acknowledged the first), the
        # bound on the acknowledgement as before
        deadline = time.monotonic() + vcmtest.scaled(30)
        while True:
            os.kill(self.server.pid, signal.SIGUSR1)
            if self.frozen.wait(min(1.0, max(0.0, deadline - time.monotonic()))):
                return
            if time.monotonic() >= deadline:
                raise AssertionError('the FUSE server did not say it hangs')

    def kill(self):
        if self.server.poll() is None:
            self.server.kill()

    def asked_by(self, tid):
        """Whether thread @tid has sent a request since the freeze."""
        return any(t == tid for _, t in list(self.requests))

    def threads_asking(self, pid):
        """How many requests threads of process @pid sent since the freeze."""
        return sum(1 for _, tid in list(self.requests) if os.path.exists(f'/proc/{pid}/task/{tid}'))


class Background:
    """One call of @uid's in a thread of the test: (ok, result, message) once answered."""

    def __init__(self, case, uid, method, *args):
        self.result = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(case.w, uid, method, args), daemon=True)
        self.thread.start()
        case.addCleanup(self.thread.join, vcmtest.scaled(120))

    def _run(self, w, uid, method, args):
        try:
            if uid == 0:
                try:
                    self.result = (True, w.call(method, *args), '')
                except vcmtest.DBusCallError as e:
                    self.result = (False, e.name, e.message)
            else:
                self.result = w.call_as(uid, method, *args)
        finally:
            self.done.set()


class BackgroundFd:
    """Root's call of @method with the descriptors @fds, on a connection of
    its own, in a thread of the test: (ok, result, message) once answered."""

    def __init__(self, case, method, params, fds):
        self.result = None
        self.done = threading.Event()
        conn = case.w.new_connection()
        case.addCleanup(conn.close_sync, None)
        fd_list = Gio.UnixFDList.new()
        for fd in fds:
            fd_list.append(fd)  # (a copy: the caller keeps its own)
        self.thread = threading.Thread(target=self._run, args=(conn, method, params, fd_list),
                                       daemon=True)
        self.thread.start()
        case.addCleanup(self.thread.join, vcmtest.scaled(120))

    def _run(self, conn, method, params, fd_list):
        try:
            reply, _ = conn.call_with_unix_fd_list_sync(
                vcmtest.BUS_NAME, vcmtest.OBJECT_PATH, vcmtest.INTERFACE, method, params, None,
                Gio.DBusCallFlags.NO_AUTO_START, vcmtest.CALL_TIMEOUT_MS, fd_list, None)
            self.result = (True, reply.unpack(), '')
        except GLib.Error as e:
            self.result = (False, Gio.DBusError.get_remote_error(e), e.message)
        finally:
            self.done.set()


class TestFrozen(AttackCase):
    """Promise 5: her filesystem never freezes the service, by any route."""

    def her_filesystem(self, hang_all=False):
        # beneath SRV, where her bind rule lets her take it from
        name = os.path.basename(self.scratch) + '-fuse'
        return HerFilesystem(self, os.path.join(self.srv, name),
                             hang_for=None if hang_all else self.w.daemon_pid)

    def attack(self, fs, uid, method, *args):
        """Starts @method as @uid with @fs frozen; returns once the service's
        main thread has sent @fs a request it will never answer, or the call
        was answered."""
        call = Background(self, uid, method, *args)
        vcmtest.wait_until(lambda: call.done.is_set() or fs.asked_by(self.w.daemon_pid),
                           vcmtest.scaled(60), f'{method} to reach her filesystem or be answered')
        return call

    def assert_served(self, what):
        """Root's, bob's and alice's calls that name no path are answered in
        SERVED_WITHIN each; prints what they took."""
        ms = int(SERVED_WITHIN * 1000)
        took = {}
        started = time.monotonic()
        try:
            self.w.call('ListRootfs', '', timeout_ms=ms)
            took['root ListRootfs'] = time.monotonic() - started
            started = time.monotonic()
            self.w.call_raw('Get', vcmtest.INTERFACE, 'Generation', signature='ss',
                            interface='org.freedesktop.DBus.Properties', timeout_ms=ms)
            took['root Get(Generation)'] = time.monotonic() - started
        except vcmtest.DBusCallError as e:
            self.fail(f'{what}: root was not answered within {SERVED_WITHIN} s: {e}')
        for uid, name in ((BOB, 'bob'), (ALICE, 'alice')):
            ok, res, message = self.w.call_as(uid, 'IsDeviceMapper', 253, 0, timeout_ms=ms)
            self.assertTrue(ok, f'{what}: {name} was not answered within {SERVED_WITHIN} s: '
                                f'{res}: {message}')
            self.assertEqual(res, (True,))
        print(f'# {what}: ' + ', '.join(f'{k} {v * 1000:.0f} ms' for k, v in took.items()))

    def answered(self, call, fs):
        """Her server goes away: the call is answered, whatever it says."""
        fs.kill()
        self.assertTrue(call.done.wait(vcmtest.scaled(60)), 'the call was never answered')
        self.assertTrue(self.w.daemon_running())
        return call.result

    def held_while_others_served(self, fs, what, uid, method, *args):
        """With @fs frozen, @method as @uid waits in @fs (attack()) while the
        others' calls are served (assert_served(@what)); it is answered once
        her server goes (answered())."""
        fs.freeze()
        call = self.attack(fs, uid, method, *args)
        self.assert_served(what)
        self.answered(call, fs)

    def rootfs_on(self, fs, container_id):
        mp = self.allowed('MountRootfs', 'alice', container_id, fs_path(fs), True)[0]
        self.assertEqual(top_mount(mp)['fs_type'], 'fuse')
        return mp

    # -- the routes -------------------------------------------------------

    def test_a_source_on_her_filesystem(self):
        # MountRootfs of her FUSE (the manage-rootfs rule is all she needs):
        # the clone is looked at after it is attached.
        fs = self.her_filesystem()
        self.held_while_others_served(fs, 'MountRootfs of her filesystem',
                                      ALICE, 'MountRootfs', 'alice', 'c1', fs_path(fs), True)

    def test_b_a_destination_in_her_filesystem(self):
        # her FUSE bound into her area (her bind rule); a BindMount beneath it
        fs = self.her_filesystem()
        self.allowed('BindMount', fs_path(fs), self.alice_path('f'), True)
        self.held_while_others_served(fs, 'BindMount into her filesystem',
                                      ALICE, 'BindMount', os.path.join(self.srv, 'data'),
                                      self.alice_path('f', 'x'), True)

    def test_b_an_unmount_in_her_filesystem(self):
        fs = self.her_filesystem()
        self.allowed('BindMount', fs_path(fs), self.alice_path('f'), True)
        self.held_while_others_served(fs, 'Unmount in her filesystem',
                                      ALICE, 'Unmount', self.alice_path('f', 'x', 'y'))

    def test_c_a_rootfs_place_in_her_filesystem(self):
        # SHARED/alice/c2 is her FUSE: the rootfs mount point lies in it. No
        # caller may bind on a container's directory (the layout is the rootfs
        # methods'): here it is mounted behind the service's back
        fs = self.her_filesystem()
        self.refused(INVALID, 'BindMount', fs_path(fs), os.path.join(self.shared, 'alice', 'c2'), True,
                     arg='destination')
        place = os.path.join(self.shared, 'alice', 'c2')
        os.makedirs(place)
        subprocess.run(['mount', '--bind', fs_path(fs), place], check=True)
        self.held_while_others_served(fs, 'MountRootfs with its place in her filesystem',
                                      ALICE, 'MountRootfs', 'alice', 'c2', os.path.join(self.srv, 'data'), True)

    def test_d_roots_unmount_of_a_rootfs_on_her_filesystem(self):
        # root unmounts a rootfs of alice's that lies on her FUSE: done, and
        # nobody waits meanwhile
        fs = self.her_filesystem()
        mp = self.rootfs_on(fs, 'c1')
        fs.freeze()
        call = self.attack(fs, 0, 'UnmountRootfs', 'alice', 'c1')
        self.assert_served('root\'s UnmountRootfs of a rootfs on her filesystem')
        self.assertTrue(call.done.wait(vcmtest.scaled(30)), 'root\'s UnmountRootfs was not answered')
        self.assertEqual(call.result[:2], (True, [mp]), call.result)
        self.assertIsNone(top_mount(mp))

    def test_e_her_calls_hung_in_her_filesystem_hold_up_only_hers(self):
        # her server now answers nobody: her calls that walk into it wait in
        # worker threads, at most 4 of them; her next one waits its turn,
        # and everybody else is served meanwhile, root's mounts included
        fs = self.her_filesystem(hang_all=True)
        self.allowed('BindMount', fs_path(fs), self.alice_path('f'), True)
        fs.freeze()
        data = os.path.join(self.srv, 'data')
        calls = [Background(self, ALICE, 'BindMount', data, self.alice_path('f', f'x{i}'), True)
                 for i in range(4)]
        vcmtest.wait_until(lambda: fs.threads_asking(self.w.daemon_pid) >= 4 or
                           any(c.done.is_set() for c in calls),
                           vcmtest.scaled(60), 'her 4 calls to wait for her filesystem')
        self.assertFalse(any(c.done.is_set() for c in calls), [c.result for c in calls])
        self.assert_served('4 of her calls held by her filesystem')
        # (not self.refused(): its look at the shared dir would walk into her filesystem)
        fifth = Background(self, ALICE, 'BindMount', data, self.alice_path('g'), True)
        mp = self.w.call('MountRootfs', 'sb9', 'c1', data, True)
        self.assertEqual(self.w.call('UnmountRootfs', 'sb9', 'c1'), [mp])
        ok, res, message = self.w.call_as(BOB, 'ListRootfs', '')
        self.assertTrue(ok, message)
        self.assertFalse(fifth.done.is_set(), fifth.result)
        self.assertLessEqual(fs.threads_asking(self.w.daemon_pid), 4)
        fs.kill()
        for c in calls:
            self.assertTrue(c.done.wait(vcmtest.scaled(60)), 'her call was never answered')
            self.assertFalse(c.result[0], c.result)
        # her fifth, taken in its turn, finds her filesystem gone
        self.assertTrue(fifth.done.wait(vcmtest.scaled(60)), 'her fifth call was never answered')
        self.assertTrue(self.w.daemon_running())

    def test_f_roots_fd_of_her_filesystem(self):
        # root's MountRootfsFd of a directory of her FUSE is prepared on the
        # main loop (root's fd needs no walk of a path, nor a worker thread):
        # there it asks the fd's filesystem nothing, so while her server
        # answers everyone but the main thread, the mount is made, and
        # nobody waits meanwhile
        fs = self.her_filesystem()
        fd = os.open(fs_path(fs), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fs.freeze()
        try:
            call = BackgroundFd(self, 'MountRootfsFd',
                                GLib.Variant('(ssha{sv})', ('sbf', 'c1', 0, {})), [fd])
        finally:
            os.close(fd)
        vcmtest.wait_until(lambda: call.done.is_set() or fs.asked_by(self.w.daemon_pid),
                           vcmtest.scaled(60), 'MountRootfsFd to be answered or to reach her filesystem')
        self.assertFalse(fs.asked_by(self.w.daemon_pid),
                         "the main loop asked the root's fd's filesystem")
        self.assert_served("root's MountRootfsFd of her filesystem")
        self.assertTrue(call.done.wait(vcmtest.scaled(30)), "root's MountRootfsFd was not answered")
        ok, res, message = call.result
        self.assertTrue(ok, f'{res}: {message}')
        mp = self.w.rootfs_mount_point('sbf', 'c1')
        self.assertEqual(res[0], mp)
        self.assertEqual(top_mount(mp)['fs_type'], 'fuse')
        self.assertFalse(fs.asked_by(self.w.daemon_pid),
                         "the main loop asked the root's fd's filesystem")
        fs.kill()
        fs.server.wait()
        self.assertEqual(self.w.call('UnmountRootfs', 'sbf', 'c1'), [mp])

    # -- restart, dead server -------------------------------------------------

    def test_a_restart_takes_the_bus_name_while_it_hangs(self):
        fs = self.her_filesystem(hang_all=True)
        mp = self.rootfs_on(fs, 'c1')
        self.w.stop_daemon()
        fs.freeze()
        started = time.monotonic()
        try:
            self.w.start_daemon()
        finally:
            took = time.monotonic() - started
            print(f'# restart with her filesystem hung: the name taken in {took * 1000:.0f} ms')
        self.assertLess(took, RESTART_WITHIN)
        self.assert_served('after a restart')
        self.assertEqual(self.w.call('ListRootfs', 'alice')[1], [('alice', 'c1', mp, True)])

    def test_a_rootfs_on_a_dead_filesystem_is_unmounted(self):
        fs = self.her_filesystem()
        mp1 = self.rootfs_on(fs, 'c1')
        mp2 = self.rootfs_on(fs, 'c2')
        fs.kill()
        fs.server.wait()
        self.assertEqual(self.w.call('UnmountRootfs', 'alice', 'c1'), [mp1])
        self.assertIsNone(top_mount(mp1))
        self.assertEqual(self.w.call('UnmountSandbox', 'alice'), ['c2'])
        self.assertIsNone(top_mount(mp2))
        self.assertEqual(self.w.call('ListRootfs', 'alice')[1], [])


def fs_path(fs):
    return fs.server.args[2]


if __name__ == '__main__':
    unittest.main()
