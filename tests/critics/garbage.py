#!/usr/bin/env python3
"""A critic that writes garbage, by id modulo 4:
  0  a valid reply ("reply to id N")
  1  a reply whose id is a string ("N"), not a number
  2  a valid reply under an id that was never asked (N + 1000000)
  3  JSON with the right id but no critique ({"id": N, "score": 1})
Used by critic_external_garbage: t2g must count each bad line, retry, then skip the sample.
(A line that is not a JSON object with an id is not garbage but the critic's own output:
tests/critics/chatty.py.)"""
import json
import sys

for line in sys.stdin:
    n = json.loads(line)["id"]
    kind = n % 4
    if kind == 1:
        out = json.dumps({"id": str(n), "textual_feedback": "reply to id %d" % n, "score": 0.75})
    elif kind == 3:
        out = json.dumps({"id": n, "score": 1})
    else:
        out = json.dumps({"id": n + (1000000 if kind == 2 else 0), "textual_feedback": "reply to id %d" % n,
                          "good_spans": [], "poor_spans": [], "score": 0.75})
    sys.stdout.write(out + "\n")
    sys.stdout.flush()
