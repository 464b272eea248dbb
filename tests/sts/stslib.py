"""Shared pieces of the iamgate STS test endpoint and IMDS emulator.

Standard library only (botocore is used by sts_endpoint.py alone).  Both
servers are test fixtures: loopback only, bounded lifetime, and they never
write a secret (secret key, session token, IMDS token, signature) to a log.
"""

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import ThreadingHTTPServer

ACCOUNT_DEFAULT = "123456789012"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


# ---------------------------------------------------------------- time ----

def iso_z(ts):
    """Unix seconds -> 2024-01-02T03:04:05Z (the format STS and IMDS use)."""
    return datetime.datetime.fromtimestamp(int(ts), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def iso_ms(ts):
    d = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def parse_iso(text):
    """Accept 2024-01-02T03:04:05Z (optionally with .fff) -> unix seconds."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    d = datetime.datetime.fromisoformat(t)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d.timestamp()


# ---------------------------------------------------------- generators ----

def gen_access_key(prefix):
    return prefix + "".join(secrets.choice(B32) for _ in range(16))


def gen_secret():
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(40))


def gen_session_token(nbytes=480):
    # Real tokens are long base64 blobs (700+ chars); keep them long so
    # clients are exercised with realistic sizes.
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(nbytes)).decode()


def stable_id(prefix, text):
    """Deterministic AIDA.../AROA...-style id from a name."""
    h = hashlib.sha256(text.encode()).digest()
    return prefix + "".join(B32[b % 32] for b in h[:17])


# --------------------------------------------------------------- state ----

class StateError(Exception):
    pass


def _req(d, key, typ, where):
    if key not in d:
        raise StateError("%s: missing %r" % (where, key))
    if not isinstance(d[key], typ):
        raise StateError("%s: %r has the wrong type" % (where, key))
    return d[key]


def validate_state(st):
    """Check the state file's shape; raise StateError naming the problem."""
    if not isinstance(st, dict):
        raise StateError("state: top level must be an object")
    known = {"account", "regions", "credentials", "roles", "imds"}
    extra = set(st) - known
    if extra:
        raise StateError("state: unknown keys %s" % sorted(extra))
    acct = st.get("account", ACCOUNT_DEFAULT)
    if not (isinstance(acct, str) and len(acct) == 12 and acct.isdigit()):
        raise StateError("state: account must be 12 digits")
    regions = st.get("regions", ["us-east-1"])
    if not (isinstance(regions, list) and regions and all(isinstance(r, str) for r in regions)):
        raise StateError("state: regions must be a non-empty list of strings")
    creds = _req(st, "credentials", dict, "state")
    seen = set()
    for name, c in creds.items():
        where = "credentials.%s" % name
        if not isinstance(c, dict):
            raise StateError(where + ": must be an object")
        bad = set(c) - {"access_key_id", "secret_access_key", "session_token", "arn",
                        "expiration"}
        if bad:
            raise StateError("%s: unknown keys %s" % (where, sorted(bad)))
        akid = _req(c, "access_key_id", str, where)
        _req(c, "secret_access_key", str, where)
        _req(c, "arn", str, where)
        if akid in seen:
            raise StateError(where + ": duplicate access_key_id")
        seen.add(akid)
        if c.get("session_token") is not None and not isinstance(c["session_token"], str):
            raise StateError(where + ": session_token must be a string or null")
        if c.get("expiration") is not None:
            try:
                parse_iso(c["expiration"])
            except ValueError:
                raise StateError(where + ": expiration must be ISO-8601 UTC") from None
    roles = st.get("roles", {})
    if not isinstance(roles, dict):
        raise StateError("state: roles must be an object keyed by role ARN")
    for arn, r in roles.items():
        where = "roles[%s]" % arn
        if not arn.startswith("arn:aws:iam::") or ":role/" not in arn:
            raise StateError(where + ": key must be a role ARN")
        if not isinstance(r, dict):
            raise StateError(where + ": must be an object")
        bad = set(r) - {"trust", "require_source_identity", "required_tags", "allowed_tags",
                        "max_session_duration", "external_id"}
        if bad:
            raise StateError("%s: unknown keys %s" % (where, sorted(bad)))
        t = r.get("trust", [])
        if not (isinstance(t, list) and all(isinstance(x, str) for x in t)):
            raise StateError(where + ": trust must be a list of principal ARNs")
        for k in ("required_tags", "allowed_tags"):
            v = r.get(k)
            if v is not None and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                raise StateError("%s: %s must be a list of tag keys" % (where, k))
        m = r.get("max_session_duration", 3600)
        if not (isinstance(m, int) and 3600 <= m <= 43200):
            raise StateError(where + ": max_session_duration must be 3600..43200")
    im = st.get("imds")
    if im is not None:
        if not isinstance(im, dict):
            raise StateError("imds: must be an object")
        _req(im, "role", str, "imds")
        cn = _req(im, "credentials", str, "imds")
        if cn not in creds:
            raise StateError("imds.credentials: %r is not in credentials" % cn)
    return st


class StateFile:
    """The JSON state file, re-read when its mtime/size changes, so tests can
    rotate credentials or edit roles while the servers run."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._sig = None
        self._state = None
        self.reload(strict=True)

    def reload(self, strict=False):
        try:
            stt = os.stat(self.path)
            sig = (stt.st_mtime_ns, stt.st_size, stt.st_ino)
            if sig == self._sig:
                return
            with open(self.path, encoding="utf-8") as f:
                st = validate_state(json.load(f))
        except (OSError, ValueError, StateError) as e:
            if strict:
                raise StateError("%s: %s" % (self.path, e)) from None
            sys.stderr.write("state reload failed, keeping the old one: %s\n" % e)
            return
        self._state = st
        self._sig = sig

    def get(self):
        with self._lock:
            self.reload()
            return self._state


def default_state():
    """A fresh state with random secrets (so tests can grep logs for them)."""
    acct = ACCOUNT_DEFAULT
    inst_role = "iamgate-bastion-instance"
    bastion = "arn:aws:iam::%s:user/iamgate-bastion" % acct
    inst_role_arn = "arn:aws:iam::%s:role/%s" % (acct, inst_role)
    trust = [bastion, inst_role_arn]
    return {
        "account": acct,
        "regions": ["us-east-1"],
        "credentials": {
            "bastion": {
                "access_key_id": gen_access_key("AKIA"),
                "secret_access_key": gen_secret(),
                "arn": bastion,
            },
            "instance": {
                "access_key_id": gen_access_key("ASIA"),
                "secret_access_key": gen_secret(),
                "session_token": gen_session_token(),
                "arn": "arn:aws:sts::%s:assumed-role/%s/i-0123456789abcdef0" % (acct, inst_role),
                "expiration": iso_z(time.time() + 6 * 3600),
            },
            "outsider": {
                "access_key_id": gen_access_key("AKIA"),
                "secret_access_key": gen_secret(),
                "arn": "arn:aws:iam::%s:user/outsider" % acct,
            },
        },
        "roles": {
            "arn:aws:iam::%s:role/iamgate-readonly" % acct: {
                "trust": trust,
                "require_source_identity": True,
                "required_tags": [],
                "max_session_duration": 3600,
            },
            "arn:aws:iam::%s:role/iamgate-pii" % acct: {
                "trust": trust,
                "require_source_identity": True,
                "required_tags": ["bastion-user", "bastion-source-ip"],
                "max_session_duration": 3600,
            },
            "arn:aws:iam::%s:role/iamgate-open" % acct: {
                "trust": trust,
                "require_source_identity": False,
                "required_tags": [],
                "max_session_duration": 3600,
            },
            "arn:aws:iam::%s:role/iamgate-forbidden" % acct: {
                "trust": ["arn:aws:iam::%s:user/someone-else" % acct],
                "require_source_identity": False,
                "required_tags": [],
            },
        },
        "imds": {
            "role": inst_role,
            "credentials": "instance",
            "instance_id": "i-0123456789abcdef0",
            "region": "us-east-1",
        },
    }


def write_atomic(path, text, mode=0o644):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.rename(tmp, path)


# ----------------------------------------------------------------- log ----

class JsonlLog:
    """Append-only JSONL request log; one line per request, flushed."""

    def __init__(self, path):
        self._lock = threading.Lock()
        self._f = open(path, "a", encoding="utf-8") if path else None

    def write(self, entry):
        if self._f is None:
            return
        line = json.dumps(entry, sort_keys=True, separators=(",", ":"))
        with self._lock:
            self._f.write(line + "\n")
            self._f.flush()


# -------------------------------------------------------------- faults ----

class Faults:
    """Run-time faults set through the control path.

    Each counted fault is a dict with "count": N (N requests, then off) or
    absent/-1 (always), and optionally "actions": [...] restricting it to
    some actions.  take(name, action) consumes one use and returns the
    fault's dict, or None.
    """

    def __init__(self, counted, flags):
        self._lock = threading.Lock()
        self._counted = counted  # names of counted faults
        self._flags = flags      # name -> validator for plain values
        self._f = {}

    def set(self, body):
        if not isinstance(body, dict):
            raise ValueError("control body must be a JSON object")
        allowed = set(self._counted) | set(self._flags) | {"reset"}
        bad = set(body) - allowed
        if bad:
            raise ValueError("unknown fault(s) %s; known: %s" % (sorted(bad), sorted(allowed)))
        new = {}
        for k, v in body.items():
            if k == "reset" or v is None:
                continue
            if k in self._counted:
                if v is True:
                    v = {}
                if not isinstance(v, dict):
                    raise ValueError("%s: expected an object (or true, or null)" % k)
                v = dict(v)
                c = v.get("count", -1)
                if not isinstance(c, int) or isinstance(c, bool) or c < -1:
                    raise ValueError("%s.count: expected an integer >= -1" % k)
                v["count"] = c
                a = v.get("actions")
                if a is not None and not (isinstance(a, list) and all(isinstance(x, str) for x in a)):
                    raise ValueError("%s.actions: expected a list of strings" % k)
            else:
                v = self._flags[k](v)
            new[k] = v
        with self._lock:
            if body.get("reset"):
                self._f = {}
            for k, v in body.items():
                if k == "reset":
                    continue
                if v is None:
                    self._f.pop(k, None)
                else:
                    self._f[k] = new[k]
            for k in [k for k, v in self._f.items() if isinstance(v, dict) and v.get("count") == 0]:
                del self._f[k]

    def snapshot(self):
        with self._lock:
            return json.loads(json.dumps(self._f))

    def flag(self, name, default=None):
        with self._lock:
            return self._f.get(name, default)

    def take(self, name, action=None):
        with self._lock:
            f = self._f.get(name)
            if f is None:
                return None
            acts = f.get("actions")
            if acts is not None and action not in acts:
                return None
            if f["count"] > 0:
                f["count"] -= 1
                if f["count"] == 0:
                    del self._f[name]
            return dict(f)


def v_bool(v):
    if not isinstance(v, bool):
        raise ValueError("expected true/false")
    return v


def v_number(v):
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        raise ValueError("expected a number")
    return v


# ------------------------------------------------------------- servers ----

def isolated_namespace():
    """True when this process's network namespace has no interface but lo:
    one a test made for itself (unshare -n), where every address is its
    own (the metadata lockdown test puts 169.254.169.254 on its lo)."""
    try:
        return [name for _, name in socket.if_nameindex()] == ["lo"]
    except OSError:
        return False


def check_loopback(addr):
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        raise SystemExit("--bind must be a literal loopback address, got %r" % addr) from None
    if not ip.is_loopback and not isolated_namespace():
        raise SystemExit("--bind must be a loopback address (127.0.0.0/8 or ::1), or any "
                         "address inside a network namespace with no interface but lo, "
                         "got %r" % addr)
    return ip


class LoopbackServer(ThreadingHTTPServer):
    """ThreadingHTTPServer on a loopback address, optional TLS with the
    handshake done in the worker thread (a slow or failing client never
    blocks accept())."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, bind, port, handler, tls_ctx=None):
        ip = check_loopback(bind)
        if ip.version == 6:
            self.address_family = socket.AF_INET6
        self.tls_ctx = tls_ctx
        super().__init__((bind, port), handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls_ctx is not None:
            sock = self.tls_ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if isinstance(e, (ssl.SSLError, ConnectionError, TimeoutError, socket.timeout)):
            return  # a client that went away or refused our certificate
        super().handle_error(request, client_address)


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


def serve(server, port_file, lifetime, name):
    """Write the port file, serve until SIGTERM/SIGINT or lifetime seconds."""
    port = server.server_address[1]
    if port_file:
        write_atomic(port_file, "%d\n" % port)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if lifetime > 0:
        t = threading.Timer(lifetime, stop)
        t.daemon = True
        t.start()
    sys.stderr.write("%s: listening on %s port %d\n" % (name, server.server_address[0], port))
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if port_file:
            try:
                os.unlink(port_file)
            except OSError:
                pass
