#!/usr/bin/python3
# test_dos: promise 5 of the threat model (nobody can deny service to others)
# against local users with no polkit rule at all, each attack as such a user
# would make it, against the real vcmountd, the real polkitd and a private
# system bus (vcmtest.World):
#
#   TestHangupFlood:  connections that send calls and hang up at once, by the
#                     thousand: root and other users are still answered, the
#                     daemon's memory stays bounded; a caller of the same user
#                     that sends the same calls and stays has each answered.
#   TestOwnQuestions: the service asks the bus and polkit about a caller on
#                     a connection of its own, not where callers' calls queue;
#                     losing that one is a failure, as losing the other is.
#   TestDescriptors:  descriptors sent along with calls that take none are not
#                     kept, those of waiting calls are bounded per user: root's
#                     calls never fail for want of them.
#   TestManyCallers:  50 calls of one user at once all succeed, the 65th and
#                     later are refused.
#   TestSharedSlots:  a hung filesystem takes at most a share of the resolver
#                     threads; callers a rule allows are not crowded out by
#                     callers no rule allows; refusals name no other's counts
#                     (with alice's rules, and eight accounts with none).
#   TestGrantsWithoutPolkitsList: when polkit's list of actions cannot be
#                     read, no call counts as a grant.
#   TestManyContainers: 20 and 50 containers of one allowed user at once.
#   TestOneCallsCost: a call's own work is bounded (the depth of what the
#                     service creates): one caller's traffic leaves another's
#                     latency within a small factor.
#
# The figures the tests see are printed as TAP comments ("# ...").

import ctypes
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import vcmtest  # noqa: E402
from vcmtest import WorldCase  # noqa: E402
from test_attacks import AttackCase  # noqa: E402

E = vcmtest.ERROR_PREFIX
LIMITS = E + 'LimitsExceeded'
BUS_LIMITS = 'org.freedesktop.DBus.Error.LimitsExceeded'  # the bus's own refusal
ALICE = vcmtest.TEST_UID
BOB = vcmtest.NOBODY_UID
ATTACKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'attacker.py')

ASAN = vcmtest.daemon_has_asan()


def cpu_seconds(pid):
    """User and system CPU time of process @pid so far."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def spec_of(method, *args):
    sig = vcmtest.in_signature(method)
    return [method, sig, vcmtest.GLib.Variant(f'({sig})', tuple(args)).print_(True)]


class DosCase(WorldCase):
    """One World for the class; no polkit rule at all but the defaults."""

    def _clean(self):
        self.clean_world()

    def daemon_rss_kib(self):
        with open(f'/proc/{self.w.daemon_pid}/status') as f:
            return int(re.search(r'VmRSS:\s+(\d+)', f.read()).group(1))

    def daemon_fds(self):
        return len(os.listdir(f'/proc/{self.w.daemon_pid}/fd'))

    def run_attacker(self, uid, *args, stdin=subprocess.DEVNULL):
        """The attacker script as @uid (None: root), started."""
        cmd = ([] if uid is None else self.w.setpriv(uid)) + \
            [vcmtest.PYTHON, ATTACKER, self.w.bus_address] + [str(a) for a in args]
        p = subprocess.Popen(cmd, env=self.w._child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=stdin, cwd='/', text=True)
        self.addCleanup(lambda: p.poll() is not None or (p.kill(), p.wait()))
        return p

    def attacker_final(self, p):
        """The counts of replies that the attacker @p prints last, once it
        has ended (None if it printed none)."""
        final = None
        for line in p.stdout:
            obj = json.loads(line)
            if 'final' in obj:
                final = obj['final']
        p.wait(timeout=vcmtest.scaled(60))
        return final

    def probe(self, uid, call):
        """A caller making @call in turn, each on a new connection, until
        stopped (('GetId',): the bus's own method, what the bus adds to each
        call); its replies are gathered by a thread: (process, replies)."""
        spec = ['GetId', None, None] if call == ('GetId',) else spec_of(*call)
        p = self.run_attacker(uid, 'probe', json.dumps(spec), stdin=subprocess.PIPE)
        replies = []

        def read():
            for line in p.stdout:
                obj = json.loads(line)
                obj['at'] = time.monotonic()
                replies.append(obj)
        t = threading.Thread(target=read, daemon=True)
        t.start()
        return p, replies, t

    @staticmethod
    def stop_probe(probe):
        p, replies, t = probe
        p.stdin.close()
        p.wait(timeout=vcmtest.scaled(180))
        t.join()
        return replies


class TestHangupFlood(DosCase):
    """Issue: connections that send six calls each and hang up, by the
    thousand a second: each call of a sender not yet identified cost a round
    trip to the bus and main-loop bookkeeping before any bound applied; the
    service answered nobody for a minute and more and grew by 100 MiB."""

    # The figure (and the bound) is the plain build's: the same flood for as
    # long against a daemon under AddressSanitizer, which spends about three
    # times the CPU on each call, would measure the instrumentation (the bus
    # queues what the daemon cannot take, and root waits for that queue to
    # drain). There the flood lasts its part of the sanitizer's time
    # multiplier: the same rate, as many flooders, a shorter attack.
    FLOOD_SECONDS = float(os.environ.get('VCM_TEST_FLOOD_SECONDS') or 16) / \
        (vcmtest.TIMEOUT_SCALE if ASAN else 1)
    FLOODERS = 2

    def test_hangup_flood_by_one_user(self):
        calls = [spec_of('DescribePath', '/'), spec_of('ListRootfs', ''),
                 spec_of('GetDeviceForPath', '/'), spec_of('MountRootfs', 'sb', 'c1', '/', True),
                 spec_of('IsSystemMount', '/proc'), spec_of('DescribePath', '/tmp')]
        rss_before = self.daemon_rss_kib()
        cpu_before = cpu_seconds(self.w.daemon_pid)
        polkit_at = self.w.polkit_log_offset()
        root = self.probe(None, ('DescribePath', '/'))
        bob = self.probe(BOB, ('DescribePath', '/'))
        bus = self.probe(BOB, ('GetId',))
        vcmtest.wait_until(lambda: root[1] and bob[1] and bus[1], vcmtest.scaled(60),
                           'the probes to be answered')
        rss = [rss_before]
        flooders = [self.run_attacker(ALICE, 'hangup', self.FLOOD_SECONDS, json.dumps(calls))
                    for _ in range(self.FLOODERS)]
        started = time.monotonic()
        while any(f.poll() is None for f in flooders):
            rss.append(self.daemon_rss_kib())
            time.sleep(0.2)
        ended = time.monotonic()
        counts = [json.loads(f.stdout.read()) for f in flooders]
        connections = sum(c['connections'] for c in counts)
        # after the flood: each probe is answered once more, its call made
        # after the flood ended
        for who in (root, bob):
            vcmtest.wait_until(lambda: any(r['at'] - r['seconds'] > ended for r in who[1]),
                               vcmtest.scaled(300), 'a probe call after the flood')
        rss.append(self.daemon_rss_kib())
        cpu = cpu_seconds(self.w.daemon_pid) - cpu_before
        replies = {'root': self.stop_probe(root), 'bob': self.stop_probe(bob),
                   'the bus alone': self.stop_probe(bus)}
        print(f'# flood: {connections} connections ({connections * len(calls)} calls) '
              f'in {ended - started:.1f} s by uid {ALICE}')
        print(f'# daemon RSS: {rss_before / 1024:.1f} MiB before, {max(rss) / 1024:.1f} MiB at most, '
              f'{rss[-1] / 1024:.1f} MiB after')
        print(f'# daemon CPU: {cpu:.1f} s, {cpu / (connections * len(calls)) * 1e6:.1f} us per flood call '
              f'(the probes\' calls included)')
        for who, rs in replies.items():
            during = [r for r in rs if r['at'] > started]
            lat = [r['seconds'] for r in during]
            outcomes = {}
            for r in during:
                outcomes[r['reply']] = outcomes.get(r['reply'], 0) + 1
            lat.sort()
            print(f'# {who}: {len(lat)} calls from the flood on, latency median '
                  f'{statistics.median(lat):.3f} s, 90% {lat[len(lat) * 9 // 10]:.3f} s, '
                  f'max {max(lat):.3f} s; {outcomes}')
        # bob's calls wait for polkit's answer, root's do not: when polkitd
        # itself stood still (see polkit_stalls_since), bob waited with it
        stalled = self.w.polkit_stalls_since(polkit_at)
        if stalled:
            print(f'# polkitd answered nobody for {stalled} s (its own lost wake-up); '
                  f'bob\'s bound allows for that')
        for who, rs in replies.items():
            if who == 'the bus alone':
                continue
            during = [r for r in rs if r['at'] > started]
            self.assertEqual({r['reply'] for r in during}, {'ok'}, who)
            # the target is 1 s (the figure above); the bound allows for a
            # loaded test machine (before the fix: a minute and more)
            self.assertLess(max(r['seconds'] for r in during),
                            vcmtest.scaled(10) + (stalled if who == 'bob' else 0),
                            f'{who} waited that long for an answer')
        # what the daemon counted (it says so as it stops)
        self.w.restart_daemon()
        with open(self.w.daemon_log, errors='replace') as f:
            counted = re.findall(r'calls refused before the main loop took them: \d+; '
                                 r'dropped, their caller gone: \d+'
                                 r'(?: \(\d+ of them before the main loop saw them\))?', f.read())
        if counted:
            print(f'# daemon: {counted[-1]}')
        self.assertGreater(connections, 1000)
        if not ASAN:   # (its shadow memory is no measure of ours)
            self.assertLess(max(rss) - rss_before, 24 * 1024, 'the daemon grew that much (KiB)')

    def test_a_callers_calls_are_all_answered_in_the_flood(self):
        """The calls of whoever left are dropped before the main loop sees
        them, by its unique name: a caller of the same user that sends the
        same calls the same way, and stays, has each of them answered."""
        calls = [spec_of('DescribePath', '/'), spec_of('ListRootfs', ''),
                 spec_of('GetDeviceForPath', '/'), spec_of('MountRootfs', 'sb', 'c1', '/', True),
                 spec_of('IsSystemMount', '/proc'), spec_of('DescribePath', '/tmp')]
        seconds = self.FLOOD_SECONDS / 2
        flooder = self.run_attacker(ALICE, 'hangup', seconds, json.dumps(calls))
        stays = self.run_attacker(ALICE, 'pipeline', seconds, json.dumps(calls))
        flooded = json.loads(flooder.stdout.read())
        answered = json.loads(stays.stdout.read())
        flooder.wait(timeout=vcmtest.scaled(60))
        stays.wait(timeout=vcmtest.scaled(120))
        print(f'# flood: {flooded["connections"]} connections; the caller that stays: '
              f'{answered["answered"]} of {answered["calls"]} calls answered '
              f'on {answered["connections"]} connections')
        self.assertGreater(flooded['connections'], 100)
        self.assertGreater(answered['connections'], 0)
        self.assertEqual(answered['unanswered'], [])
        self.assertEqual(answered['answered'], answered['calls'])


class TestOwnQuestions(DosCase):
    """Issue: the service asked the bus who a caller is, and polkit whether
    it may, on the connection its callers call on, where each answer queued
    behind every call sent to the service meanwhile: under a flood of calls
    another caller waited for the flood twice, once for its call, once more
    for the answer about it (1.7 s of root's 2.7 s). The service's own
    questions go on a connection of their own."""

    def test_questions_are_not_asked_on_the_callers_connection(self):
        Gio, GLib = vcmtest.Gio, vcmtest.GLib
        seen = []

        def on_message(conn, message, incoming):
            if incoming and message.get_message_type() == Gio.DBusMessageType.METHOD_CALL:
                seen.append((message.get_sender(), message.get_member()))
                return None   # (a monitor must not answer what it sees)
            return message
        monitor = self.w.new_connection()
        self.addCleanup(monitor.close_sync, None)
        monitor.add_filter(on_message)
        rules = ["type='method_call',interface='org.freedesktop.DBus',member='GetConnectionCredentials'",
                 "type='method_call',interface='org.freedesktop.PolicyKit1.Authority',"
                 "member='CheckAuthorization'"]
        monitor.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                          'org.freedesktop.DBus.Monitoring', 'BecomeMonitor',
                          GLib.Variant('(asu)', (rules, 0)), None, Gio.DBusCallFlags.NONE, 10000, None)
        ok, result, message = self.w.call_as(BOB, 'DescribePath', '/')
        self.assertTrue(ok, (result, message))
        daemon = self.w.daemon_pid
        pids = {}

        def asked_by_daemon(member):
            for sender, m in list(seen):
                if sender not in pids:
                    pids[sender] = self.w.name_owner_pid(sender)
            return {s for s, m in seen if m == member and pids[s] == daemon}
        vcmtest.wait_until(lambda: asked_by_daemon('GetConnectionCredentials') and
                           asked_by_daemon('CheckAuthorization'), vcmtest.scaled(30),
                           'the daemon to ask the bus and polkit about the caller')
        owner = self.w.connection.call_sync(
            'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetNameOwner',
            GLib.Variant('(s)', (vcmtest.BUS_NAME,)), GLib.VariantType('(s)'),
            Gio.DBusCallFlags.NONE, 10000, None).unpack()[0]
        print(f'# callers call on {owner}; the bus was asked by {asked_by_daemon("GetConnectionCredentials")}, '
              f'polkit by {asked_by_daemon("CheckAuthorization")}')
        self.assertNotIn(owner, asked_by_daemon('GetConnectionCredentials'))
        self.assertNotIn(owner, asked_by_daemon('CheckAuthorization'))


    def bus_sockets_of_daemon(self):
        """The descriptors of vcmountd's connections to the bus, lowest
        first: those whose peer is a socket the bus accepted on its path."""
        path = dict(kv.split('=', 1) for kv in self.w.bus_address.split(':', 1)[1].split(','))['path']
        rows = [line.split() for line in subprocess.run(['ss', '-xpnH'], check=True, capture_output=True,
                                                         text=True).stdout.splitlines()]
        accepted = {r[5] for r in rows if len(r) >= 8 and r[4] == path}
        fds = []
        for r in rows:
            m = re.search(rf'pid={self.w.daemon_pid},fd=(\d+)', ' '.join(r[8:]))
            if len(r) >= 9 and r[4] == '*' and r[7] in accepted and m:
                fds.append(int(m.group(1)))
        return sorted(fds)

    def test_the_questions_connection_lost_is_a_failure(self):
        # Callers call on the connection that owns the name, made first; the
        # bus is asked who they are on the other, the bus's shared one, made
        # next. Should that one close, no caller can be identified: the
        # service must not stay on the bus refusing every caller but root
        # ("cannot tell who is calling") for ever, but fail and be started
        # again, as it does when it loses the callers' connection.
        Gio, GLib = vcmtest.Gio, vcmtest.GLib
        ok, result, message = self.w.call_as(BOB, 'DescribePath', '/')
        self.assertTrue(ok, (result, message))
        fds = self.bus_sockets_of_daemon()
        self.assertEqual(len(fds), 2, f'the daemon\'s connections to the bus: {fds}')
        owner = self.w.connection.call_sync(
            'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetNameOwner',
            GLib.Variant('(s)', (vcmtest.BUS_NAME,)), GLib.VariantType('(s)'),
            Gio.DBusCallFlags.NONE, 10000, None).unpack()[0]
        # the kernel's socket is shut down for the daemon's copy too
        pidfd = os.pidfd_open(self.w.daemon_pid)
        try:
            dup = ctypes.CDLL(None, use_errno=True).syscall(438, pidfd, fds[-1], 0)  # pidfd_getfd
            if dup < 0:
                raise OSError(ctypes.get_errno(), 'pidfd_getfd')
        finally:
            os.close(pidfd)
        with socket.socket(fileno=dup) as s:
            s.shutdown(socket.SHUT_RDWR)
        answers = []

        def refused_or_gone():
            if not self.w.daemon_running():
                return True
            answers.append(self.w.call_as(BOB, 'DescribePath', '/'))
            return not answers[-1][0]
        vcmtest.wait_until(refused_or_gone, vcmtest.scaled(30),
                           'the daemon to exit, or to refuse a query of bob\'s')
        if self.w.daemon_running():
            self.fail(f'the daemon serves on as {owner} but refuses bob: {answers[-1]}')
        status = self.w.wait_daemon_exit()
        print(f'# the daemon exited with status {status}')
        self.assertGreater(status, 0)
        # (the connection shut down was the questions' one, not the callers')
        with open(self.w.daemon_log, errors='replace') as f:
            log = f.read()
        self.assertIn('lost its connection for its own questions', log)
        self.assertNotIn('Sanitizer', log)  # (a clean exit: no report of the sanitizer build)
        self.w.start_daemon()
        ok, result, message = self.w.call_as(BOB, 'DescribePath', '/')
        self.assertTrue(ok, (result, message))


class TestDescriptors(DosCase):
    """Issue: calls held while they wait (a path on a filesystem that does
    not answer) kept every descriptor sent with them, whatever the method's
    signature; a few accounts filled the soft limit of 1024, and then root's
    calls failed with "Too many open files"."""

    def assert_root_is_served(self, sandbox_id):
        """Root's queries and mounts are served: a query, a rootfs of
        @sandbox_id mounted and unmounted."""
        self.assertEqual(self.w.call('DescribePath', '/')['mount-point'], '/')
        src = self.path(f'src-{sandbox_id}')
        os.makedirs(src)
        mp = self.w.call('MountRootfs', sandbox_id, 'c1', src, True)
        self.w.call('UnmountRootfs', sandbox_id, 'c1')
        self.assertTrue(mp.endswith(f'/{sandbox_id}/c1/rootfs'), mp)

    @classmethod
    def setUpClass(cls):
        # the soft limit systemd gives a service by default; the daemon
        # raises it to the hard one
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
        cls.addClassCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        super().setUpClass()

    def flood(self, uid, n, call, fds):
        spec = json.dumps(spec_of(*call))
        return self.run_attacker(uid, 'flood', n, spec, f'--fds={fds}')

    def test_descriptors_with_calls_that_take_none_are_closed_at_once(self):
        mnt, server = self.hung_filesystem('hung')
        before = self.daemon_fds()
        # two users, each 8 calls held on the hung filesystem (4 resolving,
        # the rest waiting), each call with 8 descriptors
        floods = [self.flood(uid, 8, ('DescribePath', os.path.join(mnt, 'x')), 8) for uid in (ALICE, BOB)]
        # every call is answered: what takes no descriptor is refused at once
        outcomes = {}
        for p in floods:
            final = self.attacker_final(p)
            if final is None:
                self.fail(f'the attacker ended early: {p.stderr.read()}')
            for k, v in final.items():
                outcomes[k] = outcomes.get(k, 0) + v
        after = self.daemon_fds()
        print(f'# 16 calls with 8 descriptors each: {outcomes}; daemon descriptors {before} -> {after}')
        with open(f'/proc/{self.w.daemon_pid}/limits') as f:
            soft, hard = re.search(r'Max open files\s+(\d+)\s+(\d+)', f.read()).groups()
        print(f'# daemon: soft limit {soft}, hard {hard} open files')
        self.assertEqual(outcomes, {E + 'InvalidArgument': 16})
        self.assertLess(after - before, 8)
        self.assertEqual(soft, hard, 'the soft limit on open files was not raised')
        # root is served meanwhile, queries and mounts alike
        self.assert_root_is_served('sb1')
        server.kill()

    def test_descriptors_kept_by_waiting_calls_are_bounded(self):
        # polkitd hangs: every check waits. Ten users each send 40 calls of
        # a method that takes descriptors, 2 with each (its source and a
        # user namespace's place); the service opens 2 more for each (the
        # source as the caller, the clone of its mount). A user's calls keep
        # at most 64 of them all (16 calls wait; 8 are refused at once, 16
        # more once their sources are open), whatever else they could queue;
        # root is served meanwhile. (Before, what the service opened was not
        # counted: 32 calls of a user waited, with 128 descriptors.)
        pid = self.w.polkitd_pid
        os.kill(pid, signal.SIGSTOP)
        self.addCleanup(os.kill, pid, signal.SIGCONT)
        users = [ALICE, BOB] + [uid for _, uid in vcmtest.ACCOUNTS]
        with open(self.w.daemon_log, 'rb') as f:
            log_start = f.seek(0, os.SEEK_END)
        with open(self.w.bus_log, 'rb') as f:
            bus_log_start = f.seek(0, os.SEEK_END)
        before = self.daemon_fds()
        floods = []
        for uid in users:
            spec = json.dumps(spec_of('MountRootfsFd', f'u{uid}', 'c1', 0, {}))
            floods.append(self.run_attacker(uid, 'flood', 40, spec, '--fds=2', '--fd-path=/'))

        def refused():
            """Calls refused for their descriptors: by the service (a
            user's 64), or before it by the bus, which queues at most 64
            descriptors for a connection (the system bus's default
            max_outgoing_unix_fds) when the service reads slower than they
            come (under AddressSanitizer, say)."""
            with open(self.w.daemon_log, 'rb') as f:
                f.seek(log_start)
                by_service = f.read().count(b"that is more than one user's 64;")
            with open(self.w.bus_log, 'rb') as f:
                f.seek(bus_log_start)
                by_bus = len(re.findall(rb'Rejected: destination has a full message queue.*'
                                        rb'member="MountRootfsFd"', f.read()))
            return by_service + by_bus
        bound = len(users) * 64 + 8
        vcmtest.wait_until(lambda: refused() >= 24 * len(users) and self.daemon_fds() - before <= bound,
                           vcmtest.scaled(60),
                           'each user\'s calls beyond 64 descriptors (sent and opened) to be refused')
        held = self.daemon_fds() - before
        print(f'# {len(users)} users x 40 calls with 2 descriptors each, polkitd frozen: '
              f'{refused()} refused, daemon descriptors {before} -> {before + held}')
        self.assertLessEqual(held, bound)
        # root is served meanwhile, its descriptors too
        self.assert_root_is_served('sb2')
        os.kill(pid, signal.SIGCONT)
        for p in floods:
            final = self.attacker_final(p)
            self.assertEqual(sum(final.values()), 40, final)
            self.assertGreaterEqual(final.get(LIMITS, 0) + final.get(BUS_LIMITS, 0), 24, final)
        vcmtest.wait_until(lambda: self.daemon_fds() - before < 8, 60, 'the descriptors to be closed')


class TestManyCallers(DosCase):
    """Issue: a runtime starting 20-50 containers at once as an allowed user
    that is not root got only 8-10 of 20 calls through; the rest were
    refused with LimitsExceeded (8 waiting checks per user, 4 paths
    resolving). A user's calls now wait their turn, up to 64 of them."""

    def test_fifty_calls_at_once_all_succeed(self):
        for call in (('DescribePath', self.scratch), ('IsDeviceMapper', 1, 1)):
            with self.subTest(method=call[0]):
                p = self.run_attacker(ALICE, 'flood', 50, json.dumps(spec_of(*call)))
                final = self.attacker_final(p)
                print(f'# 50 x {call[0]} at once by uid {ALICE}: {final}')
                self.assertEqual(final, {'ok': 50})

    def test_beyond_64_a_users_calls_are_refused(self):
        # polkitd hangs: every check of alice's waits; of 70 calls, 64 are
        # taken and 6 refused at once, while root and bob are still served
        pid = self.w.polkitd_pid
        os.kill(pid, signal.SIGSTOP)
        self.addCleanup(os.kill, pid, signal.SIGCONT)
        p = self.run_attacker(ALICE, 'flood', 70, json.dumps(spec_of('IsDeviceMapper', 1, 1)))
        seen = {}
        while seen.get(LIMITS, 0) < 6:
            obj = json.loads(p.stdout.readline())
            seen[obj['reply']] = seen.get(obj['reply'], 0) + 1
        self.assertEqual(seen, {LIMITS: 6})
        self.assertIs(self.w.call('IsSystemMount', '/proc'), True)
        os.kill(pid, signal.SIGCONT)
        self.assertEqual(self.attacker_final(p), {LIMITS: 6, 'ok': 64})


# The README's narrow rule for binds: alice may bind read-only from her own
# directory into SHARED/alice/ (and unmount there).
ALICE_BIND_RULE = """
polkit.addRule(function(action, subject) {
    if (subject.user != "vcmtest" || action.id != "org.vc.mount.bind")
        return polkit.Result.NOT_HANDLED;
    var mp = action.lookup("mount_point") || "";
    var src = action.lookup("source");
    if (mp.indexOf("%(shared)s/alice/") == 0 &&
        (src === undefined || (action.lookup("read_only") == "true" && src.indexOf("%(srv)s/") == 0)))
        return polkit.Result.YES;
    return polkit.Result.NOT_HANDLED;
});
"""

# The deepest destination the service makes (README, Security model).
MAX_DESTINATION_DEPTH = 32


class TestOneCallsCost(DosCase):
    """Issue: a BindMount pair into a ~2,000-component destination (the
    service made every directory, and took each away again) cost the daemon
    0.4-0.6 s of CPU; one connection looping on it, as a narrow rule allows,
    raised another user's median query latency ninefold. The depth of a
    destination is bounded (refused naming the argument before anything is
    made), and a pair at that bound leaves others' latency within 3x."""

    PROBES = 40       # another user's calls measured, idle (twice) and under attack

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        w = cls.w
        cls.srv = os.path.join(w.tmp, 'srv-alice')
        os.makedirs(os.path.join(cls.srv, 'data'))
        for p in (cls.srv, os.path.join(cls.srv, 'data')):
            os.chown(p, ALICE, ALICE)
        w.add_rule(ALICE_BIND_RULE % {'shared': cls.shared, 'srv': cls.srv},
                   name='50-vcmtest-alice-bind.rules')
        w.wait_for_rule(ALICE, 'org.vc.mount.bind',
                        {'mount_point': os.path.join(cls.shared, 'alice', 'x'), 'read_only': 'true',
                         'source': os.path.join(cls.srv, 'data')})

    def setUp(self):
        super().setUp()
        os.makedirs(os.path.join(self.shared, 'alice'), exist_ok=True)

    def _clean(self):
        self.clean_world(empty_dirs=('alice',))

    def destination(self, depth):
        """SHARED/alice/d/d/... with @depth components beneath the shared dir."""
        return os.path.join(self.shared, 'alice', *(['d'] * (depth - 1)))

    def deepest(self):
        """The deepest destination a path may name (PATH_MAX), up to 2,000."""
        room = 4095 - len(os.path.join(self.shared, 'alice'))
        return min(2000, room // 2 + 1)

    def pair(self, depth):
        dst = self.destination(depth)
        return [spec_of('BindMount', os.path.join(self.srv, 'data'), dst, True),
                spec_of('Unmount', dst)]

    def latencies(self, probe, since, count):
        vcmtest.wait_until(lambda: len([r for r in probe[1] if r['at'] - r['seconds'] > since]) >= count,
                           vcmtest.scaled(120), f'{count} answers to the other user')
        return [r for r in probe[1] if r['at'] - r['seconds'] > since][:count]

    ROUNDS = 3   # attacks measured at most, each between two idle spells

    def median_under(self, calls, label):
        """Bob's median DescribePath latency idle and while alice loops on
        @calls (one connection, one call after the other), in rounds: idle,
        attacked, idle again, so that each attack is held against the
        machine's load of its own moment (other work on a shared machine
        comes and goes within a minute). Up to ROUNDS rounds, until one
        shows the attack within 3x of idle: the attack this guards against
        slowed every round (x9); a burst of the machine's own load slows
        one. (idle, attacked, alice's result) of the round with the lowest
        ratio."""
        bob = self.probe(BOB, ('DescribePath', '/'))
        idle = self.latencies(bob, time.monotonic(), self.PROBES)
        best = None
        for n in range(1, self.ROUNDS + 1):
            alice = self.run_attacker(ALICE, 'loop', json.dumps(calls), stdin=subprocess.PIPE)
            if alice.stdout.readline().strip() != 'started':
                self.fail(f'the attacker did not start: {alice.stderr.read()}')
            pids = {'vcmountd': self.w.daemon_pid, 'polkitd': self.w.polkitd_pid, 'bus': self.w._dbus.pid}
            cpu = {k: cpu_seconds(p) for k, p in pids.items()}
            attacked = self.latencies(bob, time.monotonic(), self.PROBES)
            cpu = {k: cpu_seconds(p) - cpu[k] for k, p in pids.items()}
            alice.stdin.close()
            alice.wait(timeout=vcmtest.scaled(120))
            result = json.loads(alice.stdout.read())
            after = self.latencies(bob, time.monotonic(), self.PROBES)
            m_idle = statistics.median(r['seconds'] for r in idle + after)
            m_attacked = statistics.median(r['seconds'] for r in attacked)
            print(f'# {label}, round {n}: CPU while measured: ' +
                  ', '.join(f'{k} {v:.2f} s' for k, v in cpu.items()))
            print(f'# {label}, round {n}: other user\'s median latency {m_idle * 1000:.1f} ms idle, '
                  f'{m_attacked * 1000:.1f} ms under attack (x{m_attacked / m_idle:.2f}); '
                  f'attacker: {result["rounds"]} rounds, {result["replies"]}')
            if best is None or m_attacked / m_idle < best[1] / best[0]:
                best = (m_idle, m_attacked, result)
            if m_attacked / m_idle < 3:
                break
            idle = after
        replies = self.stop_probe(bob)
        self.assertEqual({r['reply'] for r in replies}, {'ok'}, 'the other user refused')
        return best

    def test_deep_destination_refused_before_anything_is_made(self):
        tree = sorted(os.listdir(os.path.join(self.shared, 'alice')))
        table = vcmtest.mount_table()
        for depth in (self.deepest(), MAX_DESTINATION_DEPTH + 1):
            with self.subTest(depth=depth):
                # the pair: what a mount made before the bound leaves is undone
                out = self.run_attacker(ALICE, 'calls', json.dumps(self.pair(depth)))
                ok, name, message = json.loads(out.communicate(timeout=vcmtest.scaled(120))[0]
                                               .splitlines()[0])
                self.assertFalse(ok, f'a destination {depth} deep was made')
                self.assertEqual(name, E + 'InvalidArgument', message)
                self.assertIn('destination', message)
                self.assertIn(str(MAX_DESTINATION_DEPTH), message)
                self.assertEqual(sorted(os.listdir(os.path.join(self.shared, 'alice'))), tree)
                self.assertEqual(vcmtest.mount_table(), table)
        # the bound itself is allowed, and the pair leaves nothing behind
        out = self.run_attacker(ALICE, 'calls', json.dumps(self.pair(MAX_DESTINATION_DEPTH)))
        results = [json.loads(line) for line in out.communicate(timeout=vcmtest.scaled(120))[0].splitlines()]
        self.assertEqual([r[0] for r in results], [True, True], results)
        self.assertFalse(os.path.exists(os.path.join(self.shared, 'alice', 'd')))

    def test_looping_on_the_deepest_destination(self):
        idle, attacked, result = self.median_under(self.pair(self.deepest()),
                                                   f'pairs {self.deepest()} deep')
        self.assertGreater(result['rounds'], 0)
        self.assertLess(attacked / idle, 3, 'one user\'s pairs slowed another\'s queries that much')

    def test_looping_at_the_bound(self):
        idle, attacked, result = self.median_under(self.pair(MAX_DESTINATION_DEPTH),
                                                   f'pairs {MAX_DESTINATION_DEPTH} deep')
        self.assertEqual(set(result['replies']), {'ok'}, result)
        self.assertLess(attacked / idle, 3, 'one user\'s pairs slowed another\'s queries that much')


class Flood:
    """An attacker's flood (attacker.py flood) whose replies a thread counts."""

    def __init__(self, proc):
        self.proc = proc
        self.seen = {}
        self.final = None
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            obj = json.loads(line)
            with self.lock:
                if 'final' in obj:
                    self.final = obj['final']
                else:
                    self.seen[obj['reply']] = self.seen.get(obj['reply'], 0) + 1

    def count(self, name):
        with self.lock:
            return self.seen.get(name, 0)

    def wait(self):
        """Every reply, counted, once all are in."""
        self.proc.wait(timeout=vcmtest.scaled(120))
        self.thread.join()
        return self.final


class RuledCase(AttackCase):
    """alice with the README's narrow rules; the eight accounts and bob with
    none."""

    def flood(self, uid, n, calls, *extra):
        """@calls (one call, sent @n times; or a list of calls, each once) as
        @uid, all at once."""
        specs = [spec_of(*c) for c in calls] if isinstance(calls, list) else spec_of(*calls)
        cmd = self.w.setpriv(uid) + [vcmtest.PYTHON, ATTACKER, self.w.bus_address, 'flood', str(n),
                                     json.dumps(specs)] + list(extra)
        p = subprocess.Popen(cmd, env=self.w._child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd='/', text=True)
        self.addCleanup(lambda: p.poll() is not None or (p.kill(), p.wait()))
        return Flood(p)

    def hung_filesystem(self, name):
        """A FUSE server that never answers anybody, at a new directory
        @name; returns (the mount point, the server process)."""
        os.chmod(self.scratch, 0o755)
        return super().hung_filesystem(name)

    def assert_tells_nobody_elses_figures(self, message):
        # today's texts said "32 in all", "16 interactive"; the quoted path
        # the caller named is its own (a temporary name may hold "16")
        told = re.sub(r"'[^']*'", "'PATH'", message)
        for what in ('in all', 'interactive authorizations waiting (', ' of this user', '32', '16'):
            self.assertNotIn(what, told)


class TestSharedSlots(RuledCase):
    """Issue: eight accounts with no rule, each naming paths on one hung
    filesystem, took all 32 resolver threads, and every other caller's path
    call was refused, a caller a rule allows included; eight accounts with
    two silent-agent interactive calls each filled all 16 interactive
    places. A filesystem now holds at most its share of the threads, and a
    call that allows interaction takes an interactive place only when polkit
    wants a password for it."""

    def test_a_hung_filesystem_holds_only_its_share_of_the_threads(self):
        mnt, server = self.hung_filesystem('hung')
        hung = os.path.join(mnt, 'x')
        floods = [self.flood(uid, 16, ('DescribePath', hung)) for _, uid in vcmtest.ACCOUNTS]
        # the attack at its height: the accounts' calls have met a bound
        # 64 times (beyond their threads and turns, or the filesystem's
        # share): every account's calls have been taken
        vcmtest.wait_until(lambda: sum(f.count(LIMITS) for f in floods) >= 64, 120,
                           'the accounts to meet a bound 64 times')
        # the filesystem holds its share of the threads, no more
        held = self.daemon_threads_in_fuse()
        self.assertLessEqual(held, 8)
        # alice's rule allows her this (her first call: no grant yet), and it
        # names no path on the hung filesystem: it is served, in its turn
        # for a thread
        started = time.monotonic()
        ok, res, message = self.w.call_as(ALICE, 'MountRootfs', 'alice', 'c1',
                                          os.path.join(self.srv, 'data'), True)
        took = time.monotonic() - started
        print(f'# 8 accounts x 16 DescribePath on one hung FUSE ({held} threads held): '
              f'alice\'s MountRootfs {"ok" if ok else res} in {took:.2f} s')
        self.assertTrue(ok, f'{res}: {message}')
        self.allowed('UnmountRootfs', 'alice', 'c1')
        # root is never counted
        self.assertEqual(self.w.call('DescribePath', '/')['mount-point'], '/')
        # bob's path on the hung filesystem: refused, in words that tell
        # nothing of the other users' calls
        ok, res, message = self.w.call_as(BOB, 'DescribePath', os.path.join(mnt, 'y'))
        print(f'# bob on the hung filesystem: {res}: {message}')
        self.assertEqual((ok, res), (False, LIMITS), message)
        self.assert_tells_nobody_elses_figures(message)
        server.kill()
        finals = [f.wait() for f in floods]
        print(f'# the accounts\' replies: {finals}')
        self.assertTrue(self.w.daemon_running())

    def daemon_threads_in_fuse(self):
        """The daemon's threads waiting for a FUSE server's answer."""
        n = 0
        for tid in os.listdir(f'/proc/{self.w.daemon_pid}/task'):
            try:
                with open(f'/proc/{self.w.daemon_pid}/task/{tid}/wchan') as f:
                    wchan = f.read()
            except OSError:
                continue
            n += wchan.startswith(('request_wait_answer', 'fuse_'))
        return n

    def test_b_a_caller_with_a_grant_passes_hung_filesystems_of_many(self):
        # each account names paths on a hung filesystem of its own (as
        # fusermount lets any user mount one): the share of one filesystem
        # does not help here, but accounts without a grant take at most 24
        # of the 32 threads; alice, whom polkit allowed a mount, is served
        # from the rest at once
        self.allowed('MountRootfs', 'alice', 'c1', os.path.join(self.srv, 'data'), True)
        self.allowed('UnmountRootfs', 'alice', 'c1')
        floods = []
        for i, (_, uid) in enumerate(vcmtest.ACCOUNTS):
            mnt, _server = self.hung_filesystem(f'hung{i}')
            floods.append(self.flood(uid, 8, ('DescribePath', os.path.join(mnt, 'x'))))
        vcmtest.wait_until(lambda: self.daemon_threads_in_fuse() >= 24, 120,
                           'the accounts to hold 24 threads')
        started = time.monotonic()
        ok, res, message = self.w.call_as(ALICE, 'MountRootfs', 'alice', 'c1',
                                          os.path.join(self.srv, 'data'), True, timeout_ms=60000)
        took = time.monotonic() - started
        print(f'# 8 accounts x 8 DescribePath, each on a hung FUSE of its own '
              f'({self.daemon_threads_in_fuse()} threads held): alice (with a grant) '
              f'{"ok" if ok else res} in {took:.2f} s')
        self.assertTrue(ok, f'{res}: {message}')
        self.allowed('UnmountRootfs', 'alice', 'c1')
        self.assertLessEqual(self.daemon_threads_in_fuse(), 24)
        for f in floods:
            f.proc.kill()

    def test_silent_agents_of_eight_accounts_leave_a_ruled_caller_served(self):
        # each account: an authentication agent that never answers, and four
        # calls that allow interaction (polkit wants a password for them)
        floods = [self.flood(uid, 4, ('UnmountRootfs', name, 'c1'), '--interactive', '--agent')
                  for name, uid in vcmtest.ACCOUNTS]
        # two of each account's wait for its silent agent; the rest refused
        vcmtest.wait_until(lambda: all(f.count(LIMITS) >= 2 for f in floods), 120,
                           'the interactive places to be taken')
        # alice's rule allows her this: she takes no interactive place
        started = time.monotonic()
        ok, res, message = self.w.call_as(ALICE, 'MountRootfs', 'alice', 'c1',
                                          os.path.join(self.srv, 'data'), True, interactive=True)
        took = time.monotonic() - started
        print(f'# 8 accounts x 2 silent-agent checks: alice\'s interactive MountRootfs '
              f'{"ok" if ok else res} in {took:.2f} s')
        self.assertTrue(ok, f'{res}: {message}')
        ok, res, message = self.w.call_as(ALICE, 'UnmountRootfs', 'alice', 'c1', interactive=True)
        self.assertTrue(ok, f'{res}: {message}')
        # bob, whom no rule allows, finds the interactive places taken, and
        # is told nothing of the other users' checks
        ok, res, message = self.w.call_as(BOB, 'UnmountRootfs', 'bob', 'c1', interactive=True)
        print(f'# bob: {res}: {message}')
        self.assertEqual((ok, res), (False, LIMITS), message)
        self.assert_tells_nobody_elses_figures(message)
        for f in floods:
            f.proc.kill()
        self.assertTrue(self.w.daemon_running())


class TestGrantsWithoutPolkitsList(RuledCase):
    """Finding of a review: when listing polkit's actions failed at start,
    the list of those allowed to anybody (the queries) was taken as empty
    and never asked again, so that any account's query counted as a grant
    and won the places kept for callers a rule allows. Here the bus refuses
    the daemon polkit's EnumerateActions at first: while the list is not
    known nothing counts as a grant; once polkit can be asked again (and
    says its rules changed), a rule's grant counts again."""

    DENY = ('<deny send_destination="org.freedesktop.PolicyKit1" '
            'send_interface="org.freedesktop.PolicyKit1.Authority" send_member="EnumerateActions"/>')
    world_args = {'root_bus_policy': DENY}

    def grants_logged(self):
        with open(self.w.daemon_log, errors='replace') as f:
            return re.findall(r'uid (\d+) was allowed (\S+): a caller with a grant', f.read())

    def test_no_grant_while_polkits_list_is_not_known_then_again(self):
        for _, uid in vcmtest.ACCOUNTS:
            # a query polkit allows anybody: never a grant
            ok, res, message = self.w.call_as(uid, 'DescribePath', '/')
            self.assertTrue(ok, f'{res}: {message}')
        # alice's rule allows her this, but which actions are anybody's is
        # not known: no grant either (the places kept stay kept)
        self.allowed('MountRootfs', 'alice', 'c1', os.path.join(self.srv, 'data'), True)
        self.allowed('UnmountRootfs', 'alice', 'c1')
        # each reply came after its check was noted
        self.assertEqual(self.grants_logged(), [])
        # polkit answers the daemon again, and says its rules changed: the
        # list is read at once, and alice's next allowed call is a grant
        self.w.set_root_bus_policy('')
        self.addCleanup(self.w.set_root_bus_policy, self.DENY)
        self.w.remove_rule(self.w.add_rule('// changed\n', name='90-vcmtest-touch.rules'))

        def alice_granted():
            self.allowed('MountRootfs', 'alice', 'c1', os.path.join(self.srv, 'data'), True)
            self.allowed('UnmountRootfs', 'alice', 'c1')
            return (str(ALICE), 'org.vc.mount.manage-rootfs') in self.grants_logged()
        vcmtest.wait_until(alice_granted, 30, "alice's allowed call to count as a grant", interval=0.1)
        # and the accounts' queries still do not
        for _, uid in vcmtest.ACCOUNTS:
            self.assertTrue(self.w.call_as(uid, 'DescribePath', '/')[0])
        self.assertEqual({u for u, _ in self.grants_logged()}, {str(ALICE)})


class TestManyContainers(RuledCase):
    """Issue: a runtime starting 20-50 containers at once as a user a rule
    allows got 8-10 of 20 calls through (20 of 50); the rest were refused
    with LimitsExceeded."""

    def test_twenty_and_fifty_containers_at_once(self):
        data = os.path.join(self.srv, 'data')
        for n in (20, 50):
            with self.subTest(containers=n):
                started = time.monotonic()
                mounted = self.flood(ALICE, n, [('MountRootfs', 'alice', f'c{i}', data, True)
                                                for i in range(n)]).wait()
                took = time.monotonic() - started
                unmounted = self.flood(ALICE, n, [('UnmountRootfs', 'alice', f'c{i}')
                                                  for i in range(n)]).wait()
                print(f'# {n} x MountRootfs at once by alice: {mounted} in {took:.2f} s; '
                      f'then {n} x UnmountRootfs: {unmounted}')
                self.assertEqual(mounted, {'ok': n})
                self.assertEqual(unmounted, {'ok': n})


if __name__ == '__main__':
    import unittest
    unittest.main()
