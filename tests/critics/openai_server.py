#!/usr/bin/env python3
"""A small OpenAI-compatible chat-completions server for the HTTP critic's tests
(tests/check/check_critic_http.c). Standard library only.

  python3 openai_server.py --port 0 [--key-env NAME] [--log FILE] [--lifetime SECONDS] [--tls CERT KEY]

prints "PORT <n>" on its first line, then serves POST /v1/chat/completions on 127.0.0.1 until
killed (or after --lifetime seconds, 600 by default). With --key-env, a request without
"Authorization: Bearer $NAME" gets 401. Each request appends a JSON line to --log:
  {"start": t0, "end": t1, "path": ..., "mode": ..., "attempt": k, "response_format": bool,
   "model": ..., "authorized": bool}
(times in seconds, time.time(); "end" when the answer starts going out, so that a client's next
request never seems to start before it), so that a test can count requests and see when they ran.

What it answers is chosen by a marker in the user message, MODE:<name>; `attempt` counts the
requests with the same message (1 for the first):
  good        a critique quoting the marker (MODE:good) as a good span, with a "usage" object
  prose       the critique's JSON inside prose          fence       inside a ```json fence
  slow<ms>    sleeps that long, then good (MODE:slow3000)
  together<n> waits until n requests of this mode are in the server at once (at most 15 s),
              then good: requests sent at once all overlap however loaded the machine is, and
              requests sent one after the other never do (each waits out the 15 s alone)
  429         429 with Retry-After: 1 the first time, then good
  429date     the same with Retry-After as an HTTP date 2 s ahead
  429long     the same with Retry-After: 30 (more than the client's timeout)
  500         500 the first two times, then good         500always   always 500
  drop        closes the connection without answering the first time, then good
  truncated   the first time a Content-Length larger than the body, then closes; then good
  html        200 with Content-Type text/html, always
  huge        200 with a 4 MiB JSON body, always
  notjson     200 application/json whose body is not JSON, always
  garbage     a completion whose content is prose with no JSON, always
  nojsonmode  400 {"error": "response_format is not supported"} when response_format is
              sent, good otherwise
  echokey     400 whose body repeats the request's Authorization header
  echokeyok   good, with the Authorization header repeated in an extra key of the body
  quote       a critique quoting, as its one good span, everything after "RESPONSE:" in the message
              up to its last newline (none when that is empty): for t2g rl's responses
"""
import argparse
import email.utils
import http.server
import json
import os
import re
import ssl
import threading
import time

USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}


def critique(marker):
    return json.dumps({"textual_feedback": "The response is fine.", "good_spans": [marker], "poor_spans": [],
                       "score": 1})


def wait_for_others(server, mode, n):
    """Holds a request of `mode` until n of them have arrived (counting this one), or 15 s."""
    with server.arrived:
        server.counts[mode] = server.counts.get(mode, 0) + 1
        server.arrived.notify_all()
        server.arrived.wait_for(lambda: server.counts[mode] >= n, timeout=15)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # quiet: the test reads --log
        pass

    def send(self, status, body, content_type="application/json", headers=(), length=None):
        data = body.encode() if isinstance(body, str) else body
        self.answered = time.time()  # the log's "end": before the client can have the answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data) if length is None else length))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def completion(self, content, extra=None):
        body = {"id": "chatcmpl-test", "object": "chat.completion", "usage": USAGE,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": "stop"}]}
        body.update(extra or {})
        self.send(200, json.dumps(body))

    def do_POST(self):
        start = time.time()
        self.answered = None
        server = self.server
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        message = request.get("messages", [{}])[0].get("content", "")
        found = re.search(r"MODE:([A-Za-z0-9_]+)", message)
        mode = found.group(1) if found else ""
        with server.lock:
            server.attempts[message] = attempt = server.attempts.get(message, 0) + 1
        auth = self.headers.get("Authorization", "")
        authorized = server.key is None or auth == "Bearer " + server.key
        try:
            self.answer(mode, "MODE:" + mode, attempt, authorized, auth, "response_format" in request, message)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a huge body, a timeout)
            self.close_connection = True
        if server.log:
            end = self.answered or time.time()  # no answer sent (a dropped connection): now
            line = {"start": start, "end": end, "path": self.path, "mode": mode, "attempt": attempt,
                    "response_format": "response_format" in request, "model": request.get("model"),
                    "authorized": authorized}
            with server.lock, open(server.log, "a") as log:
                log.write(json.dumps(line) + "\n")

    def answer(self, mode, marker, attempt, authorized, auth, json_mode, message):
        if self.path != "/v1/chat/completions":
            return self.send(404, json.dumps({"error": "no such path: " + self.path}))
        if not authorized:
            return self.send(401, json.dumps({"error": "invalid API key"}))
        slow = re.fullmatch(r"slow(\d+)", mode)
        if slow:
            time.sleep(int(slow.group(1)) / 1000)
            mode = "good"
        together = re.fullmatch(r"together(\d+)", mode)
        if together:
            wait_for_others(self.server, mode, int(together.group(1)))
            mode = "good"
        if mode == "good" or (mode.startswith("429") and attempt > 1) or (mode == "500" and attempt > 2) or \
                (mode in ("drop", "truncated") and attempt > 1) or (mode == "nojsonmode" and not json_mode):
            return self.completion(critique(marker))
        if mode == "prose":
            return self.completion("Here is my critique: " + critique(marker) + " I hope it helps.")
        if mode == "fence":
            return self.completion("Sure.\n```json\n" + critique(marker) + "\n```\n")
        if mode.startswith("429"):
            after = {"429": "1", "429date": email.utils.formatdate(time.time() + 2, usegmt=True), "429long": "30"}
            return self.send(429, json.dumps({"error": "rate limited"}), headers=[("Retry-After", after[mode])])
        if mode in ("500", "500always"):
            return self.send(500, json.dumps({"error": "internal error"}))
        if mode == "drop":
            self.close_connection = True
            return None
        if mode == "truncated":
            body = json.dumps({"choices": [{"message": {"content": critique(marker)}}]})
            self.send(200, body[: len(body) // 2], length=len(body))
            self.close_connection = True
            return None
        if mode == "html":
            return self.send(200, "<html><body>" + critique(marker) + "</body></html>", "text/html; charset=utf-8")
        if mode == "huge":
            return self.completion(critique(marker), {"padding": "x" * (4 << 20)})
        if mode == "notjson":
            return self.send(200, "this is not JSON {")
        if mode == "garbage":
            return self.completion("I looked at it and it seems fine to me, nothing to add.")
        if mode == "nojsonmode":
            return self.send(400, json.dumps({"error": "response_format is not supported"}))
        if mode == "echokey":
            return self.send(400, json.dumps({"error": "bad request", "you sent": auth}))
        if mode == "echokeyok":
            return self.completion(critique(marker), {"you sent": auth})
        if mode == "quote":
            quoted = message.split("RESPONSE:", 1)[-1].rsplit("\n", 1)[0]
            return self.completion(json.dumps({"textual_feedback": "Quoted whole.", "good_spans": [quoted] if quoted else [],
                                               "poor_spans": [], "score": 0.5}))
        return self.send(400, json.dumps({"error": "unknown mode '%s'" % mode}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key-env")
    parser.add_argument("--log")
    parser.add_argument("--lifetime", type=float, default=600)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this certificate")
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*args.tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.attempts = {}
    server.arrived = threading.Condition()
    server.counts = {}  # together<n>: the requests of each such mode that have arrived
    server.log = args.log
    server.key = os.environ[args.key_env] if args.key_env else None
    print("PORT %d" % server.server_address[1], flush=True)
    threading.Timer(args.lifetime, os._exit, [0]).start()  # bounded, even when nobody kills it
    server.serve_forever()


if __name__ == "__main__":
    main()
