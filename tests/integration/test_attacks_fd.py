#!/usr/bin/python3
"""test_attacks_fd: an unprivileged caller attacks the fd-based methods
(MountRootfsFd, BindMountFd, OpenMount): what it holds must not become more
than it holds. Each test is an attack that must fail."""
import os
import subprocess
import unittest

import test_rootless


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



if __name__ == '__main__':
    unittest.main()
