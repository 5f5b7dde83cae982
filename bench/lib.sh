# lib.sh - what the benchmark scripts share (sourced).
#
# figure NAME VALUE UNIT TARGET: print one figure, and when run.sh runs
# the benchmarks (BENCH_FIGURES is set) keep it for the table it prints
# at the end. VALUE is a number as text; TARGET is free text ("<= 2",
# "≥ 500", "-" for none).
figure() {
  printf '%-48s %12s %-8s target %s\n' "$1" "$2" "$3" "$4"
  if [ -n "${BENCH_FIGURES:-}" ]; then
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$BENCH_FIGURES"
  fi
}

# median of the numbers on stdin (one a line).
median() { sort -n | awk '{a[NR] = $1} END { if (NR) print a[int((NR + 1) / 2)] }'; }

# rss_kb PID / hwm_kb PID: resident and peak resident set of a process.
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

# farm_start DIR CAPACITY BUILDLETS [COORDINATOR FLAG...]: a coordinator on
# a free loopback port (data in DIR/data, COORD its pid, RFARM_URL its
# URL) and BUILDLETS buildlets of CAPACITY slots; every pid goes to PIDS
# (the script's array, killed on exit). Waits (bounded) until all are in.
farm_start() {
  local d=$1 cap=$2 n=$3 i
  shift 3
  mkdir -p "$d"
  "$RFARM" coordinator --listen 127.0.0.1:0 --data "$d/data" "$@" 2>"$d/coord.log" &
  COORD=$!; PIDS+=("$COORD")
  for _ in $(seq 1 100); do [ -s "$d/data/url" ] && break; sleep 0.1; done
  [ -s "$d/data/url" ] || { echo "farm_start: the coordinator did not start: $(tail -2 "$d/coord.log")"; exit 1; }
  RFARM_URL=$(cat "$d/data/url"); export RFARM_URL
  (umask 077; "$RFARM" keygen linux-amd64 --data "$d/data" 2>/dev/null | tail -1 >"$d/key")
  for i in $(seq 1 "$n"); do
    "$RFARM" buildlet --coordinator "$RFARM_URL" --name "bench$i" --token-file "$d/key" \
      --capacity "$cap" --workdir "$d/work$i" 2>"$d/buildlet$i.log" &
    PIDS+=($!)
  done
  for _ in $(seq 1 100); do
    [ "$(farm_connected)" = "$n" ] && return 0
    sleep 0.1
  done
  echo "farm_start: $(farm_connected) of $n buildlets connected in 10 s"; exit 1
}

farm_connected() {
  curl -s "$RFARM_URL/api/v1/buildlets" | jq '[.buildlets[] | select(.connected)] | length'
}

# farm_stop: stop (TERM, then KILL after 5 s) and reap every pid in PIDS.
farm_stop() {
  local p=
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && break; p=; done
    [ -z "$p" ] && break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  PIDS=()
}

# pct P: the P-th percentile (nearest rank) of the numbers on stdin.
pct() { sort -n | awk -v p="$1" '{a[NR] = $1} END { if (NR) { i = int((p * NR + 99) / 100); print a[i < 1 ? 1 : i] } }'; }

# bench_dir NAME: RFARM checked; BIN, where the bench programs are; T, a
# new temporary directory (rfarm-NAME.*); PIDS, what farm_start started.
bench_dir() {
  RFARM=${RFARM:?set RFARM to a Release rfarm binary}
  BIN=${BENCH_BIN:-$(dirname "$RFARM")/bench}
  T=$(mktemp -d "${TMPDIR:-/tmp}/rfarm-$1.XXXXXX")
  PIDS=()
}

# bench_cleanup [PATH...]: for the EXIT trap: stop the farm, remove T and
# the PATHs.
bench_cleanup() {
  farm_stop
  rm -rf "$T" "$@"
}
