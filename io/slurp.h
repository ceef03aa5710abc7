/*
 * io/slurp.h — a whole small file into memory: the one reader behind the
 * recipe file, a --mix-weights @FILE, BERT's JSON configs and the WordPiece
 * vocab and tokenizer.json, which each used to carry a private loop.
 *
 * Owns: nothing; the returned buffer is the caller's (free()).
 * Borrows: stdio, and io/errf.h for the message.
 *
 * Why a size cap: these files are small by nature (a recipe, a weights
 * table, a config), so a file past the cap is a mistake (a corpus given
 * where a table was meant) and is refused before it fills memory.
 */
#ifndef WN_IO_SLURP_H
#define WN_IO_SLURP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * All of PATH (at most max bytes, max < SIZE_MAX / 2), NUL-terminated, its
 * length in *len. Pipes and other unsized files work too. On failure NULL,
 * errno set (ENOENT and the like from open, EFBIG past the cap, ENOMEM, or
 * the read's own errno) and err holds one line "PATH: <why>": strerror's
 * text, or too_big past the cap (NULL: "larger than <max> bytes").
 */
char *wn_slurp(const char *path, size_t max, const char *too_big, size_t *len, char *err,
	       size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
