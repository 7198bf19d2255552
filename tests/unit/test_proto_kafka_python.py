#!/usr/bin/python3
"""test_proto_kafka_python.py DIR - check samsa's encodings against kafka-python's own codec.

Run by tests/unit/test_proto_kafka_python.c (ctest unit.proto_kafka_python), which writes into DIR
one file per message, non-flexible version and sample variant: <Message>-v<version>-<variant>.bin,
encoded by samsa's generated codec. kafka-python 2.0.2 (Debian's python3-kafka, an independent
implementation of the classic encodings) must decode each file, consume every byte, and encode
the decoded object back to exactly the same bytes. Exit 0 on success, 1 with a list otherwise.

Where kafka-python's schema departs from Kafka's definitions (KAFKA_PYTHON_BUGS, each checked
by hand against the JSON definitions) the file is skipped, and the test fails if kafka-python
starts agreeing, so the list stays honest.
"""
import importlib
import io
import os
import pkgutil
import sys

import kafka.protocol

# (message, version): kafka-python's departure from the Kafka message definitions.
KAFKA_PYTHON_BUGS = {
    ("AlterConfigsResponse", 1): "its AlterConfigsResponse[1] is a request schema",
    ("DescribeGroupsResponse", 3): "no AuthorizedOperations",
    ("ProduceResponse", 8): "no RecordErrors / ErrorMessage",
    ("DescribeConfigsResponse", 1): "ConfigSource (int8) read as the v0 IsDefault bool",
}
for v in range(7, 12):
    KAFKA_PYTHON_BUGS[("FetchRequest", v)] = "String() without an encoding in ForgottenTopics"


def kafka_python_classes():
    classes = {}
    for info in pkgutil.iter_modules(kafka.protocol.__path__):
        mod = importlib.import_module("kafka.protocol." + info.name)
        for name in dir(mod):
            obj = getattr(mod, name)
            if (isinstance(obj, list) and obj and hasattr(obj[0], "API_KEY")
                    and name.endswith(("Request", "Response"))):
                classes[name] = obj
    return classes


def check(cls, data):
    """@returns None if kafka-python decodes all of data and re-encodes it identically."""
    buf = io.BytesIO(data)
    try:
        obj = cls.decode(buf)
    except Exception as e:  # kafka-python raises whatever its schema code raises
        return "decode failed: %r" % (e,)
    if buf.tell() != len(data):
        return "%d of %d bytes left" % (len(data) - buf.tell(), len(data))
    if obj.encode() != data:
        return "re-encoding differs"
    return None


def main():
    d = sys.argv[1]
    classes = kafka_python_classes()
    same, failures, known = 0, [], 0
    for f in sorted(os.listdir(d)):
        name, rest = f[:-4].rsplit("-v", 1)
        version = int(rest.split("-")[0])
        versions = classes.get(name)
        if not versions or version >= len(versions):
            continue  # kafka-python does not know this version
        problem = check(versions[version], open(os.path.join(d, f), "rb").read())
        if (name, version) in KAFKA_PYTHON_BUGS:
            known += 1
            if problem is None and f.endswith("-0.bin"):
                failures.append("%s: kafka-python now agrees; drop it from KAFKA_PYTHON_BUGS" % f)
        elif problem:
            failures.append("%s: %s" % (f, problem))
        else:
            same += 1
    print("kafka-python agrees byte for byte on %d encodings (%d skipped: kafka-python's own bugs)"
          % (same, known))
    for line in failures:
        print("MISMATCH", line)
    return 1 if failures or same < 150 else 0


if __name__ == "__main__":
    sys.exit(main())
