#!/usr/bin/env bash
# Almanac native service harness: installs (on first use) and runs single-node
# Kafka, Cassandra, FerretDB (MongoDB wire protocol) and Redis on loopback,
# without Docker. See scripts/stack/README.md.
#
#   npm run stack -- up|down|start|stop|restart|status|logs|install|env|clean|kafka-topics [service...]
#
# Downloads and builds are cached outside the checkout in
# ${ALMANAC_CACHE:-$HOME/.cache/almanac}; runtime data, logs and pid files live
# in .stack/ at the repository root.
set -Eeuo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
CACHE=${ALMANAC_CACHE:-$HOME/.cache/almanac}
STACK_DIR=${ALMANAC_STACK_DIR:-$ROOT/.stack}
LOG_DIR=$STACK_DIR/logs
RUN_DIR=$STACK_DIR/run

KAFKA_VERSION=3.9.1
CASSANDRA_VERSION=5.0.8
FERRETDB_VERSION=1.24.2
MVN_DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

HOST=127.0.0.1
KAFKA_PORT=${ALMANAC_STACK_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${ALMANAC_STACK_KAFKA_CONTROLLER_PORT:-19093}
CASSANDRA_PORT=${ALMANAC_STACK_CASSANDRA_PORT:-19042}
CASSANDRA_STORAGE_PORT=${ALMANAC_STACK_CASSANDRA_STORAGE_PORT:-17000}
FERRETDB_PORT=${ALMANAC_STACK_MONGO_PORT:-27018}
REDIS_PORT=${ALMANAC_STACK_REDIS_PORT:-16379}

KAFKA_HEAP=${ALMANAC_STACK_KAFKA_HEAP:-512m}
CASSANDRA_HEAP=${ALMANAC_STACK_CASSANDRA_HEAP:-1G}

# Start order: slowest first, so that the others come up while Cassandra boots.
ALL_SERVICES=(cassandra kafka ferretdb redis)

JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

# ---------------------------------------------------------------- helpers

say() { printf '[stack] %s\n' "$*"; }
warn() { printf '[stack] %s\n' "$*" >&2; }
die() { warn "error: $*"; exit 1; }

usage() {
  cat <<EOF
usage: npm run stack -- <command> [service...]
       (or: bash scripts/stack/stack.sh <command> [service...])

commands:
  up [svc...]        install what is missing, start, wait until ready (default: all)
  down [svc...]      stop (SIGTERM, then SIGKILL after a timeout); data is kept
  start <svc...>     same as up, for the named services
  stop <svc...>      same as down, for the named services
  restart [svc...]   stop then start
  status [svc...]    print up/down, pid, port and resident memory; exit 0 only if all are up
  logs [svc] [-f] [-n N]  print the last N (100) lines of a service log, -f to follow
  install [svc...]   only install/build into the cache
  env                print the connection settings (also written to .stack/env)
  clean [svc...]     stop and delete the runtime data of the services (default: all)
  kafka-topics ARGS  run Kafka's TopicCommand against the local broker
                     e.g. kafka-topics --create --topic t --partitions 3

services: ${ALL_SERVICES[*]}   (aliases: mongo=ferretdb, cql=cassandra)

ports: kafka $HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT), cassandra $HOST:$CASSANDRA_PORT
       (storage $CASSANDRA_STORAGE_PORT), ferretdb $HOST:$FERRETDB_PORT, redis $HOST:$REDIS_PORT
cache: $CACHE      runtime: $STACK_DIR
EOF
}

canon_service() {
  case "$1" in
    kafka) echo kafka ;;
    cassandra | cql) echo cassandra ;;
    ferretdb | ferret | mongo | mongodb) echo ferretdb ;;
    redis) echo redis ;;
    *) die "unknown service '$1' (known: ${ALL_SERVICES[*]})" ;;
  esac
}

# Fills the global array SVCS from the arguments (all services when none).
parse_services() {
  SVCS=()
  if [ $# -eq 0 ]; then
    SVCS=("${ALL_SERVICES[@]}")
    return
  fi
  local a
  for a in "$@"; do SVCS+=("$(canon_service "$a")"); done
}

svc_port() {
  case "$1" in
    kafka) echo "$KAFKA_PORT" ;;
    cassandra) echo "$CASSANDRA_PORT" ;;
    ferretdb) echo "$FERRETDB_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
  esac
}

start_timeout() {
  local d
  case "$1" in
    kafka) d=${ALMANAC_STACK_KAFKA_TIMEOUT:-120} ;;
    cassandra) d=${ALMANAC_STACK_CASSANDRA_TIMEOUT:-240} ;;
    ferretdb) d=${ALMANAC_STACK_FERRETDB_TIMEOUT:-30} ;;
    redis) d=${ALMANAC_STACK_REDIS_TIMEOUT:-20} ;;
  esac
  echo "${ALMANAC_STACK_START_TIMEOUT:-$d}"
}

stop_timeout() {
  case "$1" in
    kafka | cassandra) echo 45 ;;
    *) echo 15 ;;
  esac
}

svc_log() { echo "$LOG_DIR/$1.log"; }
svc_pidfile() { echo "$RUN_DIR/$1.pid"; }

# A string that must appear in /proc/PID/cmdline for the pid file to be
# trusted (guards against pid reuse). Redis rewrites its process title, so for
# it the title is checked.
svc_marker() {
  case "$1" in
    kafka | cassandra) echo "-Dalmanac.stack=$1" ;;
    ferretdb) echo "$STACK_DIR/ferretdb/data" ;;
    redis) echo "redis-server" ;;
  esac
}

svc_pid() {
  local f
  f=$(svc_pidfile "$1")
  [ -s "$f" ] && cat "$f"
}

# True when the service's recorded process is alive (and not a zombie).
svc_alive() {
  local pid state
  pid=$(svc_pid "$1") || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] && [ "$state" != X ] || return 1
  local cmdline marker
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  marker=$(svc_marker "$1")
  [[ $cmdline == *"$marker"* ]]
}

pid_gone() {
  local pid=$1 state
  [ -r "/proc/$pid/stat" ] || return 0
  state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 0
  [ "$state" = Z ] || [ "$state" = X ]
}

port_listening() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]
  else
    (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null
  fi
}

svc_ready() {
  local log
  log=$(svc_log "$1")
  case "$1" in
    kafka) port_listening "$KAFKA_PORT" && grep -q "Kafka Server started" "$log" 2>/dev/null ;;
    cassandra) port_listening "$CASSANDRA_PORT" && grep -q "Starting listening for CQL clients" "$log" 2>/dev/null ;;
    ferretdb) port_listening "$FERRETDB_PORT" && grep -q "Listening on TCP" "$log" 2>/dev/null ;;
    redis) [ "$(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] ;;
  esac
}

rss_of() {
  local pid=$1
  awk '/^VmRSS:/ { printf "%d MiB", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null
}

hint() {
  case "$1" in
    kafka) echo "Kafka needs ports $KAFKA_PORT and $KAFKA_CONTROLLER_PORT free and Java 17+. If its data is damaged, 'npm run stack -- clean kafka' wipes it. Override ports with ALMANAC_STACK_KAFKA_PORT / ALMANAC_STACK_KAFKA_CONTROLLER_PORT." ;;
    cassandra) echo "Cassandra needs ~1.5 GB of free memory, ports $CASSANDRA_PORT and $CASSANDRA_STORAGE_PORT free, and can take 60-120 s on 2 cores; raise ALMANAC_STACK_CASSANDRA_TIMEOUT (now $(start_timeout cassandra) s) or 'npm run stack -- clean cassandra' to start from empty data." ;;
    ferretdb) echo "FerretDB is built from scripts/stack/ferretdb with Go; delete $CACHE/ferretdb-$FERRETDB_VERSION to force a rebuild, or 'npm run stack -- clean ferretdb' to drop its SQLite data. Port: ALMANAC_STACK_MONGO_PORT." ;;
    redis) echo "Redis comes from Debian's redis-server package (apt-get install -y redis-server). Port: ALMANAC_STACK_REDIS_PORT." ;;
  esac
}

# fail_service SVC WHY [nolog]: report a failure with the log tail and a hint.
fail_service() {
  local svc=$1 why=$2 log
  log=$(svc_log "$svc")
  warn "$svc: $why"
  if [ "${3:-}" != nolog ] && [ -s "$log" ]; then
    warn "---- last 30 lines of $log (long lines cut) ----"
    tail -n 30 "$log" | cut -c1-400 >&2 || true
    warn "---- end of $log ----"
  fi
  warn "hint: $(hint "$svc")"
}

ensure_dirs() {
  mkdir -p "$STACK_DIR" "$LOG_DIR" "$RUN_DIR" "$CACHE"
}

write_env() {
  local f=$STACK_DIR/env
  cat >"$f.tmp" <<EOF
# Written by scripts/stack/stack.sh: connection settings of the local native stack.
ALMANAC_KAFKA_BROKERS=$HOST:$KAFKA_PORT
ALMANAC_MONGO_URL=mongodb://$HOST:$FERRETDB_PORT/almanac
ALMANAC_CASSANDRA_CONTACT_POINTS=$HOST:$CASSANDRA_PORT
ALMANAC_REDIS_URL=redis://$HOST:$REDIS_PORT
EOF
  mv -f "$f.tmp" "$f"
}

need_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (Java 17+ is needed for Kafka and Cassandra; apt-get install -y openjdk-17-jre-headless)"
  local v
  v=$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ { print $2 }')
  [ "${v%%.*}" -ge 17 ] 2>/dev/null || die "Java 17+ is needed, found '${v:-unknown}' ($JAVA)"
}

# Lock helper: run "$@" while holding an flock on file $1.
with_lock() {
  local lockfile=$1
  shift
  mkdir -p "$(dirname "$lockfile")"
  (
    flock -w 900 9 || die "could not take the lock $lockfile within 15 minutes"
    "$@"
  ) 9>"$lockfile"
}

# ---------------------------------------------------------------- install

stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# install_maven NAME POMDIR DEST: copy the runtime jars of POMDIR/pom.xml to DEST/lib.
install_maven() {
  local name=$1 pomdir=$2 dest=$3 want ilog
  want=$(stamp_of "$pomdir/pom.xml")
  if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$want" ] && [ -d "$dest/lib" ]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (apt-get install -y maven)"
  ilog=$LOG_DIR/install-$name.log
  say "$name: resolving jars from Maven Central into $dest (log: $ilog)"
  local t0=$SECONDS
  rm -rf "$dest/lib.tmp"
  mkdir -p "$dest"
  if ! mvn -q -B -f "$pomdir/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
    "$MVN_DEP_PLUGIN:copy-dependencies" -DincludeScope=runtime \
    -DoutputDirectory="$dest/lib.tmp" >"$ilog" 2>&1; then
    tail -n 30 "$ilog" >&2 || true
    die "$name: Maven could not resolve the jars (see $ilog; Maven Central must be reachable)"
  fi
  rm -rf "${dest:?}/lib"
  mv "$dest/lib.tmp" "$dest/lib"
  echo "$want" >"$dest/.stamp"
  say "$name: $(ls "$dest/lib" | wc -l) jars, $(du -sh "$dest/lib" | cut -f1), in $((SECONDS - t0)) s"
}

install_kafka() {
  with_lock "$CACHE/.install-kafka.lock" install_maven kafka "$SCRIPT_DIR/kafka" "$CACHE/kafka-$KAFKA_VERSION"
}

install_cassandra() {
  with_lock "$CACHE/.install-cassandra.lock" install_maven cassandra "$SCRIPT_DIR/cassandra" "$CACHE/cassandra-$CASSANDRA_VERSION"
}

FERRETDB_BIN=$CACHE/ferretdb-$FERRETDB_VERSION/ferretdb

install_ferretdb_locked() {
  local src=$SCRIPT_DIR/ferretdb dest=$CACHE/ferretdb-$FERRETDB_VERSION want ilog
  want=$(stamp_of "$src/go.mod" "$src/go.sum" "$src/main.go")
  if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$want" ] && [ -x "$FERRETDB_BIN" ]; then
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "go not found (Go 1.24+ is needed to build FerretDB)"
  ilog=$LOG_DIR/install-ferretdb.log
  say "ferretdb: building FerretDB v$FERRETDB_VERSION with $(go env GOVERSION) (first time takes a few minutes; log: $ilog)"
  local t0=$SECONDS
  mkdir -p "$dest"
  if ! (cd "$src" &&
    GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOPATH="$CACHE/go/path" \
      GOFLAGS="-mod=readonly -modcacherw" GOTOOLCHAIN=local CGO_ENABLED=0 \
      go build -trimpath -buildvcs=false -o "$FERRETDB_BIN.tmp" .) >"$ilog" 2>&1; then
    tail -n 30 "$ilog" >&2 || true
    die "ferretdb: go build failed (see $ilog; the Go module proxy must be reachable)"
  fi
  mv -f "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  echo "$want" >"$dest/.stamp"
  say "ferretdb: built $FERRETDB_BIN in $((SECONDS - t0)) s"
}

install_ferretdb() {
  with_lock "$CACHE/.install-ferretdb.lock" install_ferretdb_locked
}

install_redis() {
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "redis-server is missing; install it with: sudo apt-get install -y redis-server"
  command -v apt-get >/dev/null 2>&1 || die "redis-server is missing and apt-get is not available"
  local ilog=$LOG_DIR/install-redis.log
  say "redis: installing Debian's redis-server package (log: $ilog)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >"$ilog" 2>&1; then
    tail -n 30 "$ilog" >&2 || true
    die "redis: apt-get install redis-server failed (see $ilog)"
  fi
}

install_service() {
  case "$1" in
    kafka) need_java; install_kafka ;;
    cassandra) need_java; install_cassandra ;;
    ferretdb) install_ferretdb ;;
    redis) install_redis ;;
  esac
}

# Installs the given services; the Go build (CPU-bound) runs alongside the
# Maven downloads (network-bound).
install_services() {
  local svc go_pid="" want_ferretdb=0 rest=()
  for svc in "$@"; do
    if [ "$svc" = ferretdb ]; then want_ferretdb=1; else rest+=("$svc"); fi
  done
  if [ $want_ferretdb = 1 ]; then
    install_ferretdb &
    go_pid=$!
  fi
  for svc in "${rest[@]+"${rest[@]}"}"; do
    install_service "$svc"
  done
  if [ -n "$go_pid" ]; then
    wait "$go_pid" || die "installation of ferretdb failed"
  fi
}

# ---------------------------------------------------------------- config

write_kafka_config() {
  local d=$STACK_DIR/kafka
  mkdir -p "$d/conf" "$d/data"
  cat >"$d/conf/server.properties" <<EOF
# Generated by scripts/stack/stack.sh on each start: single-node KRaft (combined mode).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$d/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=1073741824
EOF
  cat >"$d/conf/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
EOF
}

kafka_java_opts() {
  local d=$STACK_DIR/kafka
  KAFKA_JAVA=(
    "$JAVA" "-Xms$KAFKA_HEAP" "-Xmx$KAFKA_HEAP"
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:ErrorFile="$LOG_DIR/kafka-hs_err_%p.log"
    -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true
    "-Dlog4j.configuration=file:$d/conf/log4j.properties" "-Dkafka.logs.dir=$LOG_DIR"
    -cp "$CACHE/kafka-$KAFKA_VERSION/lib/*"
  )
}

write_cassandra_config() {
  local d=$STACK_DIR/cassandra
  mkdir -p "$d/conf" "$d/triggers" "$d/data/data" "$d/data/commitlog" "$d/data/saved_caches" "$d/data/hints" "$d/data/cdc_raw"
  cat >"$d/conf/cassandra.yaml" <<EOF
# Generated by scripts/stack/stack.sh on each start: single node on loopback.
cluster_name: almanac
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
auto_bootstrap: false
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$HOST:$CASSANDRA_STORAGE_PORT"
listen_address: $HOST
rpc_address: $HOST
storage_port: $CASSANDRA_STORAGE_PORT
native_transport_port: $CASSANDRA_PORT
start_native_transport: true
data_file_directories:
  - $d/data/data
commitlog_directory: $d/data/commitlog
saved_caches_directory: $d/data/saved_caches
hints_directory: $d/data/hints
cdc_raw_directory: $d/data/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
auto_snapshot: false
snapshot_before_compaction: false
incremental_backups: false
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 8
EOF
  cat >"$d/conf/logback.xml" <<'EOF'
<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder>
      <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
    </encoder>
  </appender>
  <logger name="org.apache.cassandra" level="INFO"/>
  <root level="INFO">
    <appender-ref ref="STDOUT"/>
  </root>
</configuration>
EOF
}

# The --add-exports/--add-opens list of Cassandra 5.0's conf/jvm17-server.options.
CASSANDRA_JPMS=(
  -Djdk.attach.allowAttachSelf=true
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
  --add-exports java.sql/java.sql=ALL-UNNAMED
  --add-exports java.base/java.lang.ref=ALL-UNNAMED
  --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
  --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
  --add-opens java.base/java.lang.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED
  --add-opens java.base/jdk.internal.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  --add-opens java.base/java.nio=ALL-UNNAMED
)

# ---------------------------------------------------------------- start/stop

# launch SVC CMD...: start CMD detached (own session, no stdin, SIGHUP
# ignored), output appended to the service log, pid recorded in its pid file.
launch() {
  local svc=$1 log pidfile
  shift
  log=$(svc_log "$svc")
  pidfile=$(svc_pidfile "$svc")
  # Keep the previous run's log for post-mortems; readiness greps the new one.
  [ -f "$log" ] && mv -f "$log" "$log.prev"
  : >"$log"
  rm -f "$pidfile"
  # The inner shell writes its own pid and then execs the service, so the pid
  # file holds the service's pid whether or not setsid had to fork.
  # fd 9 (the .stack lock) is closed so that the service does not hold it.
  setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' stack-launch "$pidfile" "$@" \
    </dev/null >>"$log" 2>&1 9>&- &
  local i
  for i in $(seq 1 50); do
    [ -s "$pidfile" ] && return 0
    sleep 0.1
  done
  die "$svc: the process did not record its pid in $pidfile"
}

start_kafka() {
  local d=$STACK_DIR/kafka lib=$CACHE/kafka-$KAFKA_VERSION/lib
  write_kafka_config
  kafka_java_opts
  if [ ! -f "$d/data/meta.properties" ]; then
    # A cluster id is a base64url-encoded random 16-byte UUID (as printed by
    # StorageTool random-uuid); one starting with '-' would read as an option.
    local cid=-
    while [ "${cid:0:1}" = - ]; do
      cid=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    done
    say "kafka: formatting storage in $d/data (cluster id $cid)"
    if ! "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format -t "$cid" \
      -c "$d/conf/server.properties" --ignore-formatted >"$(svc_log kafka).format" 2>&1; then
      cat "$(svc_log kafka).format" >&2
      die "kafka: formatting the storage failed"
    fi
  fi
  launch kafka "${KAFKA_JAVA[@]}" -Dalmanac.stack=kafka kafka.Kafka "$d/conf/server.properties"
}

start_cassandra() {
  local d=$STACK_DIR/cassandra lib=$CACHE/cassandra-$CASSANDRA_VERSION/lib jamm
  jamm=$(ls "$lib"/jamm-*.jar 2>/dev/null | head -n 1)
  [ -n "$jamm" ] || die "cassandra: jamm jar not found in $lib"
  write_cassandra_config
  launch cassandra "$JAVA" "-Xms$CASSANDRA_HEAP" "-Xmx$CASSANDRA_HEAP" -Xss256k \
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1 -XX:MaxGCPauseMillis=300 \
    -XX:+UseTLAB -XX:+ResizeTLAB -XX:+PerfDisableSharedMem -XX:+CrashOnOutOfMemoryError \
    -XX:ErrorFile="$LOG_DIR/cassandra-hs_err_%p.log" \
    "${CASSANDRA_JPMS[@]}" \
    -Dio.netty.tryReflectionSetAccessible=true -Dio.netty.allocator.useCacheForAllThreads=true \
    -Dio.netty.allocator.maxOrder=11 \
    -Djava.net.preferIPv4Stack=true -Djava.awt.headless=true \
    "-javaagent:$jamm" \
    "-Dcassandra.config=file://$d/conf/cassandra.yaml" \
    "-Dlogback.configurationFile=$d/conf/logback.xml" \
    "-Dcassandra.storagedir=$d/data" "-Dcassandra.logdir=$LOG_DIR" "-Dcassandra.triggers_dir=$d/triggers" \
    -Dcassandra-foreground=yes \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 \
    -Dcassandra.superuser_setup_delay_ms=0 \
    -Dalmanac.stack=cassandra \
    -cp "$lib/*" org.apache.cassandra.service.CassandraDaemon
}

start_ferretdb() {
  mkdir -p "$STACK_DIR/ferretdb/data"
  launch ferretdb "$FERRETDB_BIN" -listen "$HOST:$FERRETDB_PORT" -dir "$STACK_DIR/ferretdb/data"
}

start_redis() {
  mkdir -p "$STACK_DIR/redis"
  # No persistence while running (no RDB snapshots, no AOF); `stop` asks for
  # SHUTDOWN SAVE so a stop/start keeps the data, like a restarted server.
  launch redis redis-server --bind "$HOST" --port "$REDIS_PORT" --dir "$STACK_DIR/redis" \
    --save "" --appendonly no --dbfilename dump.rdb --daemonize no --protected-mode yes \
    --logfile "" --loglevel notice
}

# Checks that the service's ports are free (when it is not running).
check_ports_free() {
  local svc=$1 p ports
  case "$svc" in
    kafka) ports="$KAFKA_PORT $KAFKA_CONTROLLER_PORT" ;;
    cassandra) ports="$CASSANDRA_PORT $CASSANDRA_STORAGE_PORT" ;;
    *) ports=$(svc_port "$svc") ;;
  esac
  for p in $ports; do
    if port_listening "$p"; then
      ss -Hltnp "sport = :$p" >&2 2>/dev/null || true
      fail_service "$svc" "port $HOST:$p is already in use by another process (not one started from $STACK_DIR)" nolog
      return 1
    fi
  done
}

# Starts one service (not waiting). Returns 1 on failure.
start_service() {
  local svc=$1
  if svc_alive "$svc"; then
    say "$svc: already running (pid $(svc_pid "$svc")) on $HOST:$(svc_port "$svc")"
    return 0
  fi
  check_ports_free "$svc" || return 1
  say "$svc: starting on $HOST:$(svc_port "$svc") (log: $(svc_log "$svc"))"
  "start_$svc"
}

# Waits until the service is ready; on failure prints its log tail and stops it.
wait_ready() {
  local svc=$1 timeout t0=$SECONDS
  timeout=$(start_timeout "$svc")
  while :; do
    if ! svc_alive "$svc"; then
      fail_service "$svc" "the process exited during startup"
      rm -f "$(svc_pidfile "$svc")"
      return 1
    fi
    if svc_ready "$svc"; then
      say "$svc: ready on $HOST:$(svc_port "$svc") (pid $(svc_pid "$svc"), $((SECONDS - t0)) s waited)"
      return 0
    fi
    if [ $((SECONDS - t0)) -ge "$timeout" ]; then
      fail_service "$svc" "not ready after $timeout s; stopping it"
      stop_service "$svc" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

stop_service() {
  local svc=$1 pid timeout i
  if ! svc_alive "$svc"; then
    rm -f "$(svc_pidfile "$svc")"
    say "$svc: not running"
    return 0
  fi
  pid=$(svc_pid "$svc")
  timeout=$(stop_timeout "$svc")
  say "$svc: stopping (pid $pid)"
  if [ "$svc" = redis ]; then
    # SHUTDOWN SAVE writes dump.rdb so that a later start keeps the data.
    redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown save >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  for ((i = 0; i < timeout * 10; i++)); do
    pid_gone "$pid" && break
    sleep 0.1
  done
  if ! pid_gone "$pid"; then
    warn "$svc: still running after $timeout s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      pid_gone "$pid" && break
      sleep 0.1
    done
  fi
  rm -f "$(svc_pidfile "$svc")"
  say "$svc: stopped"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  parse_services "$@"
  ensure_dirs
  write_env
  local t0=$SECONDS svc failed=() to_start=()
  for svc in "${SVCS[@]}"; do
    svc_alive "$svc" || to_start+=("$svc")
  done
  if [ ${#to_start[@]} -gt 0 ]; then
    install_services "${to_start[@]}"
  fi
  for svc in "${SVCS[@]}"; do
    start_service "$svc" || failed+=("$svc")
  done
  for svc in "${SVCS[@]}"; do
    case " ${failed[*]-} " in *" $svc "*) continue ;; esac
    wait_ready "$svc" || failed+=("$svc")
  done
  if [ ${#failed[@]} -gt 0 ]; then
    warn "FAILED: ${failed[*]} (after $((SECONDS - t0)) s). Others are left running; 'npm run stack -- down' stops them."
    return 1
  fi
  say "up: ${SVCS[*]} ready in $((SECONDS - t0)) s; settings in $STACK_DIR/env:"
  sed -n 's/^\(ALMANAC_[A-Z_]*=.*\)$/  \1/p' "$STACK_DIR/env"
}

cmd_down() {
  parse_services "$@"
  ensure_dirs
  local i rc=0
  # Stop in reverse start order.
  for ((i = ${#SVCS[@]} - 1; i >= 0; i--)); do
    stop_service "${SVCS[$i]}" || rc=1
  done
  return $rc
}

cmd_status() {
  parse_services "$@"
  local svc pid state all_up=0
  printf '%-10s %-8s %-8s %-22s %s\n' SERVICE STATE PID ADDRESS RSS
  for svc in "${SVCS[@]}"; do
    if svc_alive "$svc"; then
      pid=$(svc_pid "$svc")
      if svc_ready "$svc"; then state=up; else state=starting; all_up=1; fi
      printf '%-10s %-8s %-8s %-22s %s\n' "$svc" "$state" "$pid" "$HOST:$(svc_port "$svc")" "$(rss_of "$pid")"
    else
      all_up=1
      printf '%-10s %-8s %-8s %-22s %s\n' "$svc" down - "$HOST:$(svc_port "$svc")" -
    fi
  done
  return $all_up
}

cmd_logs() {
  local svc="" follow=0 n=100
  while [ $# -gt 0 ]; do
    case "$1" in
      -f | --follow) follow=1 ;;
      -n) n=$2; shift ;;
      -n*) n=${1#-n} ;;
      *) svc=$(canon_service "$1") ;;
    esac
    shift
  done
  if [ -z "$svc" ]; then
    local s
    for s in "${ALL_SERVICES[@]}"; do
      echo "==> $(svc_log "$s") <=="
      if [ -f "$(svc_log "$s")" ]; then tail -n 10 "$(svc_log "$s")" | cut -c1-300; else echo "(no log yet)"; fi
    done
    return 0
  fi
  local log
  log=$(svc_log "$svc")
  [ -f "$log" ] || die "no log yet for $svc ($log)"
  if [ $follow = 1 ]; then exec tail -n "$n" -F "$log"; fi
  tail -n "$n" "$log"
}

cmd_install() {
  parse_services "$@"
  ensure_dirs
  install_services "${SVCS[@]}"
  say "installed: ${SVCS[*]} (cache: $CACHE)"
}

cmd_clean() {
  parse_services "$@"
  ensure_dirs
  local svc
  for svc in "${SVCS[@]}"; do
    stop_service "$svc"
    rm -rf "${STACK_DIR:?}/$svc"
    rm -f "$(svc_log "$svc")" "$(svc_log "$svc").prev" "$(svc_log "$svc").format"
    say "$svc: data deleted"
  done
}

cmd_kafka_topics() {
  need_java
  [ -d "$CACHE/kafka-$KAFKA_VERSION/lib" ] || die "kafka is not installed yet: npm run stack -- install kafka"
  local has_bs=0 a
  for a in "$@"; do
    [ "$a" = --bootstrap-server ] && has_bs=1
  done
  local extra=()
  [ $has_bs = 1 ] || extra=(--bootstrap-server "$HOST:$KAFKA_PORT")
  mkdir -p "$STACK_DIR/kafka/conf"
  printf '%s\n' 'log4j.rootLogger=WARN, stderr' \
    'log4j.appender.stderr=org.apache.log4j.ConsoleAppender' \
    'log4j.appender.stderr.Target=System.err' \
    'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout' \
    'log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n' \
    >"$STACK_DIR/kafka/conf/tools-log4j.properties"
  exec "$JAVA" -Xmx256m "-Dlog4j.configuration=file:$STACK_DIR/kafka/conf/tools-log4j.properties" \
    -cp "$CACHE/kafka-$KAFKA_VERSION/lib/*" org.apache.kafka.tools.TopicCommand \
    "${extra[@]}" "$@"
}

main() {
  local cmd=${1:-help}
  [ $# -gt 0 ] && shift
  case "$cmd" in
    up | start) ensure_dirs; with_lock "$STACK_DIR/.lock" cmd_up "$@" ;;
    down | stop) ensure_dirs; with_lock "$STACK_DIR/.lock" cmd_down "$@" ;;
    restart) ensure_dirs; with_lock "$STACK_DIR/.lock" cmd_down "$@" && with_lock "$STACK_DIR/.lock" cmd_up "$@" ;;
    status) cmd_status "$@" ;;
    logs | log) cmd_logs "$@" ;;
    install) cmd_install "$@" ;;
    env) ensure_dirs; write_env; cat "$STACK_DIR/env" ;;
    clean) ensure_dirs; with_lock "$STACK_DIR/.lock" cmd_clean "$@" ;;
    kafka-topics) cmd_kafka_topics "$@" ;;
    help | -h | --help) usage ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
