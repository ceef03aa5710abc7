#!/usr/bin/env bash
# t2064 — WINNOW_PROVENANCE=FILE: a plain shell pipeline records its
# upstream steps in runs.extra. `cat | embed | store` (3 steps): runs.extra
# is {"pipeline":[cat's line, embed's line]} in pipeline order, with the
# counts each step printed on stderr and cat's input as `store FILE` would
# record it (name, size, xxh3: compared with a direct store run); the store
# takes its lines out of FILE once committed, leaves another process
# group's lines and a failed run's lines alone; no variable, no extra.
. "$(dirname "$0")/lib.sh"
D="$WINNOW_ROOT/fixtures/debian-2000.jsonl"
q() { sqlite3 "$1" "$2"; }

test_expect_success 'setup' '
	sed -n 1,30p "$D" > a.jsonl && printf "{\"text\": \"no id\"}\n{\"id\": 2}\n" >> a.jsonl &&
	"$WINNOW" store -q --on-error skip direct.db a.jsonl
'
test_expect_success 'cat | embed | store: runs.extra holds cat and embed, in order, with their counts' '
	export WINNOW_PROVENANCE="$PWD/prov.txt" &&
	echo "{\"pgid\":1,\"pid\":1,\"step\":\"other\"}" > prov.txt &&
	{ "$WINNOW" cat a.jsonl 2> e1 | "$WINNOW" embed --dim 8 --threads 1 --on-error skip 2> e2 |
	  "$WINNOW" store p.db 2> e3; } &&
	grep -qx "winnow cat: in 32, out 32, rejected 0" e1 &&
	grep -qx "winnow embed: in 32, out 31, rejected 1" e2 &&
	q p.db "SELECT extra FROM runs" > extra.json &&
	q direct.db "SELECT inputs FROM runs" > direct-inputs.json &&
	python3 - extra.json direct-inputs.json <<-\PEER
	import json, sys
	x = json.load(open(sys.argv[1]))
	direct = json.load(open(sys.argv[2]))
	p = x["pipeline"]
	assert [s["step"] for s in p] == ["cat", "embed"], p
	assert [(s["in"], s["out"], s["rejected"], s["ok"]) for s in p] == [(32, 32, 0, True), (32, 31, 1, True)], p
	assert p[0]["inputs"] == direct, (p[0]["inputs"], direct)
	assert p[0]["command"] == "winnow cat a.jsonl", p[0]
	assert p[1]["command"] == "winnow embed --dim 8 --threads 1 --on-error skip", p[1]
	assert len({s["pgid"] for s in p}) == 1 and p[0]["pid"] != p[1]["pid"], p
	PEER
'
test_expect_success 'the store took its lines out of FILE and left the other process group'\''s' '
	echo "{\"pgid\":1,\"pid\":1,\"step\":\"other\"}" > want && cmp want prov.txt
'
test_expect_success 'a step whose output went to a file is collected by the next store; stats, device are not lines' '
	export WINNOW_PROVENANCE="$PWD/prov2.txt" &&
	"$WINNOW" cat -q a.jsonl > c.jsonl && "$WINNOW" stats -q c.jsonl > /dev/null &&
	"$WINNOW" device --device cpu > /dev/null && [ $(wc -l < prov2.txt) = 1 ] &&
	"$WINNOW" store -q --on-error skip p2.db c.jsonl && [ ! -s prov2.txt ] &&
	[ "$(q p2.db "SELECT json_extract(extra, \"$.pipeline[0].step\") || json_array_length(extra, \"$.pipeline\") FROM runs")" = cat1 ]
'
test_expect_success 'a failed store leaves the lines for the run that succeeds' '
	export WINNOW_PROVENANCE="$PWD/prov3.txt" &&
	{ "$WINNOW" cat -q a.jsonl | "$WINNOW" store -q --max-record 50 p3.db 2> /dev/null; } ; [ $(wc -l < prov3.txt) = 1 ] &&
	[ ! -e p3.db ]
'
test_expect_success 'without WINNOW_PROVENANCE: no file, runs.extra NULL' '
	unset WINNOW_PROVENANCE &&
	"$WINNOW" cat -q a.jsonl | "$WINNOW" store -q --on-error skip p4.db &&
	[ "$(q p4.db "SELECT extra IS NULL FROM runs")" = 1 ]
'
test_done
