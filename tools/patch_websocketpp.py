#!/usr/bin/env python3
# wspulse_client — make websocketpp 0.8.x headers usable with g++ in C++20 mode.
#
# websocketpp 0.8.2 writes some constructors and destructors as `name<args>(...)` /
# `~name<args>()`, which C++20 made ill-formed (g++ 11+ rejects them, clang 14 accepts them).
# This script copies only the headers that contain such declarations into OUT/websocketpp/...,
# rewrites those declarations to `name(...)` / `~name()`, and leaves everything else alone.
# Both builds put OUT first on the include path as a SYSTEM include, for every language level
# (the rewrite is valid C++11 too), so `#include <websocketpp/...>` picks the fixed copies.
#
# Usage: patch_websocketpp.py [--include-dir DIR] [--quiet] OUT
#   DIR: the directory that contains websocketpp/ (default: the first of the compiler's usual
#        system include directories that has websocketpp/version.hpp).
# Output is deterministic; files are only rewritten when their content changes, and copies that
# are no longer needed are removed, so re-running is cheap and never triggers needless rebuilds.
# SPDX-License-Identifier: MIT

import argparse
import os
import re
import sys

DEFAULT_DIRS = ("/usr/include", "/usr/local/include", "/opt/homebrew/include")

# A class or struct template's name: `class endpoint`, `struct basic : ...`.
CLASS_RE = re.compile(r"^\s*(?:class|struct)\s+([A-Za-z_]\w*)\b", re.M)


def declaration_re(names):
    # A declaration that starts a line: optional `~`, one of the file's own class names, its
    # template argument list (may nest `<>`, never parentheses), then `(`.
    alt = "|".join(sorted(re.escape(n) for n in names))
    return re.compile(r"^(\s*~?)(" + alt + r")\s*<[^()\n;{}]*?>(\s*\()", re.M)


def patch_text(text):
    names = set(CLASS_RE.findall(text))
    if not names:
        return text, 0
    return declaration_re(names).subn(r"\1\2\3", text)


def find_include_dir(explicit):
    candidates = [explicit] if explicit else list(DEFAULT_DIRS)
    for d in candidates:
        if d and os.path.isfile(os.path.join(d, "websocketpp", "version.hpp")):
            return os.path.abspath(d)
    return None


def write_if_changed(path, data):
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return True


def main():
    ap = argparse.ArgumentParser(
        description="Copy websocketpp headers with C++20-invalid declarations and fix them.")
    ap.add_argument("--include-dir", help="directory that contains websocketpp/")
    ap.add_argument("--quiet", action="store_true", help="print nothing on success")
    ap.add_argument("out", help="output directory (gets OUT/websocketpp/...)")
    args = ap.parse_args()

    inc = find_include_dir(args.include_dir)
    if inc is None:
        where = args.include_dir or ", ".join(DEFAULT_DIRS)
        print("patch_websocketpp: websocketpp/version.hpp not found in " + where, file=sys.stderr)
        return 2

    src_root = os.path.join(inc, "websocketpp")
    out_root = os.path.join(os.path.abspath(args.out), "websocketpp")
    os.makedirs(out_root, exist_ok=True)

    wanted = {}  # relative path -> patched bytes
    for dirpath, dirnames, filenames in os.walk(src_root):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".hpp"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                raw = f.read()
            text = raw.decode("latin-1")  # byte-preserving round trip
            patched, count = patch_text(text)
            if count:
                wanted[os.path.relpath(path, src_root)] = (patched.encode("latin-1"), count)

    changed = 0
    for rel, (data, _) in sorted(wanted.items()):
        changed += write_if_changed(os.path.join(out_root, rel), data)

    # Drop copies a previous run made that are no longer needed (e.g. websocketpp was upgraded).
    for dirpath, _, filenames in os.walk(out_root, topdown=False):
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), out_root)
            if rel not in wanted:
                os.remove(os.path.join(dirpath, name))
                changed += 1
        if dirpath != out_root and not os.listdir(dirpath):
            os.rmdir(dirpath)

    if not args.quiet:
        summary = ", ".join("%s (%d)" % (rel, n) for rel, (_, n) in sorted(wanted.items()))
        print("patch_websocketpp: %s -> %s: %s%s" % (
            src_root, out_root, summary or "nothing to patch",
            "" if changed else " [up to date]"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
