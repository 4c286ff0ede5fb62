#!/usr/bin/env python3
"""A critic that crashes: it answers K requests (argv[1], default 3), then on the next one
exits with status 3 without answering; with "partial" as argv[2] it first writes half of that
reply (no newline). Each restarted process answers K more. Replies say "reply to id N" so the
test can check which request each answers. Used by critic_external_crash."""
import json
import os
import sys

k = int(sys.argv[1]) if len(sys.argv) > 1 else 3
partial = len(sys.argv) > 2 and sys.argv[2] == "partial"
answered = 0
for line in sys.stdin:
    request = json.loads(line)
    reply = json.dumps({"id": request["id"], "textual_feedback": "reply to id %d" % request["id"],
                        "good_spans": [], "poor_spans": [], "score": 0.25})
    if answered == k:
        if partial:
            sys.stdout.write(reply[: len(reply) // 2])
            sys.stdout.flush()
        os._exit(3)
    sys.stdout.write(reply + "\n")
    sys.stdout.flush()
    answered += 1
