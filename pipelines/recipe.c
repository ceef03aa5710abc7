/*
 * pipelines/recipe.c — YAML text to a plan (see pipelines/recipe.h).
 *
 * Owns: walking libyaml's document tree at fixed depth (top level, steps,
 * a step's options, a list of values: never deeper, so an alias that points
 * back at its parent cannot loop), every copy of a string the plan keeps,
 * and the positions errors name. Borrows: libyaml's loader (the node tree
 * with each node's mark), the caller's table of steps.
 * Option values are validated by pipelines/recipe_bind.c, through the
 * step's own table, once the whole tree has been read.
 */
#include "pipelines/recipe.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <nettle/sha2.h>
#include <yaml.h>

#include "io/errf.h"

#define RECIPE_MAX_BYTES (1u << 20)

typedef struct parse_ctx {
	wn_recipe *r;
	yaml_document_t *doc;
	const wn_step *const *steps;
	const wn_recipe_env *env;
	char *err;
	size_t errlen;
} parse_ctx;

static wn_recipe_pos mark_pos(yaml_mark_t m)
{
	wn_recipe_pos p = {(unsigned)m.line + 1, (unsigned)m.column + 1};
	return p;
}

static wn_recipe_pos node_pos(const yaml_node_t *n)
{
	return mark_pos(n->start_mark);
}

int wn_recipe_error(char *err, size_t errlen, const char *name, wn_recipe_pos at, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	wn_errf(err, errlen, "%s:%u:%u: %s", name, at.line, at.col, msg);
	for (char *p = err; err && errlen && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

#define pos_err(c, at, ...) wn_recipe_error((c)->err, (c)->errlen, (c)->r->name, (at), __VA_ARGS__)
#define START_POS ((wn_recipe_pos){.line = 1, .col = 1})

static yaml_node_t *node_at(parse_ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

/* A scalar's value as a new string; -1 when n is not a scalar or holds a NUL. */
static int scalar_dup(parse_ctx *c, const yaml_node_t *n, const char *what, char **out)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return pos_err(c, n ? node_pos(n) : START_POS, "%s must be a single value", what);
	const char *v = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	if (memchr(v, 0, len))
		return pos_err(c, node_pos(n), "%s holds a NUL byte", what);
	*out = strndup(v, len);
	if (!*out)
		return pos_err(c, node_pos(n), "out of memory");
	return 0;
}

/* The key of a pair as a C string (borrowed from the document), or NULL. */
static const char *key_name(parse_ctx *c, const yaml_node_pair_t *p)
{
	yaml_node_t *k = node_at(c, p->key);
	if (!k || k->type != YAML_SCALAR_NODE || memchr(k->data.scalar.value, 0, k->data.scalar.length))
		return NULL;
	return (const char *)k->data.scalar.value;
}

/* `name` is one of allowed (NULL-terminated): else an error with a suggestion. */
static int known_key(parse_ctx *c, const yaml_node_t *key, const char *name,
		     const char *const *allowed, const char *where)
{
	struct wn_option t[8] = {{0}};
	int n = 0;
	for (; allowed[n]; n++) {
		if (!strcmp(allowed[n], name))
			return 0;
		t[n].type = WN_OPT_BOOL;
		t[n].long_name = allowed[n];
	}
	const char *s = wn_opts_suggest(t, name);
	if (s)
		return pos_err(c, node_pos(key), "unknown key '%s' in %s; did you mean '%s'?", name, where, s);
	return pos_err(c, node_pos(key), "unknown key '%s' in %s", name, where);
}

/* Every key of mapping m is a plain name, none repeated. */
static int plain_unique_keys(parse_ctx *c, const yaml_node_t *m)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *name = key_name(c, p);
		if (!name)
			return pos_err(c, node_pos(node_at(c, p->key)), "a key must be a plain name");
		for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++)
			if (!strcmp(key_name(c, q), name))
				return pos_err(c, node_pos(node_at(c, p->key)), "duplicate key '%s'", name);
	}
	return 0;
}

static int parse_version(parse_ctx *c, const yaml_node_t *v)
{
	if (v->type != YAML_SCALAR_NODE || memchr(v->data.scalar.value, 0, v->data.scalar.length))
		return pos_err(c, node_pos(v), "winnow: takes the recipe format's version (1)");
	const char *s = (const char *)v->data.scalar.value;
	if (strcmp(s, "1"))
		return pos_err(c, node_pos(v), "unsupported recipe version '%.40s' (this winnow reads 'winnow: 1')", s);
	return 0;
}

static int parse_seed(parse_ctx *c, const yaml_node_t *v)
{
	if (scalar_dup(c, v, "seed", &c->r->seed))
		return -1;
	c->r->seed_at = node_pos(v);
	char *end;
	const char *s = c->r->seed;
	strtoll(s, &end, 10);
	if (!*s || *end || *s == ' ')
		return pos_err(c, node_pos(v), "seed must be an integer, got '%s'", s);
	return 0;
}

static int add_pattern(parse_ctx *c, const yaml_node_t *v)
{
	wn_recipe *r = c->r;
	char **p = realloc(r->patterns, (r->npatterns + 1) * sizeof *p);
	if (p)
		r->patterns = p;
	wn_recipe_pos *a = realloc(r->pattern_at, (r->npatterns + 1) * sizeof *a);
	if (a)
		r->pattern_at = a;
	if (!p || !a)
		return pos_err(c, node_pos(v), "out of memory");
	if (scalar_dup(c, v, "an input", &r->patterns[r->npatterns]))
		return -1;
	if (!r->patterns[r->npatterns][0]) {
		free(r->patterns[r->npatterns]);
		return pos_err(c, node_pos(v), "an input must not be empty");
	}
	r->pattern_at[r->npatterns++] = node_pos(v);
	return 0;
}

static int parse_inputs(parse_ctx *c, const yaml_node_t *v)
{
	if (v->type == YAML_SCALAR_NODE)
		return add_pattern(c, v);
	if (v->type != YAML_SEQUENCE_NODE)
		return pos_err(c, node_pos(v), "inputs must be a file pattern or a list of them");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++)
		if (add_pattern(c, node_at(c, *i)))
			return -1;
	if (!c->r->npatterns)
		return pos_err(c, node_pos(v), "inputs must name at least one file");
	return 0;
}

static int add_kv(parse_ctx *c, wn_recipe_step *s, const yaml_node_t *key, const yaml_node_t *val)
{
	wn_recipe_kv *kv = realloc(s->kv, (s->nkv + 1) * sizeof *kv);
	if (!kv)
		return pos_err(c, node_pos(key), "out of memory");
	s->kv = kv;
	kv += s->nkv;
	memset(kv, 0, sizeof *kv);
	kv->key_at = node_pos(key);
	kv->value_at = node_pos(val);
	if (scalar_dup(c, key, "an option name", &kv->key))
		return -1;
	if (scalar_dup(c, val, "an option's value", &kv->value)) {
		free(kv->key);
		return -1;
	}
	s->nkv++;
	return 0;
}

/* One "option: value" (a list value repeats the option). */
static int parse_option(parse_ctx *c, wn_recipe_step *s, const yaml_node_pair_t *p)
{
	yaml_node_t *key = node_at(c, p->key), *val = node_at(c, p->value);
	if (!val || val->type == YAML_MAPPING_NODE)
		return pos_err(c, val ? node_pos(val) : node_pos(key),
			       "option '%s' of %s takes a value or a list of values", key_name(c, p),
			       s->step->name);
	if (val->type == YAML_SCALAR_NODE)
		return add_kv(c, s, key, val);
	for (yaml_node_item_t *i = val->data.sequence.items.start; i < val->data.sequence.items.top; i++) {
		yaml_node_t *item = node_at(c, *i);
		if (!item || item->type != YAML_SCALAR_NODE)
			return pos_err(c, item ? node_pos(item) : node_pos(val),
				       "option '%s' of %s: a list of plain values only", key_name(c, p),
				       s->step->name);
		if (add_kv(c, s, key, item))
			return -1;
	}
	return 0;
}

static int parse_options(parse_ctx *c, wn_recipe_step *s, const yaml_node_t *m)
{
	if (m->type == YAML_SCALAR_NODE && m->data.scalar.length == 0)
		return 0; /* "- cat:" */
	if (m->type != YAML_MAPPING_NODE)
		return pos_err(c, node_pos(m), "the options of %s must be a mapping (option: value)",
			       s->step->name);
	if (plain_unique_keys(c, m))
		return -1;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
		if (parse_option(c, s, p))
			return -1;
	return 0;
}

/* The step called name in the caller's table, or an error with a suggestion. */
static const wn_step *find_step(parse_ctx *c, const yaml_node_t *at, const char *name)
{
	size_t n = 0;
	while (c->steps[n])
		n++;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c->steps[i]->name, name))
			return c->steps[i];
	struct wn_option *t = calloc(n + 1, sizeof *t);
	if (!t) {
		pos_err(c, node_pos(at), "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		t[i].type = WN_OPT_BOOL, t[i].long_name = c->steps[i]->name;
	const char *s = wn_opts_suggest(t, name);
	if (s)
		pos_err(c, node_pos(at), "unknown step '%s'; did you mean '%s'?", name, s);
	else
		pos_err(c, node_pos(at), "unknown step '%s'", name);
	free(t);
	return NULL;
}

static wn_recipe_step *new_step(parse_ctx *c, const yaml_node_t *at)
{
	wn_recipe *r = c->r;
	wn_recipe_step *s = realloc(r->steps, (r->nsteps + 1) * sizeof *s);
	if (!s) {
		pos_err(c, node_pos(at), "out of memory");
		return NULL;
	}
	r->steps = s;
	s += r->nsteps++;
	memset(s, 0, sizeof *s);
	s->at = node_pos(at);
	return s;
}

/* "- name" or "- name: {options}". */
static int parse_step(parse_ctx *c, const yaml_node_t *item)
{
	const yaml_node_t *name = item, *opts = NULL;
	if (item->type == YAML_MAPPING_NODE) {
		if (item->data.mapping.pairs.top - item->data.mapping.pairs.start != 1)
			return pos_err(c, node_pos(item),
				       "a step is one name with its options ('- select: {top: 10, by: x}')");
		name = node_at(c, item->data.mapping.pairs.start->key);
		opts = node_at(c, item->data.mapping.pairs.start->value);
	}
	if (!name || name->type != YAML_SCALAR_NODE || memchr(name->data.scalar.value, 0, name->data.scalar.length))
		return pos_err(c, node_pos(item), "a step is a step name, or a name with its options");
	const wn_step *st = find_step(c, name, (const char *)name->data.scalar.value);
	if (!st)
		return -1;
	if (st->flags & (WN_STEP_NO_INPUT | WN_STEP_NO_OUTPUT))
		return pos_err(c, node_pos(name), "%s cannot be a recipe step (%s)", st->name,
			       st->flags & WN_STEP_NO_INPUT ? "it reads no records"
							    : "it writes no records: name the database in output:");
	wn_recipe_step *s = new_step(c, name);
	if (!s)
		return -1;
	s->step = st;
	return opts ? parse_options(c, s, opts) : 0;
}

static int parse_steps(parse_ctx *c, const yaml_node_t *v)
{
	if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start)
		return pos_err(c, node_pos(v), "steps must be a list of at least one step");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
		yaml_node_t *item = node_at(c, *i);
		if (!item || parse_step(c, item))
			return -1;
	}
	return 0;
}

/* output.db: the store step, with table and mode as its options. */
static int add_store(parse_ctx *c, const yaml_node_t *m, const yaml_node_t *db_key)
{
	const wn_step *st = NULL;
	if (c->env && c->env->output)
		return 0; /* -o FILE replaces the database */
	for (size_t i = 0; c->steps[i]; i++)
		if (!strcmp(c->steps[i]->name, "store"))
			st = c->steps[i];
	if (!st)
		return pos_err(c, node_pos(db_key), "output: db needs the store step, which this winnow "
						    "does not have yet; use output: {jsonl: FILE}");
	wn_recipe_step *s = new_step(c, db_key);
	if (!s)
		return -1;
	s->step = st;
	s->db = c->r->out_db;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = key_name(c, p);
		if ((!strcmp(k, "table") || !strcmp(k, "mode")) && parse_option(c, s, p))
			return -1;
	}
	return 0;
}

static int parse_output(parse_ctx *c, const yaml_node_t *m)
{
	static const char *const keys[] = {"jsonl", "db", "table", "mode", NULL};
	wn_recipe *r = c->r;
	if (m->type != YAML_MAPPING_NODE)
		return pos_err(c, node_pos(m), "output must be {jsonl: FILE} or {db: FILE, table: NAME}");
	r->out_at = node_pos(m);
	if (plain_unique_keys(c, m))
		return -1;
	const yaml_node_t *db_key = NULL, *other = NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = key_name(c, p);
		yaml_node_t *key = node_at(c, p->key), *val = node_at(c, p->value);
		if (known_key(c, key, k, keys, "output"))
			return -1;
		if (!strcmp(k, "jsonl") && scalar_dup(c, val, "output: jsonl", &r->out_jsonl))
			return -1;
		if (!strcmp(k, "db") && (db_key = key) && scalar_dup(c, val, "output: db", &r->out_db))
			return -1;
		if (strcmp(k, "jsonl") && strcmp(k, "db"))
			other = key;
	}
	if (!r->out_jsonl == !r->out_db)
		return pos_err(c, node_pos(m), "output needs one of jsonl: FILE or db: FILE");
	if ((r->out_jsonl && !r->out_jsonl[0]) || (r->out_db && !r->out_db[0]))
		return pos_err(c, node_pos(m), "output: the file name is empty");
	if (r->out_jsonl && other)
		return pos_err(c, node_pos(other), "output: table and mode go with db, not jsonl");
	return r->out_db ? add_store(c, m, db_key) : 0;
}

static int parse_cache(parse_ctx *c, const yaml_node_t *v)
{
	if (scalar_dup(c, v, "cache", &c->r->cache))
		return -1;
	c->r->cache_at = node_pos(v);
	if (!c->r->cache[0])
		return pos_err(c, node_pos(v), "cache: the directory name is empty");
	return 0;
}

/* The top level: a mapping of winnow, seed, inputs, steps, output, cache. */
static int parse_top(parse_ctx *c, const yaml_node_t *root)
{
	static const char *const keys[] = {"winnow", "seed", "inputs", "steps", "output", "cache", NULL};
	if (!root || root->type != YAML_MAPPING_NODE)
		return pos_err(c, root ? node_pos(root) : START_POS,
			       "a recipe is a mapping of winnow: 1, inputs:, steps: and output:");
	if (plain_unique_keys(c, root))
		return -1;
	const yaml_node_t *found[6] = {NULL};
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const char *k = key_name(c, p);
		if (known_key(c, node_at(c, p->key), k, keys, "the recipe"))
			return -1;
		for (int i = 0; keys[i]; i++)
			if (!strcmp(k, keys[i]))
				found[i] = node_at(c, p->value);
	}
	static const char *const missing[] = {"missing 'winnow: 1' (the recipe format's version)", NULL,
					      "missing 'inputs:'", "missing 'steps:'", "missing 'output:'"};
	for (int i = 0; i < 5; i++)
		if (!found[i] && missing[i])
			return pos_err(c, node_pos(root), "%s", missing[i]);
		else if (i == 0 && parse_version(c, found[0]))
			return -1; /* a version this winnow cannot read: say so before anything else */
	/* steps before output: the store step made from output.db comes last */
	return (found[1] && parse_seed(c, found[1])) || parse_inputs(c, found[2]) ||
	       parse_steps(c, found[3]) || parse_output(c, found[4]) ||
	       (found[5] && parse_cache(c, found[5]));
}

static int load_document(parse_ctx *c, const char *text, size_t len)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return pos_err(c, START_POS, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	int ok = yaml_parser_load(&p, c->doc);
	if (!ok) {
		pos_err(c, mark_pos(p.problem_mark), "YAML: %s%s%s", p.problem ? p.problem : "cannot parse",
			p.context ? " " : "", p.context ? p.context : "");
		yaml_parser_delete(&p);
		return -1;
	}
	yaml_document_t next;
	int more = 0;
	if (yaml_document_get_root_node(c->doc) && yaml_parser_load(&p, &next)) {
		more = yaml_document_get_root_node(&next) != NULL;
		if (more)
			pos_err(c, node_pos(yaml_document_get_root_node(&next)),
				"a recipe is one YAML document; this is a second one");
		yaml_document_delete(&next);
	}
	yaml_parser_delete(&p);
	if (more)
		yaml_document_delete(c->doc);
	return more ? -1 : 0;
}

static void free_step(wn_recipe_step *s);

/* `winnow run -o FILE`: JSONL to FILE, whatever output: says (the store step goes). */
static int override_output(parse_ctx *c, const char *path)
{
	wn_recipe *r = c->r;
	if (r->out_db) {
		if (r->nsteps && r->steps[r->nsteps - 1].db)
			free_step(&r->steps[--r->nsteps]);
		free(r->out_db);
		r->out_db = NULL;
	}
	free(r->out_jsonl);
	if (!(r->out_jsonl = strdup(path)))
		return pos_err(c, r->out_at, "out of memory");
	return 0;
}

static wn_recipe *recipe_new(const char *name, const char *text, size_t len)
{
	wn_recipe *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->name = strdup(name);
	r->text = malloc(len + 1);
	if (!r->name || !r->text) {
		wn_recipe_free(r);
		return NULL;
	}
	memcpy(r->text, text, len);
	r->text[len] = 0;
	r->text_len = len;
	return r;
}

wn_recipe *wn_recipe_parse(const char *name, const char *text, size_t len,
			   const wn_step *const *steps, const wn_recipe_env *env, char *err,
			   size_t errlen)
{
	wn_recipe *r = recipe_new(name, text, len);
	if (!r) {
		wn_errf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	yaml_document_t doc;
	parse_ctx c = {r, &doc, steps, env, err, errlen};
	if (len > RECIPE_MAX_BYTES) {
		pos_err(&c, START_POS, "a recipe is at most %u bytes", RECIPE_MAX_BYTES);
		wn_recipe_free(r);
		return NULL;
	}
	if (load_document(&c, text, len)) {
		wn_recipe_free(r);
		return NULL;
	}
	int rc = parse_top(&c, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	if (!rc && env && env->output)
		rc = override_output(&c, env->output);
	if (!rc && env && env->no_cache) {
		free(r->cache);
		r->cache = NULL;
	}
	if (!rc && env && env->cache && !env->no_cache) { /* --cache DIR replaces cache: */
		free(r->cache);
		if (!(r->cache = strdup(env->cache)))
			rc = pos_err(&c, START_POS, "out of memory");
	}
	if (rc || wn_recipe_check_steps(r, env, err, errlen)) {
		wn_recipe_free(r);
		return NULL;
	}
	return r;
}

static void free_step(wn_recipe_step *s)
{
	for (size_t i = 0; i < s->nkv; i++) {
		free(s->kv[i].key);
		free(s->kv[i].value);
	}
	free(s->kv);
}

void wn_recipe_free(wn_recipe *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nsteps; i++)
		free_step(&r->steps[i]);
	for (size_t i = 0; i < r->npatterns; i++)
		free(r->patterns[i]);
	for (size_t i = 0; i < r->ninputs; i++)
		free(r->inputs[i]);
	free(r->steps);
	free(r->patterns);
	free(r->pattern_at);
	free(r->inputs);
	free(r->name);
	free(r->text);
	free(r->seed);
	free(r->out_jsonl);
	free(r->out_db);
	free(r->cache);
	free(r);
}

void wn_recipe_sha256(const wn_recipe *r, char hex[65])
{
	struct sha256_ctx ctx;
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_init(&ctx);
	sha256_update(&ctx, r->text_len, (const uint8_t *)r->text);
	sha256_digest(&ctx, sizeof d, d);
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}
