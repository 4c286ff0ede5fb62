#!/usr/bin/env python3
"""A critic that debugs on stdout: before each reply it prints a line of its own ("debug: got
id N"), a JSON object without an id, and a blank line, and at start a banner. Its replies say
"reply to id N". Used by critic_external_stray: t2g must judge every sample, log the other
lines and count them, and never restart it."""
import json
import sys

print("chatty critic ready")
sys.stdout.flush()
for line in sys.stdin:
    n = json.loads(line)["id"]
    print("debug: got id %d" % n)
    print(json.dumps({"debug": {"id_seen": n}}))
    print("")
    print(json.dumps({"id": n, "textual_feedback": "reply to id %d" % n, "good_spans": [], "poor_spans": [],
                      "score": 0.5}))
    sys.stdout.flush()
