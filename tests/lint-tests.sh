#!/usr/bin/env bash
# tests/lint-tests.sh — finds shell tests that cannot fail (run by tests/cli/t0001-lint.sh).
#
# Owns: three rules over tests/cli/*.sh (or the files given), each a defect
# seen in this tree:
#   skip-after-assertion  `skip_case` may follow only a check that a tool or a
#                         file is absent: `[ -f/-e/-d/-x/-r/-s X ]`, `test -f X`,
#                         `command -v`/`type`/`which`/`hash TOOL`, a probe
#                         named can_*/have_*, `python3 -c "import M"` (imports
#                         only), or `grep -q "No module named" ERRFILE`.
#                         Anything else (an assertion, a winnow run, the tail
#                         of a multi-line python check) turns a failure into SKIP.
#   exit-after-and        `&& exit` inside a test_expect_failure_code body: when
#                         the message check before it fails, the body exits 1
#                         anyway and passes as the expected failure.
#   jq-byte-identity      a whole-record `jq -c` (filter `.` or ending in
#                         `del(...)`) in a case that compares files (cmp, diff,
#                         test_cmp, comm, in_input_order): re-serialising hides
#                         byte changes; strip the spliced member with sed and cmp.
# Borrows: awk only (a small shell-quote scanner finds where each case's body
# ends; here-documents are skipped as data).
# Prints FILE:LINE: RULE: the line, exits 1 when it finds anything.
# Usage: tests/lint-tests.sh [FILE...]
set -u
if [ $# -eq 0 ]; then cd "$(dirname "$0")/.." || exit 2; set -- tests/cli/*.sh; fi
awk '
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function report(line, rule, text) {
	printf "%s:%d: %s: %s\n", FILENAME, line, rule, trim(text); found = 1
}
# scan(s): advance the quote state (q: 0 outside, 1 in single, 2 in double) over s
function scan(s,   i, c, n) {
	n = length(s)
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		if (q == 1) { if (c == "\047") q = 0; continue }
		if (c == "\\") { i++; continue }
		if (q == 2) { if (c == "\"") q = 0; continue }
		if (c == "\047") q = 1; else if (c == "\"") q = 2
		else if (c == "#" && (i == 1 || substr(s, i - 1, 1) ~ /[ \t]/)) return
	}
}
function allowed_guard(g) {
	g = trim(g)
	sub(/^!+[ \t]*/, "", g); sub(/^\{[ \t]*/, "", g)
	sub(/[ \t]*(>|2>|&>)[ \t]*\/dev\/null([ \t]*2>&1)?[ \t]*$/, "", g)
	sub(/[ \t]*2>&1[ \t]*$/, "", g)
	if (g ~ /^\[ +!? *-[edfxrsLh] +[^]]*\]$/) return 1
	if (g ~ /^test +!? *-[edfxrsLh] /) return 1
	if (g ~ /^(command -v|type|which|hash) [A-Za-z0-9_.\/$"{}-]+$/) return 1
	if (g ~ /^(can|have)_[a-z0-9_]+$/) return 1
	if (g ~ /^(\/usr\/bin\/)?python3 -c ["\047]import [A-Za-z0-9_., ]+["\047]$/) return 1
	if (g ~ /^grep -q ["\047]?No module named["\047]? [^ ]+$/) return 1
	return 0
}
# the command before a `|| skip_case` / `&& skip_case` / `then skip_case` on this line
function check_skip(s, ln,   pre, g, n) {
	if (s ~ /^[ \t]*#/ || s ~ /skip_case\(\)/) return
	if (s !~ /(^|[^a-z_])skip_case([ \t]|$)/) return
	pre = s; sub(/[ \t]*skip_case([ \t].*)?$/, "", pre)
	if (pre ~ /then$/) {
		g = pre; sub(/[ \t]*;?[ \t]*then$/, "", g); sub(/^.*(^|[ \t;])(if|elif)[ \t]+/, "", g)
	} else if (pre ~ /(\|\||&&)$/) {
		g = substr(pre, 1, length(pre) - 2)
		# the guard starts after the last ; && || { ( at the outer level of this line
		n = split(g, parts, /(;|&&|\|\||\{ |\( )/); g = parts[n]
		if (trim(g) ~ /^["\047]$/ || trim(g) == "") g = "(the end of a multi-line command)"
	} else {
		report(ln, "skip-after-assertion", s " (skip_case without a tool/file check before it)"); return
	}
	if (!allowed_guard(g))
		report(ln, "skip-after-assertion", s " (guard: " trim(g) ")")
}
function end_case(   i, cmp, rec) {
	cmp = 0
	for (i = 1; i <= nb; i++)
		if (body[i] ~ /(^|[^a-z_])(cmp|test_cmp|diff|comm|in_input_order)([ \t]|$)/) cmp = 1
	for (i = 1; i <= nb; i++) {
		if (kind == "failure" && body[i] ~ /&&[ \t]*exit([ \t]|$)/)
			report(bline[i], "exit-after-and", body[i] " (a failed check before it still exits with the expected code: use || exit 9, or test $rc = N && grep ...)")
		rec = body[i]
		if (cmp && (rec ~ /jq +(-[a-zA-Z]+ +)*-c +(-[a-zA-Z]+ +)*(\.|"\."|\047\.\047)([ \t|)>]|$)/ ||
		            rec ~ /jq +(-[a-zA-Z]+ +)*-c +(-[a-zA-Z]+ +)*["\047][^"\047]*del\([^)]*\)["\047]/))
			report(bline[i], "jq-byte-identity", body[i] " (jq -c re-serialises: compare the bytes with cmp)")
	}
	incase = 0; nb = 0
}
FNR == 1 { if (incase) end_case(); q = 0; heredoc = "" }
# a here-document is data (a test may hold bad shapes to lint), not code
heredoc != "" { if (trim($0) == heredoc) heredoc = ""; next }
{
	if ($0 !~ /<<</ && match($0, /<<-?[ \t]*[\047"]?[A-Za-z_][A-Za-z0-9_]*[\047"]?/)) {
		heredoc = substr($0, RSTART, RLENGTH); sub(/^<<-?[ \t]*[\047"]?/, "", heredoc); sub(/[\047"]$/, "", heredoc)
	}
	check_skip($0, FNR)
	if (!incase && $0 ~ /^[ \t]*test_expect_(success|failure_code)([ \t]|$)/) {
		incase = 1; nb = 0; q = 0
		kind = ($0 ~ /test_expect_failure_code/) ? "failure" : "success"
	}
	if (incase) {
		body[++nb] = $0; bline[nb] = FNR
		scan($0)
		if (q == 0) end_case()
	}
}
END { if (incase) end_case(); exit found }
' "$@"
