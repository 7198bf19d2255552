"""`make proto` works from the checkout alone: scripts/gen_proto.py regenerates src/proto/gen/ byte
for byte from third_party/kafka/message, every generated file records which Kafka the definitions
are from (the VERSION file) and their SHA-256, definitions from elsewhere must say their version
and are copied into the vendored folder, and a missing folder is a clear error."""
import os
import shutil
import subprocess
import sys
import tempfile

SOURCE = os.environ.get("SAMSA_SOURCE_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
GEN = os.path.join(SOURCE, "scripts", "gen_proto.py")
VENDORED = os.path.join(SOURCE, "third_party", "kafka", "message")
COMMITTED = os.path.join(SOURCE, "src", "proto", "gen")
FILES = ("kafka_msgs.h", "kafka_msgs.c", "kafka_samples.h", "kafka_samples.c")


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok - {what}", flush=True)


def gen(*args):
    cp = subprocess.run([sys.executable, GEN, *args], capture_output=True, text=True, timeout=300,
                        env={k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")})
    return cp.returncode, cp.stdout + cp.stderr


def read(d, f):
    with open(os.path.join(d, f), "rb") as fp:
        return fp.read()


def main():
    tmp = tempfile.mkdtemp(prefix="samsa-proto-")
    try:
        out = os.path.join(tmp, "gen")
        rc, log = gen("--out-dir", out)
        check(rc == 0, f"make proto's generator runs from the checkout alone ({log.strip()[:300]!r})")
        for f in FILES:
            check(read(out, f) == read(COMMITTED, f), f"{f} regenerates byte for byte")
        with open(os.path.join(VENDORED, "VERSION")) as fp:
            version = fp.readline().strip()
        head = read(COMMITTED, "kafka_msgs.h").decode()
        check(f" * Definitions: {version}, sha256 " in head, f"the codec records the Kafka version ({version})")
        recorded = head.split(", sha256 ")[1][:16]
        # the digest covers the definitions' structure: prose (comments, "about" texts) does not
        # change it, one more key does
        spec = os.path.join(tmp, "spec")
        shutil.copytree(VENDORED, spec)
        os.unlink(os.path.join(spec, "VERSION"))
        rc, log = gen("--spec-dir", spec, "--out-dir", os.path.join(tmp, "x"), "--vendor-dir", os.path.join(tmp, "v"))
        check(rc == 1 and "has no VERSION file" in log and "--spec-version" in log,
              f"definitions without a VERSION need --spec-version ({log.strip()!r})")
        target = os.path.join(spec, "ApiVersionsRequest.json")
        with open(target) as fp:
            text = fp.read()
        with open(target, "w") as fp:  # prose only: a comment and an "about" text
            fp.write("// a comment\n" + text.replace('"name": "ApiVersionsRequest",',
                                                    '"name": "ApiVersionsRequest", "about": "prose",', 1))
        rc, log = gen("--spec-dir", spec, "--spec-version", version, "--out-dir", os.path.join(tmp, "p"),
                      "--vendor-dir", os.path.join(tmp, "pv"))
        prose = read(os.path.join(tmp, "p"), "kafka_msgs.h").decode()
        check(rc == 0 and prose == head, "comments and about texts change neither the digest nor the code")
        check(b"prose" not in read(os.path.join(tmp, "pv"), "ApiVersionsRequest.json")
              and b"// a comment" not in read(os.path.join(tmp, "pv"), "ApiVersionsRequest.json"),
              "the vendored copy keeps the structure only, no prose")
        with open(target, "w") as fp:  # one more key: a different structure
            fp.write(text.replace('"name": "ApiVersionsRequest",',
                                  '"name": "ApiVersionsRequest", "latestVersionUnstable": false,', 1))
        vend = os.path.join(tmp, "vendor")
        rc, log = gen("--spec-dir", spec, "--spec-version", "Test Kafka 9.9", "--out-dir", os.path.join(tmp, "y"),
                      "--vendor-dir", vend)
        check(rc == 0, f"other definitions with --spec-version ({log.strip()[:300]!r})")
        other = read(os.path.join(tmp, "y"), "kafka_msgs.h").decode()
        check(" * Definitions: Test Kafka 9.9, sha256 " in other and recorded not in other,
              "the new version and a new digest are recorded")
        strip = lambda t: [l for l in t.splitlines() if not l.startswith(" * Definitions: ")]
        check(strip(other) == strip(head), "nothing else in the generated code changed")
        copied = sorted(os.listdir(vend))
        check(len([n for n in copied if n.endswith(".json")]) == 86 and "VERSION" in copied
              and read(vend, "VERSION") == b"Test Kafka 9.9\n"
              and b"latestVersionUnstable" in read(vend, "ApiVersionsRequest.json"),
              "the definitions read are copied into the vendored folder with their VERSION")
        rc, log = gen("--spec-dir", os.path.join(tmp, "nowhere"), "--out-dir", os.path.join(tmp, "z"))
        check(rc == 1 and "not a directory of Kafka message definitions" in log, f"a missing folder: {log.strip()!r}")
        check(os.path.exists(os.path.join(SOURCE, "third_party", "kafka", "LICENSE"))
              and os.path.exists(os.path.join(SOURCE, "third_party", "kafka", "NOTICE")),
              "Kafka's LICENSE and NOTICE are kept with the definitions")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
