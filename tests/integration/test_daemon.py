#!/usr/bin/python3
# test_daemon: vcmountd's command line and life cycle against the real bus:
# --version, usage errors, configuration errors, --replace, a second instance
# that cannot own the name, and the exit status on SIGTERM.
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vcmtest import BUS_NAME, World, daemon_path, scaled, wait_until  # noqa: E402

TIMEOUT = 30   # seconds, before scaled() (wait_until scales by itself)


def run(args, env=None):
    return subprocess.run([daemon_path()] + args, capture_output=True, text=True, timeout=scaled(TIMEOUT),
                          env=env)


class CommandLine(unittest.TestCase):
    def test_version(self):
        r = run(['--version'])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'^vcmountd [0-9]+\.[0-9]+\.[0-9]+\n$')

    def test_usage_errors_exit_2(self):
        for args in (['--no-such-option'], ['stray-argument'], ['--shared-dir']):
            with self.subTest(args=args):
                r = run(args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertTrue(r.stderr.startswith('vcmountd: '), r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def test_help_lists_the_options(self):
        r = run(['--help'])
        self.assertEqual(r.returncode, 0)
        for opt in ('--shared-dir', '--config', '--sysfs-root', '--replace', '--session',
                    '--verbose', '--version'):
            self.assertIn(opt, r.stdout)


class LifeCycle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = World(start_daemon=False)
        cls.w.__enter__()
        cls.addClassCleanup(cls.w.__exit__, None, None, None)

    def start(self, *extra, config=None):
        cmd = [daemon_path(), '--shared-dir', self.w.shared_dir, '--sysfs-root', self.w.sysfs_root,
               '--config', config or self.w.config_file] + list(extra)
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=self.w._child_env())
        self.addCleanup(self.stop, p)
        return p

    @staticmethod
    def stop(p):
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=scaled(TIMEOUT))

    def wait_owner(self, p):
        wait_until(lambda: self.w.name_has_owner(BUS_NAME) and
                   self.w.name_owner_pid(BUS_NAME) == p.pid, TIMEOUT, f'pid {p.pid} to own {BUS_NAME}')

    def test_sigterm_exits_0_and_leaves_the_bus(self):
        p = self.start()
        self.wait_owner(p)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=scaled(TIMEOUT)), 0)
        wait_until(lambda: not self.w.name_has_owner(BUS_NAME), TIMEOUT, f'{BUS_NAME} to be released')

    def test_second_instance_without_replace_exits_1(self):
        first = self.start()
        self.wait_owner(first)
        second = self.start()
        self.assertEqual(second.wait(timeout=scaled(TIMEOUT)), 1)
        self.assertIn('org.vc.Mount', second.stderr.read())
        self.assertIsNone(first.poll())
        self.assertEqual(self.w.name_owner_pid(BUS_NAME), first.pid)
        first.send_signal(signal.SIGTERM)
        self.assertEqual(first.wait(timeout=scaled(TIMEOUT)), 0)

    def test_replace_takes_the_name_and_the_old_one_exits_1(self):
        first = self.start()
        self.wait_owner(first)
        second = self.start('--replace')
        self.wait_owner(second)
        self.assertEqual(first.wait(timeout=scaled(TIMEOUT)), 1)   # lost its name: not a clean stop
        self.assertIsNone(second.poll())
        self.assertEqual(self.w.get_property('SharedDir'), self.w.shared_dir)
        second.send_signal(signal.SIGTERM)
        self.assertEqual(second.wait(timeout=scaled(TIMEOUT)), 0)

    def test_bad_configuration_exits_1_naming_the_file(self):
        bad = os.path.join(self.w.tmp, 'bad.conf')
        for text, key in (('[vcmountd]\nSharedDir=relative\n', 'SharedDir'),
                          ('[vcmountd]\nAuthTimeoutSeconds=0\n', 'AuthTimeoutSeconds'),
                          ('not a key file\n', '')):
            with self.subTest(key=key):
                with open(bad, 'w') as f:
                    f.write(text)
                p = self.start(config=bad)
                self.assertEqual(p.wait(timeout=scaled(TIMEOUT)), 1)
                err = p.stderr.read()
                self.assertIn(bad, err)
                self.assertIn(key, err)
                self.assertFalse(self.w.name_has_owner(BUS_NAME))

    def test_configuration_file_is_read(self):
        conf = os.path.join(self.w.tmp, 'good.conf')
        other = os.path.join(self.w.tmp, 'other-shared')
        with open(conf, 'w') as f:
            f.write(f'[vcmountd]\nSharedDir={other}\n')
        p = subprocess.Popen([daemon_path(), '--config', conf], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=self.w._child_env())
        self.addCleanup(self.stop, p)
        self.wait_owner(p)
        self.assertEqual(self.w.get_property('SharedDir'), other)
        self.assertTrue(os.path.isdir(other))   # created at start
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=scaled(TIMEOUT)), 0)

    def test_relative_shared_dir_is_refused(self):
        p = self.start('--shared-dir', 'relative/dir')
        self.assertEqual(p.wait(timeout=scaled(TIMEOUT)), 1)
        self.assertIn('shared-dir', p.stderr.read())


if __name__ == '__main__':
    unittest.main()
