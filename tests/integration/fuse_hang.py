#!/usr/bin/python3
# fuse_hang: a FUSE filesystem that answers nothing but INIT, for the attack
# tests: every lookup beneath its mount point waits until this process ends
# (then the kernel fails it with ENOTCONN), as on a hung network or FUSE
# server. Run as root inside the test's mount namespace:
#
#   fuse_hang.py MOUNT_POINT [--hang-for TID] [--later] [--log]
#
# mounts, prints "ready", then serves until killed. With --hang-for, only
# the requests of thread TID (the daemon's main thread: its pid) wait
# forever; everyone else gets the answers of an empty, root-owned directory
# (an attacker's server that freezes the one thread that matters). With
# --later, every request is answered until SIGUSR1 (the test's setup), which
# is acknowledged with a line "hanging"; from then on the rule above holds.
# With --log, a line "request OPCODE TID" per request received.
import errno
import os
import signal
import sys

from fuse_wire import (ATTR_OUT, EMPTY_STATFS, FUSE_ACCESS, FUSE_BATCH_FORGET, FUSE_DESTROY, FUSE_FORGET,
                       FUSE_GETATTR, FUSE_INIT, FUSE_INTERRUPT, FUSE_LOOKUP, FUSE_OPENDIR,
                       FUSE_PARALLEL_DIROPS, FUSE_READDIR, FUSE_RELEASEDIR, FUSE_STATFS, IN_HEADER, OPEN_OUT,
                       dir_attr, init_answer, mount, reply)

NO_REPLY = (FUSE_FORGET, FUSE_INTERRUPT, FUSE_DESTROY, FUSE_BATCH_FORGET)


def answer(opcode):
    """(errno, body) of an empty root-owned directory's answer to @opcode.
    Nothing is cached (valid for 0 s): every access asks again."""
    if opcode == FUSE_GETATTR:
        return 0, ATTR_OUT.pack(0, 0, 0) + dir_attr(1)
    if opcode == FUSE_OPENDIR:
        return 0, OPEN_OUT.pack(1, 0, 0)
    if opcode in (FUSE_READDIR, FUSE_RELEASEDIR, FUSE_ACCESS):
        return 0, b''
    if opcode == FUSE_STATFS:
        return 0, EMPTY_STATFS
    if opcode == FUSE_LOOKUP:
        return errno.ENOENT, b''
    return errno.EROFS if opcode in (4, 8, 9, 10, 11, 12, 13, 35) else errno.ENOSYS, b''


def main():
    args = sys.argv[1:]
    mnt = args[0]
    hang_for = int(args[args.index('--hang-for') + 1]) if '--hang-for' in args else None
    log = '--log' in args
    state = {'hanging': '--later' not in args}

    def on_usr1(signum, frame):
        # unbuffered writes only: a handler that prints may run inside the
        # main loop's own print and fail as a reentrant call
        state['hanging'] = True
        os.write(1, b'hanging\n')
    signal.signal(signal.SIGUSR1, on_usr1)

    fd = mount(mnt, 'vcmtest-hang', 0)
    print('ready', flush=True)
    while True:
        req = os.read(fd, 1 << 20)
        length, opcode, unique, nodeid, uid, gid, pid, _, _ = IN_HEADER.unpack_from(req)
        body = req[IN_HEADER.size:length]
        if log:
            os.write(1, f'request {opcode} {pid}\n'.encode())
        if opcode == FUSE_INIT:
            # lookups in one directory in parallel: each caller's waits on its own
            reply(fd, unique, init_answer(body, FUSE_PARALLEL_DIROPS))
            continue
        if opcode in NO_REPLY:
            continue
        if state['hanging'] and (hang_for is None or pid == hang_for):
            continue                              # never answered
        error, out = answer(opcode)
        try:
            reply(fd, unique, out, error)
        except OSError:
            pass                                  # interrupted and dropped meanwhile


if __name__ == '__main__':
    main()
