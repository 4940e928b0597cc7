/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - golden tests of the control-plane engine, run in-process (like NSD's qtest).
 *
 * A case file holds sections, each starting with a "--- " line:
 *   --- corefile               the Corefile (written as DIR/Corefile)
 *   --- file NAME              a file next to it (hosts files, imports)
 *   --- env VAR=VALUE          an environment variable set before loading
 *   --- error                  expected load error (the temporary directory removed)
 *   --- query NAME TYPE [class=CH|N] [port=N] [noedns] [bufsize=N]
 *   --- expect                 the answer, as t_format() prints it, then "path: ..."
 * Each query is answered by cp_engine_answer() and, after a cp_engine_sync() into an
 * in-memory table, by a model of the fast path's lookups; when the fast path answers,
 * its bytes must equal the engine's. "path:" says which of them answered.
 *
 * Usage: golden [--update] CASE...   (--update rewrites the expect sections)
 */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "cp_test.h"

#define MAX_SECTIONS 64

struct section {
	char head[512];   /* the "--- ..." line without the dashes */
	char *body;       /* lines until the next section */
};

struct gcase {
	const char *path;
	char *text;
	struct section s[MAX_SECTIONS];
	unsigned n;
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Split into sections (in place); text before the first is a free comment. */
static int split(struct gcase *c)
{
	static char empty[1];
	char *p = c->text;

	c->n = 0;
	while (p != NULL && *p != '\0') {
		char *nl = strchr(p, '\n');

		if (strncmp(p, "--- ", 4) == 0) {
			int hl = nl ? (int)(nl - p - 4) : (int)strlen(p + 4);

			if (c->n == MAX_SECTIONS)
				return -1;
			snprintf(c->s[c->n].head, sizeof(c->s[c->n].head), "%.*s", hl, p + 4);
			c->s[c->n].body = nl ? nl + 1 : empty;
			*p = '\0'; /* ends the previous section's body */
			c->n++;
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

static void rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* Replace every occurrence of @p from in @p s by "" (temporary paths in messages). */
static void strip_all(char *s, const char *from)
{
	size_t fl = strlen(from);
	char *p;

	while (fl > 0 && (p = strstr(s, from)) != NULL)
		memmove(p, p + fl, strlen(p + fl) + 1);
}

struct qopt {
	char name[300];
	uint16_t type, cls, port, bufsize;
	bool edns;
};

static int parse_query(const char *head, struct qopt *q)
{
	char type[32] = "", opt[64];
	const char *p = head + strlen("query");
	int n, t;

	memset(q, 0, sizeof(*q));
	q->cls = DNS_C_IN;
	q->port = 53;
	q->edns = true;
	q->bufsize = 1232;
	if (sscanf(p, "%299s %31s%n", q->name, type, &n) != 2)
		return -1;
	t = dns_type_from_str(type);
	if (t < 0)
		return -1;
	q->type = (uint16_t)t;
	for (p += n; sscanf(p, "%63s%n", opt, &n) == 1; p += n) {
		if (strcmp(opt, "noedns") == 0)
			q->edns = false;
		else if (strncmp(opt, "port=", 5) == 0)
			q->port = (uint16_t)atoi(opt + 5);
		else if (strncmp(opt, "bufsize=", 8) == 0)
			q->bufsize = (uint16_t)atoi(opt + 8);
		else if (strcasecmp(opt, "class=CH") == 0)
			q->cls = DNS_C_CH;
		else if (strncmp(opt, "class=", 6) == 0)
			q->cls = (uint16_t)atoi(opt + 6);
		else
			return -1;
	}
	return 0;
}

/* Answer one query both ways; @p out gets the formatted result. @return 0 or -1 */
static int run_query(struct cp_engine *e, const struct t_sink *s, const struct qopt *qo,
		     char *out, size_t cap, char *why_bad, size_t wcap)
{
	uint8_t q[1024], a[65535], b[65535];
	size_t len = t_query(q, sizeof(q), 0x1234, qo->name, qo->type, qo->cls, qo->edns,
			     qo->bufsize);
	struct cp_client c = { .local_port = qo->port };
	const char *why;
	struct t_resp r;
	size_t o;
	int fa, ea;

	memcpy(a, q, len);
	memcpy(b, q, len);
	fa = t_fastpath(s, a, len, sizeof(a), &why);
	ea = cp_engine_answer(e, b, len, sizeof(b), &c);
	if (fa > 0 && (fa != ea || memcmp(a, b, (size_t)fa) != 0)) {
		snprintf(why_bad, wcap, "the fast path (%s) and the engine differ", why);
		return -1;
	}
	if (ea > 0 && t_decode(b, (size_t)ea, &r) < 0) {
		snprintf(why_bad, wcap, "undecodable engine response");
		return -1;
	}
	if (ea <= 0)
		memset(&r, 0, sizeof(r));
	t_format(&r, out, cap);
	o = strlen(out);
	snprintf(out + o, cap - o, "path: %s\n", fa > 0 ? why : "control-plane");
	return 0;
}

static int setup_files(struct gcase *c, const char *dir, char *corefile, size_t cap)
{
	corefile[0] = '\0';
	for (unsigned i = 0; i < c->n; i++) {
		const char *h = c->s[i].head;

		if (strcmp(h, "corefile") == 0)
			snprintf(corefile, cap, "%s", t_write(dir, "Corefile", c->s[i].body));
		else if (strncmp(h, "file ", 5) == 0)
			t_write(dir, h + 5, c->s[i].body);
		else if (strncmp(h, "env ", 4) == 0) {
			char var[256];
			const char *eq = strchr(h + 4, '=');

			if (eq == NULL)
				return -1;
			snprintf(var, sizeof(var), "%.*s", (int)(eq - h - 4), h + 4);
			setenv(var, eq + 1, 1);
		}
	}
	return corefile[0] != '\0' ? 0 : -1;
}

/* @return number of failures in the case */
static int run_case(struct gcase *c, bool update, FILE *upd)
{
	char corefile[4200], err[1024], dirslash[1100], got[16384], why[256];
	const char *dir = t_tmpdir();
	struct cp_engine *e;
	struct t_sink s;
	struct qopt q = { 0 };
	int fails = 0;

	snprintf(dirslash, sizeof(dirslash), "%s/", dir);
	if (split(c) < 0 || setup_files(c, dir, corefile, sizeof(corefile)) < 0) {
		fprintf(stderr, "%s: malformed case\n", c->path);
		return 1;
	}
	e = cp_engine_load(corefile, err, sizeof(err));
	strip_all(err, dirslash);
	t_sink_init(&s);
	if (e != NULL && cp_engine_sync(e, &s.sink) < 0) {
		fprintf(stderr, "%s: sync failed\n", c->path);
		fails++;
	}
	for (unsigned i = 0; i < c->n; i++) {
		struct section *sec = &c->s[i];
		char want[16384];

		if (update)
			fprintf(upd, "--- %s\n", sec->head);
		if (strcmp(sec->head, "error") == 0) {
			snprintf(got, sizeof(got), "%s\n", e == NULL ? err : "(loaded)");
		} else if (strncmp(sec->head, "query ", 6) == 0) {
			if (parse_query(sec->head, &q) < 0) {
				fprintf(stderr, "%s: bad query line '%s'\n", c->path, sec->head);
				fails++;
				q.name[0] = '\0';
			}
			if (update)
				fputs(sec->body, upd);
			continue;
		} else if (strcmp(sec->head, "expect") == 0) {
			if (e == NULL) {
				snprintf(got, sizeof(got), "load failed: %s\n", err);
			} else if (q.name[0] == '\0' ||
				   run_query(e, &s, &q, got, sizeof(got), why, sizeof(why)) < 0) {
				fprintf(stderr, "%s: query %s: %s\n", c->path, q.name, why);
				fails++;
				snprintf(got, sizeof(got), "(failed)\n");
			}
		} else {
			if (update)
				fputs(sec->body, upd);
			continue;
		}
		if (update) {
			fputs(got, upd);
			continue;
		}
		snprintf(want, sizeof(want), "%s", sec->body);
		rstrip(want);
		rstrip(got);
		if (strcmp(want, got) != 0) {
			fprintf(stderr, "%s: section '%s' (query %s) differs\n--- want\n%s\n--- got\n%s\n",
				c->path, sec->head, q.name, want, got);
			fails++;
		}
	}
	t_sink_free(&s);
	cp_engine_free(e);
	return fails;
}

int main(int argc, char **argv)
{
	bool update = argc > 1 && strcmp(argv[1], "--update") == 0;
	int failed = 0, total = 0;

	for (int i = 1 + update; i < argc; i++) {
		struct gcase c = { .path = argv[i], .text = slurp(argv[i]) };
		char *orig = c.text ? strdup(c.text) : NULL;
		FILE *upd = NULL;
		int f;

		if (c.text == NULL) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			failed++;
			continue;
		}
		if (update) {
			char *first = strstr(orig, "--- ");

			upd = fopen(argv[i], "w");
			if (upd != NULL && first != NULL)
				fwrite(orig, 1, (size_t)(first - orig), upd);
		}
		f = run_case(&c, update, upd);
		if (upd != NULL)
			fclose(upd);
		printf("%s %s\n", f == 0 ? "ok  " : "FAIL", argv[i]);
		failed += f != 0;
		total++;
		free(c.text);
		free(orig);
		t_cleanup();
	}
	printf("golden: %d cases, %d failed\n", total, failed);
	return failed == 0 && total > 0 ? 0 : 1;
}
