#!/usr/bin/python3
# wspulse_client — print the library version ("0.1.0") from wspulse/version.hpp, the one place
# it is written. Used by meson.build; CMakeLists.txt reads the same macros with file(STRINGS).
# SPDX-License-Identifier: MIT
import os
import re
import sys

header = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "wspulse", "version.hpp")
with open(header, encoding="utf-8") as f:
    text = f.read()
parts = []
for name in ("MAJOR", "MINOR", "PATCH"):
    m = re.search(r"^#define\s+WSPULSE_CLIENT_VERSION_%s\s+(\d+)\s*$" % name, text, re.M)
    if not m:
        sys.exit("version.py: WSPULSE_CLIENT_VERSION_%s not found in %s" % (name, header))
    parts.append(m.group(1))
print(".".join(parts))
