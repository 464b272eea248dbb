#!/usr/bin/python3
"""iamgate KMS test endpoint: GenerateDataKey, Decrypt and Encrypt on
loopback, for the DynamoDB store's envelope encryption.

SigV4 is verified with botocore (jsonapi.py) against the state file's
credentials.  One symmetric key per run (random, in memory), known by its
ARN and by an alias.  The encryption context is enforced as KMS does: a
ciphertext decrypts only under the context it was made with; with
--require-context-key K every call must carry a context holding K (the
key policy condition kms:EncryptionContextKeys).  Blobs are
"IGKMS1" + key index + AES-256-GCM(nonce, plaintext, AAD = context).
Faults as jsonapi.py says.  Never logs a key, a plaintext or a blob.

  kms_endpoint.py --state S --cert C --key K --port 0 --port-file F \
      --log L [--require-context-key iamgate-user] [--lifetime S]
"""

import argparse
import base64
import binascii
import json
import os
import secrets
import sys
import threading
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsonapi  # noqa: E402
import stslib  # noqa: E402
from jsonapi import ApiError  # noqa: E402

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

MAGIC = b"IGKMS1"
ALIAS = "alias/iamgate-test"
JSON11 = [("Content-Type", "application/x-amz-json-1.1")]


def b64_field(req, name, lo, hi):
    v = req.get(name)
    if not isinstance(v, str):
        raise ApiError(400, "ValidationException", "%s is required" % name)
    try:
        raw = base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "ValidationException", "%s is not base64" % name) from None
    if not lo <= len(raw) <= hi:
        raise ApiError(400, "ValidationException", "%s has the wrong length" % name)
    return raw


class Kms:
    def __init__(self, state, log, account, region, require_key):
        self.state, self.log, self.service = state, log, "kms"
        self.lock = threading.Lock()
        self.stats = {"requests": 0, "ops": {}}
        self.faults = jsonapi.new_faults()
        self.key_arn = "arn:aws:kms:%s:%s:key/%s" % (region, account, uuid.uuid4())
        self.key = AESGCM(secrets.token_bytes(32))
        self.require_key = require_key

    def key_for(self, req):
        kid = req.get("KeyId")
        if kid is None:
            return None
        if kid not in (self.key_arn, self.key_arn.rsplit("/", 1)[1], ALIAS,
                       self.key_arn.rsplit(":", 1)[0] + ":" + ALIAS):
            raise ApiError(400, "NotFoundException", "Key '%s' does not exist" % str(kid)[:80])
        return self.key_arn

    def context(self, req):
        ctx = req.get("EncryptionContext", {})
        if not isinstance(ctx, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in ctx.items()):
            raise ApiError(400, "ValidationException", "EncryptionContext must map strings")
        if self.require_key and self.require_key not in ctx:
            raise ApiError(400, "AccessDeniedException",
                           "the key policy requires encryption context key %s" % self.require_key)
        return json.dumps(ctx, sort_keys=True, separators=(",", ":")).encode()

    def seal(self, plain, aad):
        nonce = secrets.token_bytes(12)
        return MAGIC + nonce + self.key.encrypt(nonce, plain, aad)

    def open(self, blob, aad):
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 12 + 16:
            raise ApiError(400, "InvalidCiphertextException", "")
        nonce, body = blob[len(MAGIC):len(MAGIC) + 12], blob[len(MAGIC) + 12:]
        try:
            return self.key.decrypt(nonce, body, aad)
        except Exception:  # cryptography.exceptions.InvalidTag
            raise ApiError(400, "InvalidCiphertextException", "") from None

    def answer(self, op, target, body, rec, entry):
        if not target.startswith("TrentService."):
            raise ApiError(400, "UnknownOperationException", "")
        try:
            req = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "SerializationException", "body is not JSON") from None
        if not isinstance(req, dict):
            raise ApiError(400, "SerializationException", "body is not an object")
        aad = self.context(req)
        entry["context_keys"] = sorted(req.get("EncryptionContext", {}))
        if op == "GenerateDataKey":
            arn = self.key_for(req)
            if arn is None or req.get("KeySpec") not in ("AES_256", "AES_128"):
                raise ApiError(400, "ValidationException", "KeyId and KeySpec are required")
            dk = secrets.token_bytes(32 if req["KeySpec"] == "AES_256" else 16)
            out = {"KeyId": arn, "Plaintext": base64.b64encode(dk).decode(),
                   "CiphertextBlob": base64.b64encode(self.seal(dk, aad)).decode()}
        elif op == "Encrypt":
            arn = self.key_for(req)
            if arn is None:
                raise ApiError(400, "ValidationException", "KeyId is required")
            plain = b64_field(req, "Plaintext", 1, 4096)
            out = {"KeyId": arn, "CiphertextBlob": base64.b64encode(self.seal(plain, aad)).decode(),
                   "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
        elif op == "Decrypt":
            if req.get("KeyId") is not None:
                self.key_for(req)
            plain = self.open(b64_field(req, "CiphertextBlob", 1, 6144), aad)
            out = {"KeyId": self.key_arn, "Plaintext": base64.b64encode(plain).decode(),
                   "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
        else:
            raise ApiError(400, "UnknownOperationException", "")
        return 200, JSON11, json.dumps(out).encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--key-arn-file", help="write the key's ARN here once listening")
    ap.add_argument("--log")
    ap.add_argument("--lifetime", type=float, default=3600)
    ap.add_argument("--require-context-key", default="iamgate-user")
    ap.add_argument("--faults")
    a = ap.parse_args()
    try:
        state = stslib.StateFile(a.state)
    except stslib.StateError as e:
        ap.error(str(e))
    st = state.get()
    kms = Kms(state, stslib.JsonlLog(a.log), st.get("account", stslib.ACCOUNT_DEFAULT),
              st.get("regions", ["us-east-1"])[0], a.require_context_key)
    if a.faults:
        kms.faults.set(json.loads(a.faults))
    if a.key_arn_file:
        stslib.write_atomic(a.key_arn_file, kms.key_arn + "\n")
    srv = stslib.LoopbackServer(a.bind, a.port, jsonapi.Handler, stslib.tls_context(a.cert, a.key))
    srv.ep = kms
    stslib.serve(srv, a.port_file, a.lifetime, "kms_endpoint")


if __name__ == "__main__":
    main()
