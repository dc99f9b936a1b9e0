#!/usr/bin/python3
# fuse_hang: a FUSE filesystem that answers nothing but INIT, for the attack
# tests: every lookup beneath its mount point waits until this process ends
# (then the kernel fails it with ENOTCONN), as on a hung network or FUSE
# server. Run as root inside the test's mount namespace:
#
#   fuse_hang.py MOUNT_POINT      mounts, prints "ready", then serves until killed
import ctypes
import os
import struct
import sys

FUSE_INIT = 26
IN_HEADER = struct.Struct('=IIQQIIIHH')          # len opcode unique nodeid uid gid pid extlen pad
OUT_HEADER = struct.Struct('=IiQ')               # len error unique
INIT_IN = struct.Struct('=IIII')                 # major minor max_readahead flags
INIT_OUT = struct.Struct('=IIIIHHIIHHI7I')       # major minor max_readahead flags max_background
                                                 # congestion_threshold max_write time_gran max_pages
                                                 # map_alignment flags2 unused[7]


def main():
    mnt = sys.argv[1]
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
        if opcode == FUSE_INIT:
            major, minor, readahead, flags = INIT_IN.unpack_from(body)
            out = INIT_OUT.pack(7, min(minor, 31), readahead, 0, 16, 12, 65536, 1, 1, 0, 0,
                                *([0] * 7))
            os.write(fd, OUT_HEADER.pack(OUT_HEADER.size + len(out), 0, unique) + out)
        # anything else (GETATTR of the root, LOOKUP, ...): never answered


if __name__ == '__main__':
    main()
