#!/usr/bin/python3
"""iamgate CloudWatch Logs test endpoint: the calls a log shipper makes.

Speaks the CloudWatch Logs JSON protocol (POST /, X-Amz-Target
Logs_20140328.<Action>, application/x-amz-json-1.1): CreateLogGroup,
CreateLogStream, DescribeLogStreams, PutLogEvents, GetLogEvents.  Every
request's SigV4 signature is recomputed with botocore's canonicalisation
and the secret the state file (the STS endpoint's, README.md) gives the
access key id; the service must be "logs".  Events are stored in a JSON
Lines file (--store) and read back from it on start, so the endpoint can
be taken down and brought back without losing what it accepted.

Ordering: a PutLogEvents batch must be in timestamp order (else
InvalidParameterException, as CloudWatch Logs does); beyond that the
endpoint checks what the audit shipper promises: within a stream the audit
lines' "seq" increase, a repeated seq is a harmless duplicate (counted),
a seq that goes back is counted as out of order.  GET /_stats reports the
counts per stream.  Never logs a secret or a signature.

  logs_endpoint.py --state state.json --http --port 0 --port-file logs.port \\
      --store events.jsonl
"""

import argparse
import calendar
import hmac
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stslib  # noqa: E402

from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from sts_endpoint import Verifier  # noqa: E402  (botocore's SigV4, as the STS endpoint checks it)

MAX_BODY = 1024 * 1024 + 64 * 1024
MAX_EVENTS = 10000
SKEW_SECONDS = 300
TARGET_PREFIX = "Logs_20140328."
NAME_RE = re.compile(r"^[\w#/.-]{1,512}$")


class LogsError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Store:
    """Groups, streams and their events; appended to a JSONL file."""

    def __init__(self, path):
        self.path, self.lock = path, threading.Lock()
        self.groups = {}  # group -> {stream -> [events]}
        self.stats = {}   # "group/stream" -> counts
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    self.apply(json.loads(line), persist=False)

    def apply(self, rec, persist=True):
        g, s = rec.get("group"), rec.get("stream")
        if rec["op"] == "group":
            self.groups.setdefault(g, {})
        elif rec["op"] == "stream":
            self.groups.setdefault(g, {}).setdefault(s, [])
        else:
            evs = self.groups[g][s]
            st = self.stats.setdefault(g + "/" + s, {"events": 0, "duplicates": 0,
                                                     "out_of_order": 0, "last_seq": 0})
            for e in rec["events"]:
                evs.append(e)
                self.count(st, e["message"])
        if persist and self.path:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec, separators=(",", ":")) + "\n")
                f.flush()
                os.fsync(f.fileno())

    @staticmethod
    def count(st, message):
        st["events"] += 1
        try:
            seq = json.loads(message).get("seq")
        except (ValueError, AttributeError):
            return
        if not isinstance(seq, int):
            return
        if seq <= st["last_seq"]:
            st["duplicates" if seq in st.setdefault("seen", set()) else "out_of_order"] += 1
        st.setdefault("seen", set()).add(seq)
        st["last_seq"] = max(st["last_seq"], seq)


class Endpoint:
    def __init__(self, state, store, log):
        self.state, self.store, self.log = state, store, log

    def secret_for(self, akid, token):
        for c in self.state.get()["credentials"].values():
            if hmac.compare_digest(c["access_key_id"].encode(), akid.encode()):
                want = c.get("session_token")
                if (want is None) != (token is None) or (
                        want is not None and not hmac.compare_digest(want.encode(),
                                                                     token.encode())):
                    raise LogsError(400, "UnrecognizedClientException",
                                    "The security token included in the request is invalid.")
                return c
        raise LogsError(400, "UnrecognizedClientException",
                        "The security token included in the request is invalid.")

    def authenticate(self, h, body):
        auth = h.headers.get("Authorization") or ""
        alg, _, rest = auth.partition(" ")
        comps = dict(p.strip().partition("=")[::2] for p in rest.split(",") if "=" in p)
        if alg != "AWS4-HMAC-SHA256" or set(comps) != {"Credential", "SignedHeaders",
                                                       "Signature"}:
            raise LogsError(400, "IncompleteSignature", "Authorization header is malformed")
        parts = comps["Credential"].split("/")
        amz_date = h.headers.get("X-Amz-Date") or ""
        signed = comps["SignedHeaders"].split(";")
        if (len(parts) != 5 or parts[3] != "logs" or parts[4] != "aws4_request"
                or "host" not in signed or "x-amz-date" not in signed
                or parts[2] not in self.state.get().get("regions", ["us-east-1"])
                or parts[1] != amz_date[:8]):
            raise LogsError(400, "InvalidSignatureException",
                            "Credential should be scoped to a valid region and service "
                            "'logs'.")
        try:
            t = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            raise LogsError(400, "IncompleteSignature", "bad X-Amz-Date") from None
        if abs(time.time() - t) > SKEW_SECONDS:
            raise LogsError(400, "InvalidSignatureException", "Signature expired")
        token = h.headers.get("X-Amz-Security-Token")
        c = self.secret_for(parts[0], token)
        req = AWSRequest(method="POST", url="http://%s/" % h.headers.get("Host"),
                         headers=dict(h.headers.items()), data=body)
        req.context["timestamp"] = amz_date
        v = Verifier(Credentials(c["access_key_id"], c["secret_access_key"], token), "logs",
                     parts[2], signed, [], body)
        want = v.signature(v.string_to_sign(req, v.canonical_request(req)),
                           req)
        if not hmac.compare_digest(want.encode(), comps["Signature"].encode()):
            raise LogsError(400, "InvalidSignatureException",
                            "The request signature we calculated does not match the "
                            "signature you provided.")

    # ------------------------------------------------------------ actions --

    def stream(self, p, create=False):
        g, s = p.get("logGroupName"), p.get("logStreamName")
        if not isinstance(g, str) or not NAME_RE.match(g):
            raise LogsError(400, "InvalidParameterException", "bad logGroupName")
        if g not in self.store.groups:
            raise LogsError(400, "ResourceNotFoundException",
                            "The specified log group does not exist.")
        if create:
            return g, s
        if s not in self.store.groups[g]:
            raise LogsError(400, "ResourceNotFoundException",
                            "The specified log stream does not exist.")
        return g, s

    def act(self, action, p):
        with self.store.lock:
            return getattr(self, "a_" + action)(p)

    def a_CreateLogGroup(self, p):
        g = p.get("logGroupName")
        if not isinstance(g, str) or not NAME_RE.match(g):
            raise LogsError(400, "InvalidParameterException", "bad logGroupName")
        if g in self.store.groups:
            raise LogsError(400, "ResourceAlreadyExistsException",
                            "The specified log group already exists")
        self.store.apply({"op": "group", "group": g})
        return {}

    def a_CreateLogStream(self, p):
        g, s = self.stream(p, create=True)
        if not isinstance(s, str) or not NAME_RE.match(s):
            raise LogsError(400, "InvalidParameterException", "bad logStreamName")
        if s in self.store.groups[g]:
            raise LogsError(400, "ResourceAlreadyExistsException",
                            "The specified log stream already exists")
        self.store.apply({"op": "stream", "group": g, "stream": s})
        return {}

    def a_DescribeLogStreams(self, p):
        g, _ = self.stream(p, create=True)
        out = []
        for s, evs in sorted(self.store.groups[g].items()):
            d = {"logStreamName": s, "storedBytes": 0}
            if evs:
                d["lastEventTimestamp"] = evs[-1]["timestamp"]
            out.append(d)
        return {"logStreams": out}

    def a_PutLogEvents(self, p):
        g, s = self.stream(p)
        evs = p.get("logEvents")
        if not isinstance(evs, list) or not 1 <= len(evs) <= MAX_EVENTS:
            raise LogsError(400, "InvalidParameterException",
                            "logEvents must hold 1 to 10000 events")
        last = None
        for e in evs:
            if (not isinstance(e, dict) or not isinstance(e.get("timestamp"), int)
                    or not isinstance(e.get("message"), str) or not e["message"]):
                raise LogsError(400, "InvalidParameterException", "bad log event")
            if last is not None and e["timestamp"] < last:
                raise LogsError(400, "InvalidParameterException",
                                "Log events in a single PutLogEvents request must be in "
                                "chronological order.")
            last = e["timestamp"]
        now = int(time.time() * 1000)
        keep = [{"timestamp": e["timestamp"], "message": e["message"], "ingestionTime": now}
                for e in evs]
        self.store.apply({"op": "events", "group": g, "stream": s, "events": keep})
        return {"nextSequenceToken": uuid.uuid4().hex}

    def a_GetLogEvents(self, p):
        g, s = self.stream(p)
        evs = self.store.groups[g][s]
        limit = p.get("limit", 10000)
        start = int(p.get("nextToken", "f/0").split("/")[1])
        page = evs[start:start + limit]
        tok = "f/%d" % (start + len(page))
        return {"events": page, "nextForwardToken": tok, "nextBackwardToken": "b/0"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "iamgate-test-logs/1"
    sys_version = ""
    timeout = 30

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/_stats":
            return self.reply(404, {"message": "not found"})
        with self.server.ep.store.lock:
            st = {k: {x: v[x] for x in ("events", "duplicates", "out_of_order", "last_seq")}
                  for k, v in self.server.ep.store.stats.items()}
        self.reply(200, st)

    def do_POST(self):
        ep, entry = self.server.ep, {"t": stslib.iso_ms(time.time())}
        n = self.headers.get("Content-Length") or ""
        if not n.isdigit() or int(n) > MAX_BODY:
            return self.reply(413, {"__type": "InvalidParameterException",
                                    "message": "bad or too large body"})
        body = self.rfile.read(int(n))
        target = self.headers.get("X-Amz-Target") or ""
        action = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else ""
        entry["action"] = action
        try:
            ep.authenticate(self, body)
            if not hasattr(Endpoint, "a_" + action):
                raise LogsError(400, "UnknownOperationException", "unknown operation")
            try:
                p = json.loads(body or b"{}")
            except ValueError:
                raise LogsError(400, "SerializationException", "body is not JSON") from None
            out = ep.act(action, p if isinstance(p, dict) else {})
            entry["result"] = "ok"
            self.reply(200, out)
        except LogsError as e:
            entry["result"] = e.code
            self.reply(e.status, {"__type": e.code, "message": e.message})
        ep.log.write(entry)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state", required=True, help="the STS endpoint's JSON state file")
    ap.add_argument("--http", action="store_true", help="plain HTTP (no --cert/--key)")
    ap.add_argument("--cert", help="server certificate (PEM); with --key, serves HTTPS")
    ap.add_argument("--key", help="server private key (PEM)")
    ap.add_argument("--bind", default="127.0.0.1", help="loopback address")
    ap.add_argument("--port", type=int, default=0, help="0: pick a free port")
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--store", required=True, help="JSONL file of what was accepted")
    ap.add_argument("--log", help="JSONL request log (appended)")
    ap.add_argument("--lifetime", type=float, default=3600, help="exit after this (0: never)")
    a = ap.parse_args()
    if a.http == bool(a.cert or a.key) or (not a.http and not (a.cert and a.key)):
        ap.error("give either --http or both --cert and --key")
    srv = stslib.LoopbackServer(a.bind, a.port, Handler,
                                None if a.http else stslib.tls_context(a.cert, a.key))
    srv.ep = Endpoint(stslib.StateFile(a.state), Store(a.store), stslib.JsonlLog(a.log))
    stslib.serve(srv, a.port_file, a.lifetime, "logs_endpoint")


if __name__ == "__main__":
    main()
