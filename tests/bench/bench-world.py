#!/usr/bin/python3
# bench-world: sets up the benchmark's world with the integration harness
# (vcmtest.World: a private system bus, the real polkitd, vcmountd, the
# `vcmtest` user), adds a polkit rule that lets that user manage rootfs
# mounts, then runs vcm-bench against it and tears everything down.
# Must run inside `unshare -m --propagation private` (scripts/bench does).
#
# Environment: VCM_SOURCE_ROOT, VCM_DAEMON (the built vcmountd), VCM_BENCH
# (the built vcm-bench). Arguments after the options go to vcm-bench.
# --perf-daemon FILE: record vcmountd with `perf record --call-graph dwarf`
# for the whole run (with --only CASES, for one case).

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
import vcmtest  # noqa: E402

ACTION = 'org.vc.mount.manage-rootfs'

RULE = '''polkit.addRule(function(action, subject) {
    if (action.id == "%s" && subject.user == "%s")
        return polkit.Result.YES;
});
''' % (ACTION, vcmtest.TEST_USER)


def run_bench(world, bench, work, perf_out, args):
    # As on a real host: the shared dir on a tmpfs of its own (/run/vc/shared
    # lies on /run), each rootfs source a mount of its own (an overlay
    # snapshot). Both lie outside the shared dir, and so does the scratch dir.
    vcmtest.mount('tmpfs', world.shared_dir, 'tmpfs', data='mode=0755')
    vcmtest.mount(None, world.shared_dir, flags=vcmtest.MS_PRIVATE)
    rootfs = os.path.join(work, 'rootfs-src')
    scratch = os.path.join(work, 'scratch')
    os.makedirs(rootfs, 0o755)
    vcmtest.mount('tmpfs', rootfs, 'tmpfs', data='mode=0755')
    vcmtest.mount(None, rootfs, flags=vcmtest.MS_PRIVATE)
    os.makedirs(os.path.join(rootfs, 'etc'), 0o755)
    os.makedirs(scratch, 0o755)
    for d in (work, rootfs, os.path.join(rootfs, 'etc'), scratch):
        os.chmod(d, 0o755)
    with open(os.path.join(rootfs, 'etc', 'os-release'), 'w') as f:
        f.write('ID=vcm-bench\n')
    world.start_daemon()

    perf = None
    if perf_out:
        perf = subprocess.Popen(['perf', 'record', '--call-graph', 'dwarf', '-F', '299',
                                 '-o', perf_out, '-p', str(world.daemon_pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cmd = [bench, '--bus', world.bus_address, '--shared-dir', world.shared_dir,
           '--sysfs-root', world.sysfs_root, '--rootfs', rootfs, '--scratch', scratch,
           '--daemon-pid', str(world.daemon_pid), '--polkitd-pid', str(world.polkitd_pid),
           '--bus-pid', str(world._dbus.pid), '--uid', str(world.test_uid)] + args
    try:
        return subprocess.call(cmd, env=world._child_env(), stdin=subprocess.DEVNULL)
    finally:
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait()


def main(argv):
    perf_out = None
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == '--perf-daemon' and i + 1 < len(argv):
            perf_out = os.path.abspath(argv[i + 1])
            i += 2
            continue
        args.append(argv[i])
        i += 1

    bench = os.environ.get('VCM_BENCH')
    if not bench or not os.access(bench, os.X_OK):
        sys.exit('bench-world: VCM_BENCH is not the built vcm-bench')

    with vcmtest.World(verbose=False, start_daemon=False) as world:
        world.add_rule(RULE)
        world.wait_for_rule(world.test_uid, ACTION)

        work = os.path.join(world.tmp, 'bench')
        try:
            rc = run_bench(world, bench, work, perf_out, args)
        finally:
            # Whatever was mounted beneath the work dir goes (the World
            # unmounts the shared dir).
            for m in sorted(vcmtest.mounts_beneath(work),
                            key=lambda m: -m['mount_point'].count('/')):
                try:
                    vcmtest.umount(m['mount_point'])
                except OSError:
                    pass
        if rc != 0:
            sys.stderr.write(world.logs_text())
        return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
