/*
 * io/policy.c — the --on-error policy: one message format, one counter,
 * one quarantine file, for every stage (DESIGN.md "Bad input").
 *
 * Nothing is dropped silently: every rejected line is printed (unless the
 * user asked for quiet skipping) and counted; the count ends up in the
 * command's closing line and in the store's runs table.
 */
#include "io/record.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

int wn_policy_parse_mode(const char *s)
{
	if (!strcmp(s, "fail"))
		return WN_ON_ERROR_FAIL;
	if (!strcmp(s, "skip"))
		return WN_ON_ERROR_SKIP;
	if (!strcmp(s, "quarantine"))
		return WN_ON_ERROR_QUARANTINE;
	return -1;
}

int wn_policy_open(wn_policy *p, char *err, size_t errlen)
{
	if (p->quarantine)
		return 0;
	p->quarantine = fopen(p->quarantine_path, p->append ? "ab" : "wb");
	if (!p->quarantine) {
		snprintf(err, errlen, "%s: cannot open quarantine file: %s", p->quarantine_path, strerror(errno));
		return -1;
	}
	return 0;
}

static int quarantine_line(wn_policy *p, const char *raw, size_t n)
{
	if (!p->quarantine) {
		p->quarantine = fopen(p->quarantine_path, p->append ? "ab" : "wb");
		if (!p->quarantine) {
			fprintf(stderr, "winnow %s: %s: cannot open quarantine file: %s\n", p->cmd,
				p->quarantine_path, strerror(errno));
			return -1;
		}
	}
	if (fwrite(raw, 1, n, p->quarantine) != n || fputc('\n', p->quarantine) == EOF) {
		fprintf(stderr, "winnow %s: %s: cannot write quarantine file: %s\n", p->cmd,
			p->quarantine_path, strerror(errno));
		return -1;
	}
	return 0;
}

static int reject_v(wn_policy *p, const char *file, uint64_t line, const char *raw, size_t n,
		    const char *fmt, va_list ap)
{
	p->rejected++;
	if (p->mode == WN_ON_ERROR_FAIL || !p->quiet) {
		fprintf(stderr, "winnow %s: %s:%llu: ", p->cmd, file, (unsigned long long)line);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	if (p->mode == WN_ON_ERROR_FAIL)
		return -1;
	if (p->mode == WN_ON_ERROR_QUARANTINE && raw)
		return quarantine_line(p, raw, n);
	return 0;
}

int wn_policy_reject(wn_policy *p, const char *file, uint64_t line, const char *raw,
		     size_t rawlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = reject_v(p, file, line, raw, rawlen, fmt, ap);
	va_end(ap);
	return r;
}

int wn_policy_reject_record(wn_policy *p, const wn_record *rec, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = reject_v(p, rec->file, rec->line, rec->json.p, rec->json.n, fmt, ap);
	va_end(ap);
	return r;
}

int wn_policy_close(wn_policy *p)
{
	if (!p->quarantine)
		return 0;
	int r = fclose(p->quarantine);
	p->quarantine = NULL;
	if (r) {
		fprintf(stderr, "winnow %s: %s: cannot write quarantine file: %s\n", p->cmd,
			p->quarantine_path, strerror(errno));
		return -1;
	}
	return 0;
}
