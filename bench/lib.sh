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
