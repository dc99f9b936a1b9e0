# fuse_wire: what the tests' FUSE servers (fuse_hang.py, fuse_tree.py) share:
# the kernel's FUSE protocol as far as they speak it (<linux/fuse.h>, 7.31),
# mounting /dev/fuse, and the answers that are the same in both.
import ctypes
import os
import struct

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR, FUSE_STATFS = 1, 2, 3, 17
FUSE_GETXATTR, FUSE_LISTXATTR, FUSE_INIT, FUSE_OPENDIR, FUSE_READDIR = 22, 23, 26, 27, 28
FUSE_RELEASEDIR, FUSE_ACCESS, FUSE_INTERRUPT, FUSE_DESTROY, FUSE_BATCH_FORGET = 29, 34, 36, 38, 42
FUSE_PARALLEL_DIROPS = 1 << 18

IN_HEADER = struct.Struct('=IIQQIIIHH')          # len opcode unique nodeid uid gid pid extlen pad
OUT_HEADER = struct.Struct('=IiQ')               # len error unique
INIT_IN = struct.Struct('=IIII')                 # major minor max_readahead flags
INIT_OUT = struct.Struct('=IIIIHHIIHHI7I')       # major minor max_readahead flags max_background
                                                 # congestion_threshold max_write time_gran max_pages
                                                 # map_alignment flags2 unused[7]
ATTR = struct.Struct('=QQQQQQIIIIIIIIII')        # ino size blocks atime mtime ctime (nsecs) mode
                                                 # nlink uid gid rdev blksize flags
ENTRY_OUT = struct.Struct('=QQQQII')             # nodeid generation entry_valid attr_valid nsecs
ATTR_OUT = struct.Struct('=QII')                 # attr_valid attr_valid_nsec dummy
OPEN_OUT = struct.Struct('=QII')                 # fh open_flags padding
STATFS_OUT = struct.Struct('=QQQQQIIII6I')       # blocks bfree bavail files ffree bsize namelen
                                                 # frsize padding spare[6]

# STATFS of an empty filesystem
EMPTY_STATFS = STATFS_OUT.pack(0, 0, 0, 0, 0, 4096, 255, 4096, 0, *([0] * 6))


def mount(mnt, fsname, uid):
    """Opens /dev/fuse and mounts it at @mnt (allow_other, its owner @uid);
    returns the fd to serve the requests on."""
    fd = os.open('/dev/fuse', os.O_RDWR)
    libc = ctypes.CDLL(None, use_errno=True)
    opts = f'fd={fd},rootmode=40755,user_id={uid},group_id={uid},allow_other'.encode()
    if libc.mount(fsname.encode(), mnt.encode(), b'fuse', 0, opts) != 0:
        raise OSError(ctypes.get_errno(), 'mount fuse')
    return fd


def init_answer(body, flags=0):
    """The answer to INIT (request body @body): protocol 7.31 at most, and of
    the kernel's offered flags those in @flags."""
    major, minor, readahead, offered = INIT_IN.unpack_from(body)
    return INIT_OUT.pack(7, min(minor, 31), readahead, offered & flags, 16, 12, 65536, 1, 1, 0, 0,
                         *([0] * 7))


def dir_attr(nodeid):
    """The attributes of directory @nodeid: root's, mode 0755, no ACLs."""
    return ATTR.pack(nodeid, 0, 0, 0, 0, 0, 0, 0, 0, 0o040755, 2, 0, 0, 0, 4096, 0)


def reply(fd, unique, body=b'', error=0):
    """Answers request @unique with @body, or with the errno @error."""
    os.write(fd, OUT_HEADER.pack(OUT_HEADER.size + len(body), -error, unique) + body)
