/* SPDX-License-Identifier: BSD-3-Clause
 * dpdnsctl - command-line client of the control plane's control socket.
 *
 * One JSON request line per command, one JSON response line back. Human-readable text by
 * default, the raw response with --json. Exit status: 0 ok, 1 the command failed (message
 * on stderr), 2 usage error.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <jansson.h>

#define DEFAULT_SOCKET "/run/dpdns/ctl.sock"
#define REPLY_TIMEOUT_MS 30000
#define EXIT_FAIL  1
#define EXIT_USAGE 2

struct ctl_opts {
	const char *socket;
	bool json;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: dpdnsctl [--socket PATH] [--json] COMMAND\n"
		"Commands:\n"
		"  status                         fast path and control plane state\n"
		"  stats [--watch [SECS]] [--count N]\n"
		"                                 per-worker counters; --watch prints rates\n"
		"  lookup NAME [TYPE]             what the fast path answers for NAME/TYPE\n"
		"  hosts add NAME ADDR            add a hosts entry (visible at once)\n"
		"  hosts del NAME [ADDR]          remove a hosts entry\n"
		"  reload                         load the Corefile again\n"
		"  cache show [NAME]              entries of the cache plugins (all, or NAME's)\n"
		"  cache flush [NAME]             remove entries from the caches and the table\n"
		"Options:\n"
		"  --socket PATH   control socket (default " DEFAULT_SOCKET ")\n"
		"  --json          print the raw JSON response\n"
		"  --help          this text\n"
		"Exit status: 0 ok, 1 command failed, 2 usage error.\n");
}

/* ------------------------------------------------------------------------- */
/* Transport                                                                   */

static int ctl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "dpdnsctl: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "dpdnsctl: cannot connect to %s: %s (is dpdns-controlplane "
			"running?)\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one line (the response). @return malloc'ed text or NULL. */
static char *read_line(int fd)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap);

	while (buf != NULL) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		char *nl;

		if (poll(&pfd, 1, REPLY_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "dpdnsctl: no response within %d s\n", REPLY_TIMEOUT_MS / 1000);
			break;
		}
		if (cap - len < 4096) {
			char *b = realloc(buf, cap * 2);

			if (b == NULL)
				break;
			buf = b;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			fprintf(stderr, "dpdnsctl: connection closed by the control plane\n");
			break;
		}
		len += (size_t)n;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
		if (nl != NULL) {
			*nl = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

/* Send @p req (consumed); @return the parsed response or NULL (message printed). */
static json_t *request(int fd, json_t *req, char **raw)
{
	char *line = json_dumps(req, JSON_COMPACT);
	json_error_t jerr;
	json_t *res;
	char *text;

	json_decref(req);
	if (line == NULL)
		return NULL;
	if (write_all(fd, line, strlen(line)) < 0 || write_all(fd, "\n", 1) < 0) {
		fprintf(stderr, "dpdnsctl: sending the request failed: %s\n", strerror(errno));
		free(line);
		return NULL;
	}
	free(line);
	text = read_line(fd);
	if (text == NULL)
		return NULL;
	res = json_loads(text, 0, &jerr);
	if (res == NULL || !json_is_object(res)) {
		fprintf(stderr, "dpdnsctl: malformed response: %s\n", text);
		free(text);
		json_decref(res);
		return NULL;
	}
	if (raw != NULL)
		*raw = text;
	else
		free(text);
	return res;
}

static bool res_ok(json_t *res, const char *what)
{
	const char *err;

	if (json_is_true(json_object_get(res, "ok")))
		return true;
	err = json_string_value(json_object_get(res, "error"));
	fprintf(stderr, "dpdnsctl: %s failed: %s\n", what, err != NULL ? err : "unknown error");
	return false;
}

/* ------------------------------------------------------------------------- */
/* Text output                                                                 */

static json_int_t jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "-";
}

static void duration(json_int_t s, char *out, size_t cap)
{
	if (s >= 86400)
		snprintf(out, cap, "%lldd%02lldh%02lldm", s / 86400, s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(out, cap, "%lldh%02lldm%02llds", s / 3600, s % 3600 / 60, s % 60);
	else
		snprintf(out, cap, "%lldm%02llds", s / 60, s % 60);
}

static void join(json_t *arr, const char *sep, char *out, size_t cap)
{
	size_t i, o = 0;
	json_t *v;

	out[0] = '\0';
	json_array_foreach(arr, i, v) {
		char item[256];

		if (json_is_string(v))
			snprintf(item, sizeof(item), "%s", json_string_value(v));
		else if (json_is_object(v))
			snprintf(item, sizeof(item), "%s%s", jstr(v, "name"),
				 json_is_true(json_object_get(v, "miss_answer")) ? " (negative in "
				 "fast path)" : "");
		else
			snprintf(item, sizeof(item), "%lld", (long long)json_integer_value(v));
		o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", i ? sep : "", item);
	}
	if (out[0] == '\0')
		snprintf(out, cap, "-");
}

static void print_status(json_t *res)
{
	json_t *fp = json_object_get(res, "fastpath"), *cp = json_object_get(res, "controlplane");
	json_t *tab = json_object_get(fp, "table");
	char up[64], list[2048];

	duration(jint(fp, "uptime"), up, sizeof(up));
	printf("Fast path\n");
	printf("  %-16s %lld (%s), up %s\n", "pid", jint(fp, "pid"),
	       json_is_true(json_object_get(fp, "alive")) ? "running" : "NOT RUNNING", up);
	printf("  %-16s %s (port %lld), mac %s\n", "port", jstr(fp, "port"), jint(fp, "port_id"),
	       jstr(fp, "mac"));
	printf("  %-16s %s\n", "exception", jstr(fp, "exception"));
	join(json_object_get(fp, "addresses"), ", ", list, sizeof(list));
	printf("  %-16s %s\n", "addresses", list);
	join(json_object_get(fp, "lcores"), ",", list, sizeof(list));
	printf("  %-16s %lld (lcores %s)\n", "workers", jint(fp, "workers"), list);
	printf("  %-16s %lld / %lld entries\n", "table", jint(tab, "entries"), jint(tab, "size"));
	printf("  %-16s %lld\n", "mbufs", jint(fp, "mbufs"));
	duration(jint(cp, "uptime"), up, sizeof(up));
	printf("Control plane\n");
	printf("  %-16s %lld, up %s, version %s\n", "pid", jint(cp, "pid"), up, jstr(cp, "version"));
	printf("  %-16s %s\n", "corefile", jstr(cp, "corefile"));
	printf("  %-16s %lld (reloads %lld, failed %lld)\n", "config gen", jint(cp, "config_gen"),
	       jint(cp, "reloads"), jint(cp, "reload_failed"));
	if (json_is_true(json_object_get(cp, "ready")))
		printf("  %-16s yes\n", "ready");
	else
		printf("  %-16s no (%s)\n", "ready", jstr(cp, "not_ready"));
	join(json_object_get(cp, "dns_ports"), ", ", list, sizeof(list));
	printf("  %-16s %s\n", "dns ports", list);
	join(json_object_get(cp, "zones"), ", ", list, sizeof(list));
	printf("  %-16s %s\n", "zones", list);
	printf("  %-16s %lld sockets, %lld tcp connections\n", "listeners",
	       jint(cp, "listeners"), jint(cp, "tcp_connections"));
	printf("  %-16s %s\n", "control socket", jstr(cp, "ctl_socket"));
}

static const char *const stat_cols[] = {
	"rx_packets", "tx_packets", "queries", "answered", "hits", "nodata", "zone_negative",
	"missed", "replies", "truncated",
};
static const char *const stat_hdr[] = {
	"rx", "tx", "queries", "answered", "hits", "nodata", "zoneneg", "missed", "replies",
	"trunc",
};
#define N_COLS (sizeof(stat_cols) / sizeof(stat_cols[0]))

static json_int_t drops_sum(json_t *w)
{
	json_t *d = json_object_get(w, "drops"), *v;
	const char *k;
	json_int_t s = 0;

	json_object_foreach(d, k, v)
		s += json_integer_value(v);
	return s;
}

static void stats_header(const char *unit)
{
	size_t c;

	printf("%-6s %-5s", "worker", "lcore");
	for (c = 0; c < N_COLS; c++)
		printf(" %11s", stat_hdr[c]);
	printf(" %11s%s\n", "drops", unit);
}

static void stats_row(const char *label, json_t *w, json_t *prev, double secs)
{
	size_t c;
	char lc[16] = "";

	if (json_object_get(w, "lcore") != NULL)
		snprintf(lc, sizeof(lc), "%lld", jint(w, "lcore"));
	printf("%-6s %-5s", label, lc);
	for (c = 0; c <= N_COLS; c++) {
		json_int_t v = c < N_COLS ? jint(w, stat_cols[c]) : drops_sum(w);

		if (prev != NULL) {
			json_int_t p = c < N_COLS ? jint(prev, stat_cols[c]) : drops_sum(prev);

			printf(" %11.1f", secs > 0 ? (double)(v - p) / secs : 0.0);
		} else {
			printf(" %11lld", (long long)v);
		}
	}
	printf("\n");
}

static void print_kv(const char *title, json_t *obj, bool skip_zero)
{
	const char *k;
	json_t *v;
	int n = 0;

	json_object_foreach(obj, k, v) {
		if (skip_zero && json_integer_value(v) == 0)
			continue;
		printf("%s %s=%lld", n++ ? "," : title, k, (long long)json_integer_value(v));
	}
	if (n > 0)
		printf("\n");
}

static void print_stats(json_t *res, json_t *prev)
{
	json_t *workers = json_object_get(res, "workers"), *w;
	json_t *pw = prev ? json_object_get(prev, "workers") : NULL;
	double secs = 0;
	size_t i;
	char label[16];

	if (prev != NULL)
		secs = (double)(jint(res, "time_ms") - jint(prev, "time_ms")) / 1000.0;
	stats_header(prev != NULL ? "  (per second)" : "");
	json_array_foreach(workers, i, w) {
		snprintf(label, sizeof(label), "%lld", jint(w, "worker"));
		stats_row(label, w, pw ? json_array_get(pw, i) : NULL, secs);
	}
	stats_row("total", json_object_get(res, "total"),
		  prev ? json_object_get(prev, "total") : NULL, secs);
	if (prev != NULL)
		return;
	print_kv("drops:", json_object_get(json_object_get(res, "total"), "drops"), true);
	print_kv("rcodes:", json_object_get(json_object_get(res, "total"), "rcode"), true);
	print_kv("control plane:", json_object_get(res, "controlplane"), false);
}

static void print_records(const char *title, json_t *arr)
{
	size_t i;
	json_t *v;

	if (json_array_size(arr) == 0)
		return;
	printf(";; %s\n", title);
	json_array_foreach(arr, i, v)
		printf("%s\n", json_string_value(v));
}

static void print_lookup(json_t *res)
{
	bool fast = strcmp(jstr(res, "path"), "fastpath") == 0;

	printf("%s %s: %s", jstr(res, "name"), jstr(res, "type"), jstr(res, "rcode"));
	if (json_object_get(res, "flags") != NULL)
		printf(" (%s)", jstr(res, "flags"));
	if (fast)
		printf(", answered by the fast path from the %s\n", jstr(res, "source"));
	else
		printf(", goes to the control plane (%s)\n", jstr(res, "reason"));
	if (json_object_get(res, "zone") != NULL)
		printf(";; zone %s\n", jstr(res, "zone"));
	if (json_object_get(res, "note") != NULL)
		printf(";; %s\n", jstr(res, "note"));
	print_records("ANSWER", json_object_get(res, "answer"));
	print_records("AUTHORITY", json_object_get(res, "authority"));
	print_records("ADDITIONAL", json_object_get(res, "additional"));
}

/* ------------------------------------------------------------------------- */
/* Commands                                                                    */

static int simple(const struct ctl_opts *o, json_t *req, const char *what,
		  void (*print)(json_t *))
{
	char *raw = NULL;
	int fd = ctl_connect(o->socket), ret = EXIT_FAIL;
	json_t *res;

	if (fd < 0) {
		json_decref(req);
		return EXIT_FAIL;
	}
	res = request(fd, req, &raw);
	close(fd);
	if (res == NULL)
		return EXIT_FAIL;
	if (o->json)
		printf("%s\n", raw);
	if (res_ok(res, what)) {
		ret = 0;
		if (!o->json)
			print(res);
	}
	free(raw);
	json_decref(res);
	return ret;
}

static void print_done(json_t *res)
{
	if (json_object_get(res, "config_gen") != NULL)
		printf("reloaded (configuration generation %lld)\n", jint(res, "config_gen"));
	else
		printf("ok (table entries %lld)\n", jint(res, "table_entries"));
}

static void print_stats_once(json_t *res)
{
	print_stats(res, NULL);
}

static int parse_count(const char *s, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0)
		return -1;
	*out = v;
	return 0;
}

static int cmd_stats(const struct ctl_opts *o, int argc, char **argv)
{
	long watch = -1, count = -1, n;
	json_t *prev = NULL;
	int i, fd, ret = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--watch") == 0) {
			watch = 1;
			if (i + 1 < argc && parse_count(argv[i + 1], &watch) == 0)
				i++;
			if (watch == 0)
				return usage(stderr), EXIT_USAGE;
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc &&
			   parse_count(argv[i + 1], &count) == 0) {
			i++;
		} else {
			return usage(stderr), EXIT_USAGE;
		}
	}
	if (watch < 0)
		return simple(o, json_pack("{s:s}", "cmd", "stats"), "stats", print_stats_once);
	fd = ctl_connect(o->socket);
	if (fd < 0)
		return EXIT_FAIL;
	/* The first sample is the baseline; each later one prints rates over the interval. */
	for (n = 0; count < 0 || n <= count; n++) {
		char *raw = NULL;
		json_t *res = request(fd, json_pack("{s:s}", "cmd", "stats"), &raw);

		if (res == NULL || !res_ok(res, "stats")) {
			json_decref(res);
			free(raw);
			ret = EXIT_FAIL;
			break;
		}
		if (o->json)
			printf("%s\n", raw);
		else if (prev != NULL)
			print_stats(res, prev), printf("\n");
		fflush(stdout);
		free(raw);
		json_decref(prev);
		prev = res;
		if (count < 0 || n < count)
			sleep((unsigned)watch);
	}
	json_decref(prev);
	close(fd);
	return ret;
}

static int cmd_hosts(const struct ctl_opts *o, int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[0], "add") == 0)
		return simple(o, json_pack("{s:s, s:s, s:s}", "cmd", "hosts_add", "name", argv[1],
					   "addr", argv[2]), "hosts add", print_done);
	if (argc >= 2 && argc <= 3 && strcmp(argv[0], "del") == 0) {
		json_t *req = json_pack("{s:s, s:s}", "cmd", "hosts_del", "name", argv[1]);

		if (argc == 3)
			json_object_set_new(req, "addr", json_string(argv[2]));
		return simple(o, req, "hosts del", print_done);
	}
	usage(stderr);
	return EXIT_USAGE;
}

static void print_cache(json_t *res)
{
	json_t *arr = json_object_get(res, "entries"), *e;
	size_t i;

	printf("%-40s %-6s %-9s %-7s %6s %6s %3s %3s %3s %s\n", "NAME", "TYPE", "RCODE", "KIND",
	       "TTL", "LEFT", "AN", "NS", "AR", "TABLE");
	json_array_foreach(arr, i, e) {
		printf("%-40s %-6s %-9s %-7s %6lld %6lld %3lld %3lld %3lld %s\n",
		       json_string_value(json_object_get(e, "name")),
		       json_string_value(json_object_get(e, "type")),
		       json_string_value(json_object_get(e, "rcode")),
		       json_string_value(json_object_get(e, "kind")), jint(e, "ttl"),
		       jint(e, "ttl_left"), jint(e, "answer"), jint(e, "authority"),
		       jint(e, "additional"),
		       json_is_true(json_object_get(e, "published")) ? "yes" : "no");
	}
	printf("%lld entries%s\n", jint(res, "count"),
	       json_is_true(json_object_get(res, "truncated")) ? " (list truncated)" : "");
}

static void print_flushed(json_t *res)
{
	printf("flushed %lld entries\n", jint(res, "flushed"));
}

static int cmd_cache(const struct ctl_opts *o, int argc, char **argv)
{
	bool flush = argc >= 1 && strcmp(argv[0], "flush") == 0;
	json_t *req;

	if (argc < 1 || argc > 2 || (!flush && strcmp(argv[0], "show") != 0)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	req = json_pack("{s:s}", "cmd", flush ? "cache_flush" : "cache_show");
	if (argc == 2)
		json_object_set_new(req, "name", json_string(argv[1]));
	return simple(o, req, flush ? "cache flush" : "cache show",
		      flush ? print_flushed : print_cache);
}

static int run(const struct ctl_opts *o, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "status") == 0 && argc == 1)
		return simple(o, json_pack("{s:s}", "cmd", "status"), "status", print_status);
	if (strcmp(cmd, "stats") == 0) {
		if (argc == 1)
			return simple(o, json_pack("{s:s}", "cmd", "stats"), "stats",
				      print_stats_once);
		return cmd_stats(o, argc - 1, argv + 1);
	}
	if (strcmp(cmd, "lookup") == 0 && (argc == 2 || argc == 3)) {
		json_t *req = json_pack("{s:s, s:s}", "cmd", "lookup", "name", argv[1]);

		if (argc == 3)
			json_object_set_new(req, "type", json_string(argv[2]));
		return simple(o, req, "lookup", print_lookup);
	}
	if (strcmp(cmd, "hosts") == 0)
		return cmd_hosts(o, argc - 1, argv + 1);
	if (strcmp(cmd, "cache") == 0)
		return cmd_cache(o, argc - 1, argv + 1);
	if (strcmp(cmd, "reload") == 0 && argc == 1)
		return simple(o, json_pack("{s:s}", "cmd", "reload"), "reload", print_done);
	usage(stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct ctl_opts o = { .socket = DEFAULT_SOCKET };
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			o.json = true;
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			o.socket = argv[++i];
		} else if (strncmp(argv[i], "--socket=", 9) == 0) {
			o.socket = argv[i] + 9;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "dpdnsctl: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		} else {
			break;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return run(&o, argc - i, argv + i);
}
