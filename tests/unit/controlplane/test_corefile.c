/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns - Corefile grammar: tokens, blocks, env, snippets, imports, zone keys, and the
 * directive/option errors of the engine (each checked for FILE:LINE).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "corefile.h"
#include "cp_test.h"
#include "plugin.h"

static struct cf_file *parse(const char *text, char *err, size_t errlen)
{
	err[0] = '\0';
	return cf_parse_text("Corefile", text, strlen(text), err, errlen);
}

static void parse_err(const char *text, const char *want)
{
	char err[512];
	struct cf_file *f = parse(text, err, sizeof(err));

	CHECK(f == NULL);
	CHECK_HAS(err, want);
	cf_free(f);
}

static void load_err(const char *corefile, const char *want)
{
	char err[512];
	struct cp_engine *e = t_load(corefile, err, sizeof(err));

	CHECK(e == NULL);
	CHECK_HAS(err, want);
	cp_engine_free(e);
}

static struct cp_engine *load_ok(const char *corefile)
{
	char err[512];
	struct cp_engine *e = t_load(corefile, err, sizeof(err));

	CHECK(e != NULL);
	if (e == NULL)
		fprintf(stderr, "  load failed: %s\n", err);
	return e;
}

static void test_basic(void)
{
	char err[512];
	struct cf_file *f = parse("# top comment\n"
				  "example.org, example.net,\n"
				  "  example.com:1053 { # open\n"
				  "    errors   # trailing\n"
				  "    log . \"{remote} \\\"q\\\" a\\b\" \n"
				  "    health {\n"
				  "        lameduck 5s\n"
				  "    }\n"
				  "    hosts { }\n"
				  "}\n", err, sizeof(err));

	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK_EQ(f->n_srv, 1);
	CHECK_EQ(f->srv[0].n_keys, 3);
	CHECK_STR(f->srv[0].keys[0].text, "example.org");
	CHECK_STR(f->srv[0].keys[2].text, "example.com:1053");
	CHECK_EQ(f->srv[0].keys[2].line, 3);
	CHECK_EQ(f->srv[0].n_dirs, 4);
	CHECK_STR(f->srv[0].dirs[0].tok[0].text, "errors");
	CHECK_EQ(f->srv[0].dirs[0].n_tok, 1);
	CHECK_EQ(f->srv[0].dirs[1].n_tok, 3);
	CHECK_STR(f->srv[0].dirs[1].tok[2].text, "{remote} \"q\" a\\b");
	CHECK(f->srv[0].dirs[1].tok[2].quoted);
	CHECK_EQ(f->srv[0].dirs[1].tok[2].line, 5);
	CHECK(f->srv[0].dirs[2].has_block);
	CHECK_EQ(f->srv[0].dirs[2].n_sub, 1);
	CHECK_STR(f->srv[0].dirs[2].sub[0].tok[1].text, "5s");
	CHECK_EQ(f->srv[0].dirs[2].sub[0].tok[0].line, 7);
	CHECK(f->srv[0].dirs[3].has_block);
	CHECK_EQ(f->srv[0].dirs[3].n_sub, 0);
	cf_free(f);

	/* One block may go without braces; '{' may open on the next line. */
	f = parse(".:53\nhosts\nerrors\n", err, sizeof(err));
	CHECK(f != NULL && f->n_srv == 1 && f->srv[0].n_dirs == 2);
	cf_free(f);
	f = parse("example.org\n{\n  errors\n}\nexample.net {\n}\n", err, sizeof(err));
	CHECK(f != NULL && f->n_srv == 2 && f->srv[0].n_dirs == 1 && f->srv[1].n_dirs == 0);
	cf_free(f);
	/* Content may start right after '{'; a quoted brace is text. */
	f = parse(". {\n hosts { 192.0.2.1 a.example\n }\n log \"{\"\n}\n", err, sizeof(err));
	CHECK(f != NULL && f->srv[0].n_dirs == 2 && f->srv[0].dirs[0].n_sub == 1 &&
	      strcmp(f->srv[0].dirs[1].tok[1].text, "{") == 0);
	cf_free(f);
	/* '#' starts a comment anywhere outside quotes (Caddy). */
	f = parse(". {\n errors#x\n}\n", err, sizeof(err));
	CHECK(f != NULL && f->srv[0].n_dirs == 1 && strcmp(f->srv[0].dirs[0].tok[0].text, "errors") == 0);
	cf_free(f);
}

static void test_grammar_errors(void)
{
	parse_err("}\n", "Corefile:1: unexpected '}'");
	parse_err(".:53 {\n  hosts\n", "Corefile:1: unexpected end of file: missing '}'");
	parse_err(".:53 {\n  errors }\n}\n", "Corefile:2: unexpected '}' (a closing brace must start a line)");
	parse_err(".:53 {\n}\n}\n", "Corefile:3: unexpected '}'");
	parse_err(".:53 {\n  health {\n    lameduck 5s\n  } x\n}\n", "Corefile:4: unexpected 'x' after '}'");
	parse_err("{\n hosts\n}\n", "Corefile:1: unexpected '{' (server block without a zone)");
	parse_err(".:53 {\n  {\n}\n", "Corefile:2: unexpected '{'");
	parse_err("a.org,\n", "Corefile:1: unexpected end of file after ','");
	parse_err("a.org, {\n}\n", "Corefile:1: expected another address after ','");
	parse_err(".:53 {\n log \"abc\n}\n", "Corefile:2: unterminated quoted string");
	parse_err(". {\n import\n}\n", "Corefile:2: import: missing argument");
	parse_err(". {\n import a b\n}\n", "Corefile:2: import: takes only one argument");
	parse_err(". {\n import nothere.conf\n}\n", "Corefile:2: import: file not found: nothere.conf");
}

static void test_env(void)
{
	char err[512];
	struct cf_file *f;

	setenv("H3_TEST_ZONE", "example.org", 1);
	setenv("H3_TEST_PORT", "1053", 1);
	setenv("H3_TEST_SPACE", "a b", 1);
	unsetenv("H3_TEST_UNSET");
	f = parse("{$H3_TEST_ZONE}:{%H3_TEST_PORT%} {\n log {$H3_TEST_SPACE}x{$H3_TEST_UNSET}y\n}\n",
		  err, sizeof(err));
	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK_STR(f->srv[0].keys[0].text, "example.org:1053");
	CHECK_EQ(f->srv[0].dirs[0].n_tok, 2); /* a value with a space stays one token */
	CHECK_STR(f->srv[0].dirs[0].tok[1].text, "a bxy");
	cf_free(f);
	/* Not a reference: kept as written. */
	f = parse(". {\n log {$}\n}\n", err, sizeof(err));
	CHECK(f != NULL && strcmp(f->srv[0].dirs[0].tok[1].text, "{$}") == 0);
	cf_free(f);
}

static void test_snippets(void)
{
	char err[512];
	struct cf_file *f = parse("(common) {\n"
				  "  errors\n"
				  "  log\n"
				  "}\n"
				  ".:53 {\n"
				  "  import common\n"
				  "  hosts\n"
				  "}\n"
				  "example.org {\n"
				  "  import common\n"
				  "}\n", err, sizeof(err));

	CHECK(f != NULL);
	if (f == NULL) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK_EQ(f->n_srv, 2);
	CHECK_EQ(f->srv[0].n_dirs, 3);
	CHECK_STR(f->srv[0].dirs[0].tok[0].text, "errors");
	CHECK_EQ(f->srv[0].dirs[0].tok[0].line, 2); /* where the snippet says it */
	CHECK_STR(f->srv[0].dirs[2].tok[0].text, "hosts");
	CHECK_EQ(f->srv[1].n_dirs, 2);
	cf_free(f);

	parse_err("(a) {\n errors\n}\n(a) {\n log\n}\n", "Corefile:4: redeclaration of snippet 'a'");
	parse_err("(a) {\n import a\n}\n. {\n import a\n}\n", "import cycle: (a) -> (a)");
	parse_err("(a) {\n import b\n}\n(b) {\n import a\n}\n. {\n import a\n}\n",
		  "import cycle: (a) -> (b) -> (a)");
	parse_err("(a) {\n errors\n", "Corefile:1: unexpected end of file: missing '}' of snippet");
}

static void test_imports(void)
{
	const char *dir = t_tmpdir();
	char path[4096], err[512];
	struct cf_file *f;

	mkdir(strcat(strcpy(path, dir), "/conf.d"), 0755);
	t_write(dir, "conf.d/b.conf", "b.example {\n  errors\n}\n");
	t_write(dir, "conf.d/a.conf", "a.example {\n  log\n  bogus {\n}\n");
	t_write(dir, "conf.d/notes.txt", "not imported\n");
	t_write(dir, "snip.conf", "(s) {\n  errors\n}\n");
	snprintf(path, sizeof(path), "%s",
		 t_write(dir, "Corefile", "import snip.conf\nimport conf.d/*.conf\n. {\n  import s\n}\n"));
	f = cf_parse_file(path, err, sizeof(err));
	CHECK(f == NULL); /* a.conf has an unclosed block: the error names a.conf */
	CHECK_HAS(err, "conf.d/a.conf:1: unexpected end of file: missing '}'");
	cf_free(f);

	t_write(dir, "conf.d/a.conf", "a.example {\n  log\n}\n");
	f = cf_parse_file(path, err, sizeof(err));
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK_EQ(f->n_srv, 3);
		CHECK_STR(f->srv[0].keys[0].text, "a.example"); /* glob order */
		CHECK_STR(f->srv[1].keys[0].text, "b.example");
		CHECK_STR(f->srv[2].dirs[0].tok[0].text, "errors");
		CHECK_HAS(f->srv[2].dirs[0].tok[0].file, "snip.conf");
		/* Every file read, once, the Corefile first (what a reload check compares). */
		CHECK_EQ(f->n_files, 4);
		if (f->n_files == 4) {
			CHECK_STR(f->files[0], path);
			CHECK_HAS(f->files[1], "/snip.conf");
			CHECK_HAS(f->files[2], "/conf.d/a.conf");
			CHECK_HAS(f->files[3], "/conf.d/b.conf");
		}
	}
	cf_free(f);

	/* A file imported twice is listed once; nested imports are listed. */
	t_write(dir, "inner.conf", "errors\n");
	t_write(dir, "outer.conf", "import inner.conf\n");
	snprintf(path, sizeof(path), "%s", t_write(dir, "Corefile5",
		 "a.example {\n  import outer.conf\n}\nb.example {\n  import outer.conf\n}\n"));
	f = cf_parse_file(path, err, sizeof(err));
	CHECK(f != NULL);
	if (f != NULL) {
		CHECK_EQ(f->n_files, 3);
		CHECK_HAS(f->files[1], "/outer.conf");
		CHECK_HAS(f->files[2], "/inner.conf");
	}
	cf_free(f);
	{
		struct cp_engine *e = cp_engine_load(path, err, sizeof(err));
		const char *const *files = NULL;

		CHECK(e != NULL);
		if (e != NULL) {
			CHECK_EQ(cp_engine_files(e, &files), 3);
			CHECK_STR(files[0], path);
			CHECK_HAS(files[2], "/inner.conf");
		}
		cp_engine_free(e);
	}
	f = parse(". {\n}\n", err, sizeof(err));
	CHECK(f != NULL && f->n_files == 1);
	cf_free(f);

	/* No match for a pattern is fine (a warning); a loop is an error. */
	snprintf(path, sizeof(path), "%s", t_write(dir, "Corefile2", "import none/*.conf\n. {\n}\n"));
	f = cf_parse_file(path, err, sizeof(err));
	CHECK(f != NULL && f->n_srv == 1);
	cf_free(f);
	t_write(dir, "loop.conf", "import Corefile3\n");
	snprintf(path, sizeof(path), "%s", t_write(dir, "Corefile3", ". {\n}\nimport loop.conf\n"));
	f = cf_parse_file(path, err, sizeof(err));
	CHECK(f == NULL);
	CHECK_HAS(err, "loop.conf:1: import cycle:");
	CHECK_HAS(err, "Corefile3 -> ");
	cf_free(f);
	snprintf(path, sizeof(path), "%s", t_write(dir, "Corefile4", "import *.conf*\n"));
	f = cf_parse_file(path, err, sizeof(err));
	CHECK(f == NULL);
	CHECK_HAS(err, "Corefile4:1: import: glob pattern may contain only one wildcard");
	cf_free(f);
}

static void zone_is(const char *key, unsigned idx, const char *want, uint16_t port)
{
	struct cp_zone z[CP_ZONE_EXPAND_MAX];
	char why[256], text[300];
	int n = cp_zone_parse(key, z, CP_ZONE_EXPAND_MAX, why, sizeof(why));

	CHECK(n > (int)idx);
	if (n <= (int)idx)
		return;
	cp_name_text(z[idx].wire, z[idx].len, text, sizeof(text));
	CHECK_STR(text, want);
	CHECK_EQ(z[idx].port, port);
}

static void zone_count(const char *key, int want, const char *why_want)
{
	struct cp_zone z[CP_ZONE_EXPAND_MAX];
	char why[256] = "";
	int n = cp_zone_parse(key, z, CP_ZONE_EXPAND_MAX, why, sizeof(why));

	CHECK_EQ(n, want);
	if (why_want != NULL)
		CHECK_HAS(why, why_want);
}

static void test_zone_keys(void)
{
	zone_is(".", 0, ".", 0);
	zone_is(".:53", 0, ".", 53);
	zone_is("Example.ORG", 0, "example.org.", 0);
	zone_is("dns://example.org:1053", 0, "example.org.", 1053);
	zone_is("10.0.0.0/8", 0, "10.in-addr.arpa.", 0);
	zone_is("10.0.0.0/24:5353", 0, "0.0.10.in-addr.arpa.", 5353);
	zone_is("10.0.0.0/23", 0, "0.0.10.in-addr.arpa.", 0);
	zone_is("10.0.0.0/23", 1, "1.0.10.in-addr.arpa.", 0);
	zone_count("10.0.0.0/23", 2, NULL);
	zone_count("172.16.0.0/12", 16, NULL);
	zone_is("172.16.0.0/12", 15, "31.172.in-addr.arpa.", 0);
	zone_is("10.1.2.3/16", 0, "1.10.in-addr.arpa.", 0); /* host bits dropped */
	zone_is("0.0.0.0/0", 0, "in-addr.arpa.", 0);
	zone_is("2001:db8::/32", 0, "8.b.d.0.1.0.0.2.ip6.arpa.", 0);
	zone_count("2001:db8::/30", 4, NULL);
	zone_is("2001:db8::/30", 3, "b.b.d.0.1.0.0.2.ip6.arpa.", 0);
	zone_is("fd00::/8", 0, "d.f.ip6.arpa.", 0);
	zone_count("10.0.0.0/9", 128, NULL);
	zone_count("tls://example.org", -EINVAL, "unsupported scheme");
	zone_count("grpc://example.org", -EINVAL, "unsupported scheme");
	zone_count("example.org:0", -EINVAL, "invalid port");
	zone_count("example.org:70000", -EINVAL, "invalid port");
	zone_count("example.org:", -EINVAL, "expecting data after last colon");
	zone_count("10.0.0.0/33", -EINVAL, "invalid CIDR");
	zone_count("a..b", -EINVAL, "invalid zone name");
}

static void test_directive_errors(void)
{
	load_err(".:53 {\n  errors\n  foo bar\n}\n", "Corefile:3: unknown directive 'foo'");
	/* CoreDNS plugins dpdns lacks (kubernetes, forward, cache... are added as modules). */
	load_err(".:53 {\n  whoami\n}\n", "Corefile:2: directive 'whoami' is not supported by dpdns");
	load_err(".:53 {\n  template IN A example.org\n}\n", "Corefile:2: directive 'template' is not supported");
	load_err(".:53 {\n  any\n}\n", "Corefile:2: directive 'any' is not supported");
	load_err(".:53 {\n  dnssec\n}\n", "Corefile:2: directive 'dnssec' is not supported");
	load_err("\n\n.:53 {\n  errors\n\n\n  rewrite name a b\n}\n",
		 "Corefile:7: directive 'rewrite' is not supported");
	load_err(".:53 {\n  hosts {\n    ttl 60\n\n    foo\n  }\n}\n", "Corefile:5: hosts: unknown option 'foo'");
	load_err(".:53 {\n  hosts\n  errors\n  hosts\n}\n",
		 "Corefile:4: hosts: this plugin can only be used once per server block");
	load_err(".:53 {\n}\n.:53 {\n}\n", "Corefile:3: zone '.:53' is defined more than once");
	load_err("example.org dns://EXAMPLE.org.:53 {\n}\n",
		 "Corefile:1: zone 'example.org.:53' is defined more than once");
	load_err("10.0.0.0/23 {\n}\n1.0.10.in-addr.arpa {\n}\n",
		 "Corefile:3: zone '1.0.10.in-addr.arpa.:53' is defined more than once");
	load_err("tls://example.org {\n}\n", "Corefile:1: unsupported scheme");
	load_err("", "no server blocks");
	load_err(".:1 {\n}\n.:2 {\n}\n.:3 {\n}\n.:4 {\n}\n.:5 {\n}\n.:6 {\n}\n.:7 {\n}\n.:8 {\n}\n.:9 {\n}\n",
		 "Corefile:17: more than 8 different server ports");
	/* Same zone on two ports is fine. */
	cp_engine_free(load_ok("example.org:53 {\n}\nexample.org:1053 {\n}\n"));
}

static void test_hosts_options(void)
{
	load_err(". {\n hosts {\n  ttl 0\n }\n}\n", "Corefile:3: hosts: ttl must be 1..65535");
	load_err(". {\n hosts {\n  ttl 65536\n }\n}\n", "Corefile:3: hosts: ttl must be 1..65535");
	load_err(". {\n hosts {\n  ttl\n }\n}\n", "Corefile:3: hosts: ttl needs 1 argument");
	load_err(". {\n hosts {\n  ttl 60 extra\n }\n}\n", "Corefile:3: hosts: ttl needs 1 argument");
	load_err(". {\n hosts {\n  reload -1s\n }\n}\n", "Corefile:3: hosts: invalid duration for reload '-1s'");
	load_err(". {\n hosts {\n  reload 5\n }\n}\n", "Corefile:3: hosts: invalid duration for reload '5'");
	load_err(". {\n hosts {\n  no_reverse x\n }\n}\n", "Corefile:3: hosts: no_reverse needs 0 arguments");
	load_err(". {\n hosts {\n  fallthrough\n  192.0.2.1 a.example\n }\n}\n",
		 "Corefile:4: hosts: unknown option '192.0.2.1' (inline entries go before fallthrough)");
	load_err(". {\n hosts {\n  192.0.2.1\n }\n}\n", "Corefile:3: hosts: inline entry '192.0.2.1' needs a name");
	load_err(". {\n hosts {\n  192.0.2.1 a..b\n }\n}\n", "Corefile:3: hosts: invalid name 'a..b'");
	load_err(". {\n hosts /etc/hosts tls://x\n}\n", "Corefile:2: hosts: unsupported scheme");
	load_err(". {\n hosts {\n  fallthrough a..b\n }\n}\n", "Corefile:3: hosts: invalid zone name");
	cp_engine_free(load_ok(". {\n hosts /nonexistent/h3/hosts example.org 10.0.0.0/8 {\n"
			       "  192.0.2.1 a.example.org\n  ttl 65535\n  reload 0\n  no_reverse\n"
			       "  fallthrough in-addr.arpa\n }\n}\n"));
}

static void test_settings(void)
{
	struct cp_engine *e = load_ok(".:53 {\n  health\n  ready\n  prometheus\n  reload\n  errors\n  log\n}\n"
				      "example.org:1053 {\n  health :8080 {\n    lameduck 5s\n  }\n}\n");
	const struct cp_settings *s;

	if (e != NULL) {
		s = cp_engine_settings(e);
		CHECK_STR(s->health_addr, ":8080");
		CHECK_EQ(s->lameduck_ms, 5000);
		CHECK_STR(s->ready_addr, ":8181");
		CHECK_STR(s->metrics_addr, "localhost:9153");
		CHECK_EQ(s->reload_ms, 30000);
		CHECK_EQ(s->reload_jitter_ms, 15000);
		CHECK_EQ(s->dns_ports[0], 53);
		CHECK_EQ(s->dns_ports[1], 1053);
		CHECK_EQ(s->dns_ports[2], 0);
		CHECK_EQ(s->log, 1);
		CHECK_EQ(s->errors, 1);
		CHECK_EQ(s->n_bind, 0);
	}
	cp_engine_free(e);
	e = load_ok(". {\n  health 127.0.0.1:18080 {\n    lameduck 1500ms\n  }\n  reload 10s 20s\n"
		    "  prometheus [::1]:19153\n  ready 127.0.0.1:18181 {\n   monitor continuously\n  }\n"
		    "  bind 127.0.0.1 ::1\n  bind 127.0.0.1\n}\n");
	if (e != NULL) {
		s = cp_engine_settings(e);
		CHECK_STR(s->health_addr, "127.0.0.1:18080");
		CHECK_EQ(s->lameduck_ms, 1500);
		CHECK_EQ(s->reload_ms, 10000);
		CHECK_EQ(s->reload_jitter_ms, 5000); /* clamped to interval/2, as CoreDNS */
		CHECK_STR(s->metrics_addr, "[::1]:19153");
		CHECK_STR(s->ready_addr, "127.0.0.1:18181");
		CHECK_EQ(s->n_bind, 2);
		CHECK_STR(s->bind[0], "127.0.0.1");
		CHECK_STR(s->bind[1], "::1");
		CHECK_EQ(s->log, 0);
	}
	cp_engine_free(e);
	e = load_ok(". {\n  bind lo\n}\n");
	if (e != NULL) {
		s = cp_engine_settings(e);
		CHECK(s->n_bind >= 1);
		CHECK_STR(s->bind[0], "127.0.0.1");
	}
	cp_engine_free(e);

	load_err(". {\n  health 8080\n}\n", "Corefile:2: health: invalid address '8080'");
	load_err(". {\n  health :8080 :8081\n}\n", "Corefile:2: health: unexpected argument ':8081'");
	load_err(". {\n  health {\n    lameduck\n  }\n}\n", "Corefile:3: health: lameduck needs one duration");
	load_err(". {\n  health {\n    lameduck 5x\n  }\n}\n", "Corefile:3: health: unable to parse lameduck");
	load_err(". {\n  health {\n    foo\n  }\n}\n", "Corefile:3: health: unknown option 'foo'");
	load_err(". {\n  health :8080\n}\nexample.org {\n  health :9090\n}\n",
		 "Corefile:5: health: address ':9090' differs from ':8080'");
	load_err(". {\n  ready {\n    monitor sometimes\n  }\n}\n", "Corefile:3: ready: monitor needs");
	load_err(". {\n  prometheus {\n    tls a b\n  }\n}\n",
		 "Corefile:3: prometheus: option 'tls' is not supported by dpdns");
	load_err(". {\n  reload 1s\n}\n", "Corefile:2: reload: interval value must be greater or equal to 2s");
	load_err(". {\n  reload 10s 500ms\n}\n", "Corefile:2: reload: jitter value must be greater or equal to 1s");
	load_err(". {\n  reload 10s 2s 3s\n}\n", "Corefile:2: reload: unexpected argument '3s'");
	load_err(". {\n  reload {\n   x\n  }\n}\n", "Corefile:3: reload: unknown option 'x'");
	load_err(". {\n  errors stderr\n}\n", "Corefile:2: errors: invalid log file: stderr");
	load_err(". {\n  errors {\n    consolidate 5m\n  }\n}\n", "Corefile:3: errors: consolidate needs");
	load_err(". {\n  errors {\n    consolidate 5m \".*\" loud\n  }\n}\n",
		 "Corefile:3: errors: unknown log level argument in consolidate: loud");
	load_err(". {\n  errors {\n    nope\n  }\n}\n", "Corefile:3: errors: unknown option 'nope'");
	cp_engine_free(load_ok(". {\n errors {\n  consolidate 5m \".* timeout$\" warning\n  stacktrace\n }\n}\n"));
	load_err(". {\n  log {\n    class bogus\n  }\n}\n", "Corefile:3: log: invalid class 'bogus'");
	load_err(". {\n  log {\n    foo\n  }\n}\n", "Corefile:3: log: unknown option 'foo'");
	cp_engine_free(load_ok(". {\n log . a.example {combined}\n log example.org {\n  class denial error\n }\n}\n"));
	load_err(". {\n  bind\n}\n", "Corefile:2: bind: at least one address");
	load_err(". {\n  bind no-such-if0\n}\n", "Corefile:2: bind: not a valid IP address or interface name");
	load_err(". {\n  bind 127.0.0.1\n}\nexample.org {\n}\n",
		 "Corefile:2: bind: every server block must bind the same addresses");
}

static void test_durations(void)
{
	static const struct {
		const char *s;
		int64_t ns;
		int rc;
	} c[] = {
		{ "500ms", 500000000, 0 }, { "5s", 5000000000, 0 }, { "1m", 60000000000, 0 },
		{ "1h30m", 5400000000000, 0 }, { "1.5s", 1500000000, 0 }, { "0", 0, 0 },
		{ "-1s", -1000000000, 0 }, { "2h45m30.5s", 9930500000000, 0 }, { "10us", 10000, 0 },
		{ "10\xc2\xb5s", 10000, 0 }, { ".5s", 500000000, 0 }, { "5", 0, -EINVAL },
		{ "1x", 0, -EINVAL }, { "", 0, -EINVAL }, { "s", 0, -EINVAL },
		{ "1s2", 0, -EINVAL }, { "99999999999h", 0, -EINVAL },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int64_t ns = 0;
		int rc = cp_parse_duration(c[i].s, &ns);

		CHECK_EQ(rc, c[i].rc);
		if (rc == 0)
			CHECK_EQ(ns, c[i].ns);
	}
	CHECK_EQ(cp_parse_hostport(":8080"), 0);
	CHECK_EQ(cp_parse_hostport("localhost:9153"), 0);
	CHECK_EQ(cp_parse_hostport("[::1]:53"), 0);
	CHECK_EQ(cp_parse_hostport("::1:53"), -EINVAL);
	CHECK_EQ(cp_parse_hostport("host"), -EINVAL);
	CHECK_EQ(cp_parse_hostport("host:http"), -EINVAL);
}

int main(void)
{
	test_basic();
	test_grammar_errors();
	test_env();
	test_snippets();
	test_imports();
	test_zone_keys();
	test_directive_errors();
	test_hosts_options();
	test_settings();
	test_durations();
	return t_done("test_corefile");
}
