/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - kubeconfig files for the kubernetes plugin.
 *
 * There is no YAML library in the dependency set, and kubeconfigs only use a small part
 * of YAML: block mappings, block sequences (also at the parent key's indentation, as
 * kubectl writes them), plain and quoted scalars, comments, and empty flow collections.
 * That subset is parsed into a jansson tree; a JSON kubeconfig is read directly.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "k8s_config.h"

struct yline {
	int indent;
	char *text; /* content after the indentation, comment and trailing blanks removed */
	int lineno;
};

struct yparse {
	struct yline *l;
	size_t n, i;
	char *err;
	size_t errlen;
	int failed;
};

static void yfail(struct yparse *y, int lineno, const char *msg)
{
	if (!y->failed)
		snprintf(y->err, y->errlen, "line %d: %s", lineno, msg);
	y->failed = 1;
}

/* Cut a comment: '#' at the start or after a blank, outside quotes. */
static void strip_comment(char *s)
{
	char q = 0;

	for (char *p = s; *p != '\0'; p++) {
		if (q != 0) {
			if (*p == '\\' && q == '"' && p[1] != '\0')
				p++;
			else if (*p == q)
				q = 0;
		} else if (*p == '"' || *p == '\'') {
			q = *p;
		} else if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	for (size_t l = strlen(s); l > 0 && isspace((unsigned char)s[l - 1]); l--)
		s[l - 1] = '\0';
}

static int split_lines(struct yparse *y, char *text)
{
	int lineno = 0;

	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		int ind = 0;
		struct yline *nl;

		lineno++;
		line[strcspn(line, "\r")] = '\0';
		while (line[ind] == ' ')
			ind++;
		strip_comment(line + ind);
		if (line[ind] == '\0' || strcmp(line + ind, "---") == 0 ||
		    strncmp(line + ind, "%YAML", 5) == 0)
			continue;
		if (line[ind] == '\t') {
			yfail(y, lineno, "tab indentation");
			return -EINVAL;
		}
		nl = realloc(y->l, (y->n + 1) * sizeof(*nl));
		if (nl == NULL)
			return -ENOMEM;
		y->l = nl;
		y->l[y->n++] = (struct yline){ ind, line + ind, lineno };
	}
	return 0;
}

static json_t *yscalar(struct yparse *y, const char *s, int lineno)
{
	size_t len = strlen(s);
	char *out, *o;

	if (strcmp(s, "{}") == 0)
		return json_object();
	if (strcmp(s, "[]") == 0)
		return json_array();
	if (strcmp(s, "~") == 0 || strcmp(s, "null") == 0)
		return json_null();
	if (s[0] == '{' || s[0] == '[' || s[0] == '|' || s[0] == '>' || s[0] == '&' || s[0] == '*') {
		yfail(y, lineno, "unsupported YAML construct (flow collection, block scalar or anchor)");
		return NULL;
	}
	if (s[0] != '"' && s[0] != '\'')
		return json_string(s);
	if (len < 2 || s[len - 1] != s[0]) {
		yfail(y, lineno, "unterminated quoted string");
		return NULL;
	}
	out = o = malloc(len);
	if (out == NULL)
		return NULL;
	for (size_t i = 1; i + 1 < len; i++) {
		if (s[0] == '\'' && s[i] == '\'' && s[i + 1] == '\'')
			i++;
		else if (s[0] == '"' && s[i] == '\\' && i + 2 < len) {
			i++;
			*o++ = s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' : s[i];
			continue;
		}
		*o++ = s[i];
	}
	*o = '\0';
	json_t *v = json_string(out);

	free(out);
	return v;
}

/* Position of the ':' that ends a mapping key on @p s, or NULL (not a key line). */
static char *key_colon(char *s)
{
	char q = 0;

	for (char *p = s; *p != '\0'; p++) {
		if (q != 0) {
			if (*p == q)
				q = 0;
		} else if (p == s && (*p == '"' || *p == '\'')) {
			q = *p;
		} else if (*p == ':' && (p[1] == '\0' || p[1] == ' ')) {
			return p;
		}
	}
	return NULL;
}

static json_t *ynode(struct yparse *y, int indent);

static bool is_item(const char *s)
{
	return s[0] == '-' && (s[1] == '\0' || s[1] == ' ');
}

/* Value of "key:" with nothing after the colon: a nested block, or null. */
static json_t *yblock_value(struct yparse *y, int indent)
{
	if (y->i < y->n && y->l[y->i].indent > indent)
		return ynode(y, y->l[y->i].indent);
	/* kubectl writes "clusters:\n- cluster:" with the sequence at the key's column. */
	if (y->i < y->n && y->l[y->i].indent == indent && is_item(y->l[y->i].text))
		return ynode(y, indent);
	return json_null();
}

static json_t *ymap(struct yparse *y, int indent)
{
	json_t *m = json_object();

	while (m != NULL && !y->failed && y->i < y->n && y->l[y->i].indent == indent &&
	       !is_item(y->l[y->i].text)) {
		struct yline *ln = &y->l[y->i++];
		char *colon = key_colon(ln->text), *rest;
		json_t *k, *v;

		if (colon == NULL) {
			yfail(y, ln->lineno, "expected \"key: value\"");
			break;
		}
		*colon = '\0';
		rest = colon + 1;
		while (*rest == ' ')
			rest++;
		k = yscalar(y, ln->text, ln->lineno);
		v = *rest != '\0' ? yscalar(y, rest, ln->lineno) : yblock_value(y, indent);
		if (k == NULL || v == NULL || !json_is_string(k)) {
			json_decref(k);
			json_decref(v);
			yfail(y, ln->lineno, "bad mapping entry");
			break;
		}
		json_object_set_new(m, json_string_value(k), v);
		json_decref(k);
	}
	if (y->failed) {
		json_decref(m);
		return NULL;
	}
	return m;
}

static json_t *yseq(struct yparse *y, int indent)
{
	json_t *a = json_array();

	while (a != NULL && !y->failed && y->i < y->n && y->l[y->i].indent == indent &&
	       is_item(y->l[y->i].text)) {
		struct yline *ln = &y->l[y->i];
		char *rest = ln->text + 1;
		json_t *v;

		while (*rest == ' ')
			rest++;
		if (*rest == '\0') {
			y->i++;
			v = yblock_value(y, indent);
		} else if (key_colon(rest) != NULL) {
			/* "- key: v" opens a mapping whose keys sit at the column of "key". */
			ln->indent += (int)(rest - ln->text);
			ln->text = rest;
			v = ymap(y, ln->indent);
		} else {
			y->i++;
			v = yscalar(y, rest, ln->lineno);
		}
		if (v == NULL) {
			yfail(y, ln->lineno, "bad sequence item");
			break;
		}
		json_array_append_new(a, v);
	}
	if (y->failed) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *ynode(struct yparse *y, int indent)
{
	if (y->i >= y->n)
		return json_null();
	if (is_item(y->l[y->i].text))
		return yseq(y, indent);
	if (key_colon(y->l[y->i].text) == NULL) {
		const struct yline *ln = &y->l[y->i++];

		return yscalar(y, ln->text, ln->lineno);
	}
	return ymap(y, indent);
}

/** Parse the YAML subset of kubeconfigs (or JSON). @return the tree, NULL with @p err. */
static json_t *kube_parse(char *text, char *err, size_t errlen)
{
	struct yparse y = { NULL, 0, 0, err, errlen, 0 };
	const char *p = text;
	json_error_t jerr;
	json_t *root = NULL;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '{') {
		root = json_loads(text, 0, &jerr);
		if (root == NULL)
			snprintf(err, errlen, "line %d: %s", jerr.line, jerr.text);
		return root;
	}
	if (split_lines(&y, text) == 0) {
		root = ynode(&y, y.n > 0 ? y.l[0].indent : 0);
		if (root != NULL && y.i < y.n) {
			yfail(&y, y.l[y.i].lineno, "unexpected indentation");
			json_decref(root);
			root = NULL;
		}
	}
	if (root == NULL && !y.failed)
		snprintf(err, errlen, "cannot parse");
	free(y.l);
	return root;
}

/* ------------------------------------------------------------------------- */
/* Interpretation                                                              */

static int b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode base64 (whitespace ignored). @return malloc'd bytes (NUL-terminated) or NULL */
static char *b64_decode(const char *s, size_t *outlen)
{
	size_t len = strlen(s), o = 0;
	char *out = malloc(len / 4 * 3 + 4);
	uint32_t acc = 0;
	int bits = 0;

	if (out == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		int v = b64_val((unsigned char)*s);

		if (*s == '=' || isspace((unsigned char)*s))
			continue;
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static const json_t *named(const json_t *list, const char *name, const char *field)
{
	size_t i;
	const json_t *it;

	json_array_foreach(list, i, it) {
		const json_t *n = json_object_get(it, "name");

		if (json_is_string(n) && strcmp(json_string_value(n), name) == 0)
			return json_object_get(it, field);
	}
	return NULL;
}

static const char *kstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A path relative to the kubeconfig's directory, as kubectl resolves them. */
static char *kpath(const char *base, const char *p)
{
	const char *slash = strrchr(base, '/');
	char *out;

	if (p == NULL)
		return NULL;
	if (p[0] == '/' || slash == NULL)
		return strdup(p);
	if (asprintf(&out, "%.*s/%s", (int)(slash - base), base, p) < 0)
		return NULL;
	return out;
}

static int kdata(const json_t *o, const char *key, char **data, size_t *len, char *err,
		 size_t errlen)
{
	const char *v = kstr(o, key);

	if (v == NULL)
		return 0;
	*data = b64_decode(v, len);
	if (*data == NULL) {
		snprintf(err, errlen, "%s: invalid base64", key);
		return -EINVAL;
	}
	return 0;
}

static int kube_cluster(const json_t *cl, const char *path, struct k8s_conn *conn, char *err,
			size_t errlen)
{
	const char *server = kstr(cl, "server");
	const json_t *insecure = json_object_get(cl, "insecure-skip-tls-verify");
	size_t l;

	if (server == NULL) {
		snprintf(err, errlen, "cluster has no server");
		return -EINVAL;
	}
	conn->server = strdup(server);
	if (conn->server == NULL)
		return -ENOMEM;
	l = strlen(conn->server);
	while (l > 0 && conn->server[l - 1] == '/')
		conn->server[--l] = '\0';
	conn->insecure = json_is_true(insecure) ||
			 (json_is_string(insecure) && strcmp(json_string_value(insecure), "true") == 0);
	conn->ca_file = kpath(path, kstr(cl, "certificate-authority"));
	return kdata(cl, "certificate-authority-data", &conn->ca_data, &conn->ca_len, err, errlen);
}

static int kube_user(const json_t *u, const char *path, struct k8s_conn *conn, char *err,
		     size_t errlen)
{
	int rc;

	if (u == NULL)
		return 0;
	if (json_object_get(u, "exec") != NULL || json_object_get(u, "auth-provider") != NULL) {
		snprintf(err, errlen, "user credentials from exec/auth-provider are not supported");
		return -ENOTSUP;
	}
	if (kstr(u, "token") != NULL && (conn->token = strdup(kstr(u, "token"))) == NULL)
		return -ENOMEM;
	conn->token_file = kpath(path, kstr(u, "tokenFile"));
	conn->cert_file = kpath(path, kstr(u, "client-certificate"));
	conn->key_file = kpath(path, kstr(u, "client-key"));
	rc = kdata(u, "client-certificate-data", &conn->cert_data, &conn->cert_len, err, errlen);
	if (rc == 0)
		rc = kdata(u, "client-key-data", &conn->key_data, &conn->key_len, err, errlen);
	return rc;
}

static char *read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (nb == NULL || cap > (16u << 20)) {
				free(nb != NULL ? nb : buf);
				fclose(f);
				snprintf(err, errlen, "%s: too large", path);
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + len, 1, 4096, f);

		len += r;
		if (r < 4096)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static int kube_apply(const json_t *root, const char *path, const char *context,
		      struct k8s_conn *conn, char *err, size_t errlen)
{
	const char *ctxname = context != NULL ? context : kstr(root, "current-context");
	const json_t *ctx, *cl;
	const char *clname, *username;

	if (ctxname == NULL || ctxname[0] == '\0') {
		snprintf(err, errlen, "no context given and no current-context");
		return -EINVAL;
	}
	ctx = named(json_object_get(root, "contexts"), ctxname, "context");
	if (!json_is_object(ctx)) {
		snprintf(err, errlen, "context \"%s\" not found", ctxname);
		return -ENOENT;
	}
	clname = kstr(ctx, "cluster");
	username = kstr(ctx, "user");
	cl = clname != NULL ? named(json_object_get(root, "clusters"), clname, "cluster") : NULL;
	if (!json_is_object(cl)) {
		snprintf(err, errlen, "cluster \"%s\" of context \"%s\" not found",
			 clname != NULL ? clname : "", ctxname);
		return -ENOENT;
	}
	if (kube_cluster(cl, path, conn, err, errlen) != 0)
		return -EINVAL;
	return kube_user(username != NULL ? named(json_object_get(root, "users"), username, "user")
					  : NULL, path, conn, err, errlen);
}

int k8s_kubeconfig_load(const char *path, const char *context, struct k8s_conn *conn,
			char *err, size_t errlen)
{
	char sub[200];
	char *text = read_file(path, sub, sizeof(sub));
	json_t *root;
	int rc;

	if (text == NULL) {
		snprintf(err, errlen, "kubeconfig %s: %s", path, sub);
		return -ENOENT;
	}
	root = kube_parse(text, sub, sizeof(sub));
	free(text);
	if (root == NULL) {
		snprintf(err, errlen, "kubeconfig %s: %s", path, sub);
		return -EINVAL;
	}
	rc = kube_apply(root, path, context, conn, sub, sizeof(sub));
	json_decref(root);
	if (rc != 0) {
		k8s_conn_fini(conn);
		snprintf(err, errlen, "kubeconfig %s: %s", path, sub);
	}
	return rc;
}

json_t *k8s_kubeconfig_parse_text(char *text, char *err, size_t errlen)
{
	return kube_parse(text, err, errlen);
}
