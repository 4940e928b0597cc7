/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - Corefile reader.
 *
 * Three passes, like Caddy v1 (which CoreDNS uses): the lexer turns bytes into tokens
 * that remember file, line and whether they start a line; the expander replaces
 * `import` lines by the tokens of a snippet or of files and takes snippet definitions
 * out of the stream; the parser groups the result into server blocks and directive
 * lines. Braces are only structural as whole unquoted tokens, as in Caddy.
 */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "corefile.h"

#define CF_MAX_FILE    (8u << 20) /* bytes of one Corefile or imported file */
#define CF_MAX_TOKENS  (1u << 20) /* tokens after expansion: bounds snippet fan-out */
#define CF_MAX_DEPTH   32         /* nested imports */
#define CF_CHUNK       65536

/* ------------------------------------------------------------------------- */
/* Arena: everything a parsed file points to is freed at once.               */

struct cf_chunk {
	struct cf_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct cf_arena {
	struct cf_chunk *head;
};

static void *arena_alloc(struct cf_arena *a, size_t size)
{
	struct cf_chunk *c = a->head;
	size_t al = _Alignof(max_align_t);

	size = (size + al - 1) & ~(al - 1);
	if (c == NULL || c->cap - c->used < size) {
		size_t cap = size > CF_CHUNK ? size : CF_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	c->used += size;
	return (char *)c->data + c->used - size;
}

static char *arena_strndup(struct cf_arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

static void arena_free(struct cf_arena *a)
{
	struct cf_chunk *c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

/* ------------------------------------------------------------------------- */
/* Errors                                                                      */

int cf_errf(char *err, size_t errlen, const struct cf_token *t, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (err == NULL || errlen == 0)
		return -EINVAL;
	if (t != NULL)
		n = snprintf(err, errlen, "%s:%u: ", t->file, t->line);
	if (n < 0)
		n = 0;
	if ((size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------------- */
/* Token vectors                                                               */

struct tokvec {
	struct cf_token *v;
	unsigned n, cap;
};

static int tokvec_push(struct tokvec *tv, const struct cf_token *t)
{
	if (tv->n == tv->cap) {
		unsigned cap = tv->cap ? tv->cap * 2 : 256;
		struct cf_token *v = realloc(tv->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		tv->v = v;
		tv->cap = cap;
	}
	tv->v[tv->n++] = *t;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Lexer                                                                       */

struct lexer {
	const char *p, *end;
	const char *file;
	unsigned line;
	bool nl;            /* a newline was seen since the last token */
	struct cf_arena *a;
	char *err;
	size_t errlen;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Skip blanks and comments; '#' starts a comment anywhere outside quotes (Caddy). */
static void lex_skip(struct lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		if (!is_space(c))
			return;
		if (c == '\n') {
			lx->line++;
			lx->nl = true;
		}
		lx->p++;
	}
}

/* Quoted token: only \" is an escape; any other backslash stays as written (Caddy). */
static int lex_quoted(struct lexer *lx, struct cf_token *t)
{
	size_t cap = (size_t)(lx->end - lx->p) + 1, n = 0;
	char *buf = malloc(cap);

	if (buf == NULL)
		return -ENOMEM;
	lx->p++; /* opening quote */
	while (lx->p < lx->end) {
		char c = *lx->p++;

		if (c == '"') {
			t->text = arena_strndup(lx->a, buf, n);
			free(buf);
			return t->text != NULL ? 0 : -ENOMEM;
		}
		if (c == '\\' && lx->p < lx->end && *lx->p == '"') {
			c = '"';
			lx->p++;
		} else if (c == '\n') {
			lx->line++;
		}
		buf[n++] = c;
	}
	free(buf);
	return cf_errf(lx->err, lx->errlen, t, "unterminated quoted string");
}

/* @return 1 with a token, 0 at the end, negative on error. */
static int lex_next(struct lexer *lx, struct cf_token *t)
{
	const char *s;

	lex_skip(lx);
	if (lx->p >= lx->end)
		return 0;
	memset(t, 0, sizeof(*t));
	t->file = lx->file;
	t->line = lx->line;
	t->nl = lx->nl;
	lx->nl = false;
	if (*lx->p == '"') {
		int rc = lex_quoted(lx, t);

		t->quoted = true;
		return rc < 0 ? rc : 1;
	}
	s = lx->p;
	while (lx->p < lx->end && !is_space(*lx->p) && *lx->p != '#')
		lx->p++;
	t->text = arena_strndup(lx->a, s, (size_t)(lx->p - s));
	if (t->text == NULL)
		return -ENOMEM;
	if ((t->text[0] == '{' || t->text[0] == '}') && t->text[1] == '\0')
		t->brace = t->text[0];
	return 1;
}

static int lex_all(struct cf_arena *a, const char *file, const char *text, size_t len,
		   struct tokvec *out, char *err, size_t errlen)
{
	struct lexer lx = {
		.p = text, .end = text + len, .file = file, .line = 1, .nl = true,
		.a = a, .err = err, .errlen = errlen,
	};
	struct cf_token t;
	int rc;

	/* Tokens are C strings: a NUL would silently cut one short. */
	if (memchr(text, '\0', len) != NULL)
		return cf_errf(err, errlen, NULL, "%s: contains a NUL byte", file);
	while ((rc = lex_next(&lx, &t)) > 0) {
		if (tokvec_push(out, &t) < 0)
			return -ENOMEM;
	}
	return rc;
}

/* ------------------------------------------------------------------------- */
/* Files                                                                       */

static char *read_text(const char *path, size_t *len, int *err)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	*err = 0;
	if (f == NULL) {
		*err = -errno;
		return NULL;
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			char *nb;

			cap = cap ? cap * 2 : 4096;
			if (cap > CF_MAX_FILE + 1)
				cap = CF_MAX_FILE + 1;
			nb = realloc(buf, cap);
			if (nb == NULL || n == cap) {
				free(nb == NULL ? buf : nb);
				*err = nb == NULL ? -ENOMEM : -EFBIG;
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		*err = -EIO;
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Directory part of @p path ("." when there is none). */
static char *dir_of(struct cf_arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return arena_strndup(a, ".", 1);
	if (slash == path)
		return arena_strndup(a, "/", 1);
	return arena_strndup(a, path, (size_t)(slash - path));
}

/* ------------------------------------------------------------------------- */
/* Environment substitution: {$VAR} and {%VAR%}, each occurrence once.        */

static const char *subst_one(struct cf_arena *a, const char *s, const char *open,
			     const char *close)
{
	size_t olen = strlen(open), clen = strlen(close), cap, n = 0;
	const char *p = s, *hit;
	char *out;

	if (strstr(s, open) == NULL)
		return s;
	cap = strlen(s) + 1;
	for (p = s; (hit = strstr(p, open)) != NULL; p = hit + olen) {
		const char *end = strstr(hit + olen, close);
		const char *val;

		if (end == NULL || end == hit + olen)
			break;
		val = getenv(arena_strndup(a, hit + olen, (size_t)(end - hit - olen)));
		cap += val != NULL ? strlen(val) : 0;
	}
	out = arena_alloc(a, cap);
	if (out == NULL)
		return NULL;
	for (p = s; (hit = strstr(p, open)) != NULL;) {
		const char *end = strstr(hit + olen, close);
		const char *val;

		if (end == NULL || end == hit + olen)
			break;
		memcpy(out + n, p, (size_t)(hit - p));
		n += (size_t)(hit - p);
		val = getenv(arena_strndup(a, hit + olen, (size_t)(end - hit - olen)));
		if (val != NULL) {
			memcpy(out + n, val, strlen(val));
			n += strlen(val);
		}
		p = end + clen;
	}
	strcpy(out + n, p);
	return out;
}

static const char *env_subst(struct cf_arena *a, const char *s)
{
	s = subst_one(a, s, "{%", "%}");
	return s == NULL ? NULL : subst_one(a, s, "{$", "}");
}

/* ------------------------------------------------------------------------- */
/* Expansion of imports and snippets                                          */

struct snippet {
	const char *name;
	const struct cf_token *tok;
	unsigned n;
};

struct expander {
	struct cf_arena *a;
	char *err;
	size_t errlen;
	struct tokvec out;
	struct snippet *snip;
	unsigned n_snip;
	const char *stack[CF_MAX_DEPTH]; /* files (real paths) and "(snippet)" being expanded */
	const char *shown[CF_MAX_DEPTH]; /* the same, as shown in messages */
	unsigned depth;
	int nest;
	bool force_nl;
	const char **files;              /* cf_file.files being collected (arena strings) */
	unsigned n_files, cap_files;
};

/* Remember a file the configuration was read from (once: snippets files get imported by
 * several blocks). */
static int add_file(struct expander *x, const char *path)
{
	for (unsigned i = 0; i < x->n_files; i++) {
		if (strcmp(x->files[i], path) == 0)
			return 0;
	}
	if (x->n_files == x->cap_files) {
		unsigned cap = x->cap_files ? x->cap_files * 2 : 8;
		const char **v = realloc(x->files, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		x->files = v;
		x->cap_files = cap;
	}
	x->files[x->n_files++] = path;
	return 0;
}

static int expand(struct expander *x, const struct cf_token *tok, unsigned n);

static int emit(struct expander *x, const struct cf_token *t)
{
	struct cf_token c = *t;

	if (x->out.n >= CF_MAX_TOKENS)
		return cf_errf(x->err, x->errlen, t, "more than %u tokens after imports", CF_MAX_TOKENS);
	c.text = env_subst(x->a, t->text);
	if (c.text == NULL)
		return -ENOMEM;
	if (x->force_nl)
		c.nl = true;
	x->force_nl = false;
	if (c.brace == '{')
		x->nest++;
	else if (c.brace == '}')
		x->nest--;
	return tokvec_push(&x->out, &c);
}

static const struct snippet *find_snippet(const struct expander *x, const char *name)
{
	for (unsigned i = 0; i < x->n_snip; i++) {
		if (strcmp(x->snip[i].name, name) == 0)
			return &x->snip[i];
	}
	return NULL;
}

/* "(name)" as the only key of a block: a snippet definition. */
static bool is_snippet_def(const struct expander *x, const struct cf_token *tok, unsigned n,
			   unsigned i)
{
	size_t len = strlen(tok[i].text);

	return x->nest == 0 && tok[i].nl && !tok[i].brace && len >= 2 && tok[i].text[0] == '(' &&
	       tok[i].text[len - 1] == ')' && i + 1 < n && tok[i + 1].brace == '{';
}

static int define_snippet(struct expander *x, const struct cf_token *tok, unsigned n,
			  unsigned *ip)
{
	unsigned i = *ip, start = i + 2, j;
	const char *text = env_subst(x->a, tok[i].text);
	struct snippet *s;
	int depth = 1;

	if (text == NULL)
		return -ENOMEM;
	if (strlen(text) < 3)
		return cf_errf(x->err, x->errlen, &tok[i], "empty snippet name '%s'", text);
	for (j = start; j < n; j++) {
		if (tok[j].brace == '{')
			depth++;
		else if (tok[j].brace == '}' && --depth == 0)
			break;
	}
	if (j >= n)
		return cf_errf(x->err, x->errlen, &tok[i + 1],
			       "unexpected end of file: missing '}' of snippet %s", text);
	if (j + 1 < n && !tok[j + 1].nl)
		return cf_errf(x->err, x->errlen, &tok[j + 1], "unexpected '%s' after '}'",
			       tok[j + 1].text);
	text = arena_strndup(x->a, text + 1, strlen(text) - 2);
	if (text == NULL)
		return -ENOMEM;
	if (find_snippet(x, text) != NULL)
		return cf_errf(x->err, x->errlen, &tok[i], "redeclaration of snippet '%s'", text);
	s = realloc(x->snip, (x->n_snip + 1) * sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	x->snip = s;
	s[x->n_snip].name = text;
	s[x->n_snip].n = j - start;
	s[x->n_snip].tok = arena_alloc(x->a, (j - start + 1) * sizeof(struct cf_token));
	if (s[x->n_snip].tok == NULL)
		return -ENOMEM;
	memcpy((void *)s[x->n_snip].tok, tok + start, (j - start) * sizeof(struct cf_token));
	x->n_snip++;
	*ip = j + 1;
	return 0;
}

/* Refuse a file or snippet already being expanded: "a -> b -> a". */
static int push_frame(struct expander *x, const struct cf_token *t, const char *key,
		      const char *shown)
{
	char chain[1024] = "";

	for (unsigned d = 0; d < x->depth; d++) {
		if (strcmp(x->stack[d], key) != 0)
			continue;
		for (unsigned k = d; k < x->depth; k++) {
			strncat(chain, x->shown[k], sizeof(chain) - strlen(chain) - 1);
			strncat(chain, " -> ", sizeof(chain) - strlen(chain) - 1);
		}
		strncat(chain, shown, sizeof(chain) - strlen(chain) - 1);
		return cf_errf(x->err, x->errlen, t, "import cycle: %s", chain);
	}
	if (x->depth >= CF_MAX_DEPTH)
		return cf_errf(x->err, x->errlen, t, "imports nested deeper than %d", CF_MAX_DEPTH);
	x->stack[x->depth] = key;
	x->shown[x->depth] = shown;
	x->depth++;
	return 0;
}

static int import_snippet(struct expander *x, const struct cf_token *t, const struct snippet *s)
{
	char *key = arena_alloc(x->a, strlen(s->name) + 3);
	int rc;

	if (key == NULL)
		return -ENOMEM;
	sprintf(key, "(%s)", s->name);
	rc = push_frame(x, t, key, key);
	if (rc < 0)
		return rc;
	x->force_nl = true;
	rc = expand(x, s->tok, s->n);
	x->force_nl = false;
	x->depth--;
	return rc;
}

static int import_one_file(struct expander *x, const struct cf_token *t, const char *path)
{
	struct tokvec tv = { 0 };
	struct stat st;
	char real[PATH_MAX];
	const char *file;
	size_t len;
	char *text;
	int rc;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return cf_errf(x->err, x->errlen, t, "import: %s is a directory", path);
	if (realpath(path, real) == NULL)
		return cf_errf(x->err, x->errlen, t, "import: %s: %s", path, strerror(errno));
	file = arena_strndup(x->a, path, strlen(path));
	if (file == NULL)
		return -ENOMEM;
	rc = push_frame(x, t, arena_strndup(x->a, real, strlen(real)), file);
	if (rc < 0)
		return rc;
	text = read_text(path, &len, &rc);
	if (text == NULL) {
		x->depth--;
		return cf_errf(x->err, x->errlen, t, "import: %s: %s", path, strerror(-rc));
	}
	rc = add_file(x, file);
	if (rc == 0)
		rc = lex_all(x->a, file, text, len, &tv, x->err, x->errlen);
	free(text);
	if (rc == 0) {
		x->force_nl = true;
		rc = expand(x, tv.v, tv.n);
		x->force_nl = false;
	}
	free(tv.v);
	x->depth--;
	return rc;
}

static unsigned count_char(const char *s, char c)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static int import_files(struct expander *x, const struct cf_token *t, const char *pattern)
{
	const char *dir = dir_of(x->a, t->file);
	bool wild = strpbrk(pattern, "*?[") != NULL;
	char *path;
	glob_t g;
	int rc = 0;

	if (dir == NULL)
		return -ENOMEM;
	if (pattern[0] == '/' || strcmp(dir, ".") == 0) {
		path = arena_strndup(x->a, pattern, strlen(pattern));
	} else {
		path = arena_alloc(x->a, strlen(dir) + strlen(pattern) + 2);
		if (path != NULL)
			sprintf(path, "%s/%s", dir, pattern);
	}
	if (path == NULL)
		return -ENOMEM;
	/* Caddy's limit: patterns with many wildcards can take very long to expand. */
	if (count_char(path, '*') > 1 || count_char(path, '?') > 1 ||
	    (strchr(path, '[') != NULL && strchr(path, ']') != NULL))
		return cf_errf(x->err, x->errlen, t,
			       "import: glob pattern may contain only one wildcard: %s", path);
	switch (glob(path, 0, NULL, &g)) {
	case 0:
		break;
	case GLOB_NOMATCH:
		if (!wild)
			return cf_errf(x->err, x->errlen, t, "import: file not found: %s", path);
		fprintf(stderr, "[WARNING] %s:%u: no files match import pattern %s\n", t->file,
			t->line, path);
		return 0;
	default:
		return cf_errf(x->err, x->errlen, t, "import: cannot expand %s", path);
	}
	for (size_t k = 0; k < g.gl_pathc && rc == 0; k++)
		rc = import_one_file(x, t, g.gl_pathv[k]);
	globfree(&g);
	return rc;
}

/* `import ARG` at the start of a line; *ip points at "import". */
static int do_import(struct expander *x, const struct cf_token *tok, unsigned n, unsigned *ip)
{
	const struct cf_token *t = &tok[*ip];
	const struct snippet *s;
	const char *arg;

	if (*ip + 1 >= n || tok[*ip + 1].nl)
		return cf_errf(x->err, x->errlen, t, "import: missing argument (snippet, file or glob)");
	if (*ip + 2 < n && !tok[*ip + 2].nl)
		return cf_errf(x->err, x->errlen, t, "import: takes only one argument");
	arg = env_subst(x->a, tok[*ip + 1].text);
	if (arg == NULL)
		return -ENOMEM;
	if (arg[0] == '\0')
		return cf_errf(x->err, x->errlen, t, "import: empty argument");
	*ip += 2;
	s = find_snippet(x, arg);
	if (s != NULL)
		return import_snippet(x, t, s);
	return import_files(x, t, arg);
}

static int expand(struct expander *x, const struct cf_token *tok, unsigned n)
{
	unsigned i = 0;
	int rc;

	while (i < n) {
		const struct cf_token *t = &tok[i];

		if (t->nl && !t->quoted && !t->brace) {
			const char *text = env_subst(x->a, t->text);

			if (text == NULL)
				return -ENOMEM;
			if (strcmp(text, "import") == 0) {
				rc = do_import(x, tok, n, &i);
				if (rc < 0)
					return rc;
				continue;
			}
		}
		if (is_snippet_def(x, tok, n, i)) {
			rc = define_snippet(x, tok, n, &i);
		} else {
			rc = emit(x, t);
			i++;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Parser                                                                      */

struct parser {
	struct cf_arena *a;
	const struct cf_token *t;
	unsigned n, i;
	char *err;
	size_t errlen;
};

struct linevec {
	struct cf_line *v;
	unsigned n, cap;
};

static int linevec_push(struct linevec *lv, const struct cf_line *l)
{
	if (lv->n == lv->cap) {
		unsigned cap = lv->cap ? lv->cap * 2 : 16;
		struct cf_line *v = realloc(lv->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		lv->v = v;
		lv->cap = cap;
	}
	lv->v[lv->n++] = *l;
	return 0;
}

static int parse_lines(struct parser *p, const struct cf_token *open, struct cf_line **out,
		       unsigned *n_out);

/*
 * A closing brace must start its line or directly follow the opening one (empty block):
 * Caddy takes a '}' after arguments on the same line for one more argument, which only
 * leads to confusing errors later.
 */
static int close_brace(struct parser *p)
{
	const struct cf_token *t = &p->t[p->i];

	if (!t->nl && !(p->i > 0 && p->t[p->i - 1].brace == '{'))
		return cf_errf(p->err, p->errlen, t,
			       "unexpected '}' (a closing brace must start a line)");
	p->i++;
	if (p->i < p->n && !p->t[p->i].nl)
		return cf_errf(p->err, p->errlen, &p->t[p->i], "unexpected '%s' after '}'",
			       p->t[p->i].text);
	return 0;
}

/* One line starting at p->i: tokens up to the end of the line, then an optional block. */
static int parse_line(struct parser *p, struct cf_line *l)
{
	unsigned start = p->i;

	memset(l, 0, sizeof(*l));
	l->tok = &p->t[start];
	p->i++;
	while (p->i < p->n && !p->t[p->i].nl) {
		const struct cf_token *t = &p->t[p->i];

		if (t->brace == '}')
			break;
		if (t->brace == '{') {
			struct cf_line *sub;
			int rc;

			l->n_tok = p->i - start;
			l->has_block = true;
			p->i++;
			rc = parse_lines(p, t, &sub, &l->n_sub);
			l->sub = sub;
			return rc;
		}
		p->i++;
	}
	l->n_tok = p->i - start;
	if (p->i < p->n && !p->t[p->i].nl && p->t[p->i].brace == '}')
		return cf_errf(p->err, p->errlen, &p->t[p->i],
			       "unexpected '}' (a closing brace must start a line)");
	return 0;
}

/* Lines until the '}' matching @p open (consumed), or until the end when @p open is NULL. */
static int parse_lines(struct parser *p, const struct cf_token *open, struct cf_line **out,
		       unsigned *n_out)
{
	struct linevec lv = { 0 };
	struct cf_line l;
	int rc = 0;

	while (p->i < p->n) {
		const struct cf_token *t = &p->t[p->i];

		if (t->brace == '}') {
			if (open == NULL) {
				rc = cf_errf(p->err, p->errlen, t, "unexpected '}'");
				goto out;
			}
			rc = close_brace(p);
			goto out;
		}
		if (t->brace == '{') {
			rc = cf_errf(p->err, p->errlen, t, "unexpected '{'");
			goto out;
		}
		rc = parse_line(p, &l);
		if (rc == 0)
			rc = linevec_push(&lv, &l);
		if (rc < 0)
			goto out;
	}
	if (open != NULL)
		rc = cf_errf(p->err, p->errlen, open, "unexpected end of file: missing '}'");
out:
	*out = NULL;
	*n_out = 0;
	if (rc == 0 && lv.n > 0) {
		*out = arena_alloc(p->a, lv.n * sizeof(*lv.v));
		if (*out == NULL)
			rc = -ENOMEM;
		else
			memcpy(*out, lv.v, lv.n * sizeof(*lv.v));
		*n_out = lv.n;
	}
	free(lv.v);
	return rc;
}

/* Keys: `a.org b.org,` ... until '{' or the end of the line (a trailing comma continues). */
static int parse_keys(struct parser *p, struct cf_server *s)
{
	struct tokvec keys = { 0 };
	bool more = false;
	int rc = 0;

	for (;;) {
		struct cf_token k = p->t[p->i];
		size_t len = strlen(k.text);

		more = len > 0 && k.text[len - 1] == ',';
		if (more)
			k.text = arena_strndup(p->a, k.text, len - 1);
		if (k.text == NULL || (k.text[0] != '\0' && tokvec_push(&keys, &k) < 0)) {
			rc = -ENOMEM;
			break;
		}
		p->i++;
		if (p->i >= p->n) {
			if (more)
				rc = cf_errf(p->err, p->errlen, &p->t[p->i - 1],
					     "unexpected end of file after ','");
			break;
		}
		if (p->t[p->i].brace == '{') {
			if (more)
				rc = cf_errf(p->err, p->errlen, &p->t[p->i],
					     "expected another address after ',' but found '{'");
			break;
		}
		if (p->t[p->i].brace == '}') {
			rc = cf_errf(p->err, p->errlen, &p->t[p->i], "unexpected '}'");
			break;
		}
		if (p->t[p->i].nl && !more)
			break;
	}
	if (rc == 0 && keys.n == 0)
		rc = cf_errf(p->err, p->errlen, &p->t[p->i - 1], "server block without a zone");
	if (rc == 0) {
		s->keys = arena_alloc(p->a, keys.n * sizeof(*keys.v));
		if (s->keys == NULL)
			rc = -ENOMEM;
		else
			memcpy((void *)s->keys, keys.v, keys.n * sizeof(*keys.v));
		s->n_keys = keys.n;
	}
	free(keys.v);
	return rc;
}

static int parse_server(struct parser *p, struct cf_server *s)
{
	struct cf_line *dirs;
	int rc;

	memset(s, 0, sizeof(*s));
	if (p->t[p->i].brace != 0)
		return cf_errf(p->err, p->errlen, &p->t[p->i], "unexpected '%c'%s",
			       p->t[p->i].brace,
			       p->t[p->i].brace == '{' ? " (server block without a zone)" : "");
	rc = parse_keys(p, s);
	if (rc < 0)
		return rc;
	if (p->i < p->n && p->t[p->i].brace == '{') {
		const struct cf_token *open = &p->t[p->i++];

		rc = parse_lines(p, open, &dirs, &s->n_dirs);
	} else {
		/* Caddy: a single server block may go without braces, to the end of the file. */
		rc = parse_lines(p, NULL, &dirs, &s->n_dirs);
	}
	s->dirs = dirs;
	return rc;
}

static int parse_all(struct parser *p, struct cf_file *f)
{
	struct cf_server *v = NULL, *nv;
	unsigned n = 0;
	int rc = 0;

	while (p->i < p->n) {
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (nv == NULL) {
			rc = -ENOMEM;
			break;
		}
		v = nv;
		rc = parse_server(p, &v[n]);
		if (rc < 0)
			break;
		n++;
	}
	if (rc == 0 && n > 0) {
		f->srv = arena_alloc(f->arena, n * sizeof(*v));
		if (f->srv == NULL)
			rc = -ENOMEM;
		else
			memcpy((void *)f->srv, v, n * sizeof(*v));
		f->n_srv = n;
	}
	free(v);
	return rc;
}

/* ------------------------------------------------------------------------- */

static int keep_files(struct expander *x, struct cf_file *f)
{
	const char **v = arena_alloc(f->arena, (x->n_files + 1) * sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	memcpy(v, x->files, x->n_files * sizeof(*v));
	f->files = v;
	f->n_files = x->n_files;
	return 0;
}

static struct cf_file *parse_common(const char *name, const char *text, size_t len,
				    char *err, size_t errlen)
{
	struct cf_file *f = calloc(1, sizeof(*f));
	struct expander x = { .err = err, .errlen = errlen };
	struct parser p = { .err = err, .errlen = errlen };
	struct tokvec raw = { 0 };
	char real[PATH_MAX];
	const char *file;
	int rc = -ENOMEM;

	if (f == NULL || (f->arena = calloc(1, sizeof(*f->arena))) == NULL)
		goto fail;
	x.a = p.a = f->arena;
	file = arena_strndup(f->arena, name, strlen(name));
	f->dir = dir_of(f->arena, name);
	if (file == NULL || f->dir == NULL)
		goto fail;
	rc = lex_all(f->arena, file, text, len, &raw, err, errlen);
	if (rc < 0)
		goto fail;
	if (realpath(name, real) == NULL)
		snprintf(real, sizeof(real), "%s", name);
	rc = push_frame(&x, NULL, arena_strndup(f->arena, real, strlen(real)), file);
	if (rc == 0)
		rc = add_file(&x, file);
	if (rc == 0)
		rc = expand(&x, raw.v, raw.n);
	if (rc == 0)
		rc = keep_files(&x, f);
	if (rc < 0)
		goto fail;
	p.n = x.out.n;
	p.t = arena_alloc(f->arena, (x.out.n + 1) * sizeof(struct cf_token));
	if (p.t == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	if (x.out.n > 0)
		memcpy((void *)p.t, x.out.v, x.out.n * sizeof(struct cf_token));
	rc = parse_all(&p, f);
	if (rc < 0)
		goto fail;
	free(raw.v);
	free(x.out.v);
	free(x.snip);
	free(x.files);
	return f;
fail:
	if (rc == -ENOMEM)
		cf_errf(err, errlen, NULL, "%s: out of memory", name);
	free(raw.v);
	free(x.out.v);
	free(x.snip);
	free(x.files);
	cf_free(f);
	return NULL;
}

struct cf_file *cf_parse_text(const char *name, const char *text, size_t len, char *err,
			      size_t errlen)
{
	return parse_common(name, text, len, err, errlen);
}

struct cf_file *cf_parse_file(const char *path, char *err, size_t errlen)
{
	struct cf_file *f;
	size_t len;
	char *text;
	int rc;

	text = read_text(path, &len, &rc);
	if (text == NULL) {
		cf_errf(err, errlen, NULL, "%s: %s", path, strerror(-rc));
		return NULL;
	}
	f = parse_common(path, text, len, err, errlen);
	free(text);
	return f;
}

void cf_free(struct cf_file *f)
{
	if (f == NULL)
		return;
	arena_free(f->arena);
	free(f);
}
