#!/usr/bin/env python3
"""A critic that says what it was sent besides the prompt and response: its feedback is
"reference=R fields=F" with R the request's "reference" (or "-") and F its "fields" as compact
JSON with sorted keys (or "-"). Used by critic_external_context and tests/cli/cli_critic.sh."""
import json
import sys

for line in sys.stdin:
    request = json.loads(line)
    fields = request.get("fields")
    text = "reference=%s fields=%s" % (request.get("reference", "-"),
                                       "-" if fields is None else json.dumps(fields, sort_keys=True, separators=(",", ":")))
    print(json.dumps({"id": request["id"], "textual_feedback": text, "good_spans": [], "poor_spans": [],
                      "score": 0.0}), flush=True)
