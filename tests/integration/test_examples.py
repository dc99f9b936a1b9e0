#!/usr/bin/python3
# test_examples: the examples of libvcmount against the real vcmountd, polkitd
# and a private system bus (the harness World). The Python agent
# (examples/vcmount-agent.py, on the VcMount typelib) must log each mount,
# unmount and foreign change, and after a restart of the service with a change
# made while it was down, resync to exactly what ListRootfs answers, and log
# every mount and unmount with its identity (the client's mount-added and
# mount-removed, through GI). The C
# example lists once and follows. The Go example (examples/vcmount-rootless)
# mounts a rootfs by descriptor with an ID map, follows the signals by their
# generations and unmounts: the owners it sees below the mount point are the
# mapped ones. Each session's transcript goes to stderr (the test log).
#
# Environment (set by meson): VCM_EXAMPLE_LIST, VCM_LIB_DIR (the built
# libvcmount-1.so and VcMount-1.typelib), VCM_EXAMPLE_AGENT (not in the
# sanitizer build: the Python test is then skipped), VCM_EXAMPLE_GO (when Go
# and golang-dbus-dev are there).

import contextlib
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from vcmtest import PYTHON, World, mountinfo, set_read_only, umount  # noqa: E402

TIMEOUT = vcmtest.scaled(30)   # for a line of an example, or a run of one


class Reader:
    """Lines of a child's stdout with a deadline."""

    def __init__(self, proc):
        self.proc = proc
        self.buf = b''
        self.lines = []

    def readline(self, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            while b'\n' not in self.buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise AssertionError(f'no line within {timeout} s; so far: {self.lines}')
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError(f'the example exited ({self.proc.wait()}); so far: {self.lines}')
                self.buf += chunk
        finally:
            sel.close()
        line, _, self.buf = self.buf.partition(b'\n')
        line = line.decode()
        self.lines.append(line)
        return line

    def until(self, pattern, timeout=TIMEOUT):
        """Reads lines until one matches @pattern; returns its match."""
        while True:
            m = re.search(pattern, self.readline(timeout))
            if m:
                return m


def fields(line):
    return dict(kv.split('=', 1) for kv in line.split()[2:] if '=' in kv)


class ExamplesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        for var in ('VCM_EXAMPLE_LIST', 'VCM_LIB_DIR'):
            if not os.environ.get(var):
                raise unittest.SkipTest(f'{var} is not set')
        cls._stack = contextlib.ExitStack()
        cls.addClassCleanup(cls._stack.close)
        cls.w = cls._stack.enter_context(World())
        cls.env = dict(os.environ)
        cls.env.update(cls.w.env)
        lib = os.environ['VCM_LIB_DIR']
        cls.env['GI_TYPELIB_PATH'] = lib
        cls.env['LD_LIBRARY_PATH'] = lib
        cls.env['PYTHONUNBUFFERED'] = '1'

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='case.', dir=self.w.tmp)
        os.chmod(self.dir, 0o755)
        self.addCleanup(self.w.unmount_all_beneath, self.w.shared_dir)

    def rootfs(self, name):
        path = os.path.join(self.dir, name)
        os.makedirs(path)
        return path

    def start(self, *cmd):
        p = subprocess.Popen(list(cmd), env=self.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(self.stop, p)
        return p, Reader(p)

    def stop(self, p):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def listed(self):
        generation, rootfs = self.w.call('ListRootfs', '')
        return generation, {(s, c): (mp, ro) for s, c, mp, ro in rootfs}

    def test_python_agent(self):
        if not os.environ.get('VCM_EXAMPLE_AGENT'):
            self.skipTest('no introspection data in this build (VCM_EXAMPLE_AGENT is not set)')
        p, r = self.start(PYTHON, os.environ['VCM_EXAMPLE_AGENT'])
        mirror = {}

        def follow(pattern):
            """Reads agent lines until @pattern, applying each to the mirror."""
            while True:
                line = r.readline()
                f = fields(line)
                what = line.split()[1]
                key = (f.get('sandbox'), f.get('container'))
                if what == 'added':
                    self.assertNotIn(key, mirror, line)
                    mirror[key] = (f['mount-point'], f['read-only'] == 'yes')
                elif what == 'removed':
                    self.assertIn(key, mirror, line)
                    del mirror[key]
                elif what == 'changed':
                    mirror[key] = (f['mount-point'], f['read-only'] == 'yes')
                if re.search(pattern, line):
                    return f

        def assert_mirror_is_service():
            generation, rootfs = self.listed()
            self.assertEqual(mirror, rootfs)
            return generation

        r.until(r'^\S+ started')
        f = follow(r' resynced ')
        self.assertEqual(f['count'], '0')
        assert_mirror_is_service()

        mp1 = self.w.call('MountRootfs', 'sbx1', 'ctr1', self.rootfs('r1'), False)
        follow(r' added .*container=ctr1 ')
        mp2 = self.w.call('MountRootfs', 'sbx1', 'ctr2', self.rootfs('r2'), True)
        f = follow(r' added .*container=ctr2 ')
        self.assertEqual((f['mount-point'], f['read-only']), (mp2, 'yes'))
        self.assertEqual(int(f['generation']), assert_mirror_is_service())

        # A change behind the service's back: remounted read-only.
        set_read_only(mp1, True)
        f = follow(r' changed .*container=ctr1 ')
        self.assertEqual((f['change'], f['read-only']), ('remounted', 'yes'))
        assert_mirror_is_service()

        detached = self.w.call('UnmountRootfs', 'sbx1', 'ctr2')
        f = follow(r' removed .*container=ctr2 ')
        self.assertEqual(f['detached'], ','.join(detached))
        assert_mirror_is_service()

        # The service goes; a rootfs goes while it is down; a new instance
        # (counting from 0) comes: the agent resyncs to exactly its answer.
        mp3 = self.w.call('MountRootfs', 'sbx2', 'ctr3', self.rootfs('r3'), False)
        follow(r' added .*container=ctr3 ')
        self.w.stop_daemon()
        follow(r' service-gone ')
        umount(mp3)
        self.w.start_daemon()
        f = follow(r' removed .*container=ctr3 ')
        self.assertEqual(f['detached'], '-')
        f = follow(r' resynced ')
        self.assertEqual(f['count'], '1')
        self.assertEqual(int(f['generation']), assert_mirror_is_service())

        # And it follows the new instance.
        self.w.call('UnmountSandbox', 'sbx1')
        follow(r' removed .*container=ctr1 ')
        assert_mirror_is_service()
        self.assertEqual(mirror, {})

        self.stop(p)
        r.until(r' stopped count=0')
        self.assertEqual(p.returncode, 0)
        err = p.stderr.read().decode()
        self.assertEqual(err, '', 'the agent wrote to stderr')
        sys.stderr.write('--- the Python agent\'s session ---\n' + '\n'.join(r.lines) + '\n')

    def test_python_mount_signals(self):
        """The client's mount-added and mount-removed, through GI: each mount
        and unmount with its identity, also of a mount made before a restart
        of the service (what it recovered)."""
        if not os.environ.get('VCM_EXAMPLE_AGENT'):
            self.skipTest('no introspection data in this build (VCM_EXAMPLE_AGENT is not set)')
        p, r = self.start(PYTHON, os.environ['VCM_EXAMPLE_AGENT'])
        r.until(r' resynced ')
        src = self.rootfs('m1')
        mp = self.w.call('MountRootfs', 'sbm', 'ctr1', src, True)
        f = fields(r.until(r' mount-added ').string)
        _, mounts = self.w.call('ListMounts', {})
        listed, = [m for m in mounts if m['mount-point'] == mp]
        self.assertEqual((f['mount-point'], f['kind'], f['source'], f['caller-uid'], f['recovered']),
                         (mp, 'rootfs', src, '0', 'no'))
        self.assertEqual(int(f['mount-id']), listed['mount-id'])
        self.assertNotEqual(int(f['mount-id']), 0)
        # made before a restart (kill -9): the identity the service recovered
        self.w.restart_daemon(kill9=True)
        detached = self.w.call('UnmountRootfs', 'sbm', 'ctr1')
        f = fields(r.until(r' mount-removed ').string)
        self.assertEqual((f['mount-point'], f['kind'], f['source'], f['recovered'], f['detached']),
                         (mp, 'rootfs', src, 'yes', ','.join(detached)))
        self.assertEqual(int(f['mount-id']), listed['mount-id'])
        self.stop(p)
        self.assertEqual(p.stderr.read().decode(), '', 'the agent wrote to stderr')

    def test_c_example(self):
        mp = self.w.call('MountRootfs', 'sbc', 'c1', self.rootfs('c1'), True)
        self.w.call('MountRootfs', 'sbc', 'c2', self.rootfs('c2'), False)
        self.w.call('MountRootfs', 'other', 'c3', self.rootfs('c3'), False)
        p = subprocess.run([os.environ['VCM_EXAMPLE_LIST'], '--once', 'sbc'], env=self.env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, '')
        lines = p.stdout.splitlines()
        generation = self.listed()[0]
        self.assertEqual(lines[0], f'listed generation={generation} count=2')
        self.assertEqual(lines[1:3], [f'  sbc/c1 {mp}', f'  sbc/c2 {os.path.dirname(mp)[:-2]}c2/rootfs'])
        self.assertEqual(lines[3], f'added generation={generation} sandbox=sbc container=c1 '
                                   f'mount-point={mp} read-only=yes')
        self.assertTrue(lines[4].startswith(f'added generation={generation} sandbox=sbc container=c2 '))
        self.assertEqual(lines[5:], [f'resynced generation={generation} count=2'])
        sys.stderr.write('--- the C example ---\n' + p.stdout)

    def test_c_example_refused(self):
        # Queries made to want a password from one user and refused to the
        # other: the library tells the two apart, and so does the example.
        rule = self.w.add_rule('''
polkit.addRule(function(action, subject) {
    if (action.id == "org.vc.mount.query" && subject.user == "nobody")
        return polkit.Result.AUTH_ADMIN;
    if (action.id == "org.vc.mount.query" && subject.user == "%s")
        return polkit.Result.NO;
});''' % vcmtest.TEST_USER)

        def back_to_default():
            self.w.remove_rule(rule)
            self.w.wait_for_rule(vcmtest.TEST_UID, 'org.vc.mount.query')
        self.addCleanup(back_to_default)
        self.w.wait_for_rule(vcmtest.TEST_UID, 'org.vc.mount.query', authorized=False)
        # a copy the other users can run, whatever the build dir's permissions
        example = os.path.join(self.dir, 'vcmount-list')
        shutil.copy(os.environ['VCM_EXAMPLE_LIST'], example)
        os.chmod(example, 0o755)

        def run_as(uid):
            return subprocess.run(self.w.setpriv(uid) + [example, '--once'], env=self.env,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=TIMEOUT, cwd='/')

        p = run_as(vcmtest.NOBODY_UID)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(p.stdout, '')
        self.assertIn('authentication is required', p.stderr)
        self.assertIn('polkit wants you to authenticate', p.stderr)
        self.assertNotIn('GDBus.Error', p.stderr)
        p = run_as(vcmtest.TEST_UID)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(p.stdout, '')
        self.assertIn('not authorized', p.stderr)
        self.assertNotIn('polkit wants you to authenticate', p.stderr)

    def test_go_rootless(self):
        if not os.environ.get('VCM_EXAMPLE_GO'):
            self.skipTest('the Go example is not built (golang-go or golang-dbus-dev missing)')
        root = self.rootfs('go-rootfs')
        for name, owner in (('root-file', 0), ('user-file', 1000)):
            path = os.path.join(root, name)
            with open(path, 'w') as f:
                f.write(name)
            os.chown(path, owner, owner)
        before = self.listed()[0]
        p = subprocess.run([os.environ['VCM_EXAMPLE_GO'], '-sandbox', 'sbgo', '-container', 'c1',
                            '-rootfs', root, '-idmap', 'b:0:100000:65536',
                            '-timeout', f'{TIMEOUT}s'],
                           env=self.env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=3 * TIMEOUT)
        sys.stderr.write('--- the Go example ---\n' + p.stdout + p.stderr)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, '')
        lines = p.stdout.splitlines()
        events = [line.split()[0] for line in lines]
        mp = os.path.join(self.w.shared_dir, 'sbgo', 'c1', 'rootfs')
        self.assertEqual(lines[0], f'listed why=start generation={before} mounts=0')
        mounted = fields('- - ' + lines[1])
        self.assertEqual(events[1], 'mounted')
        self.assertEqual((mounted['mount-point'], mounted['kind'], mounted['caller-uid']), (mp, 'rootfs', '0'))
        self.assertNotEqual(mounted['mount-id'], '0')
        # the signals bring it in, by generation, with the reply's identity
        followed = fields('- - ' + lines[events.index('followed')])
        self.assertEqual(followed['mount-id'], mounted['mount-id'])
        self.assertEqual(int(followed['generation']), before + 1)
        self.assertNotIn('gap', events)
        added = [fields('- - ' + line) for line in lines if line.startswith('signal MountAdded ')]
        self.assertEqual([a['mount-id'] for a in added], [mounted['mount-id']])
        # what the sandbox sees: the ID-mapped owners
        owners = {f['path']: (int(f['uid']), int(f['gid']))
                  for f in (fields('- - ' + line) for line in lines if line.startswith('owner '))}
        self.assertEqual(owners, {'.': (100000, 100000), 'root-file': (100000, 100000),
                                  'user-file': (101000, 101000)})
        self.assertEqual(fields('- - ' + lines[events.index('unmounted')])['detached'].split(',')[0], mp)
        gone = fields('- - ' + lines[-1])
        self.assertEqual((events[-1], gone['mount-point']), ('gone', mp))
        self.assertEqual(int(gone['generation']), before + 2)
        self.assertEqual(self.listed(), (before + 2, {}))
        # and the source is as it was: the ID map was the mount's only
        self.assertEqual(os.stat(os.path.join(root, 'user-file')).st_uid, 1000)

    def test_go_rootless_in_its_own_namespaces(self):
        # The runtime as it lives: the test user, in a user namespace it made
        # from its subordinate ranges (newuidmap) and a mount namespace of
        # its own, with a rootfs at a path that exists only there.
        if not os.environ.get('VCM_EXAMPLE_GO'):
            self.skipTest('the Go example is not built (golang-go or golang-dbus-dev missing)')
        alice, sub, count = vcmtest.TEST_UID, vcmtest.SUBID_START, vcmtest.SUBID_COUNT
        rule = self.w.add_rule('''
polkit.addRule(function(action, subject) {
    if (action.id == "org.vc.mount.manage-rootfs" && subject.user == "%s")
        return polkit.Result.YES;
});''' % vcmtest.TEST_USER)

        def back_to_default():
            self.w.remove_rule(rule)
            self.w.wait_for_rule(alice, 'org.vc.mount.manage-rootfs', authorized=False)
        self.addCleanup(back_to_default)
        self.w.wait_for_rule(alice, 'org.vc.mount.manage-rootfs')
        host_dir = os.path.join(self.dir, 'alice-rootfs')
        ns_dir = os.path.join(self.dir, 'ns-only')
        for d in (host_dir, ns_dir):
            os.mkdir(d, 0o755)
            os.chown(d, alice, alice)
        example = os.path.join(self.dir, 'vcmount-rootless')
        shutil.copy(os.environ['VCM_EXAMPLE_GO'], example)
        os.chmod(example, 0o755)
        spec = {'address': self.w.bus_address, 'host_dir': host_dir, 'ns_dir': ns_dir,
                'uid_map': f'0 {alice} 1 1 {sub} {count}', 'gid_map': f'0 {alice} 1 1 {sub} {count}',
                'files': [['root-file', 0, 0], ['user-file', 1, 1]],
                'go': example, 'idmap': f'u:{alice}:0:1,g:{alice}:0:1,u:{sub}:1:{count},g:{sub}:1:{count}'}
        runner = (
            'import json, os, sys\n'
            f'sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})\n'
            'import rootless\n'
            'spec = json.loads(sys.argv[1])\n'
            'rootless.enter_namespaces(spec)\n'
            'rootfs = rootless.make_rootfs(spec)\n'
            'os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = spec["address"]\n'
            'os.execv(spec["go"], [spec["go"], "-sandbox", "sbns", "-container", "c1", "-rootfs", rootfs,\n'
            '                      "-idmap", spec["idmap"], "-owners=false", "-pause",\n'
            f'                      "-timeout", "{TIMEOUT}s"])\n')
        p = subprocess.Popen(self.w.setpriv(alice) + [PYTHON, '-c', runner, json.dumps(spec)],
                             env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd='/')
        self.addCleanup(self.stop, p)
        r = Reader(p)
        try:
            mounted = fields('- - ' + r.until(r'^mounted ').string)
            r.until(r'^ready$')
        except AssertionError:
            p.kill()
            raise AssertionError(f'{r.lines}\n{p.stderr.read().decode()}')
        mp = os.path.join(self.w.shared_dir, 'sbns', 'c1', 'rootfs')
        self.assertEqual((mounted['mount-point'], mounted['caller-uid']), (mp, str(alice)))
        # Seen from the host: the tree that existed only in the runtime's
        # namespace, shown through the ID map.
        owners = {name: (st.st_uid, st.st_gid) for name, st in
                  ((n, os.stat(os.path.join(mp, n))) for n in ('root-file', 'user-file'))}
        self.assertEqual(owners, {'root-file': (0, 0), 'user-file': (1, 1)})
        self.assertEqual(os.stat(os.path.join(host_dir, 'user-file')).st_uid, sub)
        p.stdin.write(b'\n')
        p.stdin.flush()
        r.until(r'^gone ')
        self.assertEqual(p.wait(timeout=TIMEOUT), 0, p.stderr.read().decode())
        self.assertEqual([m for m in mountinfo() if m['mount_point'] == mp], [])
        sys.stderr.write('--- the Go example, rootless ---\n' + '\n'.join(r.lines) + '\n')

    def test_readme_rootless_commands(self):
        # The README's vcmountctl session for a runtime that holds
        # descriptors: mount-rootfs-fd with options, mounts with the
        # identity, open-mount attached here and handed to a command.
        ctl = os.environ.get('VCM_CLIENT')
        if not ctl:
            self.skipTest('VCM_CLIENT is not set')
        root = self.rootfs('readme-rootfs')
        with open(os.path.join(root, 'hello'), 'w') as f:
            f.write('hello\n')

        def run(*args):
            p = subprocess.run([ctl, '--no-ask-password'] + list(args), env=self.env, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=TIMEOUT)
            sys.stderr.write(f'$ vcmountctl {" ".join(args)}\n{p.stdout}{p.stderr}')
            self.assertEqual(p.returncode, 0, p.stderr)
            return p.stdout

        info = json.loads(run('--json', 'mount-rootfs-fd', 'sbrd', 'c1', root, '--read-only',
                              '--option', 'noexec=true', '-o', 'propagation=unbindable'))
        mp = os.path.join(self.w.shared_dir, 'sbrd', 'c1', 'rootfs')
        self.assertEqual((info['mount-point'], info['kind'], info['source']), (mp, 'rootfs', root))
        self.assertEqual(info['source-inode'], os.stat(root).st_ino)
        mine = [m for m in mountinfo() if m['mount_point'] == mp][-1]
        for opt in ('ro', 'nosuid', 'nodev', 'noexec'):
            self.assertIn(opt, mine['options'], mine['line'])
        self.assertEqual(mine['propagation'], 'unbindable', mine['line'])
        listed = json.loads(run('--json', 'mounts', 'sbrd'))
        self.assertEqual([m['mount-id'] for m in listed['mounts']], [info['mount-id']])
        self.assertEqual(listed['generation'], self.listed()[0])
        table = run('mounts', 'sbrd').splitlines()
        self.assertTrue(table[0].startswith('MOUNT-POINT'))
        self.assertRegex(table[1], rf'^{re.escape(mp)}\s+rootfs\s+{info["mount-id"]}\s+0\s+'
                                   r'ro,rec,nosuid,nodev,noexec,unbindable\s')

        # a detached mount, attached here by vcmountctl itself
        target = os.path.join(self.dir, 'attached')
        os.mkdir(target)
        self.assertEqual(run('open-mount', root, '--read-only', '--attach', target), target + '\n')
        self.addCleanup(umount, target)
        attached = [m for m in mountinfo() if m['mount_point'] == target]
        self.assertEqual(len(attached), 1)
        self.assertIn('ro', attached[0]['options'], attached[0]['line'])
        with open(os.path.join(target, 'hello')) as f:
            self.assertEqual(f.read(), 'hello\n')
        # or handed to a command as descriptor 5
        out = run('open-mount', '--fd-out', '5', root, '--', 'cat', '/proc/self/fd/5/hello')
        self.assertEqual(out, 'hello\n')

        self.assertEqual(run('unmount-rootfs', 'sbrd', 'c1'), mp + '\n')
        self.assertEqual(json.loads(run('--json', 'mounts', 'sbrd'))['mounts'], [])

        # an ID map as the README writes it: files stored as 100000.. shown as 0..
        os.chown(os.path.join(root, 'hello'), 100000, 100001)
        info = json.loads(run('--json', 'mount-rootfs-fd', 'sbrd', 'c2', root, '--idmap', 'b:100000:0:65536'))
        self.assertTrue(info['options']['idmapped'], info)
        st = os.stat(os.path.join(info['mount-point'], 'hello'))
        self.assertEqual((st.st_uid, st.st_gid), (0, 1))
        run('unmount-rootfs', 'sbrd', 'c2')


if __name__ == '__main__':
    unittest.main()
