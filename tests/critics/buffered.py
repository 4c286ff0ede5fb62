#!/usr/bin/env python3
"""A correct critic that forgets to flush: its replies go to a block-buffered stdout (64 KiB,
whatever PYTHONUNBUFFERED says: what a pipe gets by default), so t2g sees nothing before it
times the sample out. With "flush" as argv[1] it flushes each reply and works. Used by
critic_external_buffered and tests/cli/cli_critic.sh: without the flush every sample must fail
as a timeout, and t2g rl must stop saying that stdout is probably buffered."""
import io
import json
import os
import sys

flush = len(sys.argv) > 1 and sys.argv[1] == "flush"
out = io.TextIOWrapper(io.BufferedWriter(io.FileIO(os.dup(1), "w"), 65536), write_through=False)
for line in sys.stdin:
    n = json.loads(line)["id"]
    out.write(json.dumps({"id": n, "textual_feedback": "reply to id %d" % n, "good_spans": [],
                          "poor_spans": [], "score": 0.5}) + "\n")
    if flush:
        out.flush()
