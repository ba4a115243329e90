"""Test PKI loading and the WeChat Pay APIv3 signature scheme, simulator side.

Request string-to-sign:  METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n
Response string-to-sign: TIMESTAMP\\nNONCE\\nBODY\\n
Both RSASSA-PKCS1-v1_5 with SHA-256, Base64 (see shared reference wechatpay-v3.md §4, §5).
Key material is never printed: errors name files, not contents.
"""

import base64
import binascii
import os
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

AUTH_SCHEME = "WECHATPAY2-SHA256-RSA2048"
AUTH_PARAMS = frozenset(("mchid", "nonce_str", "signature", "timestamp", "serial_no"))

DEFAULT_DIRECT_MCHID = "1900000001"
DEFAULT_SP_MCHID = "1900000100"
DEFAULT_SUB_MCHID = "1900000109"


class PkiError(Exception):
    """A PKI file is missing or unreadable (message names the file, never its content)."""


def request_message(method: str, url: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    head = "%s\n%s\n%s\n%s\n" % (method, url, timestamp, nonce)
    return head.encode("utf-8") + body + b"\n"


def response_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return ("%s\n%s\n" % (timestamp, nonce)).encode("utf-8") + body + b"\n"


def sign(private_key, message: bytes) -> str:
    raw = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def verify(public_key, message: bytes, signature_b64: str) -> bool:
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        public_key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False


_AUTH_PARAM = re.compile(r'\s*([A-Za-z_]+)="([^"]*)"\s*(,|$)')


def parse_authorization(value: str):
    """Returns the five parameters as a dict, or None if the header is malformed.

    Any parameter order is accepted; all five are required, none may repeat,
    no other parameter is allowed."""
    if not value.startswith(AUTH_SCHEME + " "):
        return None
    rest = value[len(AUTH_SCHEME) + 1:]
    params = {}
    pos = 0
    while pos < len(rest):
        m = _AUTH_PARAM.match(rest, pos)
        if not m or m.end() == pos:
            return None
        key, val = m.group(1), m.group(2)
        if key not in AUTH_PARAMS or key in params:
            return None
        params[key] = val
        pos = m.end()
        if m.group(3) == "" and pos < len(rest):
            return None
    if set(params) != AUTH_PARAMS:
        return None
    return params


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise PkiError("cannot read %s: %s (run scripts/gen-test-pki.sh DIR)" % (path, e.strerror))


def load_private_key(path: str):
    try:
        return serialization.load_pem_private_key(_read(path), password=None)
    except ValueError:
        raise PkiError("%s is not an unencrypted PEM private key" % path)


def load_public_key(path: str):
    """Accepts an X.509 certificate or an SPKI public key (PEM)."""
    data = _read(path)
    try:
        if b"BEGIN CERTIFICATE" in data:
            return x509.load_pem_x509_certificate(data).public_key()
        return serialization.load_pem_public_key(data)
    except ValueError:
        raise PkiError("%s is neither a PEM certificate nor a PEM public key" % path)


def certificate_serial(path: str) -> str:
    cert = x509.load_pem_x509_certificate(_read(path))
    text = "%X" % cert.serial_number
    return text if len(text) % 2 == 0 else "0" + text


def read_line(path: str) -> str:
    return _read(path).decode("utf-8").strip()


@dataclass
class ResponseKey:
    """A key WeChat Pay signs answers with: a platform certificate or the public-key-mode key."""
    name: str        # "pubkey", "platform", "platform2"
    serial: str      # Wechatpay-Serial value
    private_key: object = field(repr=False)
    public_key: object = field(repr=False)


@dataclass
class MerchantKey:
    serial: str
    public_key: object = field(repr=False)


class Pki:
    """The files written by scripts/gen-test-pki.sh."""

    def __init__(self, directory: str):
        self.directory = directory
        p = lambda name: os.path.join(directory, name)  # noqa: E731
        self.server_cert = p("server.pem")
        self.server_key = p("server.key")
        self.merchant = MerchantKey(read_line(p("merchant_serial")),
                                    load_public_key(p("merchant_cert.pem")))
        self.response_keys = {}
        wxp = load_private_key(p("wxp_key.pem"))
        self.response_keys["pubkey"] = ResponseKey(
            "pubkey", read_line(p("pub_key_id")), wxp, load_public_key(p("pub_key.pem")))
        for name in ("platform", "platform2"):
            self.response_keys[name] = ResponseKey(
                name, read_line(p(name + "_serial")), load_private_key(p(name + "_key.pem")),
                load_public_key(p(name + "_cert.pem")))
        for name in ("server.pem", "server.key"):
            if not os.path.isfile(p(name)):
                raise PkiError("missing %s (run scripts/gen-test-pki.sh DIR)" % p(name))

    def response_key_for_serial(self, serial: str):
        for key in self.response_keys.values():
            if key.serial == serial:
                return key
        return None
