"""kcat produces 100,000 keyed records with headers under each compression codec (none, gzip,
snappy, lz4, zstd); `kcat -C -e` reads them back byte-identical with contiguous offsets."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, scaled  # noqa: E402

N = int(os.environ.get("ROUNDTRIP_N", "100000"))
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def main():
    lines = [f"key-{i % 97}\tvalue-{i}-{'x' * (i % 211)}-{'é' if i % 5 == 0 else ''}" for i in range(N)]
    data = ("\n".join(lines) + "\n").encode()
    with Broker() as b, tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.txt")
        with open(src, "wb") as f:
            f.write(data)
        for codec in CODECS:
            topic = f"rt_{codec}"
            cp = subprocess.run(
                ["kcat", "-b", b.addr, "-P", "-t", topic, "-K", "\t", "-H", "trace=t-1", "-H", "codec=" + codec,
                 "-X", f"compression.codec={codec}", "-X", "acks=all", "-l", src],
                capture_output=True, timeout=scaled(120))
            assert cp.returncode == 0, f"{codec}: kcat -P exited {cp.returncode}: {cp.stderr.decode()}"
            cp = subprocess.run(
                ["kcat", "-b", b.addr, "-C", "-e", "-q", "-t", topic, "-o", "beginning",
                 "-f", "%o\t%k\t%s\t%h\n"], capture_output=True, timeout=scaled(120))
            assert cp.returncode == 0, f"{codec}: kcat -C exited {cp.returncode}: {cp.stderr.decode()}"
            got = cp.stdout.decode().split("\n")
            assert got[-1] == "", "output does not end with a newline"
            got = got[:-1]
            assert len(got) == N, f"{codec}: read {len(got)} records, want {N}"
            for i, (line, want) in enumerate(zip(got, lines)):
                off, key, value, headers = line.split("\t")
                wkey, wvalue = want.split("\t")
                assert int(off) == i, f"{codec}: offset {off} at position {i}"
                assert (key, value) == (wkey, wvalue), f"{codec}: record {i}: {line!r} != {want!r}"
                assert headers == f"trace=t-1,codec={codec}", f"{codec}: record {i}: headers {headers!r}"
            print(f"{codec}: {N} records round-tripped")
    print("ok")


if __name__ == "__main__":
    main()
