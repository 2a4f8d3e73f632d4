#!/bin/sh
# Generates the benchmark's TLS material once (committed; re-run only to rotate it):
#   ca.pem / ca-key.pem          RSA-2048 CA, "cio bench CA"
#   server.pem / server-key.pem  RSA-2048 leaf, CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#   client.pem / client-key.pem  RSA-2048 leaf, CN=cio-bench-client (mutual TLS)
# All leaves are X.509 v3 with CA:FALSE and the matching extendedKeyUsage, which strict
# verifiers (webpki/rustls) require. RSA-2048 because it is what most deployments run.
set -eu
cd "$(dirname "$0")"
DAYS=3650
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ca-key.pem
openssl req -x509 -new -key ca-key.pem -sha256 -days $DAYS -subj "/CN=cio bench CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.pem

leaf() { # name cn ext
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1-key.pem"
  openssl req -new -key "$1-key.pem" -subj "/CN=$2" -out "$tmp/$1.csr"
  printf '%s\n' "$3" > "$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
    -CAserial "$tmp/ca.srl" -sha256 -days $DAYS -extfile "$tmp/$1.ext" -out "$1.pem"
}

leaf server localhost "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"

leaf client cio-bench-client "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"

openssl verify -CAfile ca.pem server.pem client.pem
