#!/usr/bin/python3
# test_client: vcmountctl against the real vcmountd, polkitd and a private
# system bus (the harness World). Every command in human and --json form,
# each error path with its exit code, and `monitor --json` seeing the mounts
# and unmounts that another client makes.
#
# The client is the one named by $VCM_CLIENT. Run under
# `unshare -m --propagation private` (meson test does, through taprunner.py).

import contextlib
import json
import os
import re
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from vcmtest import FAKE_BLOCK_DEVICES, World, mountinfo, top_mount  # noqa: E402

NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_AUTHORIZED, EXIT_NOT_FOUND = 0, 1, 2, 3, 4
EXIT_AUTH_REQUIRED = 5   # polkit would ask, and the call did not allow it
DEFAULT_SHM_SIZE = 64 * 1024 * 1024
TIMEOUT = vcmtest.scaled(30)   # for one run of the client, or one line of it


def listed_commands(help_text):
    """The commands vcmountctl's --help lists, in its order: the one list is
    the program's own table, so nothing here is kept in step with it."""
    section = help_text.split('Commands:\n', 1)[1].split('\n\n', 1)[0]
    return re.findall(r'(?m)^  ([a-z][a-z-]*)', section)


class ClientTestCase(unittest.TestCase):
    """One World for the class; each test leaves no mount behind."""

    @classmethod
    def setUpClass(cls):
        client = os.environ.get('VCM_CLIENT')
        if not client:
            raise unittest.SkipTest('VCM_CLIENT is not set')
        cls._stack = contextlib.ExitStack()
        cls.addClassCleanup(cls._stack.close)
        cls.w = cls._stack.enter_context(World())
        # A copy that uid 65534 can run whatever the build dir's permissions.
        cls.tmp = tempfile.mkdtemp(prefix='vcm-client-test.')
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        os.chmod(cls.tmp, 0o755)
        cls.client = os.path.join(cls.tmp, 'vcmountctl')
        shutil.copy(client, cls.client)
        os.chmod(cls.client, 0o755)
        cls.shared = os.path.realpath(cls.w.shared_dir)
        cls.env = dict(os.environ)
        cls.env.update(cls.w.env)
        cls.env['LC_ALL'] = 'C.UTF-8'

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='case.', dir=self.tmp)
        os.chmod(self.dir, 0o755)
        self.addCleanup(self.cleanup_mounts)

    def cleanup_mounts(self):
        # Whatever a failed test left beneath the shared dir goes, deepest first.
        for m in sorted(mountinfo(), key=lambda m: -len(m['mount_point'])):
            if m['mount_point'].startswith(self.shared + '/'):
                subprocess.run(['umount', '-l', m['mount_point']], stderr=subprocess.DEVNULL)

    # -- running the client ------------------------------------------------

    def run_client(self, *args, as_nobody=False, check=None):
        cmd = (NOBODY if as_nobody else []) + [self.client] + [str(a) for a in args]
        p = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=TIMEOUT)
        if check is not None:
            self.assertEqual(p.returncode, check,
                             f'{args}: exit {p.returncode}, stdout {p.stdout!r}, stderr {p.stderr!r}')
        return p

    def ok(self, *args, **kw):
        p = self.run_client(*args, check=EXIT_OK, **kw)
        self.assertEqual(p.stderr, '', f'{args}: unexpected stderr')
        return p.stdout

    def ok_json(self, *args, **kw):
        out = self.ok('--json', *args, **kw)
        self.assertEqual(out.count('\n'), 1, f'{args}: not one JSON document on one line: {out!r}')
        return json.loads(out)

    def fails(self, code, *args, **kw):
        """Runs the client expecting exit @code, one line on stderr, nothing on stdout."""
        p = self.run_client(*args, check=code, **kw)
        self.assertEqual(p.stdout, '', f'{args}: stdout on failure')
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, f'{args}: not one line on stderr: {p.stderr!r}')
        self.assertTrue(lines[0].startswith('vcmountctl: '), lines[0])
        self.assertNotIn('GDBus.Error', lines[0])
        return lines[0]

    def needs_auth(self, *args, **kw):
        """Runs the client expecting exit 5 (polkit would ask for a password):
        the error and a second line saying how to be asked; nothing on stdout.
        Returns the first line."""
        p = self.run_client(*args, check=EXIT_AUTH_REQUIRED, **kw)
        self.assertEqual(p.stdout, '', f'{args}: stdout on failure')
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 2, f'{args}: not two lines on stderr: {p.stderr!r}')
        self.assertTrue(all(l.startswith('vcmountctl: ') for l in lines), lines)
        self.assertNotIn('GDBus.Error', lines[0])
        self.assertIn('authentication is required', lines[0])
        self.assertIn('terminal', lines[1])
        self.assertIn('without --no-ask-password', lines[1])
        return lines[0]

    def make_rootfs(self, name='rootfs'):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.join(path, 'etc'))
        with open(os.path.join(path, 'etc', 'hostname'), 'w') as f:
            f.write(name + '\n')
        os.chmod(path, 0o755)
        return path

    def rootfs_mount_point(self, sandbox, container):
        return os.path.join(self.shared, sandbox, container, 'rootfs')


class TestCommandLine(ClientTestCase):
    def test_version(self):
        out = self.ok('--version')
        self.assertRegex(out, r'^vcmountctl \d+\.\d+\.\d+\n$')

    def test_help_lists_every_command_and_exit_codes(self):
        listed = None
        for args in (['--help'], ['help'], ['-h']):
            out = self.ok(*args)
            if listed is None:
                listed = listed_commands(out)
                for cmd in ('mount-rootfs', 'unmount-rootfs', 'list', 'status', 'help'):
                    self.assertIn(cmd, listed, f'{args}: {cmd} missing')
            self.assertEqual(listed_commands(out), listed, args)
            for opt in ('--system', '--session', '--address', '--json', '--no-ask-password',
                        '--timeout'):
                self.assertIn(opt, out)
            self.assertIn('Exit status', out)
            for code in ('0', '1', '2', '3', '4', '5'):
                self.assertRegex(out, rf'(?m)^  {code}  \S')

    def test_help_of_each_command(self):
        commands = [c for c in listed_commands(self.ok('--help')) if c != 'help']
        self.assertGreater(len(commands), 10, commands)
        for cmd in commands:
            for args in ([cmd, '--help'], ['help', cmd]):
                out = self.ok(*args)
                self.assertIn(f'vcmountctl [OPTION…] {cmd}', out, args)
                self.assertIn('Exit status', out, args)
        self.assertIn('--read-only', self.ok('mount-rootfs', '--help'))
        self.assertIn('--read-only', self.ok('bind', '--help'))
        self.assertNotIn('--read-only', self.ok('list', '--help'))
        self.assertIn('--json', self.ok('list', '--help-all'))

    def test_usage_errors(self):
        cases = [
            ([], None),
            (['frobnicate'], None),
            (['--frobnicate', 'list'], None),
            (['list', '--frobnicate'], 'list'),
            (['mount-rootfs', 'sb', 'ct'], 'mount-rootfs'),
            (['mount-rootfs', 'sb', 'ct', '/x', '/y'], 'mount-rootfs'),
            (['unmount-rootfs', 'sb'], 'unmount-rootfs'),
            (['unmount-sandbox'], 'unmount-sandbox'),
            (['list', 'a', 'b'], 'list'),
            (['bind', '/x'], 'bind'),
            (['unmount'], 'unmount'),
            (['device'], 'device'),
            (['device', '/', '/'], 'device'),
            (['fs'], 'fs'),
            (['describe'], 'describe'),
            (['is-system-mount'], 'is-system-mount'),
            (['is-host-device', '/a', '/b'], 'is-host-device'),
            (['is-devicemapper'], 'is-devicemapper'),
            (['status', 'extra'], 'status'),
            (['monitor', 'extra'], 'monitor'),
            (['help', 'frobnicate'], None),
            (['help', 'list', 'extra'], 'help'),
            (['--timeout', 'soon', 'status'], None),
            (['--timeout', '-1', 'status'], None),
            (['--session', '--system', 'status'], None),
            (['--address', 'unix:path=/nonexistent', '--system', 'status'], None),
        ]
        for bad in ['8', '8:', ':1', '8:1:2', 'a:b', '-1:0', '8:-1', ' 8:1', '0x8:1',
                    '4294967296:0', '0:4294967296', '']:
            cases.append((['is-devicemapper', bad], 'is-devicemapper'))
        for args, cmd in cases:
            with self.subTest(args=args):
                line = self.fails(EXIT_USAGE, *args)
                hint = f"see 'vcmountctl {cmd} --help'" if cmd else "see 'vcmountctl --help'"
                self.assertTrue(line.endswith(hint), f'{args}: {line!r}')

    def test_unreachable_bus(self):
        sock = os.path.join(self.dir, 'no-such-bus')
        line = self.fails(EXIT_FAILED, '--address', f'unix:path={sock}', 'status')
        self.assertIn('cannot connect', line)


class TestStatus(ClientTestCase):
    def test_status(self):
        version = self.ok('--version').split()[1]
        out = self.ok('status')
        fields = dict(line.split(':', 1) for line in out.splitlines())
        fields = {k: v.strip() for k, v in fields.items()}
        self.assertEqual(fields['Version'], version)
        self.assertEqual(os.path.realpath(fields['Shared dir']), self.shared)
        self.assertEqual(fields['Default shm size'].split()[0], str(DEFAULT_SHM_SIZE))
        self.assertRegex(fields['Generation'], r'^\d+$')
        # The values line up after the labels.
        self.assertEqual(len({line.index(line.split(':', 1)[1].strip()) for line in out.splitlines()}), 1)

        doc = self.ok_json('status')
        self.assertEqual(set(doc), {'version', 'shared-dir', 'default-shm-size', 'generation'})
        self.assertEqual(doc['version'], version)
        self.assertEqual(os.path.realpath(doc['shared-dir']), self.shared)
        self.assertEqual(doc['default-shm-size'], DEFAULT_SHM_SIZE)
        self.assertIsInstance(doc['generation'], int)
        self.assertGreaterEqual(doc['generation'], int(fields['Generation']))

    def test_status_global_options_after_command_and_timeout(self):
        doc = json.loads(self.ok('status', '--json', '--timeout', '10', '--no-ask-password'))
        self.assertEqual(doc['default-shm-size'], DEFAULT_SHM_SIZE)
        doc = json.loads(self.ok('--system', '--timeout', '0', '--json', 'status'))
        self.assertEqual(doc['default-shm-size'], DEFAULT_SHM_SIZE)

    def test_status_as_nobody(self):
        doc = self.ok_json('--no-ask-password', 'status', as_nobody=True)
        self.assertEqual(doc['default-shm-size'], DEFAULT_SHM_SIZE)


class TestRootfs(ClientTestCase):
    def test_mount_list_unmount_human(self):
        rootfs = self.make_rootfs()
        mp = self.rootfs_mount_point('sb1', 'c1')
        out = self.ok('mount-rootfs', 'sb1', 'c1', rootfs)
        self.assertEqual(out, mp + '\n')
        m = top_mount(mp)
        self.assertIsNotNone(m, 'not mounted')
        self.assertIn('rw', m['options'])
        with open(os.path.join(mp, 'etc', 'hostname')) as f:
            self.assertEqual(f.read(), 'rootfs\n')

        mp2 = self.rootfs_mount_point('sb1', 'container-two')
        self.assertEqual(self.ok('mount-rootfs', '--read-only', 'sb1', 'container-two', rootfs), mp2 + '\n')
        self.assertIn('ro', top_mount(mp2)['options'])
        mp3 = self.rootfs_mount_point('sb2', 'c1')
        self.assertEqual(self.ok('mount-rootfs', 'sb2', 'c1', rootfs, '-r'), mp3 + '\n')

        lines = self.ok('list').splitlines()
        self.assertEqual(lines[0].split(), ['SANDBOX', 'CONTAINER', 'MOUNT-POINT', 'RO'])
        rows = sorted(tuple(line.split()) for line in lines[1:])
        self.assertEqual(rows, [('sb1', 'c1', mp, 'no'), ('sb1', 'container-two', mp2, 'yes'),
                                ('sb2', 'c1', mp3, 'yes')])
        # Aligned columns: every column starts at the header's offset.
        for header in ('CONTAINER', 'MOUNT-POINT', 'RO'):
            col = lines[0].index(header)
            for line in lines[1:]:
                self.assertNotEqual(line[col], ' ', f'{header} misaligned in {line!r}')
                self.assertEqual(line[col - 1], ' ')

        lines = self.ok('list', 'sb2').splitlines()
        self.assertEqual([tuple(line.split()) for line in lines[1:]], [('sb2', 'c1', mp3, 'yes')])
        self.assertEqual(self.ok('list', 'nosuch').splitlines()[1:], [])

        detached = self.ok('unmount-rootfs', 'sb1', 'c1').splitlines()
        self.assertEqual(detached[0], mp)
        self.assertIsNone(top_mount(mp))
        self.assertEqual(sorted(self.ok('unmount-sandbox', 'sb1').splitlines()), ['container-two'])
        self.assertIsNone(top_mount(mp2))
        self.assertEqual(self.ok('unmount-sandbox', 'sb1'), '')
        self.assertEqual(self.ok('unmount-rootfs', 'sb2', 'c1'), mp3 + '\n')
        self.assertEqual(self.ok('list').splitlines()[1:], [])

    def test_mount_list_unmount_json(self):
        rootfs = self.make_rootfs()
        mp = self.rootfs_mount_point('sbj', 'c1')
        self.assertEqual(self.ok_json('mount-rootfs', 'sbj', 'c1', rootfs), {'mount-point': mp})
        mp2 = self.rootfs_mount_point('sbj', 'c2')
        self.assertEqual(self.ok_json('mount-rootfs', 'sbj', 'c2', rootfs, '--read-only'),
                         {'mount-point': mp2})

        doc = self.ok_json('list')
        self.assertEqual(set(doc), {'generation', 'rootfs'})
        self.assertIsInstance(doc['generation'], int)
        rows = sorted(doc['rootfs'], key=lambda r: r['container-id'])
        self.assertEqual(rows, [
            {'sandbox-id': 'sbj', 'container-id': 'c1', 'mount-point': mp, 'read-only': False},
            {'sandbox-id': 'sbj', 'container-id': 'c2', 'mount-point': mp2, 'read-only': True},
        ])
        self.assertEqual(self.ok_json('list', 'nosuch')['rootfs'], [])
        self.assertEqual(len(self.ok_json('list', 'sbj')['rootfs']), 2)
        gen_before = doc['generation']

        doc = self.ok_json('unmount-rootfs', 'sbj', 'c1')
        self.assertEqual(set(doc), {'detached'})
        self.assertEqual(doc['detached'][0], mp)
        self.assertEqual(self.ok_json('list')['generation'], gen_before + 1)

        doc = self.ok_json('unmount-sandbox', 'sbj')
        self.assertEqual(doc, {'container-ids': ['c2']})
        self.assertEqual(self.ok_json('unmount-sandbox', 'sbj'), {'container-ids': []})
        self.assertEqual(self.ok_json('list'), {'generation': gen_before + 2, 'rootfs': []})

    def test_unmount_rootfs_with_submount(self):
        rootfs = self.make_rootfs()
        mp = self.rootfs_mount_point('sbs', 'c1')
        self.ok('mount-rootfs', 'sbs', 'c1', rootfs)
        volume = os.path.join(self.dir, 'volume')
        os.mkdir(volume)
        subprocess.run(['mount', '--bind', volume, os.path.join(mp, 'etc')], check=True)
        doc = self.ok_json('unmount-rootfs', 'sbs', 'c1')
        self.assertEqual(doc['detached'][0], mp)
        self.assertIn(os.path.join(mp, 'etc'), doc['detached'])
        self.assertIsNone(top_mount(mp))

    def test_mount_errors(self):
        rootfs = self.make_rootfs()
        self.ok('mount-rootfs', 'sbe', 'c1', rootfs)
        line = self.fails(EXIT_FAILED, 'mount-rootfs', 'sbe', 'c1', rootfs)
        self.assertTrue(line.startswith('vcmountctl: cannot mount the rootfs of sbe/c1: '), line)
        self.fails(EXIT_FAILED, '--json', 'mount-rootfs', 'sbe', 'c1', rootfs)
        line = self.fails(EXIT_NOT_FOUND, 'mount-rootfs', 'sbe', 'c2', os.path.join(self.dir, 'nope'))
        self.assertIn('rootfs', line)
        for bad_id in ('bad/id', '..', '.hidden', '-x', 'x' * 129):
            with self.subTest(bad_id=bad_id):
                self.fails(EXIT_FAILED, 'mount-rootfs', '--', bad_id, 'c1', rootfs)
                self.fails(EXIT_FAILED, 'mount-rootfs', '--', 'sbe', bad_id, rootfs)
        self.fails(EXIT_FAILED, 'mount-rootfs', 'sbe', 'c3', 'relative/path')
        self.fails(EXIT_FAILED, 'mount-rootfs', 'sbe', 'c3', '')

        self.ok('unmount-rootfs', 'sbe', 'c1')
        line = self.fails(EXIT_NOT_FOUND, 'unmount-rootfs', 'sbe', 'c1')
        self.assertTrue(line.startswith('vcmountctl: cannot unmount the rootfs of sbe/c1: '), line)
        self.fails(EXIT_NOT_FOUND, '--json', 'unmount-rootfs', 'sbe', 'never')
        self.fails(EXIT_FAILED, 'unmount-rootfs', 'sbe', 'bad/id')
        self.fails(EXIT_FAILED, 'unmount-sandbox', 'bad/id')
        self.fails(EXIT_FAILED, 'list', 'bad/id')

    def test_authentication_required_as_nobody(self):
        # No rule: polkit's default wants an administrator's password.
        rootfs = self.make_rootfs()
        line = self.needs_auth('--no-ask-password', 'mount-rootfs', 'sbn', 'c1',
                               rootfs, as_nobody=True)
        self.assertTrue(line.startswith('vcmountctl: cannot mount the rootfs of sbn/c1: '), line)
        self.assertIsNone(top_mount(self.rootfs_mount_point('sbn', 'c1')))
        # stdin is not a terminal: no prompt even without --no-ask-password.
        self.needs_auth('mount-rootfs', 'sbn', 'c1', rootfs, as_nobody=True)

        self.ok('mount-rootfs', 'sbn', 'c1', rootfs)
        self.needs_auth('--no-ask-password', 'unmount-rootfs', 'sbn', 'c1', as_nobody=True)
        self.needs_auth('--no-ask-password', 'unmount-sandbox', 'sbn', as_nobody=True)
        self.needs_auth('--no-ask-password', 'bind', rootfs,
                        os.path.join(self.shared, 'sbn', 'c1', 'nobody-bind'), as_nobody=True)
        self.needs_auth('--no-ask-password', 'unmount',
                        os.path.join(self.rootfs_mount_point('sbn', 'c1'), 'etc'), as_nobody=True)
        self.assertIsNotNone(top_mount(self.rootfs_mount_point('sbn', 'c1')))
        # Queries are open to everyone.
        doc = self.ok_json('--no-ask-password', 'list', 'sbn', as_nobody=True)
        self.assertEqual([r['container-id'] for r in doc['rootfs']], ['c1'])

    def test_not_authorized_as_nobody(self):
        # A rule that says no: exit 3, one line, no hint to try again.
        rule = self.w.add_rule(vcmtest.polkit_rule('org.vc.mount.manage-rootfs', 'nobody', 'NO'))
        self.addCleanup(self.w.remove_rule, rule)
        self.w.wait_for_refusal(65534, 'org.vc.mount.manage-rootfs')
        rootfs = self.make_rootfs()
        for opts in (['--no-ask-password'], []):
            with self.subTest(opts=opts):
                line = self.fails(EXIT_NOT_AUTHORIZED, *opts, 'mount-rootfs', 'sbno', 'c1', rootfs,
                                  as_nobody=True)
                self.assertTrue(line.startswith('vcmountctl: cannot mount the rootfs of sbno/c1: '), line)
                self.assertIn('not authorized', line)
        self.assertIsNone(top_mount(self.rootfs_mount_point('sbno', 'c1')))
        # bind is another action: still polkit's default there
        self.needs_auth('--no-ask-password', 'bind', rootfs,
                        os.path.join(self.shared, 'sbno', 'c1', 'nobody-bind'), as_nobody=True)

    def test_polkit_rule_allows_nobody(self):
        rule = self.w.add_rule(vcmtest.polkit_rule('org.vc.mount.manage-rootfs', 'nobody',
                                                   sandbox_id='sb-nobody'))
        self.addCleanup(self.w.remove_rule, rule)
        rootfs = self.make_rootfs()
        os.chown(rootfs, 65534, 65534)  # writable: of a tree of the caller's own
        mp = self.rootfs_mount_point('sb-nobody', 'c1')
        deadline = time.monotonic() + vcmtest.scaled(30)
        while True:  # polkitd reloads rules by itself, within moments
            p = self.run_client('--no-ask-password', '--json', 'mount-rootfs', 'sb-nobody', 'c1',
                                rootfs, as_nobody=True)
            if p.returncode != EXIT_AUTH_REQUIRED or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(p.returncode, EXIT_OK, p.stderr)
        self.assertEqual(json.loads(p.stdout), {'mount-point': mp})
        # The rule names one sandbox only.
        self.needs_auth('--no-ask-password', 'mount-rootfs', 'sb-other', 'c1', rootfs, as_nobody=True)
        self.assertEqual(self.ok('--no-ask-password', 'unmount-rootfs', 'sb-nobody', 'c1',
                                 as_nobody=True).splitlines()[0], mp)


class TestBind(ClientTestCase):
    def test_bind_unmount(self):
        src = self.make_rootfs('src')
        dest = os.path.join(self.shared, 'binds', 'b1')
        self.assertEqual(self.ok('bind', src, dest), dest + '\n')
        self.assertIn('rw', top_mount(dest)['options'])
        self.assertEqual(self.ok('unmount', dest), dest + '\n')
        self.assertIsNone(top_mount(dest))

        self.assertEqual(self.ok_json('bind', '--read-only', src, dest), {'mount-point': dest})
        self.assertIn('ro', top_mount(dest)['options'])
        self.assertEqual(self.ok_json('unmount', dest), {'detached': [dest]})

        # A file source: the destination file is created.
        src_file = os.path.join(src, 'etc', 'hostname')
        dest_file = os.path.join(self.shared, 'binds', 'hostname')
        self.assertEqual(self.ok_json('bind', src_file, dest_file), {'mount-point': dest_file})
        self.assertTrue(stat.S_ISREG(os.stat(dest_file).st_mode))
        self.assertEqual(self.ok_json('unmount', dest_file)['detached'][0], dest_file)

    def test_bind_errors(self):
        src = self.make_rootfs('src')
        line = self.fails(EXIT_FAILED, 'bind', src, os.path.join(self.dir, 'outside'))
        self.assertTrue(line.startswith(f'vcmountctl: cannot bind-mount {src} at '), line)
        self.fails(EXIT_NOT_FOUND, 'bind', os.path.join(self.dir, 'nope'),
                   os.path.join(self.shared, 'binds', 'b2'))
        self.fails(EXIT_FAILED, 'bind', 'relative', os.path.join(self.shared, 'binds', 'b2'))
        line = self.fails(EXIT_NOT_FOUND, 'unmount', os.path.join(self.shared, 'not-mounted'))
        self.assertTrue(line.startswith('vcmountctl: cannot unmount '), line)
        self.fails(EXIT_NOT_FOUND, '--json', 'unmount', os.path.join(self.shared, 'not-mounted'))
        self.fails(EXIT_FAILED, 'unmount', '/proc')


class TestQueries(ClientTestCase):
    def test_device(self):
        rootfs = self.make_rootfs()
        mp = self.ok('mount-rootfs', 'sbq', 'c1', rootfs).strip()
        path = os.path.join(mp, 'etc', 'hostname')
        st = os.stat(path)
        want = f'{os.major(st.st_dev)}:{os.minor(st.st_dev)} {mp}\n'
        self.assertEqual(self.ok('device', path), want)
        doc = self.ok_json('device', path)
        self.assertEqual(doc, {'path': path, 'major': os.major(st.st_dev),
                               'minor': os.minor(st.st_dev), 'mount-point': mp})
        st = os.stat('/proc')
        self.assertEqual(self.ok('device', '/proc'), f'{os.major(st.st_dev)}:{os.minor(st.st_dev)} /proc\n')
        line = self.fails(EXIT_NOT_FOUND, 'device', os.path.join(self.dir, 'nope'))
        self.assertTrue(line.startswith('vcmountctl: cannot find the device of '), line)
        self.fails(EXIT_FAILED, 'device', 'relative')

    def test_fs(self):
        rootfs = self.make_rootfs()
        mp = self.ok('mount-rootfs', 'sbq', 'c1', rootfs).strip()
        m = top_mount(mp)
        self.assertEqual(self.ok('fs', mp), f"{m['source']} {m['fs_type']}\n")
        self.assertEqual(self.ok_json('fs', mp),
                         {'mount-point': mp, 'device': m['source'], 'fs-type': m['fs_type']})
        self.assertEqual(self.ok_json('fs', '/proc')['fs-type'], 'proc')
        line = self.fails(EXIT_NOT_FOUND, 'fs', rootfs)
        self.assertTrue(line.startswith(f'vcmountctl: cannot find the filesystem mounted at {rootfs}: '), line)
        self.fails(EXIT_FAILED, 'fs', '')

    def test_is_queries(self):
        regular = os.path.join(self.dir, 'file')
        open(regular, 'w').close()
        for args, key, subject, want in [
            (['is-system-mount', '/proc'], 'system-mount', '/proc', True),
            (['is-system-mount', '/sys/kernel'], 'system-mount', '/sys/kernel', True),
            (['is-system-mount', '/procfoo'], 'system-mount', '/procfoo', False),
            (['is-system-mount', self.dir], 'system-mount', self.dir, False),
            (['is-host-device', '/dev'], 'host-device', '/dev', True),
            (['is-host-device', '/dev/null'], 'host-device', '/dev/null', True),
            (['is-host-device', regular], 'host-device', regular, False),
            (['is-host-device', '/devices'], 'host-device', '/devices', False),
        ]:
            with self.subTest(args=args):
                self.assertEqual(self.ok(*args), 'yes\n' if want else 'no\n')
                self.assertEqual(self.ok_json(*args), {'path': subject, key: want})

    def test_is_devicemapper(self):
        # The World's fake sysfs (--sysfs-root) says which devices are device-mapper.
        for (major, minor), want in sorted(FAKE_BLOCK_DEVICES.items()):
            dev = f'{major}:{minor}'
            with self.subTest(dev=dev):
                self.assertEqual(self.ok('is-devicemapper', dev), 'yes\n' if want else 'no\n')
                self.assertEqual(self.ok_json('is-devicemapper', dev),
                                 {'device': dev, 'device-mapper': want})
        # A device sysfs does not know is not device-mapper.
        self.assertEqual(self.ok('is-devicemapper', '4294967295:4294967295'), 'no\n')
        # Leading zeros are accepted and the device is printed canonically.
        self.assertEqual(self.ok_json('is-devicemapper', '0253:000'),
                         {'device': '253:0', 'device-mapper': True})
        self.assertEqual(self.ok('is-devicemapper', '253:1', as_nobody=True), 'no\n')

    def test_describe(self):
        rootfs = self.make_rootfs()
        mp = self.ok('mount-rootfs', '--read-only', 'sbq', 'c1', rootfs).strip()
        path = os.path.join(mp, 'etc')
        st = os.stat(path)
        m = top_mount(mp)
        doc = self.ok_json('describe', path)
        self.assertEqual(doc['path'], path)
        self.assertEqual(doc['major'], os.major(st.st_dev))
        self.assertEqual(doc['minor'], os.minor(st.st_dev))
        self.assertEqual(doc['mount-point'], mp)
        self.assertEqual(doc['device'], m['source'])
        self.assertEqual(doc['fs-type'], m['fs_type'])
        self.assertEqual(doc['mount-id'], m['id'])
        self.assertIs(doc['read-only'], True)
        self.assertIsInstance(doc['device-mapper'], bool)
        self.assertIs(doc['system-mount'], False)
        self.assertIs(doc['host-device'], False)
        self.assertIn(doc['propagation'], ('shared', 'private', 'slave', 'unbindable'))
        self.assertEqual(doc['propagation'], 'private')  # the contract: rootfs mounts are private

        out = self.ok('describe', path)
        fields = {}
        for line in out.splitlines():
            k, v = line.split(':', 1)
            fields[k] = v.strip()
        self.assertEqual(fields['Path'], path)
        self.assertEqual(fields['Major'], str(doc['major']))
        self.assertEqual(fields['Minor'], str(doc['minor']))
        self.assertEqual(fields['Mount point'], mp)
        self.assertEqual(fields['Filesystem type'], doc['fs-type'])
        self.assertEqual(fields['Mount ID'], str(doc['mount-id']))
        self.assertEqual(fields['Read-only'], 'yes')
        self.assertEqual(fields['System mount'], 'no')
        self.assertEqual(fields['Host device'], 'no')
        self.assertEqual(fields['Propagation'], 'private')

        self.assertIs(self.ok_json('describe', '/proc')['system-mount'], True)
        self.assertIs(self.ok_json('describe', '/dev/null')['host-device'], True)
        line = self.fails(EXIT_NOT_FOUND, 'describe', os.path.join(self.dir, 'nope'))
        self.assertTrue(line.startswith('vcmountctl: cannot describe '), line)
        self.fails(EXIT_FAILED, 'describe', 'relative')


class LineReader:
    """Lines from a pipe with a deadline (no buffering hidden from select)."""

    def __init__(self, stream):
        self.fd = stream.fileno()
        self.buf = b''
        self.eof = False

    def readline(self, timeout):
        deadline = time.monotonic() + timeout
        sel = selectors.DefaultSelector()
        sel.register(self.fd, selectors.EVENT_READ)
        try:
            while b'\n' not in self.buf and not self.eof:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return None
                chunk = os.read(self.fd, 65536)
                self.eof = chunk == b''
                self.buf += chunk
        finally:
            sel.close()
        line, sep, self.buf = self.buf.partition(b'\n')
        if not sep:
            self.buf = b''
            return line.decode() if line else ''
        return line.decode() + '\n'

    def rest(self, timeout=TIMEOUT):
        """Everything until EOF."""
        out = []
        while True:
            line = self.readline(timeout)
            if not line:
                return ''.join(out)
            out.append(line)


class TestMonitor(ClientTestCase):
    def start_monitor(self, *args, as_nobody=False):
        p = subprocess.Popen((NOBODY if as_nobody else []) + [self.client] + list(args) + ['monitor'],
                             env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)

        def stop():
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stdout.close()
            p.stderr.close()
        self.addCleanup(stop)
        p.out = LineReader(p.stdout)
        p.err = LineReader(p.stderr)
        # It says on stderr when its subscription is in place.
        line = self.read_line(p, p.err)
        self.assertIn('Monitoring', line)
        return p

    def read_line(self, p, reader, timeout=TIMEOUT):
        line = reader.readline(timeout)
        if line is None:
            self.fail(f'no line from the monitor within {timeout:.0f} s')
        self.assertTrue(line.endswith('\n'), f'monitor ended: {line!r} (exit {p.poll()})')
        return line

    def stop_monitor(self, p, sig):
        p.send_signal(sig)
        self.assertEqual(p.wait(timeout=TIMEOUT), 0)
        self.assertEqual(p.out.rest(), '', 'extra lines from the monitor')

    def test_monitor_json(self):
        p = self.start_monitor('--json')
        rootfs = self.make_rootfs()
        mp = self.ok('mount-rootfs', '--read-only', 'sbm', 'c1', rootfs).strip()
        gen = self.ok_json('list')['generation']
        self.ok('unmount-rootfs', 'sbm', 'c1')

        mounted = json.loads(self.read_line(p, p.out))
        self.assertEqual(mounted, {'signal': 'RootfsMounted', 'generation': gen,
                                   'sandbox-id': 'sbm', 'container-id': 'c1',
                                   'mount-point': mp, 'read-only': True})
        unmounted = json.loads(self.read_line(p, p.out))
        self.assertEqual(unmounted, {'signal': 'RootfsUnmounted', 'generation': gen + 1,
                                     'sandbox-id': 'sbm', 'container-id': 'c1',
                                     'mount-point': mp, 'detached': [mp]})
        self.stop_monitor(p, signal.SIGINT)

    def test_monitor_human(self):
        p = self.start_monitor()
        rootfs = self.make_rootfs()
        mp = self.ok('mount-rootfs', 'sbm', 'c2', rootfs).strip()
        self.ok('unmount-sandbox', 'sbm')
        line = self.read_line(p, p.out)
        self.assertRegex(line, rf'^RootfsMounted generation=\d+ sandbox=sbm container=c2 '
                               rf'mount-point={re.escape(mp)} read-only=no\n$')
        gen = int(re.search(r'generation=(\d+)', line).group(1))
        line = self.read_line(p, p.out)
        self.assertEqual(line, f'RootfsUnmounted generation={gen + 1} sandbox=sbm container=c2 '
                               f'mount-point={mp} detached={mp}\n')
        self.stop_monitor(p, signal.SIGTERM)

    def test_monitor_as_nobody_sees_root_mounts(self):
        p = self.start_monitor('--json', as_nobody=True)
        rootfs = self.make_rootfs()
        mp = self.ok('mount-rootfs', 'sbm', 'c3', rootfs).strip()
        doc = json.loads(self.read_line(p, p.out))
        self.assertEqual((doc['signal'], doc['mount-point']), ('RootfsMounted', mp))
        self.ok('unmount-rootfs', 'sbm', 'c3')
        doc = json.loads(self.read_line(p, p.out))
        self.assertEqual((doc['signal'], doc['mount-point']), ('RootfsUnmounted', mp))
        self.stop_monitor(p, signal.SIGTERM)


if __name__ == '__main__':
    # meson runs this file through taprunner.py; directly, plain unittest.
    unittest.main()
