#!/usr/bin/env python3
"""Generate the OpenDCI signing test vectors independently of the TypeScript code.

Reads messages.json and the PEM keys in keys/, writes vectors.json. Needs Python 3.8+
and the `cryptography` package (for Ed25519 and RSA signing). Everything else is the
standard library: the OpenSPP canonical form is exactly Python's
json.dumps(obj, sort_keys=True, separators=(",", ":")), and the JCS (RFC 8785) form is
re-implemented below for the value types the vectors use (no floats).

Usage: python3 generate.py   (run from this directory, or give the path)
"""

import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))


def openspp(obj):
    """What OpenSPP hashes: Python's json.dumps, sorted keys, compact, ensure_ascii=True."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _jcs_string(s):
    # ECMAScript JSON.stringify string escaping (RFC 8785 section 3.2.2.2).
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20:
            out.append("\\u%04x" % o)
        elif 0xD800 <= o <= 0xDFFF:
            raise ValueError("lone surrogate")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs(obj):
    """RFC 8785 for null, booleans, integers (|n| < 2**53), strings, arrays and objects."""
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        if abs(obj) > 2**53 - 1:
            raise ValueError("integer outside the IEEE-754 safe range")
        return str(obj)
    if isinstance(obj, float):
        raise ValueError("floats are not used in the vectors")
    if isinstance(obj, str):
        return _jcs_string(obj)
    if isinstance(obj, list):
        return "[" + ",".join(jcs(v) for v in obj) + "]"
    if isinstance(obj, dict):
        # Keys sorted by their UTF-16 code units (RFC 8785 section 3.2.3).
        keys = sorted(obj.keys(), key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(_jcs_string(k) + ":" + jcs(obj[k]) for k in keys) + "}"
    raise TypeError(type(obj))


def b64(data):
    return base64.b64encode(data).decode("ascii")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def public_jwk(public_key):
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    if isinstance(public_key, rsa.RSAPublicKey):
        nums = public_key.public_numbers()
        return {"e": b64url(int_bytes(nums.e)), "kty": "RSA", "n": b64url(int_bytes(nums.n))}
    raise TypeError(type(public_key))


def thumbprint(jwk):
    # RFC 7638: required members only, lexicographic order, no whitespace.
    members = {k: jwk[k] for k in (("crv", "kty", "x") if jwk["kty"] == "OKP" else ("e", "kty", "n"))}
    return b64url(hashlib.sha256(json.dumps(members, sort_keys=True, separators=(",", ":")).encode()).digest())


def load_key(name):
    with open(os.path.join(HERE, "keys", name), "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def sign(private_key, algorithm, data):
    if algorithm == "ed25519":
        return private_key.sign(data)
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def main():
    with open(os.path.join(HERE, "messages.json"), encoding="utf-8") as f:
        spec = json.load(f)
    sender = spec["senderId"]
    created = spec["created"]
    expires = created + spec["ttlSeconds"]

    keys = {}
    for algorithm, base in (("ed25519", "ed25519"), ("rsa-sha256", "rsa2048")):
        private_key = load_key(base + "-private.pem")
        jwk = public_jwk(private_key.public_key())
        keys[algorithm] = {
            "privateKeyFile": "keys/%s-private.pem" % base,
            "publicKeyFile": "keys/%s-public.pem" % base,
            "jwk": jwk,
            "kid": thumbprint(jwk),
            "_private": private_key,
        }

    def form(canonical, header_key_algos):
        data = canonical.encode("utf-8")
        digest = b64(hashlib.sha256(data).digest())
        signing_string = "(created): %d\n(expires): %d\ndigest: %s" % (created, expires, digest)
        signatures = {}
        for algorithm in header_key_algos:
            key = keys[algorithm]
            sig = b64(sign(key["_private"], algorithm, signing_string.encode("utf-8")))
            signatures[algorithm] = (
                'namespace="dci", kidId="%s|%s|%s", algorithm="%s", created="%d", expires="%d", '
                'headers="(created) (expires) digest", signature="%s"'
                % (sender, key["kid"], algorithm, algorithm, created, expires, sig)
            )
        return {
            "canonical": canonical,
            "canonicalUtf8Hex": data.hex(),
            "digest": digest,
            "signingString": signing_string,
            "signatures": signatures,
        }

    envelopes = []
    for env in spec["envelopes"]:
        signed = {"header": env["header"], "message": env["message"]}
        envelopes.append(
            {
                "name": env["name"],
                "description": env["description"],
                "header": env["header"],
                "message": env["message"],
                "jcs": form(jcs(signed), ("ed25519", "rsa-sha256")),
                "openspp": form(openspp(signed), ("ed25519", "rsa-sha256")),
            }
        )

    values = [
        {"name": v["name"], "value": v["value"], "jcs": jcs(v["value"]), "openspp": openspp(v["value"])}
        for v in spec["values"]
    ]

    out = {
        "generatedBy": "test-vectors/generate.py (Python %d.%d, json + hashlib + base64 + cryptography)"
        % sys.version_info[:2],
        "senderId": sender,
        "created": created,
        "expires": expires,
        "keys": {a: {k: v for k, v in d.items() if not k.startswith("_")} for a, d in keys.items()},
        "envelopes": envelopes,
        "values": values,
    }
    with open(os.path.join(HERE, "vectors.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
