#!/usr/bin/python3
# test_valgrind: vcmountd under valgrind memcheck through one representative
# run: every method, successes and errors, signals, foreign mounts, callers of
# another uid checked by polkit (allowed and refused), polkit gone, unknown
# methods and wrong signatures. Stopped with SIGTERM, it must exit 0 with no
# definite leak and no invalid access. GLib's type system and other one-time
# allocations show as "still reachable" or "possibly lost": those are allowed.
# Skipped when valgrind is not installed.
#
# When VCM_DAEMON was built with AddressSanitizer (meson -Db_sanitize=address),
# valgrind cannot run it: the same run is made with LeakSanitizer instead
# (test_no_leaks_under_asan), which also covers the mounts themselves.

import os
import re
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from vcmtest import DBusCallError, World  # noqa: E402

VALGRIND = shutil.which('valgrind')
GLIB_SUPP = '/usr/share/glib-2.0/valgrind/glib.supp'
E = vcmtest.ERROR_PREFIX


class ValgrindWorld(World):
    """A World whose daemon runs under valgrind memcheck."""

    daemon_slowdown = 10

    def daemon_command(self):
        self.valgrind_log = os.path.join(self.tmp, 'valgrind.log')
        cmd = [VALGRIND, '--tool=memcheck', '--leak-check=full',
               '--errors-for-leak-kinds=definite', '--show-leak-kinds=definite',
               '--error-exitcode=99', '--track-fds=no', '--num-callers=30',
               f'--log-file={self.valgrind_log}']
        if os.path.exists(GLIB_SUPP):
            cmd.append(f'--suppressions={GLIB_SUPP}')
        return cmd + super().daemon_command()


def parse_valgrind_log(path):
    with open(path, errors='replace') as f:
        text = f.read()
    summary = re.findall(r'ERROR SUMMARY: (\d+) errors', text)
    definite = re.findall(r'definitely lost: ([\d,]+) bytes in ([\d,]+) blocks', text)
    invalid = re.findall(r'^==\d+== (Invalid (?:read|write|free)[^\n]*|Conditional jump[^\n]*|'
                         r'Use of uninitialised[^\n]*|Mismatched free[^\n]*|Syscall param[^\n]*)',
                         text, re.M)
    return {
        'text': text,
        'errors': int(summary[-1]) if summary else None,
        'definite_bytes': int(definite[-1][0].replace(',', '')) if definite else 0,
        'invalid': invalid,
    }


ASAN = vcmtest.daemon_has_asan()


class LeakCase(unittest.TestCase):

    def setUp(self):
        self._saved = {k: os.environ.get(k) for k in ('G_SLICE', 'ASAN_OPTIONS', 'UBSAN_OPTIONS')}
        os.environ['G_SLICE'] = 'always-malloc'
        os.environ['ASAN_OPTIONS'] = 'detect_leaks=1:exitcode=98:abort_on_error=0'
        os.environ['UBSAN_OPTIONS'] = 'print_stacktrace=1:halt_on_error=1'
        self.addCleanup(self._restore)

    def _restore(self):
        for k, v in self._saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    # Valgrind 3.19 does not know openat2(2), which every path operation of
    # the daemon uses: under it those calls fail with ENOSYS. The run then
    # still covers the error, query, signal and polkit paths; an ASan build
    # (test_no_leaks_under_asan) covers the mounts themselves.
    enosys = False

    def _enosys_error(self, name, message):
        return name == E + 'Failed' and 'Function not implemented' in message

    def ok(self, w, method, *args):
        try:
            return w.call(method, *args)
        except DBusCallError as e:
            if self.enosys and self._enosys_error(e.name, e.message):
                return None
            raise

    def ok_as(self, w, uid, method, *args):
        ok, res, msg = w.call_as(uid, method, *args)
        if not ok and self.enosys and self._enosys_error(res, msg):
            return None
        self.assertTrue(ok, f'{method}{args!r} as uid {uid}: {res}: {msg}')
        return res

    def probe_enosys(self, w, rootfs):
        try:
            w.call('MountRootfs', 'probe', 'c', rootfs, False)
        except DBusCallError as e:
            if not self._enosys_error(e.name, e.message):
                raise
            self.enosys = True
            sys.stderr.write(f'note: under this valgrind the daemon cannot use openat2: {e.message}\n')
            return
        w.call('UnmountSandbox', 'probe')

    def exercise(self, w):
        tmp = os.path.join(w.tmp, 'vg')
        os.makedirs(os.path.join(tmp, 'rootfs', 'sub'))
        os.chmod(tmp, 0o755)
        rootfs = os.path.join(tmp, 'rootfs')
        with open(os.path.join(tmp, 'file'), 'w') as f:
            f.write('x\n')
        shared = w.shared_dir
        self.probe_enosys(w, rootfs)

        w.add_rule('''polkit.addRule(function(action, subject) {
    if (subject.user == "%s" && action.id == "org.vc.mount.manage-rootfs" &&
        action.lookup("sandbox_id") == "vgu")
        return polkit.Result.YES;
});
''' % vcmtest.TEST_USER)
        w.wait_for_rule(vcmtest.TEST_UID, 'org.vc.mount.manage-rootfs', {'sandbox_id': 'vgu'})

        with w.subscribe() as sigs:
            # rootfs life cycle, signals, foreign submount and remount
            mp = self.ok(w, 'MountRootfs', 'vg', 'c1', rootfs, False) or w.rootfs_mount_point('vg', 'c1')
            self.ok(w, 'MountRootfs', 'vg', 'c2', rootfs, True)
            w.call('ListRootfs', '')
            w.call('ListRootfs', 'vg')
            if not self.enosys:
                vcmtest.mount(rootfs, os.path.join(mp, 'sub'), flags=vcmtest.MS_BIND)
                sigs.wait_for(lambda m, a: m == 'RootfsChanged', timeout=120)
            self.ok(w, 'UnmountRootfs', 'vg', 'c1')
            self.ok(w, 'UnmountSandbox', 'vg')
            if not self.enosys:
                sigs.wait_for(lambda m, a: m == 'RootfsUnmounted', count=2, timeout=120)
            # bind mounts of a directory and a file
            self.ok(w, 'BindMount', rootfs, shared + '/b/d', True)
            self.ok(w, 'BindMount', os.path.join(tmp, 'file'), shared + '/b/f', False)
            self.ok(w, 'Unmount', shared + '/b/d')
            self.ok(w, 'Unmount', shared + '/b/f')
            # queries
            self.ok(w, 'GetDeviceForPath', '/')
            self.ok(w, 'GetDeviceForPath', '/sys//../dev/')
            self.ok(w, 'GetDevicePathAndFsType', '/')
            w.call('IsDeviceMapper', 253, 0)
            w.call('IsDeviceMapper', 1, 1)
            w.call('IsSystemMount', '/proc/1')
            self.ok(w, 'IsHostDevice', '/dev/null')
            self.ok(w, 'DescribePath', tmp)
            w.get_all_properties()
            w.call('Introspect', signature='', interface='org.freedesktop.DBus.Introspectable')

        # errors of every kind
        for method, args in [('MountRootfs', ('..', 'c', rootfs, False)),
                             ('MountRootfs', ('vg', 'c', tmp + '/missing', False)),
                             ('MountRootfs', ('vg', 'c', 'relative', False)),
                             ('UnmountRootfs', ('vg', 'none')),
                             ('UnmountSandbox', ('a/b',)),
                             ('ListRootfs', ('-x',)),
                             ('BindMount', (rootfs, '/etc/x', False)),
                             ('BindMount', (rootfs, shared + '/../x', False)),
                             ('Unmount', ('/',)),
                             ('Unmount', (shared + '/nothing',)),
                             ('GetDeviceForPath', ('',)),
                             ('GetDeviceForPath', (tmp + '/missing',)),
                             ('GetDevicePathAndFsType', (tmp,)),
                             ('IsHostDevice', ('x' * 70000,)),
                             ('DescribePath', ('relative',))]:
            with self.assertRaises(DBusCallError, msg=f'{method}{args!r}'):
                w.call(method, *args)
        self.ok(w, 'MountRootfs', 'vg', 'c1', rootfs, False)
        with self.assertRaises(DBusCallError):
            w.call('MountRootfs', 'vg', 'c1', rootfs, False)          # AlreadyMounted (or ENOSYS)
        self.ok(w, 'UnmountSandbox', 'vg')
        for method, sig, args in [('Nope', '', ()), ('MountRootfs', 's', ('x',)),
                                  ('ListRootfs', 'u', (1,))]:
            with self.assertRaises(DBusCallError):
                w.call(method, *args, signature=sig)

        # another uid: allowed by the rule, refused by polkit, queries
        u = vcmtest.TEST_UID
        # a writable mount of a tree the caller owns: the method's action only
        # (one of root's would ask org.vc.mount.write-foreign as well)
        own_rootfs = os.path.join(os.path.dirname(rootfs), 'rootfs-u')
        os.makedirs(own_rootfs, exist_ok=True)
        os.chown(own_rootfs, u, u)
        self.ok_as(w, u, 'MountRootfs', 'vgu', 'c1', own_rootfs, False)
        self.ok_as(w, u, 'UnmountRootfs', 'vgu', 'c1')
        ok, res, msg = w.call_as(u, 'MountRootfs', 'other', 'c1', rootfs, False)
        self.assertEqual((ok, res), (False, vcmtest.INTERACTIVE_AUTHORIZATION_REQUIRED), msg)
        ok, res, msg = w.call_as(u, 'BindMount', rootfs, shared + '/vgu/c1/x', False)
        self.assertEqual((ok, res), (False, vcmtest.INTERACTIVE_AUTHORIZATION_REQUIRED), msg)
        for method, args in [('ListRootfs', ('',)), ('DescribePath', (tmp,)),
                             ('GetDeviceForPath', (tmp + '/file',)), ('IsHostDevice', ('/dev/null',))]:
            self.ok_as(w, u, method, *args)
        # polkit gone: refused, then back
        w.stop_polkitd()
        ok, res, msg = w.call_as(u, 'ListRootfs', '')
        self.assertEqual((ok, res), (False, E + 'NotAuthorized'), msg)
        w.start_polkitd()
        self.assertEqual(w.mounts_beneath(shared), [])

    def test_no_leaks_under_asan(self):
        if not ASAN:
            self.skipTest('VCM_DAEMON is not built with AddressSanitizer')
        with World(verbose=True) as w:
            self.exercise(w)
            w.mark_logs()
            status = w.stop_daemon()
            with open(w.daemon_log, errors='replace') as f:
                log = f.read()
            reports = re.findall(r'^(?:==\d+==ERROR: \w+Sanitizer[^\n]*|SUMMARY: \w+Sanitizer[^\n]*|'
                                 r'[^\n]*runtime error:[^\n]*)', log, re.M)
            sys.stderr.write(f'asan: exit {status}, {len(reports)} sanitizer reports\n')
            self.assertEqual(reports, [], log[-20000:])
            self.assertEqual(status, 0, f'vcmountd (ASan) exited {status}:\n' + log[-5000:])

    @unittest.skipIf(VALGRIND is None, 'valgrind is not installed')
    @unittest.skipIf(ASAN, 'VCM_DAEMON is built with AddressSanitizer: valgrind cannot run it')
    def test_no_leaks_under_valgrind(self):
        with ValgrindWorld(verbose=True) as w:
            self.exercise(w)
            # its exit status is checked last: valgrind's own (99) says less
            # than the log's reports, asserted first
            status = w.stop_daemon(check=False)
            result = parse_valgrind_log(w.valgrind_log)
            tail = '\n'.join(result['text'].splitlines()[-80:])
            sys.stderr.write(f'valgrind: exit {status}, {result["errors"]} errors, definitely lost '
                             f'{result["definite_bytes"]} bytes, {len(result["invalid"])} invalid accesses\n')
            self.assertIsNotNone(result['errors'], 'no ERROR SUMMARY in the valgrind log:\n' + tail)
            self.assertEqual(result['invalid'], [], result['text'][-20000:])
            self.assertEqual(result['definite_bytes'], 0, result['text'][-20000:])
            self.assertEqual(result['errors'], 0, result['text'][-20000:])
            self.assertEqual(status, 0, tail)
            self.assertEqual(status, 0, f'vcmountd under valgrind exited {status}:\n' + tail)


if __name__ == '__main__':
    unittest.main()
