#!/usr/bin/python3
"""iamgate STS test endpoint: an STS-compatible server for loopback tests.

Speaks the STS query protocol (AssumeRole, GetCallerIdentity; POST form body
or GET query, header or presigned-query SigV4).  Every request's signature
is recomputed with botocore's SigV4 canonicalisation and the secret this
server knows for the access key id; callers, roles and trust come from the
JSON state file (see README.md).  Faults are set at run time through
POST /_control.  Never logs a secret, a session token or a signature.

Run with /usr/bin/python3 (Debian's, which has botocore), e.g.
  sts_endpoint.py --cert server.pem --key server.key --state state.json \
      --port 0 --port-file sts.port --log sts.jsonl
"""

import argparse
import calendar
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stslib  # noqa: E402

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.compat import HTTPHeaders  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
API_VERSION = "2011-06-15"
MAX_BODY = 64 * 1024
SKEW_SECONDS = 300
MAX_ISSUED = 50000
SIG_MISMATCH = ("The request signature we calculated does not match the signature you "
                "provided. Check your AWS Secret Access Key and signing method. Consult "
                "the service documentation for details.")
TOKEN_INVALID = "The security token included in the request is invalid."
TOKEN_EXPIRED = "The security token included in the request is expired"
NAME_RE = re.compile(r"^[\w+=,.@-]*$")
TAG_KEY_RE = re.compile(r"^[\w\s.:/=+\-@]+$", re.UNICODE)
TAG_VAL_RE = re.compile(r"^[\w\s.:/=+\-@]*$", re.UNICODE)
AKID_RE = re.compile(r"^[A-Z0-9]{16,128}$")
AMZ_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")
PRESIGN_KEYS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token")


class StsError(Exception):
    def __init__(self, status, code, message, detail=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail  # for the log only


def validation(errors):
    n = len(errors)
    return StsError(400, "ValidationError", "%d validation error%s detected: %s"
                    % (n, "" if n == 1 else "s", "; ".join(errors)))


def denied(caller, perm, role_arn, why):
    return StsError(403, "AccessDenied", "User: %s is not authorized to perform: %s on "
                    "resource: %s" % (caller, perm, role_arn), detail=why)


def safe_akid(akid):
    """Log an access key id only if it looks like one (a client that puts a
    secret in the wrong field must not get it logged)."""
    if akid is None:
        return None
    return akid if AKID_RE.match(akid) else "<malformed>"


class Verifier(SigV4Auth):
    """botocore's SigV4 canonicalisation, fed with exactly what the client
    declared it signed (SignedHeaders, decoded query parameters, raw body)."""

    def __init__(self, creds, service, region, signed, params, body):
        super().__init__(creds, service, region)
        self._signed = signed
        self._params = params
        self._body = body

    def headers_to_sign(self, request):
        hm = HTTPHeaders()
        for name in self._signed:
            for v in request.headers.get_all(name) or []:
                hm[name] = v
        return hm

    def canonical_query_string(self, request):
        return self._canonical_query_string_params(self._params)

    def payload(self, request):
        return hashlib.sha256(self._body).hexdigest()


def split_query(raw):
    """Raw query string -> list of decoded (key, value) pairs."""
    out = []
    for part in raw.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        out.append((unquote(k, errors="strict"), unquote(v, errors="strict")))
    return out


class Endpoint:
    """Credential and role store plus the request pipeline."""

    def __init__(self, state, log, regions_override=None):
        self.state = state
        self.log = log
        self.lock = threading.Lock()
        self.issued = {}  # akid -> session dict (secrets live only here)
        self.stats = {"requests": 0, "issued": 0, "results": {}}
        self.faults = stslib.Faults(
            counted=("slow", "fail5xx", "throttle", "malformed", "drop"),
            flags={"expired": stslib.v_bool, "expired_issued": stslib.v_bool,
                   "clock_offset": stslib.v_number})

    def now(self):
        return time.time() + self.faults.flag("clock_offset", 0)

    # -------------------------------------------------------- identity --

    def lookup(self, akid):
        """-> (kind, record) or (None, None).  kind: 'base' or 'issued'."""
        st = self.state.get()
        for name, c in st["credentials"].items():
            if hmac.compare_digest(c["access_key_id"].encode(), akid.encode()):
                rec = dict(c)
                rec["name"] = name
                return "base", rec
        with self.lock:
            rec = self.issued.get(akid)
            return ("issued", dict(rec)) if rec else (None, None)

    # ----------------------------------------------------------- auth ----

    def authenticate(self, h, params_all, body, entry):
        """Verify SigV4.  Returns (kind, record).  Raises StsError."""
        qd = dict(params_all["query"])
        auth = h.headers.get("Authorization")
        presigned = auth is None and "X-Amz-Signature" in qd
        entry["presigned"] = presigned
        if auth is None and not presigned:
            raise StsError(403, "MissingAuthenticationToken",
                           "Request is missing Authentication Token")
        if presigned:
            alg = qd.get("X-Amz-Algorithm")
            cred = qd.get("X-Amz-Credential")
            sh = qd.get("X-Amz-SignedHeaders")
            sig = qd.get("X-Amz-Signature")
            amz_date = qd.get("X-Amz-Date")
            token = qd.get("X-Amz-Security-Token")
            if alg != "AWS4-HMAC-SHA256" or not cred or not sh or not sig or not amz_date:
                raise StsError(400, "IncompleteSignature",
                               "AWS query-string parameters must include 'X-Amz-Algorithm', "
                               "'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', "
                               "'X-Amz-SignedHeaders', and 'X-Amz-Expires'.")
            expires = qd.get("X-Amz-Expires", "")
            if not expires.isdigit() or not 1 <= int(expires) <= 604800:
                raise StsError(400, "IncompleteSignature",
                               "X-Amz-Expires must be a number of seconds 1..604800")
            canon_params = [(k, v) for k, v in params_all["query"] if k != "X-Amz-Signature"]
        else:
            alg, _, rest = auth.partition(" ")
            if alg != "AWS4-HMAC-SHA256":
                raise StsError(400, "IncompleteSignature",
                               "Unsupported AWS 'algorithm': '%s'" % alg[:40])
            comps = {}
            for part in rest.split(","):
                k, eq, v = part.strip().partition("=")
                if not eq or k in comps:
                    raise StsError(400, "IncompleteSignature",
                                   "Authorization header is malformed")
                comps[k] = v
            missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in comps]
            if missing or len(comps) != 3:
                raise StsError(400, "IncompleteSignature", " ".join(
                    "Authorization header requires '%s' parameter." % k for k in missing)
                    or "Authorization header has unexpected parameters")
            cred, sh, sig = comps["Credential"], comps["SignedHeaders"], comps["Signature"]
            amz_date = h.headers.get("X-Amz-Date")
            token = h.headers.get("X-Amz-Security-Token")
            if len(h.headers.get_all("X-Amz-Security-Token") or []) > 1:
                raise StsError(400, "IncompleteSignature", "Duplicate X-Amz-Security-Token")
            if amz_date is None:
                raise StsError(400, "IncompleteSignature",
                               "Authorization header requires existence of either a "
                               "'X-Amz-Date' or a 'Date' header.")
            canon_params = params_all["query"]
        parts = cred.split("/")
        if len(parts) != 5:
            raise StsError(400, "IncompleteSignature",
                           "Credential must have exactly 5 slash-delimited elements, e.g. "
                           "keyid/date/region/service/term, got '%s'"
                           % "/".join([safe_akid(parts[0]) or ""] + parts[1:]))
        akid, sdate, region, service, term = parts
        entry["access_key_id"] = safe_akid(akid)
        entry["region"] = region
        signed = sh.split(";")
        entry["signed_headers"] = sh
        if "host" not in signed:
            raise StsError(400, "IncompleteSignature",
                           "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                           "Authorization.")
        if not presigned and "x-amz-date" not in signed:
            raise StsError(400, "IncompleteSignature",
                           "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
        if not AMZ_DATE_RE.match(amz_date or ""):
            raise StsError(400, "IncompleteSignature",
                           "X-Amz-Date must be in the ISO8601 Long Format "
                           "\"yyyyMMdd'T'HHmmss'Z'\"")
        entry["token_signed"] = "x-amz-security-token" in signed or (presigned and token is not None)

        kind, rec = self.lookup(akid)
        if kind is None:
            raise StsError(403, "InvalidClientTokenId", TOKEN_INVALID, detail="unknown key")
        entry["caller_arn"] = rec["arn"]
        want = rec.get("session_token")
        if want is None:
            if token is not None:
                raise StsError(403, "InvalidClientTokenId", TOKEN_INVALID,
                               detail="token sent with a long-term key")
        elif token is None or not hmac.compare_digest(token.encode("utf-8", "replace"),
                                                      want.encode()):
            raise StsError(403, "InvalidClientTokenId", TOKEN_INVALID,
                           detail="session token missing" if token is None
                           else "session token wrong")
        if term != "aws4_request":
            raise StsError(403, "SignatureDoesNotMatch",
                           "Credential should be scoped with a valid terminator: "
                           "'aws4_request', not '%s'." % term)
        if service != "sts":
            raise StsError(403, "SignatureDoesNotMatch",
                           "Credential should be scoped to correct service: 'sts'.")
        regions = self.state.get().get("regions", ["us-east-1"])
        if region not in regions:
            raise StsError(403, "SignatureDoesNotMatch",
                           "Credential should be scoped to a valid region.")
        if sdate != amz_date[:8]:
            raise StsError(403, "SignatureDoesNotMatch",
                           "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                           "version of date from HTTP: '%s' != '%s', from '%s'."
                           % (sdate, amz_date[:8], amz_date))

        # Recompute with botocore.  The request URL only feeds the path.
        path = urlsplit(h.path).path or "/"
        req = AWSRequest(method=h.command, url="https://%s%s" % (
            h.headers.get("Host", "localhost"), path))
        req.headers = HTTPHeaders()
        for k, v in h.headers.items():
            req.headers[k] = v.encode("latin-1", "replace").decode("utf-8", "replace")
        req.context["timestamp"] = amz_date
        v = Verifier(Credentials(akid, rec["secret_access_key"], want), service, region,
                     signed, canon_params, body)
        ok = True
        if v.signed_headers(signed) != sh or len(set(signed)) != len(signed):
            ok = False
            entry["sig_detail"] = "SignedHeaders not lower-case, sorted and unique"
        missing_h = [n for n in signed if not req.headers.get_all(n)]
        if missing_h:
            ok = False
            entry["sig_detail"] = "signed header(s) absent: %s" % ",".join(missing_h)
        canonical = v.canonical_request(req)
        sts = v.string_to_sign(req, canonical)
        mine = v.signature(sts, req)
        if not hmac.compare_digest(mine.encode(), sig.encode("utf-8", "replace")):
            ok = False
        entry["signature_ok"] = ok
        if not ok:
            red = canonical
            for t in (token, want):
                if t:
                    red = red.replace(quote(t, safe="-_.~"), "<redacted>").replace(t, "<redacted>")
            entry["canonical_request"] = red
            entry["string_to_sign"] = sts
            raise StsError(403, "SignatureDoesNotMatch", SIG_MISMATCH)
        declared = h.headers.get("X-Amz-Content-SHA256")
        if declared is not None and declared != hashlib.sha256(body).hexdigest():
            raise StsError(400, "XAmzContentSHA256Mismatch",
                           "The provided 'x-amz-content-sha256' header does not match what "
                           "was computed.")

        now = self.now()
        t = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        fmt = lambda x: time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(x))  # noqa: E731
        if presigned:
            if now > t + int(qd["X-Amz-Expires"]):
                raise StsError(403, "AccessDenied", "Request has expired")
            if t - now > SKEW_SECONDS:
                raise StsError(403, "SignatureDoesNotMatch",
                               "Signature not yet current: %s is still later than %s (%s + 5 "
                               "min.)" % (amz_date, fmt(now + SKEW_SECONDS), fmt(now)))
        elif now - t > SKEW_SECONDS:
            raise StsError(403, "SignatureDoesNotMatch",
                           "Signature expired: %s is now earlier than %s (%s - 5 min.)"
                           % (amz_date, fmt(now - SKEW_SECONDS), fmt(now)))
        elif t - now > SKEW_SECONDS:
            raise StsError(403, "SignatureDoesNotMatch",
                           "Signature not yet current: %s is still later than %s (%s + 5 min.)"
                           % (amz_date, fmt(now + SKEW_SECONDS), fmt(now)))

        if kind == "base":
            exp = rec.get("expiration")
            if self.faults.flag("expired", False) or (
                    exp is not None and stslib.parse_iso(exp) <= now):
                raise StsError(400, "ExpiredToken", TOKEN_EXPIRED)
        else:
            if self.faults.flag("expired_issued", False) or rec["expiration"] <= now:
                raise StsError(400, "ExpiredToken", TOKEN_EXPIRED)
        return kind, rec

    # -------------------------------------------------------- actions ----

    def caller_identity(self, kind, rec):
        arn = rec["arn"]
        acct = arn.split(":")[4] or self.state.get().get("account", stslib.ACCOUNT_DEFAULT)
        if kind == "issued":
            uid = rec["assumed_role_id"]
        elif ":assumed-role/" in arn:
            _, role, sess = arn.rsplit(":", 1)[1].split("/", 2)
            uid = stslib.stable_id("AROA", role) + ":" + sess
        else:
            uid = stslib.stable_id("AIDA", arn)
        return ("<GetCallerIdentityResult><Arn>%s</Arn><UserId>%s</UserId><Account>%s</Account>"
                "</GetCallerIdentityResult>" % (escape(arn), escape(uid), escape(acct)))

    @staticmethod
    def principal_matches(caller, entry):
        if entry == "*" or entry == caller:
            return True
        cp = caller.split(":", 5)
        ep = entry.split(":", 5)
        if len(cp) != 6 or len(ep) != 6:
            return False
        if ep[2] == "iam" and ep[5] == "root" and ep[4] == cp[4]:
            return True
        if cp[2] == "sts" and cp[5].startswith("assumed-role/") and ep[2] == "iam" \
                and ep[5].startswith("role/") and ep[4] == cp[4]:
            return cp[5].split("/")[1] == ep[5].rsplit("/", 1)[1]
        return False

    def assume_role(self, kind, rec, p, entry):
        errs = []
        role_arn = p.get("RoleArn")
        name = p.get("RoleSessionName")
        dur_s = p.get("DurationSeconds")
        si = p.get("SourceIdentity")
        ext = p.get("ExternalId")
        entry.update(role_arn=role_arn, role_session_name=name, source_identity=si)

        def length(field, val, lo, hi):
            if len(val) < lo:
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have "
                            "length greater than or equal to %d" % (val, field, lo))
            elif len(val) > hi:
                errs.append("Value '%s' at '%s' failed to satisfy constraint: Member must have "
                            "length less than or equal to %d" % (val, field, hi))

        if role_arn is None:
            errs.append("Value null at 'roleArn' failed to satisfy constraint: Member must not "
                        "be null")
        else:
            length("roleArn", role_arn, 20, 2048)
        if name is None:
            errs.append("Value null at 'roleSessionName' failed to satisfy constraint: Member "
                        "must not be null")
        else:
            length("roleSessionName", name, 2, 64)
            if not NAME_RE.match(name):
                errs.append("Value '%s' at 'roleSessionName' failed to satisfy constraint: "
                            "Member must satisfy regular expression pattern: [\\w+=,.@-]*" % name)
        duration = 3600
        if dur_s is not None:
            if not re.fullmatch(r"-?\d{1,9}", dur_s):
                errs.append("Value '%s' at 'durationSeconds' failed to satisfy constraint: "
                            "Member must be an integer" % dur_s)
            else:
                duration = int(dur_s)
                if duration < 900:
                    errs.append("Value '%d' at 'durationSeconds' failed to satisfy constraint: "
                                "Member must have value greater than or equal to 900" % duration)
                elif duration > 43200:
                    errs.append("Value '%d' at 'durationSeconds' failed to satisfy constraint: "
                                "Member must have value less than or equal to 43200" % duration)
        entry["duration_seconds"] = duration
        if si is not None:
            length("sourceIdentity", si, 2, 64)
            if not NAME_RE.match(si):
                errs.append("Value '%s' at 'sourceIdentity' failed to satisfy constraint: "
                            "Member must satisfy regular expression pattern: [\\w+=,.@-]*" % si)
        if ext is not None:
            length("externalId", ext, 2, 1224)
        tags = parse_tags(p, errs)
        entry["tags"] = {k: v for k, v in tags}
        if errs:
            raise validation(errs)
        if si is not None and si.lower().startswith("aws:"):
            raise StsError(400, "ValidationError",
                           "SourceIdentity must not begin with the reserved prefix 'aws:'")
        lower = [k.lower() for k, _ in tags]
        if len(set(lower)) != len(lower):
            raise StsError(400, "InvalidParameterValue", "Duplicate tag keys found. Please note "
                           "that Tag keys are case insensitive.")
        packed = 0
        if tags:
            packed = math.ceil(sum(len(k) + len(v) + 2 for k, v in tags) * 100 / 8192)
            if packed > 100:
                raise StsError(400, "PackedPolicyTooLarge", "Serialized token too large for "
                               "session (packed size %d%% of the limit)" % packed)

        caller = rec["arn"]
        role = self.state.get().get("roles", {}).get(role_arn)
        if role is None:
            raise denied(caller, "sts:AssumeRole", role_arn, "no such role")
        if not any(self.principal_matches(caller, e) for e in role.get("trust", [])):
            raise denied(caller, "sts:AssumeRole", role_arn, "principal not trusted")
        want_ext = role.get("external_id")
        if want_ext is not None and (ext is None or not hmac.compare_digest(
                ext.encode(), want_ext.encode())):
            raise denied(caller, "sts:AssumeRole", role_arn, "external id mismatch")
        prev_si = rec.get("source_identity") if kind == "issued" else None
        if prev_si is not None:
            if si is None:
                si = prev_si  # source identity sticks across role chaining
            elif si != prev_si:
                raise denied(caller, "sts:SetSourceIdentity", role_arn,
                             "source identity differs from the chained session's")
        if role.get("require_source_identity") and si is None:
            raise denied(caller, "sts:AssumeRole", role_arn, "source identity required")
        have = {k for k, _ in tags}
        for req_key in role.get("required_tags") or []:
            if req_key not in have:
                raise denied(caller, "sts:AssumeRole", role_arn,
                             "required session tag %r missing" % req_key)
        allowed = role.get("allowed_tags")
        if allowed is not None:
            for k in have:
                if k not in allowed:
                    raise denied(caller, "sts:TagSession", role_arn, "tag %r not allowed" % k)
        if kind == "issued" and duration > 3600:
            raise StsError(400, "ValidationError", "The requested DurationSeconds exceeds the "
                           "1 hour session limit for roles assumed by role chaining.")
        if duration > role.get("max_session_duration", 3600):
            raise StsError(400, "ValidationError", "The requested DurationSeconds exceeds the "
                           "MaxSessionDuration set for this role.")

        acct = role_arn.split(":")[4]
        role_name = role_arn.rsplit("/", 1)[1]
        aroid = stslib.stable_id("AROA", role_arn) + ":" + name
        arn = "arn:aws:sts::%s:assumed-role/%s/%s" % (acct, role_name, name)
        akid = stslib.gen_access_key("ASIA")
        secret = stslib.gen_secret()
        token = stslib.gen_session_token()
        exp = int(self.now()) + duration
        with self.lock:
            if len(self.issued) >= MAX_ISSUED:
                now = self.now()
                for k in [k for k, s in self.issued.items() if s["expiration"] <= now]:
                    del self.issued[k]
                while len(self.issued) >= MAX_ISSUED:
                    del self.issued[next(iter(self.issued))]
            self.issued[akid] = {
                "access_key_id": akid, "secret_access_key": secret, "session_token": token,
                "expiration": exp, "arn": arn, "assumed_role_id": aroid, "role_arn": role_arn,
                "session_name": name, "source_identity": si, "tags": dict(tags)}
            self.stats["issued"] += 1
        entry.update(issued_access_key_id=akid, expiration=stslib.iso_z(exp),
                     source_identity=si)
        xml = ["<AssumeRoleResult>"]
        if si is not None:
            xml.append("<SourceIdentity>%s</SourceIdentity>" % escape(si))
        xml.append("<AssumedRoleUser><AssumedRoleId>%s</AssumedRoleId><Arn>%s</Arn>"
                   "</AssumedRoleUser>" % (escape(aroid), escape(arn)))
        xml.append("<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s"
                   "</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s"
                   "</Expiration></Credentials>" % (akid, escape(secret), escape(token),
                                                    stslib.iso_z(exp)))
        if tags:
            xml.append("<PackedPolicySize>%d</PackedPolicySize>" % packed)
        xml.append("</AssumeRoleResult>")
        return "".join(xml)


def parse_tags(p, errs):
    idx = {}
    for k, v in p.items():
        m = re.fullmatch(r"Tags\.member\.(\d{1,3})\.(Key|Value)", k)
        if m:
            idx.setdefault(int(m.group(1)), {})[m.group(2)] = v
        elif k.startswith("Tags."):
            errs.append("Unknown parameter %s" % k)
    tags = []
    for n in sorted(idx):
        t = idx[n]
        if "Key" not in t:
            errs.append("Value null at 'tags.%d.member.key' failed to satisfy constraint: Member "
                        "must not be null" % n)
            continue
        key, val = t["Key"], t.get("Value", "")
        if not 1 <= len(key) <= 128 or not TAG_KEY_RE.match(key):
            errs.append("Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member "
                        "must have length 1..128 and satisfy regular expression pattern: "
                        "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+" % (key, n))
        if len(val) > 256 or not TAG_VAL_RE.match(val):
            errs.append("Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: "
                        "Member must have length less than or equal to 256 and satisfy "
                        "regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*" % (val, n))
        tags.append((key, val))
    if len(tags) > 50:
        errs.append("Value at 'tags' failed to satisfy constraint: Member must have length less "
                    "than or equal to 50")
    return tags


def malformed_body(mode, good, size):
    if mode == "garbage":
        return secrets.token_bytes(256)
    if mode == "empty":
        return b""
    if mode == "html":
        return b"<html><head><title>502 Bad Gateway</title></head><body>bad gateway</body></html>"
    if mode == "nocreds":
        return ("<AssumeRoleResponse xmlns=\"%s\"><AssumeRoleResult><AssumedRoleUser><Arn>"
                "arn:aws:sts::123456789012:assumed-role/x/y</Arn></AssumedRoleUser>"
                "</AssumeRoleResult></AssumeRoleResponse>" % NS).encode()
    if mode == "badexpiry":
        return re.sub(rb"<Expiration>[^<]*</Expiration>", b"<Expiration>not-a-date</Expiration>",
                      good)
    if mode == "huge":
        # well-formed but oversized: padding before the root's closing tag
        pad = b"<Padding>" + b"A" * max(0, size) + b"</Padding>"
        cut = good.rfind(b"</")
        return good[:cut] + pad + good[cut:]
    return good[: len(good) // 2]  # "truncated", the default


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "iamgate-test-sts/1"
    sys_version = ""
    timeout = 30  # idle keep-alive connections do not pin a thread forever

    def setup(self):
        super().setup()
        if self.server.tls_ctx is not None:
            self.connection.do_handshake()

    def log_message(self, *args):  # the JSONL log replaces stderr chatter
        pass

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def read_body(self):
        if self.headers.get("Transfer-Encoding"):
            return None, "chunked bodies are not supported"
        n = self.headers.get("Content-Length")
        if n is None:
            return b"", None
        if not n.isdigit() or int(n) > MAX_BODY:
            return None, "bad or too large Content-Length"
        return self.rfile.read(int(n)), None

    def send(self, status, body, ctype="text/xml", rid=None, slow_mid_ms=0):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if rid:
            self.send_header("x-amzn-RequestId", rid)
        self.end_headers()
        try:
            if slow_mid_ms:
                half = len(body) // 2
                self.wfile.write(body[:half])
                self.wfile.flush()
                time.sleep(slow_mid_ms / 1000.0)
                self.wfile.write(body[half:])
            else:
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
                self.send(400, json.dumps({"error": str(e)}).encode(), "application/json")
                return
        elif self.command != "GET":
            self.send(405, b'{"error":"GET or POST"}', "application/json")
            return
        with ep.lock:
            stats = json.loads(json.dumps(ep.stats))
            stats["live_sessions"] = len(ep.issued)
        out = {"faults": ep.faults.snapshot(), "stats": stats}
        self.send(200, (json.dumps(out, sort_keys=True) + "\n").encode(), "application/json")

    def dispatch(self):
        t0 = time.monotonic()
        ep = self.server.ep
        body, berr = self.read_body()
        if body is None:
            self.close_connection = True
            self.send(400 if "Length" in berr else 411, berr.encode(), "text/plain")
            return
        url = urlsplit(self.path)
        if url.path == "/_control":
            self.control(body)
            return
        rid = str(uuid.uuid4())
        entry = {"time": stslib.iso_ms(time.time()), "method": self.command, "path": url.path,
                 "request_id": rid, "user_agent": (self.headers.get("User-Agent") or "")[:200],
                 "signature_ok": None}
        status, xml, fault = 200, None, None
        slow_mid = 0
        action = None
        try:
            try:
                query = split_query(url.query)
            except UnicodeDecodeError:
                raise StsError(400, "MalformedQueryString", "Query string is not valid UTF-8")
            params_all = {"query": query}
            form = []
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if self.command == "POST" and ctype == "application/x-www-form-urlencoded" and body:
                try:
                    form = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                     strict_parsing=True)
                except (UnicodeDecodeError, ValueError):
                    raise StsError(400, "MalformedQueryString", "Malformed form body")
            p = {}
            for k, v in [kv for kv in query if kv[0] not in PRESIGN_KEYS] + form:
                if k in p:
                    raise StsError(400, "InvalidParameterCombination",
                                   "Parameter %s given more than once" % k)
                p[k] = v
            action = p.get("Action")
            entry["action"] = action
            if action == "AssumeRole":
                d = p.get("DurationSeconds")
                entry.update(role_arn=p.get("RoleArn"), role_session_name=p.get("RoleSessionName"),
                             source_identity=p.get("SourceIdentity"),
                             duration_seconds=int(d) if d and d.isdigit() else d,
                             tags={k: v for k, v in parse_tags(p, [])})

            # Every fault this request meets is taken now, on arrival: a
            # request still asleep in an earlier "slow" fault must not take
            # a fault set afterwards for another request.
            slow = ep.faults.take("slow", action)
            drop = ep.faults.take("drop", action)
            f5 = ep.faults.take("fail5xx", action)
            throttled = ep.faults.take("throttle", action)
            mal = ep.faults.take("malformed", action)
            if slow:
                ms = slow.get("ms", 1000)
                entry.update(fault="slow", slow_ms=ms)
                if slow.get("where") == "body":
                    slow_mid = ms
                else:
                    time.sleep(ms / 1000.0)
            if drop:
                entry.update(fault="drop", status=0, result="dropped",
                             elapsed_ms=int((time.monotonic() - t0) * 1000))
                ep.log.write(entry)
                self.close_connection = True
                return
            if url.path != "/" or self.command not in ("GET", "POST"):
                raise StsError(404 if url.path != "/" else 405, "UnknownOperation",
                               "Unknown operation %s %s" % (self.command, url.path))
            auth_err = None
            try:
                kind, rec = ep.authenticate(self, params_all, body, entry)
            except StsError as e:
                auth_err = e
            if f5:
                st = f5.get("status", 500)
                fault = "fail5xx"
                if st == 503:
                    raise StsError(503, "ServiceUnavailable", "Service is unavailable")
                raise StsError(st if 500 <= st <= 599 else 500, "InternalFailure",
                               "An internal error occurred")
            if throttled:
                fault = "throttle"
                raise StsError(400, "Throttling", "Rate exceeded")
            if auth_err:
                raise auth_err
            if action is None:
                raise StsError(400, "MissingAction", "Missing Action")
            ver = p.get("Version")
            if ver is None:
                raise StsError(400, "MissingParameter",
                               "The request must contain the parameter Version")
            if action == "GetCallerIdentity" and ver == API_VERSION:
                result = ep.caller_identity(kind, rec)
            elif action == "AssumeRole" and ver == API_VERSION:
                result = ep.assume_role(kind, rec, p, entry)
            else:
                raise StsError(400, "InvalidAction", "Could not find operation %s for version %s"
                               % (action, ver))
            xml = ("<%sResponse xmlns=\"%s\">%s<ResponseMetadata><RequestId>%s</RequestId>"
                   "</ResponseMetadata></%sResponse>\n" % (action, NS, result, rid, action))
            entry["result"] = "ok"
        except StsError as e:
            status = e.status
            kind_s = "Sender" if e.status < 500 else "Receiver"
            xml = ("<ErrorResponse xmlns=\"%s\">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s"
                   "</Code>\n    <Message>%s</Message>\n  </Error>\n  <RequestId>%s</RequestId>"
                   "\n</ErrorResponse>\n" % (NS, kind_s, e.code, escape(e.message), rid))
            entry.update(result=e.code, message=e.message)
            if e.detail:
                entry["deny_reason"] = e.detail
            if fault:
                entry["fault"] = fault
        out = xml.encode()
        if mal:
            entry["fault"] = "malformed"
            entry["malformed_mode"] = mal.get("mode", "truncated")
            out = malformed_body(entry["malformed_mode"], out, int(mal.get("bytes", 8 << 20)))
            status = 200
        entry["status"] = status
        with ep.lock:
            ep.stats["requests"] += 1
            r = entry.get("result", "?")
            ep.stats["results"][r] = ep.stats["results"].get(r, 0) + 1
        # Log before answering: a client that has its answer can rely on the
        # log line being there.
        entry["elapsed_ms"] = int((time.monotonic() - t0) * 1000)
        ep.log.write(entry)
        self.send(status, out, rid=rid, slow_mid_ms=slow_mid)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state", required=True, help="JSON state file (README.md)")
    ap.add_argument("--cert", help="server certificate (PEM); with --key, serves HTTPS")
    ap.add_argument("--key", help="server private key (PEM)")
    ap.add_argument("--http", action="store_true", help="plain HTTP (no --cert/--key)")
    ap.add_argument("--bind", default="127.0.0.1", help="loopback address (127.0.0.1 or ::1)")
    ap.add_argument("--port", type=int, default=0, help="0: pick a free port")
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--log", help="JSONL request log (appended)")
    ap.add_argument("--lifetime", type=float, default=3600,
                    help="exit after this many seconds (0: never); default 3600")
    ap.add_argument("--faults", help="initial faults, same JSON as POST /_control")
    a = ap.parse_args()
    if a.http == bool(a.cert or a.key) or (not a.http and not (a.cert and a.key)):
        ap.error("give either --http or both --cert and --key")
    try:
        state = stslib.StateFile(a.state)
    except stslib.StateError as e:
        ap.error(str(e))
    ep = Endpoint(state, stslib.JsonlLog(a.log))
    if a.faults:
        try:
            ep.faults.set(json.loads(a.faults))
        except ValueError as e:
            ap.error("--faults: %s" % e)
    ctx = None if a.http else stslib.tls_context(a.cert, a.key)
    srv = stslib.LoopbackServer(a.bind, a.port, Handler, ctx)
    srv.ep = ep
    stslib.serve(srv, a.port_file, a.lifetime, "sts_endpoint")


if __name__ == "__main__":
    main()
