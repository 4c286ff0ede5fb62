#!/usr/bin/env python3
"""A critic that answers out of order and skips ids: it takes every request already waiting on
stdin (up to 20 ms after the first), then answers them in reverse order, except ids that are 3
modulo 5, which it never answers. Replies say "reply to id N". Used by critic_external_missing."""
import json
import os
import select
import sys

fd = sys.stdin.fileno()
buffer = b""
eof = False
while not eof:
    batch = []
    wait = None  # block for the first request, then take what arrives within 20 ms
    while True:
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            break
        data = os.read(fd, 65536)
        if not data:
            eof = True
            break
        buffer += data
        *lines, buffer = buffer.split(b"\n")
        batch += [json.loads(l) for l in lines if l.strip()]
        if batch:
            wait = 0.02
    for request in reversed(batch):
        n = request["id"]
        if n % 5 == 3:
            continue
        sys.stdout.write(json.dumps({"id": n, "critique": "reply to id %d" % n, "good_spans": [],
                                     "poor_spans": [], "score": 0.5}) + "\n")
    sys.stdout.flush()
