#!/usr/bin/env python3
"""A critic whose replies to even ids are over 1 MiB long (a feedback of 1.5 MB); odd ids get a
short reply "reply to id N". Used by critic_external_long_line: an over-long reply is a critic
failure of its sample (retried, then skipped), never read whole."""
import json
import sys

for line in sys.stdin:
    n = json.loads(line)["id"]
    text = "x" * 1500000 if n % 2 == 0 else "reply to id %d" % n
    print(json.dumps({"id": n, "textual_feedback": text, "good_spans": [], "poor_spans": [], "score": 0.5}), flush=True)
