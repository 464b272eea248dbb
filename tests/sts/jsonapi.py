"""The common half of iamgate's JSON-protocol test servers (KMS endpoint,
DynamoDB proxy): a loopback HTTPS handler that verifies each request's
SigV4 header signature with botocore against the state file's credentials
(the same file the STS endpoint serves), applies run-time faults, and
answers AWS JSON errors ({"__type": ..., "message": ...}).

Faults (POST /_control, counted: {"count": N} or always; "actions": [...]
restricts one to some operations, e.g. ["Decrypt"]):
  slow {"ms": M}         sleep M ms before answering
  drop                   close the connection without an answer
  fail5xx {"status": S}  answer S (500 default) InternalServerError
  throttle {"code": C}   answer 400 C (ThrottlingException default)
  malformed {"mode": M}  answer 200 with garbage (M: garbage, empty, html,
                         truncated: the real answer cut in half)
  deny                   answer 400 AccessDeniedException
Flags: delay_ms (added to every request: a slower network), clock_offset.
Never logs a secret, a session token, a signature or a body.
"""

import calendar
import hmac
import json
import os
import secrets
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stslib  # noqa: E402
from sts_endpoint import AKID_RE, AMZ_DATE_RE, SKEW_SECONDS, Verifier, safe_akid  # noqa: E402

from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.compat import HTTPHeaders  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

MAX_BODY = 1 << 20
COUNTED = ("slow", "drop", "fail5xx", "throttle", "malformed", "deny")


class ApiError(Exception):
    def __init__(self, status, code, message, detail=None):
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail


def new_faults():
    return stslib.Faults(counted=COUNTED,
                         flags={"delay_ms": stslib.v_number, "clock_offset": stslib.v_number})


def lookup(state, akid):
    for name, c in state.get()["credentials"].items():
        if hmac.compare_digest(c["access_key_id"].encode(), akid.encode()):
            rec = dict(c)
            rec["name"] = name
            return rec
    return None


def _auth_parts(h):
    auth = h.headers.get("Authorization")
    if auth is None:
        raise ApiError(400, "MissingAuthenticationTokenException",
                       "Request is missing Authentication Token")
    alg, _, rest = auth.partition(" ")
    comps = {}
    for part in rest.split(","):
        k, eq, v = part.strip().partition("=")
        if alg != "AWS4-HMAC-SHA256" or not eq or k in comps:
            raise ApiError(400, "IncompleteSignatureException", "Authorization header is malformed")
        comps[k] = v
    if sorted(comps) != ["Credential", "Signature", "SignedHeaders"]:
        raise ApiError(400, "IncompleteSignatureException", "Authorization header is malformed")
    return comps


def verify(h, body, state, service, now, entry):
    """SigV4 header signing, recomputed with botocore.  Returns the state
    credential's record; raises ApiError."""
    comps = _auth_parts(h)
    parts = comps["Credential"].split("/")
    amz_date = h.headers.get("X-Amz-Date") or ""
    if len(parts) != 5 or not AMZ_DATE_RE.match(amz_date) or parts[4] != "aws4_request":
        raise ApiError(400, "IncompleteSignatureException", "Credential or X-Amz-Date malformed")
    akid, sdate, region, svc, _ = parts
    entry.update(access_key_id=safe_akid(akid), region=region)
    signed = comps["SignedHeaders"].split(";")
    if "host" not in signed or "x-amz-date" not in signed or sdate != amz_date[:8]:
        raise ApiError(400, "IncompleteSignatureException", "host and x-amz-date must be signed")
    rec = lookup(state, akid) if AKID_RE.match(akid) else None
    if rec is None:
        raise ApiError(400, "UnrecognizedClientException",
                       "The security token included in the request is invalid.")
    entry["caller"] = rec["name"]
    token, want = h.headers.get("X-Amz-Security-Token"), rec.get("session_token")
    if (want is None) != (token is None) or (want is not None and not hmac.compare_digest(
            token.encode("utf-8", "replace"), want.encode())):
        raise ApiError(400, "UnrecognizedClientException",
                       "The security token included in the request is invalid.")
    if svc != service or region not in state.get().get("regions", ["us-east-1"]):
        raise ApiError(400, "InvalidSignatureException",
                       "Credential should be scoped to a valid region and service.")
    req = AWSRequest(method=h.command, url="https://%s%s" % (h.headers.get("Host", "x"), h.path))
    req.headers = HTTPHeaders()
    for k, v in h.headers.items():
        req.headers[k] = v
    req.context["timestamp"] = amz_date
    v = Verifier(Credentials(akid, rec["secret_access_key"], want), service, region, signed, [],
                 body)
    sts = v.string_to_sign(req, v.canonical_request(req))
    ok = v.signed_headers(signed) == comps["SignedHeaders"] and all(
        req.headers.get_all(n) for n in signed)
    if not ok or not hmac.compare_digest(v.signature(sts, req).encode(),
                                         comps["Signature"].encode("utf-8", "replace")):
        entry["signature_ok"] = False
        raise ApiError(400, "InvalidSignatureException",
                       "The request signature we calculated does not match the signature you "
                       "provided.")
    entry["signature_ok"] = True
    t = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    if abs(now - t) > SKEW_SECONDS:
        raise ApiError(400, "InvalidSignatureException", "Signature expired or not yet current")
    if rec["name"] == "outsider":
        raise ApiError(400, "AccessDeniedException",
                       "User: %s is not authorized to perform this action" % rec["arn"])
    return rec


def garbage(mode, good):
    if mode == "empty":
        return b""
    if mode == "html":
        return b"<html><body>502 Bad Gateway</body></html>"
    if mode == "truncated":
        return good[: len(good) // 2]
    return secrets.token_bytes(200)


class Handler(BaseHTTPRequestHandler):
    """Subclasses' servers provide: ep (with .state, .faults, .log, .lock,
    .stats, .service) and ep.answer(target, body, caller) -> (status,
    headers, bytes), raising ApiError for an API error."""

    protocol_version = "HTTP/1.1"
    sys_version = ""
    timeout = 30

    def setup(self):
        super().setup()
        if self.server.tls_ctx is not None:
            self.connection.do_handshake()

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def send(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionError, OSError):
            self.close_connection = True

    def control(self, body):
        ep = self.server.ep
        if self.command == "POST":
            try:
                ep.faults.set(json.loads(body.decode("utf-8") or "{}"))
            except ValueError as e:
                self.send(400, json.dumps({"error": str(e)}).encode())
                return
        with ep.lock:
            stats = json.loads(json.dumps(ep.stats))
        out = {"faults": ep.faults.snapshot(), "stats": stats}
        self.send(200, (json.dumps(out, sort_keys=True) + "\n").encode(),
                  [("Content-Type", "application/json")])

    def read_body(self):
        n = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or (n is not None and (
                not n.isdigit() or int(n) > MAX_BODY)):
            return None
        return self.rfile.read(int(n)) if n is not None else b""

    def take(self, name, target):
        return self.server.ep.faults.take(name, target)

    @staticmethod
    def faulted(took, entry):
        """Faults that replace the answer: returns (status, code) or None."""
        f = took["fail5xx"]
        if f:
            entry["fault"] = "fail5xx"
            return f.get("status", 500), "InternalServerError"
        f = took["throttle"]
        if f:
            entry["fault"] = "throttle"
            return 400, f.get("code", "ThrottlingException")
        if took["deny"]:
            entry["fault"] = "deny"
            return 400, "AccessDeniedException"
        return None

    def dispatch(self):
        ep = self.server.ep
        t0 = time.monotonic()
        body = self.read_body()
        if body is None:
            self.close_connection = True
            self.send(411, b"Content-Length required, at most 1 MiB")
            return
        if self.path == "/_control":
            self.control(body)
            return
        target = self.headers.get("X-Amz-Target") or ""
        op = target.rsplit(".", 1)[-1]
        rid = str(uuid.uuid4())
        entry = {"time": stslib.iso_ms(time.time()), "target": target, "request_id": rid}
        # Every fault this request meets is taken on arrival, so a request
        # asleep in a "slow" fault never takes one set later for another.
        took = {n: self.take(n, op) for n in COUNTED}
        time.sleep(ep.faults.flag("delay_ms", 0) / 1000.0)
        slow = took["slow"]
        if slow:
            entry.update(fault="slow", slow_ms=slow.get("ms", 1000))
            time.sleep(slow.get("ms", 1000) / 1000.0)
        if took["drop"]:
            entry.update(fault="drop", status=0)
            self.finish_entry(entry, t0)
            self.close_connection = True
            return
        status, headers, out = self.answer(op, target, body, entry, took)
        mal = took["malformed"]
        if mal:
            entry.update(fault="malformed", malformed_mode=mal.get("mode", "garbage"))
            status, out = 200, garbage(mal.get("mode", "garbage"), out)
        entry["status"] = status
        self.finish_entry(entry, t0)
        self.send(status, out, [("x-amzn-RequestId", rid)] + list(headers))

    def answer(self, op, target, body, entry, took):
        ep = self.server.ep
        try:
            auth_err, rec = None, None
            try:
                rec = verify(self, body, ep.state, ep.service,
                             time.time() + ep.faults.flag("clock_offset", 0), entry)
            except ApiError as e:
                auth_err = e
            f = self.faulted(took, entry)
            if f:
                raise ApiError(f[0], f[1], "injected fault")
            if auth_err:
                raise auth_err
            status, headers, out = ep.answer(op, target, body, rec, entry)
            entry.setdefault("result", "ok")
            return status, headers, out
        except ApiError as e:
            entry.update(result=e.code)
            if e.detail:
                entry["detail"] = e.detail
            out = json.dumps({"__type": "com.amazonaws.test#" + e.code, "message": e.message})
            return e.status, [("Content-Type", "application/x-amz-json-1.1")], out.encode()

    def finish_entry(self, entry, t0):
        ep = self.server.ep
        entry["elapsed_ms"] = int((time.monotonic() - t0) * 1000)
        with ep.lock:
            ep.stats["requests"] += 1
            op = entry["target"].rsplit(".", 1)[-1] or "?"
            ep.stats["ops"][op] = ep.stats["ops"].get(op, 0) + 1
        ep.log.write(entry)
