#!/usr/bin/python3
# fuse_tree: a FUSE filesystem that lies, for the attack tests: a few empty
# directories (a, a/b, a/b/c) that it reports as root's, mode 0755, without
# ACLs, as a user's FUSE server may; its owner ("user_id") is the uid given.
# A rename it makes up (the directory "a" answered under the name "moved"
# from then on) is what a user's server can do at any moment: sent with
# SIGUSR1. Run as root inside the test's mount namespace:
#
#   fuse_tree.py MOUNT_POINT UID     mounts, prints "ready", then serves until killed
import ctypes
import os
import signal
import struct
import sys

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR, FUSE_STATFS = 1, 2, 3, 17
FUSE_GETXATTR, FUSE_LISTXATTR, FUSE_INIT, FUSE_OPENDIR, FUSE_READDIR = 22, 23, 26, 27, 28
FUSE_RELEASEDIR, FUSE_ACCESS, FUSE_BATCH_FORGET = 29, 34, 42
ENOENT, ENOSYS = 2, 38

IN_HEADER = struct.Struct('=IIQQIIIHH')          # len opcode unique nodeid uid gid pid extlen pad
OUT_HEADER = struct.Struct('=IiQ')               # len error unique
INIT_IN = struct.Struct('=IIII')                 # major minor max_readahead flags
INIT_OUT = struct.Struct('=IIIIHHIIHHI7I')
ATTR = struct.Struct('=QQQQQQIIIIIIIIII')        # ino size blocks atime mtime ctime (nsecs) mode
                                                 # nlink uid gid rdev blksize flags
ENTRY_OUT = struct.Struct('=QQQQII')             # nodeid generation entry_valid attr_valid nsecs
ATTR_OUT = struct.Struct('=QII')                 # attr_valid attr_valid_nsec dummy
OPEN_OUT = struct.Struct('=QII')                 # fh open_flags padding
STATFS_OUT = struct.Struct('=QQQQQIIII6I')

# nodeid -> (parent nodeid, name); the root is 1
TREE = {2: (1, 'a'), 3: (2, 'b'), 4: (3, 'c')}
renamed = False


def attr(nodeid):
    return ATTR.pack(nodeid, 0, 0, 0, 0, 0, 0, 0, 0, 0o040755, 2, 0, 0, 0, 4096, 0)


def child(parent, name):
    for nodeid, (p, n) in TREE.items():
        if renamed and nodeid == 2:
            n = 'moved'
        if p == parent and n == name:
            return nodeid
    return None


def on_usr1(signum, frame):
    global renamed
    renamed = True


def main():
    mnt, uid = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGUSR1, on_usr1)
    fd = os.open('/dev/fuse', os.O_RDWR)
    libc = ctypes.CDLL(None, use_errno=True)
    opts = f'fd={fd},rootmode=40755,user_id={uid},group_id={uid},allow_other'.encode()
    if libc.mount(b'vcmtest-tree', mnt.encode(), b'fuse', 0, opts) != 0:
        raise OSError(ctypes.get_errno(), 'mount fuse')
    print('ready', flush=True)

    def reply(unique, body=b'', error=0):
        os.write(fd, OUT_HEADER.pack(OUT_HEADER.size + len(body), -error, unique) + body)

    while True:
        try:
            req = os.read(fd, 1 << 20)
        except InterruptedError:
            continue
        except OSError:
            return  # unmounted
        length, opcode, unique, nodeid, _, _, _, _, _ = IN_HEADER.unpack_from(req)
        body = req[IN_HEADER.size:length]
        if opcode == FUSE_INIT:
            major, minor, readahead, flags = INIT_IN.unpack_from(body)
            reply(unique, INIT_OUT.pack(7, min(minor, 31), readahead, 0, 16, 12, 65536, 1, 1, 0, 0,
                                        *([0] * 7)))
        elif opcode in (FUSE_FORGET, FUSE_BATCH_FORGET):
            pass
        elif opcode == FUSE_LOOKUP:
            found = child(nodeid, body.rstrip(b'\0').decode(errors='replace'))
            if found is None:
                # a short negative entry: the kernel asks again soon
                reply(unique, error=ENOENT)
            else:
                # entries valid for no time at all: every lookup asks again
                reply(unique, ENTRY_OUT.pack(found, 0, 0, 0, 0, 0) + attr(found))
        elif opcode == FUSE_GETATTR:
            reply(unique, ATTR_OUT.pack(0, 0, 0) + attr(nodeid))
        elif opcode == FUSE_OPENDIR:
            reply(unique, OPEN_OUT.pack(0, 0, 0))
        elif opcode in (FUSE_READDIR, FUSE_RELEASEDIR, FUSE_ACCESS):
            reply(unique)
        elif opcode == FUSE_STATFS:
            reply(unique, STATFS_OUT.pack(0, 0, 0, 0, 0, 4096, 255, 4096, 0, *([0] * 6)))
        else:  # GETXATTR, LISTXATTR and the rest: not implemented
            reply(unique, error=ENOSYS)


if __name__ == '__main__':
    main()
