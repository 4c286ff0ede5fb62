#!/usr/bin/env python3
"""An example external critic for t2g (critic.command = "python3 tools/example_critic.py").

Protocol (include/t2g/critic.h). t2g starts this program with /bin/sh -c, once per worker, and
writes one JSON object per line to its stdin:
    {"id": 7, "prompt": "347+589=", "response": "946", "reference": "936",
     "fields": {"a": "347", "b": "589", "sum": "936"}}
("reference" and "fields" when there are any: a built-in task's answer and facts, or a prompt
file row's other keys). For each one it reads back one JSON line on stdout (any order, the same
id):
    {"id": 7, "textual_feedback": "...", "good_spans": ["9", "6"], "poor_spans": ["4"],
     "score": 0.33}
Spans quote the response verbatim; t2g finds them in it (a repeated phrase takes its next
occurrence, in the order quoted, so quote left to right). "score" is the overall judgement of
the response, in [-1, 1]: with span rewards t2g adds it to the last token (times
rl.score_weight), so an answer with nothing to quote (an empty one) still costs what it is
worth. stdout carries replies only, each flushed at once (a pipe is block-buffered: without the
flush t2g waits for replies in vain); log to stderr (t2g puts other stdout lines in the run's
critic.log). The program ends at EOF on stdin. t2g kills a worker that is too slow
(critic.timeout_ms) and starts it again.

Judging rule:
  * prompt "A+B=" (arith): the response's leading number (after spaces) is compared with A+B
    digit by digit, by place from the right. Right digits are good spans, wrong and extra digits
    poor spans, anything after the number one poor span; the text names each wrong or missing
    place. score = 1 when the response is exactly the sum, else
    (right - wrong - missing - extra - [text after the number]) / max(len(sum), len(number)),
    at least -1 and below 1: an empty response (no number, every digit missing) scores -1.
  * any other prompt: no spans, score 0, and a text that says it has no opinion.
Good and poor spans are two lists here, so t2g sees every good span before every poor one: a
digit that is right in one place and wrong in another (988 for 998) may be scored on the wrong
occurrence. The built-in arith critic lists its spans left to right and has no such problem.
Only the Python standard library is used.
"""
import json
import re
import sys

PLACES = ["units", "tens", "hundreds", "thousands", "ten-thousands", "hundred-thousands", "millions"]


def place_name(p):
    return PLACES[p] if p < len(PLACES) else "10^%d" % p


def judge_sum(total, response):
    answer = str(total)
    text = response.strip()
    m = re.match(r"[0-9]*", text)
    digits = m.group(0)
    rest = text[len(digits):]
    if text == answer:
        return "The answer %s is correct." % answer, [answer], [], 1.0
    good, poor, notes = [], [], []
    right = wrong = 0
    for j, d in enumerate(digits):
        place = len(digits) - 1 - j
        if place >= len(answer):
            poor.append(d)
            notes.append("the %s digit (%s) should not be there" % (place_name(place), d))
        elif d == answer[len(answer) - 1 - place]:
            good.append(d)
            right += 1
        else:
            poor.append(d)
            wrong += 1
            notes.append("the %s digit should be %s, not %s"
                         % (place_name(place), answer[len(answer) - 1 - place], d))
    missing = max(0, len(answer) - len(digits))
    extra = max(0, len(digits) - len(answer))
    for place in range(len(answer) - 1, len(digits) - 1, -1):
        notes.append("it lacks the %s digit (%s)" % (place_name(place), answer[len(answer) - 1 - place]))
    if rest:
        poor.append(rest)
        notes.append("the text after the number is not part of an answer")
    head = "The answer %s is wrong" % digits if digits else "The response has no number"
    feedback = "%s: %s. The sum is %s." % (head, "; ".join(notes), answer)
    score = (right - wrong - missing - extra - (1 if rest else 0)) / max(len(answer), len(digits), 1)
    score = max(-1.0, min(score, 0.999))
    return feedback, good, poor, score


def reply(request):
    prompt = str(request.get("prompt", ""))
    response = str(request.get("response", ""))
    m = re.fullmatch(r"\s*([0-9]+)\s*\+\s*([0-9]+)\s*=\s*", prompt)
    if m:
        feedback, good, poor, score = judge_sum(int(m.group(1)) + int(m.group(2)), response)
    else:
        feedback, good, poor, score = "I only judge sums; I have no opinion on this response.", [], [], 0.0
    return {"id": request["id"], "textual_feedback": feedback, "good_spans": good, "poor_spans": poor,
            "score": score}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or "id" not in request:
                raise ValueError("no id")
        except ValueError as e:
            print("example_critic: ignoring a request line (%s)" % e, file=sys.stderr)
            continue
        sys.stdout.write(json.dumps(reply(request)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
