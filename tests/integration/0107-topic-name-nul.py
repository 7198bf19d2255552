"""A topic name holding a NUL byte names no topic, in every handler (the kit's sa_kit_topic): it
never stands for the topic named by its prefix. With topic "t" existing and auto-creation on,
"t\\0x" gets INVALID_TOPIC_EXCEPTION from Metadata (and nothing is created),
UNKNOWN_TOPIC_OR_PARTITION from ListOffsets and OffsetCommit, and an OffsetCommit of it leaves
t's committed offset alone."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker  # noqa: E402
from admin_raw import Raw  # noqa: E402

UNKNOWN_TOPIC, INVALID_TOPIC = 3, 17
NUL_NAME = b"t\x00x"


def s16b(b):
    return struct.pack(">h", len(b)) + b


def metadata_v1(raw, names):
    """None: every topic."""
    if names is None:
        body = struct.pack(">i", -1)
    else:
        body = struct.pack(">i", len(names)) + b"".join(s16b(n) for n in names)
    r = raw.call(3, 1, body, False)
    r.array(lambda: (r.i32(), r.string(), r.i32(), r.string()))  # brokers
    r.i32()  # controller
    return r.array(lambda: (r.i16(), r.string(), r.i8(),
                            r.array(lambda: (r.i16(), r.i32(), r.i32(), r.array(r.i32), r.array(r.i32)))))


def list_offsets_v1(raw, name):
    body = struct.pack(">i", -1) + struct.pack(">i", 1) + s16b(name) + struct.pack(">iiq", 1, 0, -1)
    r = raw.call(2, 1, body, False)
    return r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i16(), r.i64(), r.i64()))))


def commit_v2(raw, name, offset):
    body = s16b(b"g") + struct.pack(">i", -1) + s16b(b"") + struct.pack(">q", -1)
    body += struct.pack(">i", 1) + s16b(name) + struct.pack(">iiq", 1, 0, offset) + struct.pack(">h", -1)
    r = raw.call(8, 2, body, False)
    return r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i16()))))


def fetch_offset_v1(raw, name):
    body = s16b(b"g") + struct.pack(">i", 1) + s16b(name) + struct.pack(">ii", 1, 0)
    r = raw.call(9, 1, body, False)
    res = r.array(lambda: (r.string(), r.array(lambda: (r.i32(), r.i64(), r.string(), r.i16()))))
    return res[0][1][0][1]


def main():
    with Broker(extra=["-o", "auto.create.topics.enable=true"]) as b:
        raw = Raw(b.addr)
        topics = metadata_v1(raw, [b"t"])  # auto-creates t
        assert [(c, n) for c, n, _i, _p in topics] == [(0, "t")], topics

        topics = metadata_v1(raw, [NUL_NAME])
        assert [(c, n) for c, n, _i, _p in topics] == [(INVALID_TOPIC, "t\x00x")], topics
        names = sorted(n for _c, n, _i, _p in metadata_v1(raw, None))
        assert names == ["t"], names  # nothing was created for the NUL name

        res = list_offsets_v1(raw, NUL_NAME)
        assert res[0][1][0][1] == UNKNOWN_TOPIC, res
        assert list_offsets_v1(raw, b"t")[0][1][0][1] == 0

        assert commit_v2(raw, b"t", 5)[0][1] == [(0, 0)]
        res = commit_v2(raw, NUL_NAME, 99)
        assert res[0][1] == [(0, UNKNOWN_TOPIC)], res
        assert fetch_offset_v1(raw, b"t") == 5
        raw.close()
    print("NUL-holding topic names name no topic")


if __name__ == "__main__":
    main()
