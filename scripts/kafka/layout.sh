# shellcheck shell=bash
# Sourced by every scripts/kafka/*.sh: where things live, which ports each listener uses, and
# the small helpers they share. Override with environment variables:
#   KAFKA_CACHE_DIR  where jars, certs, config, data and endpoints.json go (default .cache/kafka)
#   KAFKA_PORT_BASE  first of the seven consecutive loopback ports used (default 39092)
#   KAFKA_HEAP       JVM heap for the broker (default 512m; the CI machine has 2 cores)
#   JAVA, MVN        the java and mvn commands (default: found on PATH)

KAFKA_VERSION=4.1.1
KAFKA_SCALA_VERSION=2.13
LOG4J_VERSION=2.24.3

KAFKA_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAFKA_REPO=$(cd "$KAFKA_SCRIPTS/../.." && pwd)
KAFKA_CACHE=${KAFKA_CACHE_DIR:-$KAFKA_REPO/.cache/kafka}
mkdir -p "$KAFKA_CACHE"
KAFKA_CACHE=$(cd "$KAFKA_CACHE" && pwd)

KAFKA_LIBS=$KAFKA_CACHE/libs
KAFKA_CERTS=$KAFKA_CACHE/certs
KAFKA_CONFIG=$KAFKA_CACHE/config
KAFKA_DATA=$KAFKA_CACHE/data
KAFKA_PROPS=$KAFKA_CONFIG/server.properties
KAFKA_LOG4J=$KAFKA_CONFIG/log4j2.properties
KAFKA_LOG=$KAFKA_CACHE/broker.log
KAFKA_OUT=$KAFKA_CACHE/broker.out
KAFKA_PID_FILE=$KAFKA_CACHE/broker.pid
KAFKA_ENDPOINTS=$KAFKA_CACHE/endpoints.json
KAFKA_LOCK=$KAFKA_CACHE/.lock

JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
KAFKA_HEAP=${KAFKA_HEAP:-512m}

KAFKA_HOST=127.0.0.1
KAFKA_PORT_BASE=${KAFKA_PORT_BASE:-39092}
# Listener name, security protocol and port, in a fixed order; CONTROLLER is last and is not
# advertised to clients.
KAFKA_LISTENERS=(PLAINTEXT SSL SSL_CLIENTAUTH SASL_PLAINTEXT SASL_SSL SASL_REAUTH CONTROLLER)
declare -A KAFKA_PROTOCOL=(
  [PLAINTEXT]=PLAINTEXT [SSL]=SSL [SSL_CLIENTAUTH]=SSL [SASL_PLAINTEXT]=SASL_PLAINTEXT
  [SASL_SSL]=SASL_SSL [SASL_REAUTH]=SASL_PLAINTEXT [CONTROLLER]=PLAINTEXT
)
declare -A KAFKA_PORT=()
for i in "${!KAFKA_LISTENERS[@]}"; do
  KAFKA_PORT[${KAFKA_LISTENERS[$i]}]=$((KAFKA_PORT_BASE + i))
done
# The session lifetime SASL_REAUTH hands out (KIP-368); the broker drops connections that do
# not re-authenticate within it.
KAFKA_REAUTH_MS=3000
KAFKA_SASL_MECHANISMS=(PLAIN SCRAM-SHA-256 SCRAM-SHA-512 OAUTHBEARER)
# Users known to every SASL listener, for PLAIN and both SCRAM mechanisms. Two of them, so
# that re-authenticating as a different principal can be tested.
KAFKA_USERS=(alice bob)
declare -A KAFKA_PASSWORD=([alice]=alice-secret [bob]=bob-secret)

# Prints a message to stderr and exits with the given code.
die() {
  local code=$1
  shift
  echo "kafka: $*" >&2
  exit "$code"
}

# Says what is happening, on stderr so stdout stays clean for callers.
say() {
  echo "kafka: $*" >&2
}

# Takes the cache-wide lock so that two engineers (or CI jobs) sharing a work tree do not
# install, start or stop at the same time. Child scripts inherit it through KAFKA_LOCK_HELD.
take_lock() {
  [[ -n ${KAFKA_LOCK_HELD:-} ]] && return 0
  exec 9>"$KAFKA_LOCK"
  if command -v flock >/dev/null; then
    flock -w 600 9 || die 1 "another scripts/kafka command has held $KAFKA_LOCK for 10 minutes"
  fi
  export KAFKA_LOCK_HELD=1
}

# Exits with code 3 unless Java 17+ is available: CI reports "integration suite did not run".
require_java() {
  command -v "$JAVA" >/dev/null ||
    die 3 "no Java: '$JAVA' is not on PATH. Install a JDK 17+ (e.g. apt-get install openjdk-17-jre-headless) or set JAVA."
  local version major
  version=$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)
  major=${version%%.*}
  [[ $major == 1 ]] && major=$(echo "$version" | cut -d. -f2)
  [[ $major =~ ^[0-9]+$ && $major -ge 17 ]] ||
    die 3 "Java $version found at $(command -v "$JAVA"); Kafka $KAFKA_VERSION needs Java 17 or newer."
}

# The pid of the broker started from this cache dir, if it is still running; empty otherwise.
# Checks the command line too, so that a recycled pid never gets signalled.
broker_pid() {
  [[ -f $KAFKA_PID_FILE ]] || return 0
  local pid
  pid=$(cat "$KAFKA_PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  if ps -ww -o args= -p "$pid" 2>/dev/null | grep -q "kafka.Kafka $KAFKA_PROPS"; then
    echo "$pid"
  fi
}

# Whether process $1 exists and is not a zombie (an unreaped zombie still answers kill -0).
process_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [[ $(ps -o stat= -p "$1" 2>/dev/null) != Z* ]]
}

# Stops process $1: SIGTERM (the broker's controlled shutdown), up to $2 seconds for it to
# exit, then SIGKILL.
terminate() {
  kill -TERM "$1" 2>/dev/null || true
  local deadline=$((SECONDS + $2))
  while process_alive "$1" && ((SECONDS < deadline)); do sleep 0.2; done
  if process_alive "$1"; then
    say "process $1 ignored SIGTERM for $2 s; sending SIGKILL"
    kill -KILL "$1" 2>/dev/null || true
    while process_alive "$1"; do sleep 0.1; done
  fi
}

# Whether something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  timeout 3 bash -c "exec 3<>/dev/tcp/$KAFKA_HOST/$1" 2>/dev/null
}
