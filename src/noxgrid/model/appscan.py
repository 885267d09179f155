"""The script noxgrid runs in an image to list its ``/app``: what the tree checks (owners,
modes, sizes) and the secret scan (the text of small UTF-8 files) read. Pure: a value."""

from __future__ import annotations

# Run in the image as root: every entry under /app with its owner, mode and size and, for
# a regular file under SCAN_LIMIT that is UTF-8 text, the text (scanned for secrets here,
# by detect-secrets, never in the image; SCAN_TOTAL bytes in all, then false: not read).
# One JSON line each.
TREE_SCRIPT = """
import json, os, pwd, stat, sys
limit, budget = int(sys.argv[2]), int(sys.argv[3])
user = sys.argv[1]
name = user.split(":")[0]
try:
    entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    uid, gid = entry.pw_uid, entry.pw_gid
except (KeyError, ValueError):
    uid, gid = (int(name) if name.isdigit() else -1), -1
print(json.dumps({"user": user, "uid": uid, "gid": gid}))
for folder, dirs, files in os.walk("/app"):
    dirs.sort()
    for name in dirs + sorted(files):
        path = os.path.join(folder, name)
        info = os.lstat(path)
        text = None
        if stat.S_ISREG(info.st_mode) and 0 < info.st_size < limit and info.st_size > budget:
            text = False  # not read: over the total
        elif stat.S_ISREG(info.st_mode) and 0 < info.st_size < limit:
            try:
                with open(path, "rb") as stream:
                    data = stream.read()
                if b"\\0" not in data:
                    text = data.decode("utf-8")
                    budget -= len(data)
            except (OSError, UnicodeDecodeError):
                pass
        print(json.dumps({"p": os.path.relpath(path, "/app"), "u": info.st_uid,
                          "g": info.st_gid, "m": info.st_mode, "z": info.st_size, "t": text}))
"""
