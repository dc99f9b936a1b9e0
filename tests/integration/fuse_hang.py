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
import ctypes
import errno
import os
import signal
import struct
import sys

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR = 1, 2, 3
FUSE_STATFS, FUSE_INIT, FUSE_OPENDIR, FUSE_READDIR, FUSE_RELEASEDIR = 17, 26, 27, 28, 29
FUSE_ACCESS, FUSE_INTERRUPT, FUSE_DESTROY, FUSE_BATCH_FORGET = 34, 36, 38, 42
FUSE_PARALLEL_DIROPS = 1 << 18
NO_REPLY = (FUSE_FORGET, FUSE_INTERRUPT, FUSE_DESTROY, FUSE_BATCH_FORGET)

IN_HEADER = struct.Struct('=IIQQIIIHH')          # len opcode unique nodeid uid gid pid extlen pad
OUT_HEADER = struct.Struct('=IiQ')               # len error unique
INIT_IN = struct.Struct('=IIII')                 # major minor max_readahead flags
INIT_OUT = struct.Struct('=IIIIHHIIHHI7I')       # major minor max_readahead flags max_background
                                                 # congestion_threshold max_write time_gran max_pages
                                                 # map_alignment flags2 unused[7]
# attr_valid attr_valid_nsec dummy, then struct fuse_attr: ino size blocks atime mtime ctime
# atimensec mtimensec ctimensec mode nlink uid gid rdev blksize flags
ATTR_OUT = struct.Struct('=QII' + 'QQQQQQ' + 'IIIIIIIIII')
OPEN_OUT = struct.Struct('=QII')                 # fh open_flags padding
STATFS_OUT = struct.Struct('=QQQQQIIII6I')       # blocks bfree bavail files ffree bsize namelen
                                                 # frsize padding spare[6]


def answer(opcode):
    """(error, body) of an empty root-owned directory's answer to @opcode.
    Nothing is cached (valid for 0 s): every access asks again."""
    if opcode == FUSE_GETATTR:
        return 0, ATTR_OUT.pack(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0o40755, 2, 0, 0, 0, 4096, 0)
    if opcode == FUSE_OPENDIR:
        return 0, OPEN_OUT.pack(1, 0, 0)
    if opcode in (FUSE_READDIR, FUSE_RELEASEDIR, FUSE_ACCESS):
        return 0, b''
    if opcode == FUSE_STATFS:
        return 0, STATFS_OUT.pack(0, 0, 0, 0, 0, 4096, 255, 4096, 0, *([0] * 6))
    if opcode == FUSE_LOOKUP:
        return -errno.ENOENT, b''
    return -errno.EROFS if opcode in (4, 8, 9, 10, 11, 12, 13, 35) else -errno.ENOSYS, b''


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

    fd = os.open('/dev/fuse', os.O_RDWR)
    libc = ctypes.CDLL(None, use_errno=True)
    opts = f'fd={fd},rootmode=40755,user_id=0,group_id=0,allow_other'.encode()
    if libc.mount(b'vcmtest-hang', mnt.encode(), b'fuse', 0, opts) != 0:
        raise OSError(ctypes.get_errno(), 'mount fuse')
    print('ready', flush=True)
    while True:
        req = os.read(fd, 1 << 20)
        length, opcode, unique, nodeid, uid, gid, pid, _, _ = IN_HEADER.unpack_from(req)
        body = req[IN_HEADER.size:length]
        if log:
            os.write(1, f'request {opcode} {pid}\n'.encode())
        if opcode == FUSE_INIT:
            major, minor, readahead, flags = INIT_IN.unpack_from(body)
            # lookups in one directory in parallel: each caller's waits on its own
            out = INIT_OUT.pack(7, min(minor, 31), readahead, flags & FUSE_PARALLEL_DIROPS, 16, 12,
                                65536, 1, 1, 0, 0, *([0] * 7))
            os.write(fd, OUT_HEADER.pack(OUT_HEADER.size + len(out), 0, unique) + out)
            continue
        if opcode in NO_REPLY:
            continue
        if state['hanging'] and (hang_for is None or pid == hang_for):
            continue                              # never answered
        error, out = answer(opcode)
        try:
            os.write(fd, OUT_HEADER.pack(OUT_HEADER.size + len(out), error, unique) + out)
        except OSError:
            pass                                  # interrupted and dropped meanwhile


if __name__ == '__main__':
    main()
