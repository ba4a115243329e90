#!/bin/sh
# gen-test-pki.sh DIR — create the TEST-ONLY key material used by the WeChat Pay
# simulator (tests/sim/wxpay_sim.py), the client tests, the CLI tests and the demo.
#
# Nothing made here is, or must ever be used as, a real credential: every key is
# generated fresh on this machine, every certificate says TEST ONLY, and the CA
# is trusted only by the tests that are pointed at DIR/ca.pem.
#
# Idempotent: if DIR/.complete exists, nothing is done. Concurrent runs on the
# same DIR are serialised with a lock; files appear in DIR only once the whole
# set has been generated.
#
# Files (see tests/sim/README.md):
#   ca.pem ca.key                 test CA
#   server.pem server.key         TLS server cert (SAN DNS:localhost, IP:127.0.0.1)
#   merchant_key.pem              merchant API private key (PKCS#8, RSA 2048) = apiclient_key.pem
#   merchant_cert.pem merchant_serial
#   platform_key.pem platform_cert.pem platform_serial     WeChat Pay platform cert
#   platform2_key.pem platform2_cert.pem platform2_serial  second platform cert (rotation)
#   wxp_key.pem pub_key.pem pub_key_id                     WeChat Pay public-key mode
#   other_key.pem                 an unrelated RSA key ("wrong key" tests)
# Serial files and pub_key_id hold exactly one line WITHOUT a trailing newline.
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 DIR   (creates test-only keys and certificates in DIR)" >&2
    exit 64
fi
DIR=$1
PUB_KEY_ID=PUB_KEY_ID_0114232134912410000000000000000001

[ -e "$DIR/.complete" ] && exit 0
command -v openssl >/dev/null 2>&1 || { echo "gen-test-pki: openssl not found (scripts/install-deps.sh)" >&2; exit 69; }
mkdir -p "$DIR"

# Serialise concurrent runs (flock from util-linux; fall back to no lock).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$DIR/.lock"
    flock 9
    [ -e "$DIR/.complete" ] && exit 0
fi

WORK=$(mktemp -d "$DIR/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
umask 077

# OpenSSL 3 writes PKCS#8 ("BEGIN PRIVATE KEY") for genpkey.
new_key() {
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
}

# A 20-byte positive serial, uppercase hex, first nibble 1-7 (so it prints as
# exactly 40 hex digits, like real WeChat Pay merchant certificate serials).
new_serial() {
    r=$(openssl rand -hex 20 | tr 'a-f' 'A-F')
    first=$(printf '%s' "$r" | cut -c1 | tr '089ABCDEF' '1234567' )
    case "$first" in [1-7]) ;; *) first=4 ;; esac
    printf '%s%s' "$first" "$(printf '%s' "$r" | cut -c2-)"
}

# The serial exactly as openssl reads it back from the certificate.
cert_serial() {
    openssl x509 -in "$1" -noout -serial | sed 's/^serial=//' | tr 'a-f' 'A-F' | tr -d '\n'
}

# issue NAME SUBJECT EXTFILE_SECTION: key WORK/NAME_key.pem -> cert WORK/NAME_cert.pem
cat > "$WORK/ext.cnf" <<'EOF'
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[signing_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

issue() { # KEY CERT SUBJECT SECTION
    openssl req -new -key "$1" -subj "$3" -out "$WORK/req.csr" 2>/dev/null
    openssl x509 -req -in "$WORK/req.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" \
        -set_serial "0x$(new_serial)" -days 3650 -sha256 \
        -extfile "$WORK/ext.cnf" -extensions "$4" -out "$2" 2>/dev/null
    rm -f "$WORK/req.csr"
}

ORG="O=wxpay-reconciler TEST ONLY - not a real credential"

# RSA key generation dominates the run time: generate all keys in parallel.
pids=""
for k in ca.key server.key merchant_key.pem platform_key.pem platform2_key.pem wxp_key.pem other_key.pem; do
    new_key "$WORK/$k" &
    pids="$pids $!"
done
for pid in $pids; do
    wait "$pid" || { echo "gen-test-pki: openssl genpkey failed" >&2; exit 70; }
done

openssl req -new -x509 -key "$WORK/ca.key" -days 3650 -sha256 \
    -subj "/C=CN/$ORG/CN=wxpay-reconciler TEST CA (test only)" \
    -set_serial "0x$(new_serial)" \
    -config "$WORK/ext.cnf" -extensions ca_ext -out "$WORK/ca.pem" 2>/dev/null

issue "$WORK/server.key" "$WORK/server.pem" "/C=CN/$ORG/CN=localhost" server_ext

issue "$WORK/merchant_key.pem" "$WORK/merchant_cert.pem" \
    "/C=CN/$ORG/OU=TEST merchant API certificate/CN=1900000001" signing_ext
cert_serial "$WORK/merchant_cert.pem" > "$WORK/merchant_serial"

for p in platform platform2; do
    issue "$WORK/${p}_key.pem" "$WORK/${p}_cert.pem" \
        "/C=CN/$ORG/OU=TEST WeChat Pay platform certificate/CN=TEST Tenpay.com Root CA ($p)" signing_ext
    cert_serial "$WORK/${p}_cert.pem" > "$WORK/${p}_serial"
done

openssl pkey -in "$WORK/wxp_key.pem" -pubout -out "$WORK/pub_key.pem" 2>/dev/null
printf '%s' "$PUB_KEY_ID" > "$WORK/pub_key_id"

cat > "$WORK/README" <<EOF
TEST-ONLY PKI for wxpay-reconciler — generated by scripts/gen-test-pki.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ).

Every key and certificate in this directory was generated locally for tests and
the demo. None of them is a WeChat Pay credential, none may be used in
production, and ca.pem must never be added to a system trust store.

ca.pem ca.key                   test CA (signs the certificates below)
server.pem server.key           TLS certificate of the simulator (localhost, 127.0.0.1)
merchant_key.pem                merchant API private key (PKCS#8), like apiclient_key.pem
merchant_cert.pem               merchant API certificate; serial in merchant_serial
platform_key.pem platform_cert.pem platform_serial      simulated WeChat Pay platform certificate
platform2_key.pem platform2_cert.pem platform2_serial   second platform certificate (rotation tests)
wxp_key.pem                     simulated WeChat Pay private key (public-key mode)
pub_key.pem pub_key_id          its public key and id ($PUB_KEY_ID)
other_key.pem                   unrelated key for "wrong key" tests
Serial and id files hold one line without a trailing newline.
EOF

chmod 600 "$WORK"/*.key "$WORK"/*_key.pem
for f in ca.pem server.pem merchant_cert.pem platform_cert.pem platform2_cert.pem pub_key.pem \
         merchant_serial platform_serial platform2_serial pub_key_id README; do
    chmod 644 "$WORK/$f"
done
rm -f "$WORK/ext.cnf"

for f in "$WORK"/* ; do
    mv -f "$f" "$DIR/"
done
: > "$DIR/.complete"
