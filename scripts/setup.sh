# Sourced by scripts/test.sh, scripts/tutorial.sh and scripts/lab.sh: installs what is missing and nothing
# else (Debian packages, the Python venv in .venv for the Jupyter tools and test oracles). Idempotent: a
# second run checks and returns in well under a second.
# shellcheck shell=bash

log() { printf '\n==> %s\n' "$*"; }

# `stage [--limit SECONDS] NAME COMMAND…` runs one stage of a script and records how long it took; `stage_summary`
# prints the table. A failing stage stops the script (set -e) after printing its duration. Stages run in a
# subshell: they cannot set the caller's variables. A stage that runs past its limit (default 900 s, or
# HQ_STAGE_LIMIT_S) is stopped and fails, so one hang costs minutes, not CI's whole budget.
STAGE_TIMES=()
STAGE_LIMIT_DEFAULT=${HQ_STAGE_LIMIT_S:-900}
stage() {
  local limit=$STAGE_LIMIT_DEFAULT
  if [ "$1" = --limit ]; then
    limit=$2
    shift 2
  fi
  local name=$1 started status=0 watchdog
  shift
  log "$name"
  started=$(date +%s)
  stage_watchdog "$name" "$limit" &
  watchdog=$!
  # In a subshell, so `set -e` holds inside shell functions too (it is ignored in a `||` list).
  set +e
  (set -e; "$@")
  status=$?
  set -e
  kill_tree KILL "$watchdog"
  wait "$watchdog" 2>/dev/null || true
  STAGE_TIMES+=("$(printf '%-12s %5ds' "$name" $(($(date +%s) - started)))")
  printf '==> %s took %ds%s\n' "$name" $(($(date +%s) - started)) "$([ "$status" = 0 ] || echo " and FAILED (exit $status)")"
  return "$status"
}

# Runs beside a stage: after `limit` seconds it stops every other child of the script (the stage's subshell and
# all below it), with SIGTERM and, 10 s later, SIGKILL.
stage_watchdog() {
  local name=$1 limit=$2 child signal
  sleep "$limit"
  printf '\n==> %s ran past its limit of %ss: stopping it\n' "$name" "$limit" >&2
  for signal in TERM KILL; do
    for child in $(children_of $$); do
      [ "$child" = "$BASHPID" ] || kill_tree "$signal" "$child"
    done
    [ "$signal" = KILL ] || sleep 10
  done
}

# The pids whose parent is $1, from /proc (procps may not be installed). A comm may hold spaces and parentheses,
# so the fields are read after its last ") ".
children_of() {
  local stat line fields
  for stat in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$stat" || continue
    read -r -a fields <<<"${line##*) }"
    [ "${fields[1]}" != "$1" ] || { stat=${stat#/proc/}; echo "${stat%/stat}"; }
  done
}

# Sends a signal to a process and everything below it, the children first (found before their parent dies).
kill_tree() {
  local signal=$1 pid=$2 child
  for child in $(children_of "$pid"); do
    kill_tree "$signal" "$child"
  done
  kill "-$signal" "$pid" 2>/dev/null || true
}
stage_summary() {
  log "stage durations"
  printf '%s\n' "${STAGE_TIMES[@]}"
}

# Debian packages: HDF5 for the data engine, chromium for the browser test, node/npm for playwright-core.
setup_debian_packages() {
  local packages=("$@") missing=() package
  for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The venv is rebuilt only when tests/python/requirements.txt changes (a hash stamp records the last install).
setup_venv() {
  local requirements=tests/python/requirements.txt stamp=.venv/.requirements.sha256
  if [ ! -x .venv/bin/python ] || ! sha256sum --status -c "$stamp" 2>/dev/null; then
    setup_debian_packages python3-venv
    log "preparing .venv from $requirements"
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r "$requirements"
    sha256sum "$requirements" > "$stamp"
  fi
}

# Installs the kernelspec into .venv (sys-prefix), so .venv's Jupyter tools find it and nothing outside changes.
install_kernelspec() {
  VIRTUAL_ENV="$PWD/.venv" "$1" kernel install --sys-prefix --force >/dev/null
}

# Starts `hq serve` on a free loopback port in the background; sets HQ_SERVE_PID and HQ_URL. The caller stops it
# with stop_local_harmony (scripts install it in an EXIT trap). Extra arguments go to `hq serve`.
start_local_harmony() {
  local hq=$1 data_dir=$2 log_file=$3
  shift 3
  "$hq" serve --port 0 --data-dir "$data_dir" "$@" >"$log_file" 2>&1 &
  HQ_SERVE_PID=$!
  HQ_URL=""
  local _
  # At most 180 s: `--prepare` generates every sample granule first (seconds in a release build, a minute or so in a
  # debug build on a busy machine); without it the line comes at once.
  for _ in $(seq 1 900); do
    HQ_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log_file" | head -n 1 || true)
    [ -n "$HQ_URL" ] && return 0
    kill -0 "$HQ_SERVE_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "hq serve did not start; its log:" >&2
  cat "$log_file" >&2
  return 1
}

stop_local_harmony() {
  [ -n "${HQ_SERVE_PID:-}" ] || return 0
  kill "$HQ_SERVE_PID" 2>/dev/null || true
  wait "$HQ_SERVE_PID" 2>/dev/null || true
  HQ_SERVE_PID=""
}

# A free TCP port on 127.0.0.1 (the kernel picks the port; a race with another process is possible but harmless
# here: the server would fail to start and say so).
free_port() {
  .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts JupyterLab from .venv on loopback without token or password (loopback only), serving ROOT; its kernels
# inherit HARMONY_ROOT_URL so they talk to the local Harmony. Sets LAB_PID and LAB_URL; stop with stop_jupyterlab.
start_jupyterlab() {
  local root=$1 port=$2 log_file=$3
  HARMONY_ROOT_URL="local:${HQ_URL##*:}" .venv/bin/jupyter lab --no-browser --ip 127.0.0.1 --port "$port" \
    --ServerApp.root_dir="$root" --IdentityProvider.token='' --ServerApp.password='' \
    --ServerApp.disable_check_xsrf=True --expose-app-in-browser --allow-root >"$log_file" 2>&1 &
  LAB_PID=$!
  LAB_URL="http://127.0.0.1:$port"
  local _
  for _ in $(seq 1 150); do # at most 60 s
    if .venv/bin/python -c "import urllib.request, sys; urllib.request.urlopen('$LAB_URL/api/status', timeout=2)" \
      2>/dev/null; then
      return 0
    fi
    kill -0 "$LAB_PID" 2>/dev/null || break
    sleep 0.4
  done
  echo "JupyterLab did not start; its log:" >&2
  tail -n 40 "$log_file" >&2
  return 1
}

stop_jupyterlab() {
  [ -n "${LAB_PID:-}" ] || return 0
  kill "$LAB_PID" 2>/dev/null || true
  wait "$LAB_PID" 2>/dev/null || true
  LAB_PID=""
}
