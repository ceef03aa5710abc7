#!/usr/bin/env bash
# pipelines/demo.sh — `make demo`: the main job on the shipped fixtures.
# A Debian package corpus slice is validated, embedded, clustered, scored
# against a target set, sampled per cluster and stored in demo.db; then a
# short SQL summary of what was kept.
set -euo pipefail
cd "$(dirname "$0")/.."
W=./winnow
has() { "$W" help | grep -q "^  $1 "; }
rm -f demo.db
steps=("$W" cat fixtures/debian-2000.jsonl)
pipe="winnow cat fixtures/debian-2000.jsonl"
run=("${steps[@]}")
cmd="${run[*]}"
if has embed; then cmd="$cmd | $W embed"; pipe="$pipe | winnow embed"; fi
if has cluster; then cmd="$cmd | $W cluster kmeans -k 20 --seed 1"; pipe="$pipe | winnow cluster kmeans -k 20"; fi
if has score && [ -f fixtures/zipfit/target.jsonl ]; then
	cmd="$cmd | $W score zipfit --target fixtures/zipfit/target.jsonl"; pipe="$pipe | winnow score zipfit --target ..."
fi
if has select; then
	if has cluster; then cmd="$cmd | $W select --per winnow.cluster --cap 25"; pipe="$pipe | winnow select --per winnow.cluster --cap 25"
	else cmd="$cmd | $W select --per section --cap 25"; pipe="$pipe | winnow select --per section --cap 25"; fi
fi
if ! has store; then echo "demo: winnow store is not built yet" >&2; exit 1; fi
cmd="$cmd | $W store demo.db --table demo"; pipe="$pipe | winnow store demo.db --table demo"
echo "pipeline: $pipe"
eval "$cmd"
echo
echo "demo.db, table demo:"
sqlite3 -header -column demo.db "SELECT count(*) AS records, count(DISTINCT cluster) AS clusters, count(DISTINCT json_extract(record, '\$.section')) AS sections FROM demo;"
echo
echo "best aligned with the ZIP-FIT target set:"
sqlite3 -header -column demo.db "SELECT id, cluster, round(zipfit, 4) AS zipfit, json_extract(record, '\$.section') AS section FROM demo ORDER BY zipfit DESC LIMIT 5;" 2>/dev/null ||
	sqlite3 -header -column demo.db "SELECT json_extract(record, '\$.section') AS section, count(*) AS n FROM demo GROUP BY 1 ORDER BY 2 DESC LIMIT 5;"
echo
echo "provenance:"
sqlite3 -header -column demo.db "SELECT run_id, finished, n_in, n_out, n_rejected, version FROM runs ORDER BY run_id DESC LIMIT 1;"
echo
# The same kind of job as one recipe file (pipelines/curation.yaml), run by
# `winnow run` in one process; its output goes to a scratch directory.
recipe=pipelines/curation.yaml
out=$(mktemp -d "${TMPDIR:-/tmp}/winnow-demo.XXXXXX")
trap 'rm -rf "$out"' EXIT
echo "recipe $recipe, as a shell pipeline:"
"$W" run --dry-run -o "$out/curated.jsonl" "$recipe" | sed -n 's/^shell: /  /p'
"$W" run -o "$out/curated.jsonl" "$recipe"
echo
echo "kept by the recipe, largest sections:"
grep -o '"section": "[^"]*"' "$out/curated.jsonl" | sort | uniq -c | sort -rn | head -5
echo
# A nightly job (pipelines/nightly.yaml) run twice with its cache: the second
# run finds nothing new and exits 3, which cron treats as success.
echo "pipelines/nightly.yaml, night 1 and a rerun (cache in a scratch directory):"
"$W" run --cache "$out/cache" -o "$out/nightly.jsonl" pipelines/nightly.yaml
"$W" run --cache "$out/cache" -o "$out/nightly.jsonl" pipelines/nightly.yaml || [ $? = 3 ]
