/*
 * io/jsonv.h — the C face of the simdjson bridge (io/jsonv.cc).
 *
 * Owns: strict RFC 8259 validation of one JSON document with simdjson
 * (UTF-8 included), and of a block of lines in one pass. The parser object is reused across calls, so a reader
 * keeps one. Borrows: libsimdjson (C++), hidden behind this interface.
 */
#ifndef WN_IO_JSONV_H
#define WN_IO_JSONV_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes simdjson may read past the end of a document; keep them readable. */
#define WN_JSON_PADDING 64

typedef struct wn_jsonv wn_jsonv;

wn_jsonv *wn_jsonv_new(void);
void wn_jsonv_free(wn_jsonv *v);
/*
 * Validate buf[0..n) as exactly one JSON document that is an object.
 * buf must stay readable up to n + WN_JSON_PADDING. Returns 0, or -1 with
 * one line in err ("not a JSON object (array)", "invalid JSON: ...").
 */
int wn_jsonv_check_object(wn_jsonv *v, const char *buf, size_t n, char *err, size_t errlen);

/* What wn_jsonv_check_lines found. */
enum { WN_JSONV_LINES_BAD = 0, WN_JSONV_LINES_VALID = 1, WN_JSONV_LINES_CLEAN = 2 };

/*
 * Validate a block of whole lines, buf[0..n) with buf[n - 1] == '\n', in one
 * pass: VALID when every line is blank (JSON whitespace only) or holds
 * exactly one JSON object and nothing but whitespace besides, so that each
 * line would pass wn_jsonv_check_object on its own; CLEAN when moreover no
 * line is blank and none ends in CR, so that the block's bytes are its
 * records, each followed by '\n'. *nobj = the objects of a VALID or CLEAN
 * block. BAD says only "not known to be valid" (an error, a document over
 * two lines, two on one line, a scalar...): the caller checks those lines
 * one at a time for the exact error. `block` is the largest n the caller
 * passes (the parser's capacity, allocated once); buf must stay readable up
 * to n + WN_JSON_PADDING.
 */
int wn_jsonv_check_lines(wn_jsonv *v, const char *buf, size_t n, size_t block, size_t *nobj);

#ifdef __cplusplus
}
#endif

#endif
