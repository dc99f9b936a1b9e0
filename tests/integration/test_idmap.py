#!/usr/bin/python3
# test_idmap: ID-mapped mounts for a rootless runtime, end to end (the real
# bus, polkitd, vcmountd; the test user as a real uid under setpriv, in a
# user namespace it made with newuidmap/newgidmap from its subordinate
# ranges, which the harness writes), and the refusals that keep an ID map
# from reaching beyond the caller's own.
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from vcmtest import WorldCase  # noqa: E402

E = vcmtest.ERROR_PREFIX
INVALID, NOT_AUTHORIZED = E + 'InvalidArgument', E + 'NotAuthorized'
ALICE = vcmtest.TEST_UID
NOBODY = vcmtest.NOBODY_UID
SUB = vcmtest.SUBID_START
ROOTLESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'rootless.py')

# The namespace the runtime makes: its root is the user itself, its IDs 1..
# the first 131072 delegated ones.
NS_UID_MAP = f'0 {ALICE} 1 1 {SUB} {vcmtest.SUBID_COUNT}'
NS_GID_MAP = f'0 {ALICE} 1 1 {SUB} {vcmtest.SUBID_COUNT}'


# The test user may manage the rootfs mounts of sandbox "alice" and get
# mount fds; every check's details are logged for the tests to read.
RULES = '''
polkit.addRule(function(action, subject) {
    if (action.id.indexOf("org.vc.mount.") == 0)
        polkit.log("VCMIDMAP " + action.id + " " + subject.user + " " +
                   JSON.stringify({idmap: action.lookup("idmap"), nosuid: action.lookup("nosuid"),
                                   message: action.lookup("polkit.message")}));
    if (subject.user != "vcmtest")
        return polkit.Result.NOT_HANDLED;
    if (action.id == "org.vc.mount.manage-rootfs" && action.lookup("sandbox_id") == "alice")
        return polkit.Result.YES;
    if (action.id == "org.vc.mount.open")
        return polkit.Result.YES;
    return polkit.Result.NOT_HANDLED;
});
'''


def idmap(uid_map, gid_map=None):
    """The options argument (GVariant text) with an idmap of these triples."""
    def triples(t):
        return '[' + ', '.join(f'(uint32 {a}, uint32 {b}, uint32 {c})' for a, b, c in t) + ']'
    return (f"{{'idmap': <{{'uid-map': <{triples(uid_map)}>, "
            f"'gid-map': <{triples(uid_map if gid_map is None else gid_map)}>}}>}}")


def mount_rootfs_fd(container, options, **spec):
    return dict(spec, method='MountRootfsFd', signature='ssha{sv}', fds=spec.get('fds', ['rootfs']),
                args=f"('alice', '{container}', @h 0, @a{{sv}} {options})")


def open_mount(options, **spec):
    return dict(spec, method='OpenMount', signature='ha{sv}', fds=spec.get('fds', ['rootfs']),
                args=f"(@h 0, @a{{sv}} {options})")


class IdmapCase(WorldCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.w.add_rule(RULES, name='50-vcmtest-idmap.rules')
        cls.w.wait_for_rule(ALICE, 'org.vc.mount.manage-rootfs', {'sandbox_id': 'alice'})

    def _clean(self):
        self.clean_world()

    def rootless(self, spec, pass_fds=(), uid=ALICE):
        spec = dict(spec, address=self.w.bus_address)
        cmd = self.w.setpriv(uid) + [vcmtest.PYTHON, ROOTLESS, json.dumps(spec)]
        p = subprocess.run(cmd, env=self.w._child_env(), stdin=subprocess.DEVNULL, cwd='/',
                           capture_output=True, text=True, timeout=120, pass_fds=pass_fds)
        if p.returncode != 0 or not p.stdout.strip():
            self.fail(f'rootless.py failed: exit {p.returncode}\n{p.stdout}\n{p.stderr}')
        return json.loads(p.stdout.strip().splitlines()[-1])

    def user_dir(self, name, owner=ALICE):
        d = os.path.join(self.scratch, name)
        os.mkdir(d, 0o755)
        os.chown(d, owner, owner)
        return d

    def in_namespaces(self, spec):
        """@spec run by the test user from inside its own user and mount
        namespaces, its rootfs a host directory of its own shown at a path
        that exists only there."""
        return dict(spec, uid_map=NS_UID_MAP, gid_map=NS_GID_MAP,
                    host_dir=spec.get('host_dir') or self.user_dir('host'),
                    ns_dir=self.user_dir('ns'))

    def refused(self, name, spec, arg=None, **kw):
        """The call of @spec fails with @name (naming @arg) and leaves the
        mount table and the shared dir as they were. Returns the message."""
        table = vcmtest.mount_table()
        before = sorted(os.listdir(self.shared))
        got = self.rootless(spec, **kw)
        self.assertFalse(got['ok'], f'{spec["method"]} {spec["args"]} succeeded: {got}')
        self.assertEqual(got['error'], name, got['message'])
        if arg is not None:
            self.assertTrue(got['message'].startswith(arg + ':'), got['message'])
        self.assertEqual(vcmtest.mount_table(), table, 'the mount table changed')
        self.assertEqual(sorted(os.listdir(self.shared)), before, 'the shared dir changed')
        return got['message']

    def checks_logged(self, since):
        return [json.loads(m.group(2))
                for m in re.finditer(r'VCMIDMAP (\S+) vcmtest (\{.*\})', self.w.polkit_log_since(since))]


class TestRootless(IdmapCase):
    """A rootless runtime: its own user namespace (newuidmap from its
    subordinate range) and mount namespace, a directory that exists only
    there, passed by fd with an ID map."""

    def test_a_rootfs_by_fd_with_an_id_map_shows_the_mapped_owners_in_the_host(self):
        since = self.w.polkit_log_offset()
        # made as the namespace's IDs 0, 1, 2: the host's ALICE, SUB, SUB + 1
        spec = self.in_namespaces(mount_rootfs_fd(
            'c1', idmap([(ALICE, 0, 1), (SUB, 1, 65536)]),
            files=[['mine', 0, 0], ['one', 1, 1], ['two', 2, 2]]))
        got = self.rootless(spec)
        self.assertTrue(got['ok'], got)
        mp = os.path.join(self.shared, 'alice', 'c1', 'rootfs')
        self.assertIn(f"'{mp}'", got['result'])
        owners = {name: (os.lstat(os.path.join(mp, name)).st_uid, os.lstat(os.path.join(mp, name)).st_gid)
                  for name in ('.', 'mine', 'one', 'two')}
        self.assertEqual(owners, {'.': (0, 0), 'mine': (0, 0), 'one': (1, 1), 'two': (2, 2)})
        # stored as the namespace made them
        self.assertEqual(os.lstat(os.path.join(spec['host_dir'], 'two')).st_uid, SUB + 1)
        mount = vcmtest.top_mount(mp)
        self.assertIsNotNone(mount)
        for opt in ('idmapped', 'nosuid', 'nodev'):
            self.assertIn(opt, mount['options'], mount['line'])
        # polkit was shown the map, and so was the prompt
        want = f'u:{ALICE}:0:1,u:{SUB}:1:65536,g:{ALICE}:0:1,g:{SUB}:1:65536'
        checks = [c for c in self.checks_logged(since) if c.get('idmap')]
        self.assertTrue(checks, 'no check with an idmap detail was logged')
        self.assertEqual(checks[-1]['idmap'], want)
        self.assertIn(want, checks[-1]['message'])

    def test_a_mount_fd_attached_by_the_caller_in_its_own_namespaces(self):
        # the first half of its range shown as the second: in the namespace
        # (0 = ALICE, 1.. = SUB..) the files of 1 and 2 are now 65537, 65538
        spec = self.in_namespaces(open_mount(idmap([(SUB, SUB + 65536, 65536)]),
                                             files=[['one', 1, 1], ['two', 2, 2]], attach=True))
        table = vcmtest.mount_table()
        got = self.rootless(spec)
        self.assertTrue(got['ok'], got)
        self.assertEqual(got['attached'], {'.': [65534, 65534], 'one': [65537, 65537],
                                           'two': [65538, 65538]})
        # attached there only: the host's table is as it was
        self.assertEqual(vcmtest.mount_table(), table)


    def test_a_namespace_of_its_own_with_its_maps_read_for_polkit(self):
        # a namespace made with newuidmap from its delegated IDs only ("SUB
        # SUB+1000 65536": no 0, so the caller stays itself in it); as an ID
        # map it shows the files stored as SUB.. as SUB+1000..; read-only,
        # as the tree's top is not the caller's own uid
        host_dir = self.user_dir('host', owner=SUB)
        for name, owner in (('one', SUB + 1), ('two', SUB + 2)):
            path = os.path.join(host_dir, name)
            with open(path, 'w') as f:
                f.write(name)
            os.chown(path, owner, owner)
        since = self.w.polkit_log_offset()
        spec = dict(mount_rootfs_fd('c6', "{'read-only': <true>, 'idmap': <{'userns': <@h 1>}>}",
                                    fds=['rootfs', 'own-userns']),
                    uid_map=f'{SUB} {SUB + 1000} 65536', gid_map=f'{SUB} {SUB + 1000} 65536',
                    become_root=False, host_dir=host_dir, ns_dir=self.user_dir('ns'))
        got = self.rootless(spec)
        self.assertTrue(got['ok'], got)
        mp = os.path.join(self.shared, 'alice', 'c6', 'rootfs')
        self.assertEqual([os.lstat(os.path.join(mp, n)).st_uid for n in ('.', 'one', 'two')],
                         [SUB + 1000, SUB + 1001, SUB + 1002])
        self.assertIn('idmapped', vcmtest.top_mount(mp)['options'])
        # polkit is told the maps the service read, not "userns"
        want = f'u:{SUB}:{SUB + 1000}:65536,g:{SUB}:{SUB + 1000}:65536'
        checks = [c for c in self.checks_logged(since) if c.get('idmap')]
        self.assertTrue(checks and checks[-1]['idmap'] == want, checks)


class TestIdmapRefusals(IdmapCase):
    """What an ID map must not do for a caller that is not root."""

    def test_a_map_of_files_not_the_callers_is_not_authorized(self):
        # alice's own tree holds a file of root's that only root may read; a
        # map that shows root's files as hers would hand it to her
        host_dir = self.user_dir('tree')
        secret = os.path.join(host_dir, 'secret')
        with open(secret, 'w') as f:
            f.write('root only\n')
        os.chmod(secret, 0o600)
        spec = mount_rootfs_fd('c2', idmap([(0, ALICE, 1)], [(0, ALICE, 1)]).replace(
            "{'idmap'", "{'read-only': <true>, 'idmap'"), host_dir=host_dir)
        got = self.rootless(spec)
        if got['ok']:
            reader = subprocess.run(self.w.setpriv(ALICE) + ['cat', os.path.join(
                self.shared, 'alice', 'c2', 'rootfs', 'secret')], capture_output=True, text=True)
            read = 'read' if reader.stdout == 'root only\n' else 'could not read'
            self.fail(f"root's files were mapped to the caller, which {read} root's 0600 file "
                      f"through the mount: {got}")
        self.assertEqual(got['error'], NOT_AUTHORIZED, got['message'])
        self.assertTrue(got['message'].startswith('options.idmap:'), got['message'])
        self.assertEqual(vcmtest.top_mount(os.path.join(self.shared, 'alice', 'c2', 'rootfs')), None)

        # beyond its subordinate range by one; another user's IDs
        for uid_map in ([(SUB, 0, vcmtest.SUBID_COUNT + 1)], [(NOBODY, 0, 1)], [(ALICE + 1, 0, 1)]):
            self.refused(NOT_AUTHORIZED, mount_rootfs_fd('c2', idmap(uid_map, [(ALICE, 0, 1)]),
                                                         host_dir=host_dir), arg='options.idmap')
        # a group it is not in
        self.refused(NOT_AUTHORIZED, mount_rootfs_fd('c2', idmap([(ALICE, 0, 1)], [(0, 0, 1)]),
                                                     host_dir=host_dir), arg='options.idmap')

    def test_a_namespace_of_another_user_is_not_authorized(self):
        # root's namespace, with maps that would be the caller's to use
        holder = subprocess.Popen(['unshare', '--user', 'sleep', 'infinity'])
        try:
            vcmtest.wait_until(lambda: os.readlink(f'/proc/{holder.pid}/ns/user') !=
                               os.readlink('/proc/self/ns/user'), 10, 'the namespace')
            for name, text in (('uid_map', f'{SUB} {SUB} 10\n'), ('setgroups', 'deny'),
                               ('gid_map', f'{SUB} {SUB} 10\n')):
                with open(f'/proc/{holder.pid}/{name}', 'w') as f:
                    f.write(text)
            ns = os.open(f'/proc/{holder.pid}/ns/user', os.O_RDONLY)
        finally:
            holder.kill()
            holder.wait()
        try:
            spec = mount_rootfs_fd('c3', "{'idmap': <{'userns': <@h 1>}>}", fds=['rootfs', str(ns)],
                                   host_dir=self.user_dir('tree'))
            message = self.refused(NOT_AUTHORIZED, spec, arg='options.idmap.userns', pass_fds=(ns,))
            self.assertIn('belongs to uid 0', message)
        finally:
            os.close(ns)

    def test_the_callers_usual_namespace_is_not_authorized(self):
        # its own namespace maps 0 to the caller: as an ID map it would show
        # root's files as the caller's
        spec = self.in_namespaces(mount_rootfs_fd('c4', "{'idmap': <{'userns': <@h 1>}>}",
                                                  fds=['rootfs', 'own-userns']))
        message = self.refused(NOT_AUTHORIZED, spec, arg='options.idmap.userns')
        self.assertIn('filesystem uid 0', message)

    def test_malformed_maps_are_invalid_arguments(self):
        host_dir = self.user_dir('tree')
        many = [(SUB + 10 * i, 10 * i, 10) for i in range(65)]
        cases = [
            (idmap([(ALICE, 0, 0)]), 'options.idmap'),
            (idmap([(SUB, 0, 100), (SUB + 50, 1000, 10)]), 'options.idmap'),
            (idmap([(SUB, 0, 10), (SUB + 100, 5, 10)]), 'options.idmap'),
            (idmap([(SUB, 4294967290, 10)]), 'options.idmap'),
            (idmap(many, [(ALICE, 0, 1)]), 'options.idmap.uid-map'),
            ("{'idmap': <{'uid-map': <[(uint32 1, uint32 2)]>, 'gid-map': <@a(uuu) []>}>}",
             'options.idmap.uid-map'),
            ("{'idmap': <{'uid-map': <@a(uuu) []>}>}", 'options.idmap'),
            ("{'idmap': <{'users': <@a(uuu) []>}>}", 'options.idmap.users'),
            ("{'idmap': <{'userns': <@h 1>}>}", 'options.idmap.userns'),
            ("{'idmap': <{'userns': <1>}>}", 'options.idmap.userns'),
            ("{'idmap': <@a{sv} {}>}", 'options.idmap'),
        ]
        for options, arg in cases:
            with self.subTest(options=options):
                self.refused(INVALID, mount_rootfs_fd('c5', options, host_dir=host_dir), arg=arg)

    def test_a_filesystem_that_cannot_be_id_mapped_is_named(self):
        # root, with proc as the source: the kernel cannot ID-map it
        got = self.rootless(dict(open_mount(idmap([(0, 100, 1)])), host_dir='/proc'), uid=0)
        self.assertFalse(got['ok'], got)
        self.assertEqual(got['error'], E + 'Failed', got['message'])
        self.assertIn('(proc)', got['message'])
        self.assertIn('does not support ID-mapped mounts', got['message'])


if __name__ == '__main__':
    unittest.main()
