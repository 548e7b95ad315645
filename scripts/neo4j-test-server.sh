#!/usr/bin/env bash
# A real Neo4j Community 5.26 (embedded, Bolt on 127.0.0.1) for integration tests, without Docker.
#
#   scripts/neo4j-test-server.sh fetch          resolve jars into .neo4j-test/lib, compile the launcher
#   scripts/neo4j-test-server.sh start          start a server in the background; prints NEO4J_URI=... and NEO4J_PID=...
#                                               (so `eval "$(scripts/neo4j-test-server.sh start)"` works)
#   scripts/neo4j-test-server.sh stop           stop the server that `start` left running, delete its home
#   scripts/neo4j-test-server.sh status         print the running server's URI, or exit 1
#   scripts/neo4j-test-server.sh run -- CMD...  start a fresh server, run CMD with NEO4J_URI exported,
#                                               always stop the server afterwards; exits with CMD's status
#
# Needs java + javac (17 or 21) and mvn; the first fetch downloads ~120 MB into the local Maven repository.
# `run` when the server cannot start: with CI=true it fails; otherwise it warns loudly and runs CMD without
# NEO4J_URI (integration tests that need it are expected to skip).
#
# Environment (all optional):
#   NEO4J_TEST_PASSWORD       enable auth; the `neo4j` user gets this password (8+ chars). Default: auth off.
#   NEO4J_TEST_HEAP           JVM max heap (default 512m)
#   NEO4J_TEST_JAVA_OPTS      extra JVM options
#   NEO4J_TEST_START_TIMEOUT  seconds to wait for readiness (default 120)
#   NEO4J_TEST_STOP_GRACE     seconds between SIGTERM and SIGKILL (default 15)
#   NEO4J_TEST_DIR            work dir (default <project>/.neo4j-test)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
SRC_DIR="$ROOT/test/neo4j"
WORK="${NEO4J_TEST_DIR:-$ROOT/.neo4j-test}"
LIB="$WORK/lib"
CLASSES="$WORK/classes"
LIB_STAMP="$WORK/lib.stamp"
CLASSES_STAMP="$WORK/classes.stamp"
STATE="$WORK/server.env"
START_TIMEOUT="${NEO4J_TEST_START_TIMEOUT:-120}"
STOP_GRACE="${NEO4J_TEST_STOP_GRACE:-15}"
HEAP="${NEO4J_TEST_HEAP:-512m}"
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
TMP_PREFIX="neo4j-test."

JAVA="java"
JAVAC="javac"
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
  JAVAC="$JAVA_HOME/bin/javac"
fi

log() { printf 'neo4j-test-server: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() {
  sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

sha256() { # stdin -> hex digest
  if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi
}

# ---------------------------------------------------------------------------------------------------------
# fetch
# ---------------------------------------------------------------------------------------------------------

lib_key() { sha256 <"$SRC_DIR/pom.xml" | cut -c1-64; }

# Changes when the launcher, the jars or the JDK changes.
classes_key() {
  { sha256 <"$SRC_DIR/Launcher.java"; lib_key; "$JAVAC" -version 2>&1; } | sha256 | cut -c1-64
}

lib_is_current() {
  [[ -f "$LIB_STAMP" && -d "$LIB" ]] && compgen -G "$LIB/neo4j-bolt-*.jar" >/dev/null &&
    [[ "$(cat "$LIB_STAMP")" == "$(lib_key)" ]]
}

classes_are_current() {
  [[ -f "$CLASSES_STAMP" && -f "$CLASSES/Launcher.class" ]] &&
    [[ "$(cat "$CLASSES_STAMP")" == "$(classes_key)" ]]
}

# Returns non-zero (with a message) on failure; never exits.
do_fetch() {
  local tool
  for tool in "$JAVA" "$JAVAC" mvn; do
    command -v "$tool" >/dev/null 2>&1 || { log "'$tool' not found (needs a JDK 17+ and Maven)"; return 1; }
  done
  mkdir -p "$WORK" || return 1
  local lockfd=""
  if command -v flock >/dev/null 2>&1; then # serialise concurrent fetches
    exec {lockfd}>"$WORK/fetch.lock" || return 1
    flock "$lockfd" || return 1
  fi
  rm -rf "$WORK"/lib.tmp.* "$WORK"/classes.tmp.* # left by an interrupted fetch (we hold the lock)
  local rc=0
  { lib_is_current || fetch_lib; } && { classes_are_current || compile_launcher; } || rc=$?
  if [[ -n "$lockfd" ]]; then exec {lockfd}>&-; fi
  return "$rc"
}

fetch_lib() {
  local t0=$SECONDS key tmp_lib
  key=$(lib_key) || return 1
  log "resolving Neo4j jars with Maven (the first time downloads ~120 MB) ..."
  tmp_lib="$WORK/lib.tmp.$$"
  rm -rf "$tmp_lib"
  if ! mvn -B -q -Dstyle.color=never -f "$SRC_DIR/pom.xml" "$DEPENDENCY_PLUGIN:copy-dependencies" \
      -DoutputDirectory="$tmp_lib" -DincludeScope=runtime >"$WORK/fetch.log" 2>&1; then
    log "Maven could not resolve the Neo4j jars; last lines of $WORK/fetch.log:"
    tail -n 30 "$WORK/fetch.log" >&2
    rm -rf "$tmp_lib"
    return 1
  fi
  rm -rf "$LIB" "$CLASSES_STAMP" && mv "$tmp_lib" "$LIB" || return 1
  printf '%s\n' "$key" >"$LIB_STAMP" || return 1
  local jars=("$LIB"/*.jar) kernel=("$LIB"/neo4j-kernel-[0-9]*.jar) version
  version=${kernel[0]##*/neo4j-kernel-}
  log "fetched ${#jars[@]} jars (Neo4j ${version%.jar}) in $((SECONDS - t0))s"
}

compile_launcher() {
  local key tmp_classes="$WORK/classes.tmp.$$"
  key=$(classes_key) || return 1
  rm -rf "$tmp_classes" && mkdir -p "$tmp_classes" || return 1
  if ! "$JAVAC" -nowarn -d "$tmp_classes" -cp "$LIB/*" "$SRC_DIR/Launcher.java" >"$WORK/javac.log" 2>&1; then
    log "javac failed:"
    cat "$WORK/javac.log" >&2
    rm -rf "$tmp_classes"
    return 1
  fi
  rm -rf "$CLASSES" && mv "$tmp_classes" "$CLASSES" || return 1
  printf '%s\n' "$key" >"$CLASSES_STAMP" || return 1
  log "compiled the launcher into $CLASSES"
}

# ---------------------------------------------------------------------------------------------------------
# process helpers
# ---------------------------------------------------------------------------------------------------------

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
  elif command -v node >/dev/null 2>&1; then
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  else
    log "need python3 or node to pick a free port"
    return 1
  fi
}

# Alive and not a zombie.
pid_alive() {
  local pid=$1 state
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/stat" ]]; then
    state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [[ "$state" != Z && "$state" != X ]] || return 1
  fi
  return 0
}

# True if pid is our Launcher using the given home (guards against pid reuse).
is_our_server() {
  local pid=$1 home=$2 cmd
  pid_alive "$pid" || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  else
    cmd=$(ps -p "$pid" -o args= 2>/dev/null) || return 1
  fi
  [[ "$cmd" == *Launcher* && "$cmd" == *"$home"* ]]
}

safe_rm_tmp() {
  local dir=$1
  [[ -n "$dir" && "$(basename "$dir")" == "$TMP_PREFIX"* && -d "$dir" ]] && rm -rf "$dir"
  return 0
}

# stop_server PID TMPDIR: SIGTERM, SIGKILL after the grace period, delete the temp dir.
stop_server() {
  local pid=$1 tmp=$2 deadline
  if is_our_server "$pid" "$tmp"; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_GRACE))
    while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
    if pid_alive "$pid"; then
      log "server (pid $pid) did not stop within ${STOP_GRACE}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 5))
      while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    fi
  fi
  if [[ -n "$pid" ]]; then wait "$pid" 2>/dev/null || true; fi # reap, if it is our child
  safe_rm_tmp "$tmp"
}

# start_server [WATCH_PID]: starts a fresh server; sets SERVER_PID SERVER_URI SERVER_TMP SERVER_PORT.
# Returns non-zero (after printing why) on failure; never exits. Retries on a port clash.
start_server() {
  local watch=${1:-} rc
  do_fetch || return 1
  for _ in 1 2 3; do
    rc=0
    _start_once "$watch" || rc=$?
    ((rc == 0)) && return 0
    ((rc == 3)) || return 1 # 3 = port already taken: retry on another one
    log "port $SERVER_PORT was taken; retrying on another port"
  done
  return 1
}

_start_once() {
  local watch=$1 tmp home out port java_opts deadline t0=$SECONDS
  port=$(free_port) || return 1
  SERVER_PORT=$port
  SERVER_PID=""
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/${TMP_PREFIX}XXXXXXXX") || return 1
  SERVER_TMP=$tmp
  home="$tmp/home"
  out="$tmp/launcher.log"
  # shellcheck disable=SC2206
  java_opts=(
    "-Xmx$HEAP" -XX:+ExitOnOutOfMemoryError
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --enable-native-access=ALL-UNNAMED
    -Dio.netty.tryReflectionSetAccessible=true
    ${NEO4J_TEST_JAVA_OPTS:-}
  )
  # stdin from /dev/null; the JVM deletes its temp dir on shutdown and (for `run`) exits if we die.
  NEO4J_TEST_WATCH_PID="$watch" NEO4J_TEST_DELETE_ON_EXIT="$tmp" NEO4J_TEST_PASSWORD="${NEO4J_TEST_PASSWORD:-}" \
    nohup "$JAVA" "${java_opts[@]}" -cp "$CLASSES:$LIB/*" Launcher "$port" "$home" </dev/null >"$out" 2>&1 &
  SERVER_PID=$!
  deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if SERVER_URI=$(grep -m1 '^NEO4J_READY ' "$out" 2>/dev/null | cut -d' ' -f2) && [[ -n "$SERVER_URI" ]]; then
      log "Neo4j ready at $SERVER_URI (pid $SERVER_PID) in $((SECONDS - t0))s"
      return 0
    fi
    if ! pid_alive "$SERVER_PID"; then
      wait "$SERVER_PID" 2>/dev/null || true
      if grep -qE 'BindException|Address already in use' "$out" 2>/dev/null; then
        safe_rm_tmp "$tmp"
        return 3
      fi
      log "the Neo4j JVM exited before it was ready; last lines of its output:"
      _print_failure "$tmp"
      safe_rm_tmp "$tmp"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "Neo4j was not ready within ${START_TIMEOUT}s; last lines of its output:"
      _print_failure "$tmp"
      stop_server "$SERVER_PID" "$tmp"
      return 1
    fi
    sleep 0.2
  done
}

_print_failure() {
  local tmp=$1
  tail -n 40 "$tmp/launcher.log" >&2 2>/dev/null || true
  if [[ -f "$tmp/home/logs/debug.log" ]]; then
    log "last lines of $tmp/home/logs/debug.log:"
    tail -n 20 "$tmp/home/logs/debug.log" >&2 || true
  fi
}

# ---------------------------------------------------------------------------------------------------------
# state file (for start / stop / status)
# ---------------------------------------------------------------------------------------------------------

read_state() {
  NEO4J_TEST_STATE_PID="" NEO4J_TEST_STATE_URI="" NEO4J_TEST_STATE_TMP=""
  [[ -f "$STATE" ]] || return 1
  # shellcheck disable=SC1090
  . "$STATE"
  NEO4J_TEST_STATE_PID=${NEO4J_PID:-} NEO4J_TEST_STATE_URI=${NEO4J_URI:-} NEO4J_TEST_STATE_TMP=${NEO4J_TEST_TMP:-}
}

# ---------------------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------------------

cmd_fetch() {
  do_fetch || die "fetch failed"
}

cmd_start() {
  if read_state; then
    if is_our_server "$NEO4J_TEST_STATE_PID" "$NEO4J_TEST_STATE_TMP"; then
      log "already running (pid $NEO4J_TEST_STATE_PID); use 'stop' first for a fresh one"
      printf 'NEO4J_URI=%s\nNEO4J_PID=%s\n' "$NEO4J_TEST_STATE_URI" "$NEO4J_TEST_STATE_PID"
      return 0
    fi
    log "removing stale state of a server that is gone (pid $NEO4J_TEST_STATE_PID)"
    safe_rm_tmp "$NEO4J_TEST_STATE_TMP"
    rm -f "$STATE"
  fi
  # Interrupted while starting: take the half-started server down.
  trap 'run_cleanup; exit 130' INT
  trap 'run_cleanup; exit 143' TERM
  trap 'run_cleanup; exit 129' HUP
  start_server "" || die "Neo4j test server could not start"
  umask 077
  {
    printf 'NEO4J_URI=%q\nNEO4J_PID=%q\nNEO4J_TEST_TMP=%q\n' "$SERVER_URI" "$SERVER_PID" "$SERVER_TMP"
  } >"$STATE"
  trap - INT TERM HUP
  printf 'NEO4J_URI=%s\nNEO4J_PID=%s\n' "$SERVER_URI" "$SERVER_PID"
}

cmd_stop() {
  if ! read_state; then
    log "no server recorded in $STATE; nothing to stop"
    return 0
  fi
  if is_our_server "$NEO4J_TEST_STATE_PID" "$NEO4J_TEST_STATE_TMP"; then
    stop_server "$NEO4J_TEST_STATE_PID" "$NEO4J_TEST_STATE_TMP"
    log "stopped (pid $NEO4J_TEST_STATE_PID)"
  else
    log "server (pid $NEO4J_TEST_STATE_PID) was already gone"
    safe_rm_tmp "$NEO4J_TEST_STATE_TMP"
  fi
  rm -f "$STATE"
}

cmd_status() {
  if read_state && is_our_server "$NEO4J_TEST_STATE_PID" "$NEO4J_TEST_STATE_TMP"; then
    printf 'NEO4J_URI=%s\nNEO4J_PID=%s\n' "$NEO4J_TEST_STATE_URI" "$NEO4J_TEST_STATE_PID"
  else
    log "not running"
    return 1
  fi
}

SERVER_PID="" SERVER_TMP="" CMD_PID=""
run_cleanup() {
  # SERVER_PID/SERVER_TMP are set as soon as the JVM is spawned: this also covers a signal during start.
  if [[ -n "$SERVER_PID" || -n "$SERVER_TMP" ]]; then
    stop_server "$SERVER_PID" "$SERVER_TMP"
    SERVER_PID="" SERVER_TMP=""
  fi
}

# On INT/TERM/HUP: pass a TERM on to CMD (KILL after the grace period), then exit; EXIT stops the server.
run_on_signal() {
  local status=$1 deadline
  if [[ -n "$CMD_PID" ]] && kill -0 "$CMD_PID" 2>/dev/null; then
    kill -TERM "$CMD_PID" 2>/dev/null || true
    deadline=$((SECONDS + STOP_GRACE))
    while pid_alive "$CMD_PID" && ((SECONDS < deadline)); do sleep 0.2; done
    kill -KILL "$CMD_PID" 2>/dev/null || true
  fi
  exit "$status"
}

cmd_run() {
  [[ "${1:-}" == "--" ]] && shift
  (($# > 0)) || usage
  trap run_cleanup EXIT
  trap 'run_on_signal 130' INT
  trap 'run_on_signal 143' TERM
  trap 'run_on_signal 129' HUP
  # The JVM watches this shell's pid, so even a SIGKILL of this script takes the server down.
  if start_server "$$"; then
    export NEO4J_URI="$SERVER_URI"
    if [[ -n "${NEO4J_TEST_PASSWORD:-}" ]]; then
      export NEO4J_USER=neo4j NEO4J_PASSWORD="$NEO4J_TEST_PASSWORD"
    else
      unset NEO4J_USER NEO4J_PASSWORD
    fi
  else
    if [[ "${CI:-}" == "true" ]]; then
      log "################################################################################"
      log "ERROR: Neo4j test server could not start (CI=true, so this is a failure)"
      log "################################################################################"
      exit 1
    fi
    log "################################################################################"
    log "WARNING: Neo4j test server could not start (see above; needs a JDK 17+ and Maven);"
    log "         integration tests that need it will skip"
    log "################################################################################"
    unset NEO4J_URI NEO4J_USER NEO4J_PASSWORD
  fi
  # CMD runs in the background so that a signal to this script is handled at once (a foreground
  # child would defer the traps until it exits); `<&0` keeps its stdin, which `&` would otherwise
  # replace with /dev/null.
  local rc=0
  if { : <&0; } 2>/dev/null; then "$@" <&0 & else "$@" </dev/null & fi
  CMD_PID=$!
  wait "$CMD_PID" || rc=$?
  CMD_PID=""
  run_cleanup
  return "$rc"
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  run) shift; cmd_run "$@" ;;
  -h | --help | help | "") usage ;;
  *) log "unknown command '$1'"; usage ;;
esac
