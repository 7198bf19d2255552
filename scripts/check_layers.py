#!/usr/bin/env python3
"""Fail on an #include that crosses samsa's module layering (run by `make lint`).

Every module is compiled with the whole src/ on its include path, so the compiler accepts a
blog -> storage include; this check is what keeps the dependencies pointing one way:

    core <- proto <- storage <- broker
    core, proto <- client <- blog/model <- blog/web, blog/worker   (web and worker never include each other)
    core <- http <- blog/web, console                      (http: the shared HTTP server of web UIs)
    core, proto <- client <- console, tools
    (client/kafka_conn.c encodes the few requests librdkafka 2.0 has no API for with proto's codec)
    src/main.c and src/up.c (the command table) may include everything

`commands.h` only declares each command's sa_command_t; the modules that implement a command
include it to define theirs. A header of an unknown top-level folder is an error too: a new module gets a
row in LAYERS before it is used.

usage: scripts/check_layers.py [SRC_DIR]     (default: src/ beside this script)
exit status: 0 clean, 1 a forbidden include (each printed as FILE:LINE: why), 2 bad usage
"""
import os
import re
import sys

# module -> the modules it may include directly (its own files always); closed transitively below
LAYERS = {
    "core": set(),
    "proto": {"core"},
    "storage": {"proto"},
    "broker": {"storage", "commands"},
    "client": {"core", "proto"},
    "blog/model": {"client"},
    "http": {"core"},
    "blog/web": {"blog/model", "http", "commands"},
    "blog/worker": {"blog/model", "commands"},
    "tools": {"client", "commands"},
    "console": {"client", "http", "commands"},
    "main": {"broker", "blog/web", "blog/worker", "console", "tools", "commands"},
    "commands": {"core"},
}
TOP_FILES = {"main.c": "main", "up.c": "main", "commands.h": "commands"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def closure(module):
    seen, todo = set(), [module]
    while todo:
        for dep in LAYERS[todo.pop()]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen | {module}


def module_of(path):
    """The module of a path relative to src/ ("blog/web/web_kafka.h"), or None."""
    if path in TOP_FILES:
        return TOP_FILES[path]
    best = None
    for m in LAYERS:
        if path.startswith(m + "/") and (best is None or len(m) > len(best)):
            best = m
    return best


def check(src):
    problems = []
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            full = os.path.join(root, name)
            rel = os.path.relpath(full, src).replace(os.sep, "/")
            mod = module_of(rel)
            if mod is None:
                problems.append(f"{full}:1: {rel} is in no module: add its folder to LAYERS in {sys.argv[0]}")
                continue
            allowed = closure(mod)
            with open(full, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    target = module_of(inc)
                    if target is None and os.path.exists(os.path.join(root, inc)):
                        target = mod  # a file beside it ("gen.h" next to gen.c)
                    if target is None:
                        problems.append(f"{full}:{lineno}: \"{inc}\" is in no module")
                    elif target not in allowed:
                        may = ", ".join(sorted(allowed - {mod}))
                        problems.append(f"{full}:{lineno}: {mod} may not include \"{inc}\" ({target}); "
                                        f"{mod} may use {may}")
    return problems


def main():
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    src = sys.argv[1] if len(sys.argv) == 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    if not os.path.isdir(src):
        print(f"check_layers: {src} is not a directory", file=sys.stderr)
        return 2
    problems = check(src)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check_layers: {len(problems)} include(s) cross the module layering (see scripts/check_layers.py)",
              file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
