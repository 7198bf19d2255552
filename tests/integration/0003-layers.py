"""The module layering check of `make lint` (scripts/check_layers.py): samsa's own tree is clean,
and a forbidden include in a small tree (blog -> storage, web -> worker, tools -> blog, client ->
tools, storage -> broker, a folder in no module) fails it, naming the file, the line and the rule."""
import os
import shutil
import subprocess
import sys
import tempfile

SOURCE = os.environ.get("SAMSA_SOURCE_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCRIPT = os.path.join(SOURCE, "scripts", "check_layers.py")


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok - {what}", flush=True)


def run(src):
    cp = subprocess.run([sys.executable, SCRIPT, src], capture_output=True, text=True, timeout=60)
    return cp.returncode, cp.stderr


TREES = []


def tree(files):
    """A src/ tree with @p files {path: text}; @returns its directory (removed at exit)."""
    d = tempfile.mkdtemp(prefix="samsa-layers-")
    TREES.append(d)
    for path, text in files.items():
        full = os.path.join(d, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    return d


# a clean miniature of samsa: every include allowed
CLEAN = {
    "core/log.h": "",
    "proto/wire.h": '#include "core/log.h"\n',
    "proto/gen/msg.c": '#include "proto/wire.h"\n#include "msg.h"\n',
    "proto/gen/msg.h": "",
    "storage/storage.h": '#include "proto/wire.h"\n#include "core/log.h"\n',
    "broker/broker.c": '#include "storage/storage.h"\n#include "commands.h"\n',
    "client/client.h": '#include "core/log.h"\n',
    "blog/model/post.h": '#include "client/client.h"\n',
    "blog/web/web.c": '#include "blog/model/post.h"\n#include "core/log.h"\n#include "commands.h"\n',
    "blog/worker/worker.c": '#include "blog/model/post.h"\n#include "client/client.h"\n',
    "tools/tool.c": '#include "client/client.h"\n#include <stdio.h>\n',
    "commands.h": '#include "core/log.h"\n',
    "main.c": '#include "commands.h"\n#include "broker/broker.h"\n#include "blog/web/web.h"\n#include "tools/tool.h"\n',
}


def main():
    rc, err = run(os.path.join(SOURCE, "src"))
    check(rc == 0 and not err, f"samsa's src/ follows the layering ({err.strip()[:500]!r})")
    rc, err = run(tree(CLEAN))
    check(rc == 0, f"a clean tree passes ({err.strip()!r})")

    for where, line, bad, rule in (
            ("blog/web/web.c", 2, "storage/storage.h", "blog/web may not include \"storage/storage.h\" (storage)"),
            ("blog/web/web.c", 1, "blog/worker/worker.h", "blog/web may not include \"blog/worker/worker.h\""),
            ("blog/worker/worker.c", 1, "blog/web/web.h", "blog/worker may not include \"blog/web/web.h\""),
            ("tools/tool.c", 2, "blog/model/post.h", "tools may not include \"blog/model/post.h\""),
            ("client/client.h", 1, "tools/tool.h", "client may not include \"tools/tool.h\""),
            ("storage/storage.h", 3, "broker/broker.h", "storage may not include \"broker/broker.h\""),
            ("core/log.h", 1, "proto/wire.h", "core may not include \"proto/wire.h\""),
            ("client/client.h", 1, "commands.h", "client may not include \"commands.h\""),
            ("blog/model/post.h", 1, "blog/web/web.h", "blog/model may not include \"blog/web/web.h\""),
            ("tools/tool.c", 1, "elsewhere/x.h", "\"elsewhere/x.h\" is in no module")):
        files = dict(CLEAN)
        lines = files[where].splitlines(keepends=True)
        lines.insert(line - 1, f'#include "{bad}"\n')
        files[where] = "".join(lines)
        d = tree(files)
        rc, err = run(d)
        check(rc == 1 and f"{os.path.join(d, where)}:{line}: " in err and rule in err,
              f"{where} including {bad} fails the check at line {line} ({err.strip()[:300]!r})")

    rc, err = run(tree({**CLEAN, "newmod/x.c": ""}))
    check(rc == 1 and "newmod/x.c is in no module" in err, "a folder outside the table fails the check")

    # `make lint` runs it
    cp = subprocess.run(["make", "-n", "-C", SOURCE, "lint"], capture_output=True, text=True, timeout=60)
    check("check_layers.py" in cp.stdout, "make lint runs scripts/check_layers.py")


if __name__ == "__main__":
    try:
        main()
    finally:
        for d in TREES:
            shutil.rmtree(d, ignore_errors=True)
