/*
 * io/jsonv.cc — the simdjson bridge: strict validation of one JSON record.
 *
 * Why C++ here: simdjson (Debian's libsimdjson-dev 3.0.1) is a C++ library;
 * it validates JSONL at ~3 GB/s on one core and rejects every invalid case of
 * JSONTestSuite, which cJSON does not (DESIGN.md). This file is the only
 * place winnow's readers touch it. The DOM parser validates the complete
 * document, UTF-8 included; io/json.c then walks the validated bytes.
 *
 * A block of lines is validated in one parse_many call (stage 1 over the
 * whole block, stage 2 per document), which spares the per-document setup
 * that dominates short records. The block is trusted only when its bytes
 * split exactly into lines that are blank or one object each (checked
 * here on the document positions, not taken from the stream's own
 * document splitting); anything else is "bad" and the reader validates
 * that block line by line, so errors and their positions never come from
 * this path.
 */
#include "io/jsonv.h"

#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <new>

struct wn_jsonv {
	simdjson::dom::parser parser;
	simdjson::dom::parser lines; /* parse_many of blocks: its capacity is the block size */
};

extern "C" wn_jsonv *wn_jsonv_new(void)
{
	wn_jsonv *v = new (std::nothrow) wn_jsonv();
#ifdef SIMDJSON_THREADS_ENABLED
	if (v)
		v->lines.threaded = false; /* one batch per block: no stage 1 thread */
#endif
	return v;
}

extern "C" void wn_jsonv_free(wn_jsonv *v)
{
	delete v;
}

static const char *type_name(simdjson::dom::element_type t)
{
	switch (t) {
	case simdjson::dom::element_type::ARRAY: return "an array";
	case simdjson::dom::element_type::STRING: return "a string";
	case simdjson::dom::element_type::INT64:
	case simdjson::dom::element_type::UINT64:
	case simdjson::dom::element_type::DOUBLE: return "a number";
	case simdjson::dom::element_type::BOOL: return "a boolean";
	case simdjson::dom::element_type::NULL_VALUE: return "null";
	default: return "not an object";
	}
}

extern "C" int wn_jsonv_check_object(wn_jsonv *v, const char *buf, size_t n, char *err, size_t errlen)
{
	try {
		simdjson::dom::element doc;
		auto error = v->parser.parse(buf, n, false).get(doc);
		if (error) {
			snprintf(err, errlen, "invalid JSON: %s", simdjson::error_message(error));
			return -1;
		}
		if (doc.type() != simdjson::dom::element_type::OBJECT) {
			snprintf(err, errlen, "not a JSON object (%s)", type_name(doc.type()));
			return -1;
		}
		return 0;
	} catch (const std::exception &e) {
		snprintf(err, errlen, "invalid JSON: %s", e.what());
		return -1;
	}
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The bytes between two documents: JSON whitespace only, holding `nl` newlines. */
static bool gap_ok(const char *p, size_t n, size_t *nl, bool *cr)
{
	*nl = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_ws(p[i]))
			return false;
		if (p[i] == '\n') {
			++*nl;
			if (i && p[i - 1] == '\r')
				*cr = true;
		}
	}
	return true;
}

/* Where the lines check stands while the documents of a block come by. */
struct lines_state {
	size_t pos;     /* end of the previous document (0: the block start) */
	size_t docs;
	bool first;
	bool clean;     /* no blank line, no CR before a newline so far */
};

/* One document [s, e) of the block: on a line of its own, nothing else on it. */
static bool take_doc(lines_state *st, const char *buf, size_t s, size_t e)
{
	size_t nl;
	bool cr = false;
	if (s < st->pos || e <= s || buf[s] != '{' || buf[e - 1] != '}' ||
	    !gap_ok(buf + st->pos, s - st->pos, &nl, &cr))
		return false;
	if (!st->first && nl == 0) /* two documents on one line */
		return false;
	if (nl > (st->first ? 0u : 1u) || cr) /* blank lines, or a CR the reader strips */
		st->clean = false;
	/* a document over several lines (checked while it is in L1: cheaper
	 * than counting the block's newlines afterwards) */
	if (memchr(buf + s, '\n', e - s))
		return false;
	st->first = false;
	st->pos = e;
	st->docs++;
	return true;
}

extern "C" int wn_jsonv_check_lines(wn_jsonv *v, const char *buf, size_t n, size_t block,
				    size_t *nobj)
{
	*nobj = 0;
	if (!n || buf[n - 1] != '\n')
		return WN_JSONV_LINES_BAD;
	try {
		simdjson::dom::document_stream stream;
		if (v->lines.parse_many(buf, n, block < n ? n : block).get(stream))
			return WN_JSONV_LINES_BAD;
		lines_state st = {0, 0, true, true};
		for (auto it = stream.begin(); it != stream.end(); ++it) {
			simdjson::dom::element doc;
			if ((*it).get(doc))
				return WN_JSONV_LINES_BAD;
			size_t s = it.current_index();
			std::string_view src = it.source();
			if (!take_doc(&st, buf, s, s + src.size()))
				return WN_JSONV_LINES_BAD;
		}
		size_t nl;
		bool cr = false;
		if (!gap_ok(buf + st.pos, n - st.pos, &nl, &cr) || (st.first && nl == 0))
			return WN_JSONV_LINES_BAD;
		if (st.first || nl != 1 || cr)
			st.clean = false;
		*nobj = st.docs;
		return st.clean ? WN_JSONV_LINES_CLEAN : WN_JSONV_LINES_VALID;
	} catch (const std::exception &) {
		return WN_JSONV_LINES_BAD;
	}
}
