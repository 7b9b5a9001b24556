#!/usr/bin/env python3
"""check-msgs.py - every msg("...") in the sources has its Chinese.

msg() (libshifan/base/msg.h) returns a format unchanged when the catalogue,
libshifan/base/msg_zh.c, has no entry for it: a message wrapped but never
translated would stay English without a sound. This finds each literal
passed to msg() or msg_in(), or marked MSG_NOOP() for a later msg(), outside
comments in libshifan/ (sources and headers) and the programs, and each key of
the catalogue, and names the formats with no entry and the entries no
source uses. Exit 0 when both lists are empty, 1 otherwise.
Usage: check-msgs.py [--root DIR]
"""
import argparse
import glob
import os
import re
import sys

LITERALS = r'((?:"(?:[^"\\]|\\.)*"\s*)+)'
CALL = re.compile(r'\b(?:msg(?:_in)?|MSG_NOOP)\(\s*(?:[A-Za-z_]+,\s*)?' + LITERALS + r'\)')
ENTRY = re.compile(r'\{\s*' + LITERALS + r',\s*' + LITERALS + r'\}')
# A comment (kept as its newlines, for the line numbers) or a literal (kept):
# msg("...") in a comment, such as msg.h's example, uses nothing.
COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|/\*.*?\*/|//[^\n]*', re.S)
PROGRAMS = ("county-node", "prefecture-hub", "province-core")


def blank(match):
    """A comment as its newlines; a literal as it is."""
    text = match.group(0)
    return text if text[0] in "\"'" else "\n" * text.count("\n")


def c_string(literals):
    """The bytes of adjacent C string literals, as text."""
    out = b""
    for part in re.finditer(r'"((?:[^"\\]|\\.)*)"', literals):
        raw = part.group(1).encode("utf-8")
        out += raw.decode("unicode_escape").encode("latin-1") if b"\\" in raw else raw
    return out.decode("utf-8")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    root = parser.parse_args().root
    catalogue_path = os.path.join(root, "libshifan/base/msg_zh.c")
    sources = glob.glob(os.path.join(root, "libshifan/*/*.[ch]"))
    for program in PROGRAMS:
        sources += glob.glob(os.path.join(root, program, "*.c"))
    used = {}
    for path in sorted(sources):
        if os.path.samefile(path, catalogue_path):
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text = COMMENT.sub(blank, text.replace("\\\n", "\n"))  # and a macro's line ends
        for call in CALL.finditer(text):
            line = text.count("\n", 0, call.start()) + 1
            used.setdefault(c_string(call.group(1)), f"{os.path.relpath(path, root)}:{line}")
    with open(catalogue_path, encoding="utf-8") as f:
        keys = {c_string(entry.group(1)) for entry in ENTRY.finditer(f.read())}
    problems = [f"{where}: msg({key!r}) has no entry in msg_zh.c"
                for key, where in sorted(used.items()) if key not in keys]
    problems += [f"msg_zh.c: {key!r} is used by no msg() call" for key in sorted(keys - set(used))]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
