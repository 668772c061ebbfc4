#!/usr/bin/env bash
# Starts the single-node Kafka broker for the integration tests and writes
# .cache/kafka/endpoints.json (what tests/integration/fixture.ts reads).
#
#   start.sh            fresh storage, unless a broker from this cache dir is already running:
#                       then it is kept and only re-checked
#   start.sh --fresh    stops a running broker first, then starts on fresh storage
#   start.sh --restart  starts again on the existing storage (after kill.sh), same cluster
#
# Runs install.sh and certs.sh first (both do nothing when already done). Waits until every
# listener accepts TCP and PLAINTEXT answers ApiVersions, for at most KAFKA_START_TIMEOUT
# seconds (default 120), then prints the endpoints.json path on stdout.
# Exit codes: 0 running, 3 Java/Maven/openssl missing, 4 a port is taken, 1 otherwise.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/layout.sh"
shopt -u patsub_replacement 2>/dev/null || true

mode=fresh
stop_first=0
case ${1:-} in
  "") ;;
  --fresh) stop_first=1 ;;
  --restart) mode=restart ;;
  *) die 1 "unknown option '$1'; use --fresh or --restart (see the header of $0)" ;;
esac
timeout_s=${KAFKA_START_TIMEOUT:-120}

take_lock
bash "$KAFKA_SCRIPTS/install.sh"
bash "$KAFKA_SCRIPTS/certs.sh"

now_ms() { date +%s%3N; }

# Shows why the broker did not come up: the end of its log and of its stdout/stderr.
show_logs() {
  local f
  for f in "$KAFKA_LOG" "$KAFKA_OUT"; do
    [[ -s $f ]] || continue
    echo "----- last lines of $f -----" >&2
    tail -n 40 "$f" >&2
  done
}

write_endpoints() { # pid, cluster id, startup ms
  local l first=1 users mechs
  mechs=$(printf '"%s", ' "${KAFKA_SASL_MECHANISMS[@]}")
  mechs="[${mechs%, }]"
  users=$(for u in "${KAFKA_USERS[@]}"; do
    printf '{ "username": "%s", "password": "%s" }, ' "$u" "${KAFKA_PASSWORD[$u]}"
  done)
  users="[${users%, }]"
  {
    echo "{"
    echo "  \"version\": 1,"
    echo "  \"kafkaVersion\": \"$KAFKA_VERSION\","
    echo "  \"clusterId\": \"$2\","
    echo "  \"pid\": $1,"
    echo "  \"startedAt\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
    echo "  \"startupMs\": $3,"
    echo "  \"listeners\": {"
    for l in "${KAFKA_LISTENERS[@]}"; do
      [[ $l == CONTROLLER ]] && continue
      local proto=${KAFKA_PROTOCOL[$l]} tls=false sasl="[]" client_auth=false reauth=0
      [[ $proto == SSL || $proto == SASL_SSL ]] && tls=true
      [[ $proto == SASL_* ]] && sasl=$mechs
      [[ $l == SSL_CLIENTAUTH ]] && client_auth=true
      [[ $l == SASL_REAUTH ]] && reauth=$KAFKA_REAUTH_MS
      ((first)) || echo ","
      first=0
      printf '    "%s": { "host": "%s", "port": %d, "securityProtocol": "%s", "tls": %s, "clientAuth": %s, "saslMechanisms": %s, "reauthMs": %d }' \
        "$l" "$KAFKA_HOST" "${KAFKA_PORT[$l]}" "$proto" "$tls" "$client_auth" "$sasl" "$reauth"
    done
    echo
    echo "  },"
    echo "  \"certs\": {"
    echo "    \"ca\": \"$KAFKA_CERTS/ca.pem\","
    echo "    \"clientCert\": \"$KAFKA_CERTS/client-cert.pem\","
    echo "    \"clientKey\": \"$KAFKA_CERTS/client-key.pem\","
    echo "    \"wrongCa\": \"$KAFKA_CERTS/wrong-ca.pem\","
    echo "    \"wrongClientCert\": \"$KAFKA_CERTS/wrong-client-cert.pem\","
    echo "    \"wrongClientKey\": \"$KAFKA_CERTS/wrong-client-key.pem\""
    echo "  },"
    echo "  \"users\": $users,"
    echo "  \"oauthbearer\": { \"validator\": \"unsecured\", \"principalClaim\": \"sub\" },"
    echo "  \"logFile\": \"$KAFKA_LOG\","
    echo "  \"scripts\": {"
    echo "    \"kill\": \"$KAFKA_SCRIPTS/kill.sh\","
    echo "    \"restart\": \"$KAFKA_SCRIPTS/restart.sh\","
    echo "    \"stop\": \"$KAFKA_SCRIPTS/stop.sh\""
    echo "  }"
    echo "}"
  } >"$KAFKA_ENDPOINTS.new"
  mv "$KAFKA_ENDPOINTS.new" "$KAFKA_ENDPOINTS"
}

# Waits until every listener accepts TCP and PLAINTEXT answers ApiVersions.
wait_ready() { # pid
  local deadline=$((SECONDS + timeout_s)) l waiting_for=""
  while ((SECONDS < deadline)); do
    if ! process_alive "$1"; then
      show_logs
      die 1 "the broker (pid $1) exited during startup; see the log lines above"
    fi
    waiting_for="the ApiVersions reply on PLAINTEXT"
    for l in "${KAFKA_LISTENERS[@]}"; do
      if ! port_open "${KAFKA_PORT[$l]}"; then
        waiting_for="listener $l (port ${KAFKA_PORT[$l]}) to accept connections"
        break
      fi
    done
    if [[ $waiting_for == *ApiVersions* ]] &&
      bash "$KAFKA_SCRIPTS/probe.sh" "${KAFKA_PORT[PLAINTEXT]}" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  show_logs
  terminate "$1" 10
  rm -f "$KAFKA_PID_FILE"
  die 1 "the broker (pid $1) was not ready within ${timeout_s} s (still waiting for $waiting_for) and was stopped; see the log lines above"
}

cluster_id_of_data() {
  sed -n 's/^cluster.id=//p' "$KAFKA_DATA/meta.properties" 2>/dev/null | head -n1
}

pid=$(broker_pid)
if [[ -n $pid ]]; then
  if ((stop_first)); then
    bash "$KAFKA_SCRIPTS/stop.sh"
  else
    say "broker already running (pid $pid); checking it"
    wait_ready "$pid"
    grep -q "\"pid\": $pid," "$KAFKA_ENDPOINTS" 2>/dev/null ||
      write_endpoints "$pid" "$(cluster_id_of_data)" 0
    echo "$KAFKA_ENDPOINTS"
    exit 0
  fi
fi
rm -f "$KAFKA_ENDPOINTS" "$KAFKA_PID_FILE"

for l in "${KAFKA_LISTENERS[@]}"; do
  if port_open "${KAFKA_PORT[$l]}"; then
    die 4 "port ${KAFKA_PORT[$l]} (listener $l) on $KAFKA_HOST is already in use by another process; stop it or pick other ports with KAFKA_PORT_BASE=<first of 7 free ports>"
  fi
done

mkdir -p "$KAFKA_CONFIG"
if [[ $mode == restart ]]; then
  [[ -f $KAFKA_DATA/meta.properties && -f $KAFKA_PROPS ]] ||
    die 1 "--restart needs the storage of an earlier start in $KAFKA_DATA; run start.sh without --restart"
  grep -q "^controller.quorum.bootstrap.servers=$KAFKA_HOST:${KAFKA_PORT[CONTROLLER]}\$" "$KAFKA_PROPS" ||
    die 1 "--restart must use the ports of the earlier start; KAFKA_PORT_BASE differs from the one $KAFKA_PROPS was made with"
  cluster_id=$(cluster_id_of_data)
else
  sasl=""
  plain_users=""
  for u in "${KAFKA_USERS[@]}"; do plain_users+=" user_$u=\"${KAFKA_PASSWORD[$u]}\""; done
  mechs=$(IFS=,; echo "${KAFKA_SASL_MECHANISMS[*]}")
  sasl+="sasl.enabled.mechanisms=$mechs"$'\n'
  for l in SASL_PLAINTEXT SASL_SSL SASL_REAUTH; do
    p=listener.name.${l,,}
    sasl+="$p.sasl.enabled.mechanisms=$mechs"$'\n'
    sasl+="$p.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain_users;"$'\n'
    sasl+="$p.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"$'\n'
    sasl+="$p.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"$'\n'
    sasl+="$p.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=\"broker\";"$'\n'
  done
  props=$(<"$KAFKA_SCRIPTS/server.properties.in")
  props=${props//@HOST@/$KAFKA_HOST}
  for l in "${KAFKA_LISTENERS[@]}"; do props=${props//@PORT_$l@/${KAFKA_PORT[$l]}}; done
  props=${props//@DATA@/$KAFKA_DATA}
  props=${props//@CERTS@/$KAFKA_CERTS}
  props=${props//@REAUTH_MS@/$KAFKA_REAUTH_MS}
  props=${props//@SASL_CONFIG@/${sasl%$'\n'}}
  [[ ! $props =~ @[A-Z_]+@ ]] || die 1 "placeholder ${BASH_REMATCH[0]} in server.properties.in was not filled in"
  echo "$props" >"$KAFKA_PROPS"
  log4j=$(<"$KAFKA_SCRIPTS/log4j2.properties.in")
  echo "${log4j//@LOG@/$KAFKA_LOG}" >"$KAFKA_LOG4J"

  # Kafka's cluster ids are 16 random bytes in URL-safe base64; like Kafka's own generator,
  # avoid ids starting with "-", which command lines would take for an option.
  cluster_id=-
  while [[ $cluster_id == -* ]]; do
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  done
  rm -rf "$KAFKA_DATA"
  scram=()
  for u in "${KAFKA_USERS[@]}"; do
    for m in SCRAM-SHA-256 SCRAM-SHA-512; do
      scram+=(--add-scram "$m=[name=$u,password=${KAFKA_PASSWORD[$u]}]")
    done
  done
  say "formatting $KAFKA_DATA (cluster $cluster_id)"
  if ! "$JAVA" -Xmx256m -cp "$KAFKA_LIBS/*" -Dlog4j2.configurationFile="file:$KAFKA_LOG4J" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_PROPS" --standalone "${scram[@]}" \
    >"$KAFKA_CACHE/format.log" 2>&1; then
    cat "$KAFKA_CACHE/format.log" >&2
    die 1 "formatting the storage failed (output above); check $KAFKA_PROPS"
  fi
  : >"$KAFKA_LOG"
  : >"$KAFKA_OUT"
fi

say "starting Kafka $KAFKA_VERSION ($mode) on $KAFKA_HOST ports ${KAFKA_PORT[PLAINTEXT]}..${KAFKA_PORT[CONTROLLER]}"
started=$(now_ms)
launcher=()
command -v setsid >/dev/null && launcher=(setsid)
# A session of its own and no inherited pipes or lock: the broker outlives this script and a
# caller waiting for this script's output (spawnSync) is not held up by it.
"${launcher[@]}" "$JAVA" -Xms128m -Xmx"$KAFKA_HEAP" -XX:+ExitOnOutOfMemoryError \
  -Djava.awt.headless=true -Dlog4j2.configurationFile="file:$KAFKA_LOG4J" \
  -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" </dev/null >>"$KAFKA_OUT" 2>&1 9>&- &
pid=$!
echo "$pid" >"$KAFKA_PID_FILE"

wait_ready "$pid"
startup_ms=$(($(now_ms) - started))
write_endpoints "$pid" "$cluster_id" "$startup_ms"
for l in "${KAFKA_LISTENERS[@]}"; do
  say "  $(printf '%-15s' "$l") ${KAFKA_PROTOCOL[$l]} $KAFKA_HOST:${KAFKA_PORT[$l]}"
done
say "broker pid $pid ready in $startup_ms ms; log $KAFKA_LOG"
echo "$KAFKA_ENDPOINTS"
