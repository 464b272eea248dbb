#!/usr/bin/python3
"""iamgate IMDSv2 emulator for loopback tests (plain HTTP, like the real one).

PUT /latest/api/token (header X-aws-ec2-metadata-token-ttl-seconds: 1..21600)
returns a session token; every GET needs X-aws-ec2-metadata-token with a live
token, else 401.  Serves the instance role name and its credentials (the
state file's "imds" section names a base credential the STS endpoint knows),
plus instance-id, region and the identity document.  Faults through
POST /_control (README.md).  Logs one JSONL line per request, never a token
or a credential.
"""

import argparse
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stslib  # noqa: E402

TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
CREDS_PREFIX = "/latest/meta-data/iam/security-credentials/"
MAX_TOKENS = 10000


class Imds:
    def __init__(self, state, log):
        self.state = state
        self.log = log
        self.lock = threading.Lock()
        self.tokens = {}  # token -> expiry (monotonic)
        self.stats = {"requests": 0, "tokens": 0}
        self.faults = stslib.Faults(
            counted=("slow", "down", "fail5xx", "garbage", "expired", "notoken"),
            flags={"v1": stslib.v_bool})

    def new_token(self, ttl):
        tok = secrets.token_urlsafe(42)
        now = time.monotonic()
        with self.lock:
            if len(self.tokens) >= MAX_TOKENS:
                for t in [t for t, e in self.tokens.items() if e <= now]:
                    del self.tokens[t]
                while len(self.tokens) >= MAX_TOKENS:
                    del self.tokens[next(iter(self.tokens))]
            self.tokens[tok] = now + ttl
            self.stats["tokens"] += 1
        return tok

    def token_ok(self, tok):
        if tok is None:
            return False
        with self.lock:
            exp = self.tokens.get(tok)
            return exp is not None and exp > time.monotonic()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EC2ws"
    sys_version = ""
    timeout = 30

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def send(self, status, body, ctype="text/plain", extra=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def control(self, body):
        im = self.server.imds
        if self.command == "POST":
            try:
                im.faults.set(json.loads(body.decode("utf-8") or "{}"))
            except ValueError as e:
                self.send(400, json.dumps({"error": str(e)}), "application/json")
                return
        with im.lock:
            stats = dict(im.stats)
        self.send(200, json.dumps({"faults": im.faults.snapshot(), "stats": stats},
                                  sort_keys=True) + "\n", "application/json")

    def dispatch(self):
        t0 = time.monotonic()
        im = self.server.imds
        n = self.headers.get("Content-Length", "0")
        if not n.isdigit() or int(n) > 65536 or self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self.send(400, "bad request body")
            return
        body = self.rfile.read(int(n))
        path = urlsplit(self.path).path
        if path == "/_control":
            self.control(body)
            return
        entry = {"time": stslib.iso_ms(time.time()), "method": self.command, "path": path}
        status, out, ctype, extra = self.route(path, entry)
        with im.lock:
            im.stats["requests"] += 1
        if status is not None:
            entry["status"] = status
        # Log before answering: a client that has its answer can rely on the
        # log line being there.
        entry["elapsed_ms"] = int((time.monotonic() - t0) * 1000)
        im.log.write(entry)
        if status is None:  # "down": close without answering
            self.close_connection = True
        else:
            self.send(status, out, ctype, extra)

    def route(self, path, entry):
        im = self.server.imds
        slow = im.faults.take("slow")
        if slow:
            entry["fault"] = "slow"
            time.sleep(slow.get("ms", 1000) / 1000.0)
        if im.faults.take("down"):
            entry.update(fault="down", result="dropped")
            return None, None, None, ()
        f5 = im.faults.take("fail5xx")
        if f5:
            entry.update(fault="fail5xx", result="error")
            st = f5.get("status", 500)
            return st if 500 <= st <= 599 else 500, "Internal Server Error", "text/plain", ()
        st = im.state.get()
        cfg = st.get("imds")
        if path == "/latest/api/token":
            if self.command != "PUT":
                entry["result"] = "method"
                return 405, "", "text/plain", ()
            if self.headers.get("X-Forwarded-For") is not None:
                entry["result"] = "forwarded"
                return 403, "Forbidden", "text/plain", ()
            if im.faults.take("notoken"):
                entry.update(fault="notoken", result="notfound")
                return 404, "Not Found", "text/plain", ()
            ttl = self.headers.get(TTL_HEADER, "")
            if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                entry["result"] = "bad_ttl"
                return 400, "Bad Request", "text/plain", ()
            entry.update(result="ok", ttl=int(ttl))
            return 200, im.new_token(int(ttl)), "text/plain", ((TTL_HEADER, ttl),)
        if self.command != "GET":
            entry["result"] = "method"
            return 405, "", "text/plain", ()
        tok = self.headers.get(TOKEN_HEADER)
        entry["token_present"] = tok is not None
        ok = im.token_ok(tok)
        entry["token_ok"] = ok
        if not ok and not (tok is None and im.faults.flag("v1", False)):
            entry["result"] = "unauthorized"
            return 401, "", "text/plain", ()
        if cfg is None:
            entry["result"] = "notfound"
            return 404, "Not Found", "text/plain", ()
        role = cfg["role"]
        acct = st.get("account", stslib.ACCOUNT_DEFAULT)
        region = cfg.get("region", "us-east-1")
        iid = cfg.get("instance_id", "i-0123456789abcdef0")
        if path in ("/latest/meta-data/iam/security-credentials",
                    CREDS_PREFIX.rstrip("/") + "/"):
            entry["result"] = "ok"
            return 200, role, "text/plain", ()
        if path == CREDS_PREFIX + role:
            c = st["credentials"][cfg["credentials"]]
            now = time.time()
            exp = c.get("expiration") or stslib.iso_z(now + 6 * 3600)
            if im.faults.take("expired"):
                entry["fault"] = "expired"
                exp = stslib.iso_z(now - 600)
            doc = {"Code": "Success", "LastUpdated": stslib.iso_z(now - 60), "Type": "AWS-HMAC",
                   "AccessKeyId": c["access_key_id"], "SecretAccessKey": c["secret_access_key"],
                   "Token": c.get("session_token") or "", "Expiration": exp}
            entry.update(result="ok", access_key_id=c["access_key_id"], expiration=exp)
            if im.faults.take("garbage"):
                entry["fault"] = "garbage"
                return 200, '{"Code" : "Success", "AccessKeyId" : ', "text/plain", ()
            return 200, json.dumps(doc, indent=2), "text/plain", ()
        if path == "/latest/meta-data/instance-id":
            entry["result"] = "ok"
            return 200, iid, "text/plain", ()
        if path == "/latest/meta-data/placement/region":
            entry["result"] = "ok"
            return 200, region, "text/plain", ()
        if path == "/latest/dynamic/instance-identity/document":
            entry["result"] = "ok"
            return 200, json.dumps({"accountId": acct, "instanceId": iid, "region": region,
                                    "availabilityZone": region + "a"}, indent=2), \
                "application/json", ()
        entry["result"] = "notfound"
        return 404, "Not Found", "text/plain", ()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state", required=True, help="JSON state file shared with the STS endpoint")
    ap.add_argument("--bind", default="127.0.0.1",
                    help="loopback address (127.0.0.1 or ::1); any address inside a network "
                         "namespace with no interface but lo")
    ap.add_argument("--port", type=int, default=0, help="0: pick a free port")
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--log", help="JSONL request log (appended)")
    ap.add_argument("--lifetime", type=float, default=3600,
                    help="exit after this many seconds (0: never); default 3600")
    ap.add_argument("--faults", help="initial faults, same JSON as POST /_control")
    a = ap.parse_args()
    try:
        state = stslib.StateFile(a.state)
    except stslib.StateError as e:
        ap.error(str(e))
    im = Imds(state, stslib.JsonlLog(a.log))
    if a.faults:
        try:
            im.faults.set(json.loads(a.faults))
        except ValueError as e:
            ap.error("--faults: %s" % e)
    srv = stslib.LoopbackServer(a.bind, a.port, Handler)
    srv.imds = im
    stslib.serve(srv, a.port_file, a.lifetime, "imds")


if __name__ == "__main__":
    main()
