#!/usr/bin/python3
"""iamgate DynamoDB test front: HTTPS on loopback in front of dynalite.

dynalite (npm) implements DynamoDB but checks no signature and injects no
fault.  This proxy does both: every request's SigV4 signature is verified
with botocore against the state file's credentials (jsonapi.py), faults
are applied as jsonapi.py says (throttle {"code":
"ProvisionedThroughputExceededException"} for DynamoDB's own throttling),
and what passes is forwarded to dynalite over plain HTTP on loopback, its
answer returned as it came.  Per-operation request counts are in the
control stats (round trips per login).

  ddb_proxy.py --state S --cert C --key K --upstream-port P --port 0 \
      --port-file F --log L [--lifetime S]
"""

import argparse
import http.client
import json
import os
import sys
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsonapi  # noqa: E402
import stslib  # noqa: E402
from jsonapi import ApiError  # noqa: E402

PASS_HEADERS = ("Content-Type", "x-amz-crc32")


class Proxy:
    def __init__(self, state, log, upstream_port):
        self.state, self.log, self.service = state, log, "dynamodb"
        self.lock = threading.Lock()
        self.stats = {"requests": 0, "ops": {}}
        self.faults = jsonapi.new_faults()
        self.upstream_port = upstream_port

    def answer(self, op, target, body, rec, entry):
        if not target.startswith("DynamoDB_20120810."):
            raise ApiError(400, "UnknownOperationException", "")
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=20)
        try:
            conn.request("POST", "/", body=body, headers={
                "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target,
                # dynalite checks the header's shape, not the signature
                # (verified above); its region scopes the tables.
                "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20000101/%s/dynamodb/"
                                 "aws4_request, SignedHeaders=host, Signature=0"
                                 % ("AKIAIAMGATETESTPROXY", entry.get("region", "us-east-1")),
                "X-Amz-Date": "20000101T000000Z"})
            r = conn.getresponse()
            out = r.read()
            headers = [(k, r.getheader(k)) for k in PASS_HEADERS if r.getheader(k)]
            try:
                err = json.loads(out).get("__type", "") if r.status != 200 else ""
            except ValueError:
                err = "?"
            entry["result"] = "ok" if r.status == 200 else err.rsplit("#", 1)[-1]
            return r.status, headers, out
        except OSError as e:
            raise ApiError(500, "InternalServerError", "upstream: %s" % e.__class__.__name__)
        finally:
            conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--lifetime", type=float, default=3600)
    ap.add_argument("--faults")
    a = ap.parse_args()
    try:
        state = stslib.StateFile(a.state)
    except stslib.StateError as e:
        ap.error(str(e))
    px = Proxy(state, stslib.JsonlLog(a.log), a.upstream_port)
    if a.faults:
        px.faults.set(json.loads(a.faults))
    srv = stslib.LoopbackServer(a.bind, a.port, jsonapi.Handler, stslib.tls_context(a.cert, a.key))
    srv.ep = px
    stslib.serve(srv, a.port_file, a.lifetime, "ddb_proxy")


if __name__ == "__main__":
    main()
