#!/usr/bin/python3
"""Helpers for stsctl.sh and tests (standard library only).

  stsutil.py init-state FILE            write a default state (random secrets)
                                        unless FILE exists
  stsutil.py bastion-state FILE ROLE_ARN...
                                        write a state for the gate's tests:
                                        account 111122223333, region us-east-1,
                                        each ROLE_ARN trusting only the
                                        instance role (the IMDS credentials)
                                        and requiring SourceIdentity and the
                                        gate's tags bastion-user,
                                        bastion-source-ip, bastion-host
  stsutil.py aws-files STATE DIR [--region R]
                                        write DIR/credentials (one profile per
                                        state credential) and DIR/config
  stsutil.py cred STATE NAME FIELD      print one field of a state credential
                                        (access_key_id, secret_access_key,
                                        session_token, arn)
  stsutil.py ctl URL [JSON] [--ca CA]   GET (or POST JSON to) a /_control URL,
                                        print the reply; exit 1 on HTTP error
  stsutil.py call STATE NAME URL MODE [K=V ...] [--ca CA] [--region R]
        [--token-unsigned] [--tamper K=V] [--no-token] [--bad-token]
        [--secret-from NAME]            sign a request with botocore as state
                                        credential NAME (or @FILE: the JSON the
                                        CLI printed for assume-role) and send
                                        it; MODE is
                                        POST (form body), GET (header auth, query
                                        params) or PRESIGN (GET, query auth).
                                        K=V are the STS parameters (Action=...,
                                        Version defaults to 2011-06-15).  Prints
                                        the HTTP status, then the body.
"""

import json
import os
import signal
import ssl
import sys
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stslib  # noqa: E402


def init_state(path):
    if os.path.exists(path):
        return 0
    stslib.write_atomic(path, json.dumps(stslib.default_state(), indent=2) + "\n", 0o600)
    return 0


def aws_files(state_path, d, region):
    st = stslib.validate_state(json.load(open(state_path, encoding="utf-8")))
    region = region or st.get("regions", ["us-east-1"])[0]
    cred, conf = [], []
    for name, c in st["credentials"].items():
        cred.append("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (name, c["access_key_id"], c["secret_access_key"]))
        if c.get("session_token"):
            cred.append("aws_session_token = %s\n" % c["session_token"])
        cred.append("\n")
        conf.append("[%s]\nregion = %s\noutput = json\n\n"
                    % ("default" if name == "default" else "profile " + name, region))
    if "default" not in st["credentials"]:
        conf.append("[default]\nregion = %s\noutput = json\n" % region)
    os.makedirs(d, mode=0o700, exist_ok=True)
    stslib.write_atomic(os.path.join(d, "credentials"), "".join(cred), 0o600)
    stslib.write_atomic(os.path.join(d, "config"), "".join(conf), 0o600)
    return 0


def cred(state_path, name, field):
    st = json.load(open(state_path, encoding="utf-8"))
    v = st["credentials"][name].get(field)
    if v is None:
        return 1
    print(v)
    return 0


def ctl(url, body, ca):
    ctx = ssl.create_default_context(cafile=ca) if ca else None
    data = body.encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            sys.stdout.write(r.read().decode())
            return 0
    except urllib.error.HTTPError as e:
        sys.stderr.write(e.read().decode() or str(e))
        return 1
    except (urllib.error.URLError, OSError) as e:
        sys.stderr.write("stsutil ctl: %s\n" % e)
        return 1


def call(argv):
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from urllib.parse import urlencode, urlsplit, urlunsplit, parse_qsl

    state_path, name, url, mode = argv[:4]
    params, ca, region, tamper = [], None, "us-east-1", []
    token_unsigned = no_token = bad_token = False
    secret_from = name
    rest = argv[4:]
    while rest:
        a = rest.pop(0)
        if a == "--ca":
            ca = rest.pop(0)
        elif a == "--region":
            region = rest.pop(0)
        elif a == "--tamper":
            tamper.append(tuple(rest.pop(0).split("=", 1)))
        elif a == "--token-unsigned":
            token_unsigned = True
        elif a == "--no-token":
            no_token = True
        elif a == "--bad-token":
            bad_token = True
        elif a == "--secret-from":
            secret_from = rest.pop(0)
        else:
            params.append(tuple(a.split("=", 1)))
    if not any(k == "Version" for k, _ in params):
        params.append(("Version", "2011-06-15"))
    st = json.load(open(state_path, encoding="utf-8"))
    if name.startswith("@"):
        # the JSON the CLI prints for assume-role: issued credentials
        ic = json.load(open(name[1:], encoding="utf-8"))["Credentials"]
        c = {"access_key_id": ic["AccessKeyId"], "secret_access_key": ic["SecretAccessKey"],
             "session_token": ic["SessionToken"]}
        secret = c["secret_access_key"]
    else:
        c = st["credentials"][name]
        secret = st["credentials"][secret_from]["secret_access_key"]
    token = None if no_token else c.get("session_token")
    if bad_token and token:
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    creds = Credentials(c["access_key_id"], secret, None if token_unsigned else token)
    base = url.rstrip("/") + "/"
    if mode == "POST":
        req = AWSRequest(method="POST", url=base, data=urlencode(params).encode(),
                         headers={"Content-Type":
                                  "application/x-www-form-urlencoded; charset=utf-8"})
        botocore.auth.SigV4Auth(creds, "sts", region).add_auth(req)
    elif mode == "GET":
        req = AWSRequest(method="GET", url=base + "?" + urlencode(params))
        botocore.auth.SigV4Auth(creds, "sts", region).add_auth(req)
    elif mode == "PRESIGN":
        req = AWSRequest(method="GET", url=base + "?" + urlencode(params))
        botocore.auth.SigV4QueryAuth(creds, "sts", region, expires=60).add_auth(req)
    else:
        sys.stderr.write("call: MODE is POST, GET or PRESIGN\n")
        return 2
    p = req.prepare()
    headers = dict(p.headers)
    body = p.body
    if token_unsigned and token:
        headers["X-Amz-Security-Token"] = token
    if tamper:
        if mode == "POST":
            q = dict(parse_qsl(body.decode()))
            q.update(dict(tamper))
            body = urlencode(q).encode()
        else:
            u = urlsplit(p.url)
            q = dict(parse_qsl(u.query))
            q.update(dict(tamper))
            p.url = urlunsplit((u.scheme, u.netloc, u.path, urlencode(q), u.fragment))
    ctx = ssl.create_default_context(cafile=ca) if ca else None
    r = urllib.request.Request(p.url, data=body if mode == "POST" else None, headers=headers,
                               method=p.method)
    try:
        with urllib.request.urlopen(r, timeout=30, context=ctx) as resp:
            status, out = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, out = e.code, e.read()
    print(status)
    sys.stdout.write(out.decode("utf-8", "replace"))
    return 0


def bastion_state(path, role_arns):
    st = stslib.default_state()
    acct = "111122223333"
    st["account"] = acct
    role = st["imds"]["role"]
    inst = "arn:aws:iam::%s:role/%s" % (acct, role)
    st["credentials"]["instance"]["arn"] = \
        "arn:aws:sts::%s:assumed-role/%s/i-0123456789abcdef0" % (acct, role)
    tags = ["bastion-user", "bastion-source-ip", "bastion-host"]
    st["roles"] = {arn: {"trust": [inst], "require_source_identity": True,
                         "required_tags": tags, "max_session_duration": 3600}
                   for arn in role_arns}
    st["regions"] = ["us-east-1"]
    st["imds"]["region"] = "us-east-1"
    stslib.write_atomic(path, json.dumps(st, indent=1) + "\n", 0o600)
    return 0


def main(argv):
    if len(argv) >= 4 and argv[0] == "call":
        return call(argv[1:])
    if len(argv) >= 2 and argv[0] == "init-state":
        return init_state(argv[1])
    if len(argv) >= 3 and argv[0] == "bastion-state":
        return bastion_state(argv[1], argv[2:])
    if len(argv) >= 3 and argv[0] == "aws-files":
        region = argv[4] if len(argv) == 5 and argv[3] == "--region" else None
        return aws_files(argv[1], argv[2], region)
    if len(argv) == 4 and argv[0] == "cred":
        return cred(argv[1], argv[2], argv[3])
    if len(argv) >= 2 and argv[0] == "ctl":
        rest = argv[2:]
        ca = None
        if "--ca" in rest:
            i = rest.index("--ca")
            ca = rest[i + 1]
            rest = rest[:i] + rest[i + 2:]
        return ctl(argv[1], rest[0] if rest else None, ca)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    sys.exit(main(sys.argv[1:]))
