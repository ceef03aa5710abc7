#!/usr/bin/env bash
# bench/paired.sh — paired whole-process timing with public tools only: the
# commands A and B run in turn (A B A B ...), N rounds after one warm-up run
# of each, each under bash's `time` (wall, user and system seconds of the
# whole process and its children), pinned with taskset to the CPUs in $PIN
# when it is set; stdout and stderr go to /dev/null. Prints for each command
# the min, median and max of wall and of user+sys, and the ratio A/B of wall
# time taken pair by pair (median, min-max): pairing keeps the ratio honest
# when the machine's speed drifts during the run. Measures, never judges.
#
#   PIN=2 N=5 bench/paired.sh 'winnow cat -q --stream x.jsonl' 'jq -c . x.jsonl'
#
# Environment: N (rounds, default 5), PIN (taskset CPU list, default none).
set -u
[ $# = 2 ] || { echo "usage: [PIN=CPUS] [N=ROUNDS] bench/paired.sh 'COMMAND A' 'COMMAND B'" >&2; exit 2; }
N=${N:-5}
pin=()
[ -n "${PIN:-}" ] && pin=(taskset -c "$PIN")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/paired.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
TIMEFORMAT='%R %U %S'

# one CMD FILE: run CMD once, append "wall cpu" to FILE
one() {
	local t
	t=$({ time "${pin[@]}" sh -c "$1" > /dev/null 2>&1; } 2>&1) || { echo "failed: $1" >&2; exit 1; }
	echo "$t" | awk '{ printf "%.4f %.4f\n", $1, $2 + $3 }' >> "$2"
}
one "$1" "$tmp/warm"; one "$2" "$tmp/warm"
for _ in $(seq "$N"); do
	one "$1" "$tmp/a"
	one "$2" "$tmp/b"
done
paste "$tmp/a" "$tmp/b" | awk '{ printf "%.4f\n", $1 / $3 }' > "$tmp/r"
# stats FILE COLUMN: min median max
stats() { cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.3f (%.3f-%.3f)", m, v[1], v[NR] }'; }
echo "pinned: ${PIN:-no}; rounds: $N (A B A B), one warm-up each; median (min-max)"
printf 'A wall %s s, cpu %s s: %s\n' "$(stats "$tmp/a" 1)" "$(stats "$tmp/a" 2)" "$1"
printf 'B wall %s s, cpu %s s: %s\n' "$(stats "$tmp/b" 1)" "$(stats "$tmp/b" 2)" "$2"
printf 'A/B wall, pair by pair: %s\n' "$(stats "$tmp/r" 1)"
