#!/usr/bin/env bash
# Makes the PEM files the TLS listeners and the TLS tests use, in .cache/kafka/certs:
#   ca.pem                        the test CA the broker's certificates chain to
#   server-cert.pem, server-key.pem  the broker's certificate (SAN DNS:localhost, IP:127.0.0.1)
#   server-keystore.pem           key + certificate + CA, as Kafka's PEM keystore wants them
#   client-cert.pem, client-key.pem  a client certificate from ca.pem (mutual TLS)
#   wrong-ca.pem                  an unrelated CA: trusting only it must fail verification
#   wrong-client-cert.pem, wrong-client-key.pem  a client certificate from wrong-ca.pem, which
#                                 the client-auth listener must refuse
# Hostname mismatch needs no extra certificate: connect with serverName "wrong.example".
# Idempotent: keeps existing files while they verify and stay valid for 7 more days;
# --force makes new ones.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/layout.sh"
take_lock
command -v openssl >/dev/null || die 3 "no openssl on PATH: install it (e.g. apt-get install openssl)."

cnf=$KAFKA_SCRIPTS/x509.cnf
files=(ca.pem server-cert.pem server-key.pem server-keystore.pem client-cert.pem client-key.pem
  wrong-ca.pem wrong-client-cert.pem wrong-client-key.pem)

usable() {
  local f
  for f in "${files[@]}"; do [[ -s $KAFKA_CERTS/$f ]] || return 1; done
  openssl verify -CAfile "$KAFKA_CERTS/ca.pem" "$KAFKA_CERTS/server-cert.pem" \
    "$KAFKA_CERTS/client-cert.pem" >/dev/null 2>&1 || return 1
  local cert
  for cert in ca server-cert client-cert wrong-ca wrong-client-cert; do
    openssl x509 -checkend 604800 -noout -in "$KAFKA_CERTS/$cert.pem" >/dev/null || return 1
  done
}

if [[ ${1:-} != --force ]] && usable; then
  say "certificates in $KAFKA_CERTS are present and valid"
  exit 0
fi

work=$KAFKA_CACHE/certs.partial
rm -rf "$work"
mkdir -p "$work"
cd "$work"
umask 077

key() {
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
}

ca() { # name, subject
  key "$1-key.pem"
  openssl req -x509 -new -key "$1-key.pem" -subj "$2" -days 3650 -sha256 \
    -config "$cnf" -extensions ca_ext -out "$1.pem"
}

leaf() { # name, subject, extensions section, issuing CA name
  key "$1-key.pem"
  openssl req -new -key "$1-key.pem" -subj "$2" -config "$cnf" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4-key.pem" \
    -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 \
    -extfile "$cnf" -extensions "$3" -out "$1-cert.pem" 2>/dev/null
  rm "$1.csr"
}

ca ca "/O=kafka-wire tests/CN=kafka-wire test CA"
ca wrong-ca "/O=kafka-wire tests/CN=unrelated test CA"
leaf server "/O=kafka-wire tests/CN=localhost" server_ext ca
leaf client "/O=kafka-wire tests/CN=client" client_ext ca
leaf wrong-client "/O=kafka-wire tests/CN=client" client_ext wrong-ca
cat server-key.pem server-cert.pem ca.pem >server-keystore.pem
# Nobody needs the CA keys after signing; dropping them keeps the test CA from signing more.
rm ca-key.pem wrong-ca-key.pem
chmod 644 ./*.pem

openssl verify -CAfile ca.pem server-cert.pem client-cert.pem >/dev/null
openssl verify -CAfile wrong-ca.pem wrong-client-cert.pem >/dev/null
cd "$KAFKA_CACHE"
rm -rf "$KAFKA_CERTS"
mv "$work" "$KAFKA_CERTS"
say "made certificates in $KAFKA_CERTS"
