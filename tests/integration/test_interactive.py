#!/usr/bin/python3
# test_interactive: interactive polkit authorization end to end. vcmountctl,
# run as the unprivileged test user on a pseudo-terminal, starts pkttyagent,
# polkitd asks that agent for the user's password (a rule answers AUTH_SELF),
# the test types it on the terminal, and the call goes through; a wrong
# password is refused with exit 3, --no-ask-password with exit 5 (polkit would
# have asked) and a line saying how to be asked; neither mounts anything.
#
# What this needs beyond the World (all inside this test's private mount
# namespace, undone on teardown; the real files are never touched):
#  - a copy of /etc/shadow with a password for the test user, bind-mounted
#    over /etc/shadow (its hash is made at run time from a random password);
#  - the bus socket at the standard path: polkit-agent-helper-1, which checks
#    the password with PAM, is setuid root, clears its environment and so
#    connects to /run/dbus/system_bus_socket whatever DBUS_SYSTEM_BUS_ADDRESS
#    says; a directory holding a symlink to the World's socket is
#    bind-mounted over /run/dbus.
#
# The client is the one named by $VCM_CLIENT. Run under
# `unshare -m --propagation private` (meson test does, through taprunner.py).

import errno
import os
import pty
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from vcmtest import MS_BIND, MS_PRIVATE, TEST_UID, TEST_USER, WorldCase  # noqa: E402

EXIT_OK, EXIT_NOT_AUTHORIZED, EXIT_AUTH_REQUIRED = 0, 3, 5
ACTION = 'org.vc.mount.manage-rootfs'
PTY_TIMEOUT = vcmtest.scaled(30)   # seconds for one client run on the terminal
PROMPT = re.compile(rb'Password:\s*$')
AS_TEST_USER = ['setpriv', f'--reuid={TEST_UID}', f'--regid={TEST_UID}', '--clear-groups']

# AUTH_SELF for the test user's rootfs calls. The second clause is a probe
# the test polls (through pkcheck) to know that polkitd has loaded this file.
RULE = f'''
polkit.addRule(function(action, subject) {{
    if (action.id == "{ACTION}" && subject.user == "{TEST_USER}") {{
        polkit.log("vcmtest: AUTH_SELF for " + action.id + " of " + subject.user);
        return polkit.Result.AUTH_SELF;
    }}
    if (action.id == "org.vc.mount.bind" && subject.user == "nobody")
        return polkit.Result.YES;
}});
'''


def sha512_crypt(password):
    """A SHA-512 crypt(3) hash of @password for /etc/shadow."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            import crypt
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))
    except ImportError:
        p = subprocess.run(['openssl', 'passwd', '-6', '-stdin'], input=password,
                           capture_output=True, text=True, check=True, timeout=30)
        return p.stdout.strip()


class PtyRun:
    """One command run with a new pseudo-terminal as its controlling terminal,
    stdin, stdout and stderr. Everything it writes is kept in self.output."""

    def __init__(self, cmd, env, timeout=PTY_TIMEOUT):
        self.cmd = cmd
        self.output = b''
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.returncode = None
        self.eof = False
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execvpe(cmd[0], cmd, env)
            finally:
                os._exit(127)

    def text(self):
        """What the terminal shows: the output less colour escapes and CRs."""
        text = self.output.decode(errors='replace')
        return re.sub(r'\x1b\[[0-9;?]*[A-Za-z]', '', text).replace('\r', '')

    def _read_some(self, until):
        """Reads what the terminal says until @until (monotonic time); returns
        False on EOF (every process closed the terminal)."""
        left = until - time.monotonic()
        if left <= 0:
            return True
        r, _, _ = select.select([self.fd], [], [], left)
        if not r:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b''
        if not data:
            self.eof = True
            return False
        self.output += data
        return True

    def _timed_out(self, what):
        self.kill()
        raise AssertionError(f'timed out after {self.timeout:.0f} s waiting for {what}; '
                             f'`{" ".join(self.cmd)}` said on the terminal:\n{self.text()}')

    def echo_is_on(self):
        return bool(termios.tcgetattr(self.fd)[3] & termios.ECHO)

    def wait_for_prompt(self):
        """Waits until the terminal shows a password prompt with echo turned
        off (the agent is reading). Raises AssertionError if the command
        closes the terminal first or on timeout."""
        while True:
            if PROMPT.search(self.output) and not self.echo_is_on():
                return
            if self.eof:
                self.wait()
                raise AssertionError(f'no password prompt: `{" ".join(self.cmd)}` exited '
                                     f'{self.returncode}; the terminal said:\n{self.text()}')
            if time.monotonic() > self.deadline:
                self._timed_out('a password prompt')
            self._read_some(min(self.deadline, time.monotonic() + 0.05))

    def type(self, line):
        os.write(self.fd, line.encode() + b'\n')

    def wait(self):
        """Reads until EOF and reaps the command; returns its exit status."""
        while not self.eof:
            if time.monotonic() > self.deadline:
                self._timed_out('the command to finish')
            self._read_some(self.deadline)
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > self.deadline:
                self._timed_out('the command to exit')
            time.sleep(0.01)
        self.close()
        return self.returncode

    def kill(self):
        """Kills the command's whole session (it leads it: pty.fork) and reaps it."""
        if self.returncode is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        self.close()

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class TestInteractiveAuthorization(WorldCase):
    """vcmountctl on a terminal as the test user, the password typed there."""

    @classmethod
    def setUpClass(cls):
        client = os.environ.get('VCM_CLIENT')
        if not client:
            raise unittest.SkipTest('VCM_CLIENT is not set')
        if shutil.which('pkttyagent') is None:
            raise unittest.SkipTest('pkttyagent (package polkitd) is not installed')
        super().setUpClass()
        w = cls.w
        cls.dir = tempfile.mkdtemp(prefix='interactive.', dir=w.tmp)
        os.chmod(cls.dir, 0o755)
        # A copy of the client the test user can run whatever the build dir's modes.
        cls.client = os.path.join(cls.dir, 'vcmountctl')
        shutil.copy(client, cls.client)
        os.chmod(cls.client, 0o755)

        cls.password = 'pw-' + secrets.token_urlsafe(12)
        cls._bind_shadow(cls.password)
        cls._bind_bus_socket_at_standard_path()

        w.add_rule(RULE)
        w.wait_for_rule(vcmtest.NOBODY_UID, 'org.vc.mount.bind')

        cls.env = dict(os.environ)
        cls.env.update(w.env)
        cls.env['LC_ALL'] = 'C.UTF-8'
        cls.env.pop('LANGUAGE', None)

    @classmethod
    def _bind(cls, source, target):
        vcmtest.mount(source, target, flags=MS_BIND)
        cls.addClassCleanup(vcmtest.umount, target)
        vcmtest.mount(None, target, flags=MS_PRIVATE)

    @classmethod
    def _bind_shadow(cls, password):
        real = '/etc/shadow'
        st = os.stat(real)
        with open(real) as f:
            lines = [l for l in f.read().splitlines() if not l.startswith(f'{TEST_USER}:')]
        lines.append(f'{TEST_USER}:{sha512_crypt(password)}:19000:0:99999:7:::')
        copy = os.path.join(cls.dir, 'shadow')
        fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        os.chown(copy, st.st_uid, st.st_gid)
        os.chmod(copy, st.st_mode & 0o7777)
        cls._bind(copy, real)

    @classmethod
    def _bind_bus_socket_at_standard_path(cls):
        # polkit-agent-helper-1 (setuid root, environment cleared) only knows
        # the standard system bus address.
        run_dbus = os.path.join(cls.dir, 'run-dbus')
        os.mkdir(run_dbus, 0o755)
        os.symlink(cls.w.bus_socket, os.path.join(run_dbus, 'system_bus_socket'))
        if not os.path.isdir('/run/dbus'):
            # Nothing to bind over: a tmpfs on /run in this namespace only.
            vcmtest.mount('tmpfs', '/run', 'tmpfs', data='mode=0755')
            cls.addClassCleanup(vcmtest.umount, '/run')
            os.mkdir('/run/dbus', 0o755)
        cls._bind(run_dbus, '/run/dbus')

    def _clean(self):
        self.w.unmount_all_beneath(self.shared)

    # -- helpers ------------------------------------------------------------

    def make_rootfs(self):
        path = os.path.join(self.scratch, 'rootfs')
        os.makedirs(os.path.join(path, 'etc'))
        with open(os.path.join(path, 'etc', 'hostname'), 'w') as f:
            f.write('interactive\n')
        os.chmod(path, 0o755)
        return path

    def start_client(self, *args):
        return PtyRun(AS_TEST_USER + [self.client] + [str(a) for a in args], self.env)

    def assert_prompt_for_test_user(self, run):
        text = run.text()
        self.assertIn(f'AUTHENTICATING FOR {ACTION}', text)
        # AUTH_SELF: the user's own password, not an administrator's.
        self.assertRegex(text, rf'Authenticating as: .*\({TEST_USER}\)')

    # -- tests --------------------------------------------------------------

    def test_right_password_mounts(self):
        rootfs = self.make_rootfs()
        os.chown(rootfs, TEST_UID, TEST_UID)  # writable: of a tree of the caller's own
        mp = self.w.rootfs_mount_point('sbi', 'c1')
        log_at = self.w.polkit_log_offset()
        run = self.start_client('mount-rootfs', 'sbi', 'c1', rootfs)
        try:
            run.wait_for_prompt()
            self.assert_prompt_for_test_user(run)
            run.type(self.password)
            status = run.wait()
        finally:
            run.kill()
        self.assertEqual(status, EXIT_OK, f'the terminal said:\n{run.text()}')
        self.assertNotIn(self.password, run.text(), 'the password was echoed')
        self.assertIn('AUTHENTICATION COMPLETE', run.text())
        self.assertIn(mp, run.text())
        self.assertIsNotNone(vcmtest.top_mount(mp), f'{mp} is not mounted')
        with open(os.path.join(mp, 'etc', 'hostname')) as f:
            self.assertEqual(f.read(), 'interactive\n')
        log = self.w.polkit_log_since(log_at)
        self.assertIn(f'vcmtest: AUTH_SELF for {ACTION} of {TEST_USER}', log)
        self.assertRegex(log, rf'successfully authenticated as unix-user:{TEST_USER} to gain '
                              rf'ONE-SHOT authorization for action {re.escape(ACTION)}')

    def test_wrong_password_is_refused(self):
        rootfs = self.make_rootfs()
        mp = self.w.rootfs_mount_point('sbw', 'c1')
        table = vcmtest.mount_table()
        log_at = self.w.polkit_log_offset()
        run = self.start_client('mount-rootfs', 'sbw', 'c1', rootfs)
        try:
            run.wait_for_prompt()
            self.assert_prompt_for_test_user(run)
            run.type(self.password + '-wrong')
            status = run.wait()
        finally:
            run.kill()
        self.assertEqual(status, EXIT_NOT_AUTHORIZED, f'the terminal said:\n{run.text()}')
        self.assertIn('AUTHENTICATION FAILED', run.text())
        self.assertRegex(run.text(), r'(?m)^vcmountctl: .*not authorized')
        self.assertIsNone(vcmtest.top_mount(mp))
        self.assertEqual(vcmtest.mount_table(), table, 'the mount table changed')
        self.assertIn(f'FAILED to authenticate to gain authorization for action {ACTION}',
                      self.w.polkit_log_since(log_at))

    def test_prompt_shows_the_resolved_request_escaped(self):
        # The caller names its rootfs through a symlink and puts text of its
        # own in the name: the administrator's prompt shows the resolved path,
        # the text escaped on the Source line, and the real access.
        rootfs = os.path.join(self.scratch, 'r\nAccess: read-only, approved by the administrator')
        os.makedirs(rootfs)
        os.chown(rootfs, TEST_UID, TEST_UID)  # writable: of a tree of the caller's own
        link = os.path.join(self.scratch, 'link')
        os.symlink(rootfs, link)
        run = self.start_client('mount-rootfs', 'sbp', 'c1', link + '/.')
        try:
            run.wait_for_prompt()
            text = run.text()
        finally:
            run.kill()
        lines = text.splitlines()
        self.assertIn('Mount the root filesystem of a container', lines)
        self.assertIn('Access: writable', lines)
        self.assertFalse([l for l in lines if l.startswith('Access: read-only')], text)
        source = [l for l in lines if l.startswith('Source: ')]
        self.assertEqual(source, [f"Source: '{os.path.dirname(rootfs)}/r\\x0aAccess: read-only, "
                                  "approved by the administrator'"], text)
        self.assertIn(f"Mount point: '{self.w.rootfs_mount_point('sbp', 'c1')}'", lines)
        self.assertIn("Sandbox: 'sbp'", lines)
        self.assertIsNone(vcmtest.top_mount(self.w.rootfs_mount_point('sbp', 'c1')))

    def test_no_ask_password_does_not_prompt(self):
        rootfs = self.make_rootfs()
        mp = self.w.rootfs_mount_point('sbn', 'c1')
        table = vcmtest.mount_table()
        log_at = self.w.polkit_log_offset()
        # (a prompt would wait for an answer that never comes: the wait is
        # then bounded by the terminal's timeout and the test fails)
        run = self.start_client('--no-ask-password', 'mount-rootfs', 'sbn', 'c1', rootfs)
        try:
            status = run.wait()
        finally:
            run.kill()
        self.assertEqual(status, EXIT_AUTH_REQUIRED, f'the terminal said:\n{run.text()}')
        self.assertNotIn('Password', run.text())
        self.assertNotIn('AUTHENTICATING', run.text())
        self.assertRegex(run.text(), r'(?m)^vcmountctl: .*authentication is required')
        self.assertRegex(run.text(), r'(?m)^vcmountctl: .*from a terminal, without --no-ask-password')
        self.assertIsNone(vcmtest.top_mount(mp))
        self.assertEqual(vcmtest.mount_table(), table, 'the mount table changed')
        log = self.w.polkit_log_since(log_at)
        self.assertNotIn('Registered Authentication Agent', log)
        self.assertNotIn('authenticate', log)


if __name__ == '__main__':
    unittest.main()
