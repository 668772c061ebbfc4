#!/usr/bin/env bash
# Sends one ApiVersions v0 request to 127.0.0.1:PORT (default: the PLAINTEXT listener) and
# checks the reply: matching correlation id, error code 0, a non-empty API list. Pure bash
# (/dev/tcp), so it needs nothing beyond the broker's own prerequisites.
# Prints "ApiVersions v0 on PORT: N APIs" and exits 0 when the broker answers, 1 otherwise.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/layout.sh"
port=${1:-${KAFKA_PORT[PLAINTEXT]}}

# size 15 | api_key 18 | api_version 0 | correlation_id 0x2a | client_id "probe"
request='\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x2a\x00\x05probe'
# Reply prefix: size (4) | correlation_id (4) | error_code (2) | api_keys count (4).
reply=$(timeout 5 bash -c "exec 3<>/dev/tcp/$KAFKA_HOST/$port && printf '$request' >&3 &&
  head -c 14 <&3 | od -An -v -tx1 | tr -d ' \n'" 2>/dev/null) || true

if [[ ${#reply} -ne 28 ]]; then
  echo "ApiVersions v0 on $port: no complete reply" >&2
  exit 1
fi
correlation=${reply:8:8} error=${reply:16:4} count=$((16#${reply:20:8}))
if [[ $correlation != 0000002a || $error != 0000 || $count -lt 1 ]]; then
  echo "ApiVersions v0 on $port: bad reply (correlation $correlation, error $error, $count APIs)" >&2
  exit 1
fi
echo "ApiVersions v0 on $port: $count APIs"
