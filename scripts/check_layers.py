#!/usr/bin/env python3
"""check_layers.py -- the house rule: a folder includes only headers of its
own floor or of floors below it.

    pipeline/  the ground floor: records, readers, writers, the stage contract
    filters/   the clean stage          (over pipeline/)
    dedup/     the dedup stage          (over pipeline/)
    embed/     the embed stage          (over pipeline/)
    index/     the RAG export, pretrain, decontam (over embed/ and pipeline/)
    programs/  the program: commands, runner, launcher, report (over all)

Stages on one floor do not include each other, except that index/ builds
on embed/'s outputs. Every `#include "..."` of the C and C++ sources is
resolved (a path with ../FOLDER/, or a header's name, which must be unique
across the folders) and checked. Prints each violation and exits 1; prints
"layers: ok" and exits 0 when there is none.

Usage: check_layers.py [ROOT]"""
import os
import re
import sys

ALLOWED = {
    "pipeline": {"pipeline"},
    "filters": {"filters", "pipeline"},
    "dedup": {"dedup", "pipeline"},
    "embed": {"embed", "pipeline"},
    "index": {"index", "embed", "pipeline"},
    "programs": {"programs", "index", "embed", "dedup", "filters", "pipeline"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main(root):
    headers = {}
    problems = []
    for folder in ALLOWED:
        d = os.path.join(root, folder)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if name.endswith(".h"):
                if name in headers:
                    problems.append("%s/%s and %s/%s: two headers of one name" % (headers[name], name, folder, name))
                headers[name] = folder
    for folder in ALLOWED:
        d = os.path.join(root, folder)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if not name.endswith((".c", ".cc", ".h")):
                continue
            text = open(os.path.join(d, name), encoding="utf-8", errors="replace").read()
            for inc in INCLUDE.findall(text):
                if "/" in inc:  # a path: ../FOLDER/name.h
                    parts = os.path.normpath(os.path.join(folder, inc)).split(os.sep)
                    target = parts[0] if parts[0] in ALLOWED else None
                elif os.path.exists(os.path.join(d, inc)):
                    target = folder
                else:  # found through the include path: the folder holding that name
                    target = headers.get(inc)
                if target is None:
                    continue  # a generated file or a header outside the folders
                if target not in ALLOWED[folder]:
                    problems.append("%s/%s includes %s (%s/): %s/ may include only %s" % (
                        folder, name, inc, target, folder, ", ".join(sorted(ALLOWED[folder]))))
    for p in problems:
        print("layers: " + p)
    if not problems:
        print("layers: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")))
