#!/usr/bin/python3
# test_idmap: ID-mapped mounts for a rootless runtime, end to end (the real
# bus, polkitd, vcmountd; the test user as a real uid under setpriv, in a
# user namespace it made with newuidmap/newgidmap from its subordinate
# ranges, which the harness writes), and the refusals that keep an ID map
# from reaching beyond the caller's own.
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from vcmtest import WorldCase  # noqa: E402

E = vcmtest.ERROR_PREFIX
INVALID, NOT_AUTHORIZED = E + 'InvalidArgument', E + 'NotAuthorized'
ALICE = vcmtest.TEST_UID
SUB = vcmtest.SUBID_START
ROOTLESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'rootless.py')

# The namespace the runtime makes: its root is the user itself, its IDs 1..
# the first 131072 delegated ones.
NS_UID_MAP = f'0 {ALICE} 1 1 {SUB} {vcmtest.SUBID_COUNT}'
NS_GID_MAP = f'0 {ALICE} 1 1 {SUB} {vcmtest.SUBID_COUNT}'


class IdmapCase(WorldCase):

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

    def user_dir(self, name):
        d = os.path.join(self.scratch, name)
        os.mkdir(d, 0o755)
        os.chown(d, ALICE, ALICE)
        return d


class TestRootless(IdmapCase):

    def test_a_caller_in_its_own_namespaces_reaches_the_service(self):
        host_dir, ns_dir = self.user_dir('host'), self.user_dir('ns')
        got = self.rootless({'uid_map': NS_UID_MAP, 'gid_map': NS_GID_MAP, 'host_dir': host_dir,
                             'ns_dir': ns_dir, 'files': [['one', 1, 1]],
                             'method': 'ListRootfs', 'signature': 's', 'args': "('',)"})
        self.assertTrue(got['ok'], got)
        st = os.stat(os.path.join(host_dir, 'one'))
        self.assertEqual((st.st_uid, st.st_gid), (SUB, SUB))


if __name__ == '__main__':
    unittest.main()
