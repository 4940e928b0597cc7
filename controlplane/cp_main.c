/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns-controlplane - the DPDK secondary process that attaches to the fast path's shared
 * objects, loads the Corefile, keeps the answer table in sync, answers what the fast path
 * misses, serves DNS over the kernel's sockets, health/ready/metrics and the control socket.
 *
 * One thread, one poll() loop. The miss ring has no file descriptor, so the loop polls
 * sockets with a short timeout: 0-1 ms while misses keep arriving, 10 ms when idle (a
 * 2-core machine shares its cores with the fast path's workers; no spinning here).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_memzone.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "ctl.h"
#include "dnssrv.h"
#include "http.h"
#include "miss.h"
#include "runtime.h"
#include "table.h"

#define DEFAULT_CTL      "/run/dpdns/ctl.sock"
#define ATTACH_WAIT_MS   10000 /* the fast path may still be creating its objects */
#define IDLE_POLL_MS     10
#define BUSY_LINGER_MS   200   /* 1 ms polls for this long after the last miss */
#define TIMER_MS         100
#define HEARTBEAT_MS     1000
#define EXIT_USAGE       2
#define REATTACH_ENV     "DPDNS_CP_REATTACH" /* set across the re-exec after a fast path exit */

static uint32_t g_quit; /* SIGTERM/SIGINT received (count) */
static uint32_t g_hup;  /* SIGHUP received: reload */

struct cp_args {
	int eal_argc;
	char **eal_argv;
	const char *corefile;
	const char *ctl_path;
	char prefix[64];
};

/* ------------------------------------------------------------------------- */
/* Small shared helpers                                                        */

uint64_t cp_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t cp_mono_ms(void)
{
	return cp_mono_ns() / 1000000ull;
}

void cp_log(const char *level, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[%s] ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cp_poll_add(struct cp_poll *p, int fd, short events, cp_poll_fn fn, void *obj)
{
	if (p->n == p->cap) {
		unsigned cap = p->cap ? p->cap * 2 : 64;
		struct pollfd *f = realloc(p->fds, cap * sizeof(*f));
		struct cp_poll_ent *e;

		if (f == NULL)
			return -ENOMEM;
		p->fds = f;
		e = realloc(p->ent, cap * sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		p->ent = e;
		p->cap = cap;
	}
	p->fds[p->n] = (struct pollfd){ .fd = fd, .events = events };
	p->ent[p->n] = (struct cp_poll_ent){ .fn = fn, .obj = obj };
	p->n++;
	return 0;
}

const struct cp_settings *cp_rt_settings(const struct cp_rt *rt)
{
	return cp_engine_settings(rt->engine);
}

/* A zombie has exited (and released its locks) but still answers kill(pid, 0). */
static bool pid_running(int32_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	if (kill(pid, 0) < 0 && errno != EPERM)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true; /* another pid namespace: trust kill() */
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p == NULL || p[1] == '\0' || (p[2] != 'Z' && p[2] != 'X');
}

#define FNV_BASIS 0xcbf29ce484222325ull

static uint64_t fnv_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* FNV-1a of the file's bytes; 0 when it cannot be read. */
static uint64_t file_hash(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint64_t h = FNV_BASIS;
	unsigned char buf[8192];
	size_t n;

	if (f == NULL)
		return 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		h = fnv_add(h, buf, n);
	fclose(f);
	return h ? h : 1;
}

/*
 * Hash of the whole configuration @p e was loaded from: the Corefile and every file it
 * imported (path and content: an import that disappears counts too). CoreDNS's reload
 * compares the parsed configuration, imports expanded. Without @p e only the Corefile,
 * which is the same value while it imports nothing. 0 when the Corefile cannot be read.
 */
static uint64_t config_hash(const struct cp_rt *rt, const struct cp_engine *e)
{
	const char *const *files = NULL;
	unsigned n = e != NULL ? cp_engine_files(e, &files) : 0;
	uint64_t h = file_hash(rt->corefile), fh;

	if (h == 0)
		return 0;
	for (unsigned i = 1; i < n; i++) {
		fh = file_hash(files[i]);
		h = fnv_add(h, files[i], strlen(files[i]) + 1);
		h = fnv_add(h, &fh, sizeof(fh));
	}
	return h ? h : 1;
}

/* Did two loads read the same files? */
static bool same_files(const struct cp_engine *a, const struct cp_engine *b)
{
	const char *const *fa, *const *fb;
	unsigned na = cp_engine_files(a, &fa), nb = cp_engine_files(b, &fb);

	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++) {
		if (strcmp(fa[i], fb[i]) != 0)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------- */
/* Configuration                                                               */

static void publish_ports(struct cp_rt *rt)
{
	const struct cp_settings *set = cp_rt_settings(rt);
	unsigned i;

	for (i = 0; i < DP_MAX_PORTS; i++) {
		uint16_t port = i < 8 ? set->dns_ports[i] : 0;

		__atomic_store_n(&rt->state->dns_ports[i], port, __ATOMIC_RELEASE);
	}
}

int cp_rt_sync(struct cp_rt *rt)
{
	int ret = cp_table_sync_begin(rt->table);

	if (ret < 0)
		return ret;
	ret = cp_engine_sync(rt->engine, cp_table_sink(rt->table));
	/* Only a complete sync may sweep: after an error, keys not yet emitted would be
	 * deleted although they are still wanted. */
	cp_table_sync_end(rt->table, ret == 0);
	rt->stats.syncs++;
	if (ret < 0) {
		rt->stats.sync_failed++;
		cp_log("ERROR", "table sync: %s", strerror(-ret));
		return ret;
	}
	rt->synced = true;
	publish_ports(rt);
	rt->config_gen++;
	__atomic_store_n(&rt->state->config_gen, rt->config_gen, __ATOMIC_RELEASE);
	return 0;
}

static void reload_schedule(struct cp_rt *rt)
{
	const struct cp_settings *set = cp_rt_settings(rt);
	long jitter = 0;

	if (set->reload_ms == 0) {
		rt->next_reload_ms = 0;
		return;
	}
	/* CoreDNS: interval plus a jitter in [-j/2, j/2). */
	if (set->reload_jitter_ms > 0)
		jitter = (long)(random() % set->reload_jitter_ms) - (long)set->reload_jitter_ms / 2;
	rt->next_reload_ms = rt->now_ms + (uint64_t)((long)set->reload_ms + jitter);
}

int cp_rt_reload(struct cp_rt *rt, char *err, size_t errlen)
{
	struct cp_engine *ne, *old = rt->engine;
	int ret;

	/* Hash before loading: a change made during the load triggers the next check. The
	 * files are those of the running configuration; when the new one reads others,
	 * they are hashed after its load. A failed load is not retried until a file of
	 * the running configuration changes (CoreDNS: until the configuration changes). */
	rt->corefile_hash = config_hash(rt, old);
	ne = cp_engine_load(rt->corefile, err, errlen);
	if (ne == NULL) {
		rt->reload_failed++;
		cp_log("ERROR", "reload failed, keeping the running configuration: %s", err);
		return -EINVAL;
	}
	rt->engine = ne;
	ret = cp_rt_sync(rt);
	if (ret < 0) {
		rt->engine = old;
		cp_engine_free(ne);
		cp_rt_sync(rt);
		snprintf(err, errlen, "new configuration could not be synced to the table: %s",
			 strerror(-ret));
		rt->reload_failed++;
		return ret;
	}
	if (old == NULL || !same_files(old, ne))
		rt->corefile_hash = config_hash(rt, ne);
	/* The old engine completes or drops what it still holds (deferred answers). */
	cp_engine_free(old);
	rt->reloads++;
	rt->relisten = true;
	reload_schedule(rt);
	cp_log("INFO", "Reloaded %s (generation %lu)", rt->corefile,
	       (unsigned long)rt->config_gen);
	return 0;
}

static void reload_check(struct cp_rt *rt)
{
	char err[1024];
	uint64_t h;

	if (rt->next_reload_ms == 0 || rt->now_ms < rt->next_reload_ms)
		return;
	h = config_hash(rt, rt->engine);
	if (h != 0 && h != rt->corefile_hash)
		cp_rt_reload(rt, err, sizeof(err));
	/* A failed content is not retried until it changes again (CoreDNS does the same). */
	reload_schedule(rt);
}

bool cp_rt_ready(const struct cp_rt *rt, char *buf, size_t cap)
{
	if (!rt->synced) {
		snprintf(buf, cap, "controlplane");
		return false;
	}
	buf[0] = '\0';
	return cp_engine_ready(rt->engine, buf, cap) == 1;
}

static int listen_all(struct cp_rt *rt)
{
	const struct cp_settings *set = cp_rt_settings(rt);
	int r1 = cp_dnssrv_listen(rt->dns, set);
	int r2 = cp_http_listen(rt->http, set);

	rt->relisten = false;
	return r1 < 0 ? r1 : r2;
}

/* ------------------------------------------------------------------------- */
/* Arguments                                                                   */

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [EAL options] -- --corefile FILE [--ctl-socket PATH]\n"
		"  Attaches to a running dpdns-fastpath (pass its --file-prefix; --proc-type=\n"
		"  secondary is added when absent).\n"
		"  --corefile FILE     Corefile to load (required)\n"
		"  --ctl-socket PATH   control socket (default " DEFAULT_CTL ")\n"
		"  --help              this text\n"
		"Signals: SIGHUP reloads the Corefile; SIGTERM/SIGINT stop after the health\n"
		"lameduck period (a second signal stops at once).\n", prog);
}

static int parse_app(int argc, char **argv, struct cp_args *a)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout, "dpdns-controlplane");
			exit(0);
		} else if (strcmp(argv[i], "--corefile") == 0 && i + 1 < argc) {
			a->corefile = argv[++i];
		} else if (strcmp(argv[i], "--ctl-socket") == 0 && i + 1 < argc) {
			a->ctl_path = argv[++i];
		} else {
			fprintf(stderr, "dpdns-controlplane: unknown or incomplete option '%s'\n",
				argv[i]);
			return -EINVAL;
		}
	}
	if (a->corefile == NULL) {
		fprintf(stderr, "dpdns-controlplane: --corefile is required\n");
		return -EINVAL;
	}
	return 0;
}

/* EAL arguments up to "--" (plus --proc-type=secondary when absent), then ours. */
static int split_args(int argc, char **argv, struct cp_args *a)
{
	int dd = argc, i, n = 0;
	bool proc_type = false;

	snprintf(a->prefix, sizeof(a->prefix), "rte");
	a->ctl_path = DEFAULT_CTL;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout, argv[0]);
			exit(0);
		}
		if (strncmp(argv[i], "--proc-type", 11) == 0)
			proc_type = true;
		if (strncmp(argv[i], "--file-prefix=", 14) == 0)
			snprintf(a->prefix, sizeof(a->prefix), "%s", argv[i] + 14);
		else if (strcmp(argv[i], "--file-prefix") == 0 && i + 1 < argc)
			snprintf(a->prefix, sizeof(a->prefix), "%s", argv[i + 1]);
	}
	a->eal_argv = calloc((size_t)dd + 2, sizeof(char *));
	if (a->eal_argv == NULL)
		return -ENOMEM;
	for (i = 0; i < dd; i++)
		a->eal_argv[n++] = argv[i];
	if (!proc_type)
		a->eal_argv[n++] = (char *)"--proc-type=secondary";
	a->eal_argc = n;
	return parse_app(dd < argc ? argc - dd - 1 : 0, argv + dd + 1, a);
}

/* DPDK's runtime directory for the prefix: /var/run/dpdk/<prefix> for root. */
static void runtime_path(const char *prefix, const char *file, char *path, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (getuid() == 0 || xdg == NULL)
		snprintf(path, cap, "%s/dpdk/%s/%s", getuid() == 0 ? "/var/run" : "/tmp", prefix,
			 file);
	else
		snprintf(path, cap, "%s/dpdk/%s/%s", xdg, prefix, file);
}

static bool primary_alive(const char *prefix, char *path, size_t cap)
{
	runtime_path(prefix, "config", path, cap);
	return rte_eal_primary_proc_alive(path) != 0;
}

/* The primary's telemetry socket accepts connections once its EAL is initialised. */
static bool primary_initialised(const char *prefix)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool ok;

	runtime_path(prefix, "dpdk_telemetry.v2", sun.sun_path, sizeof(sun.sun_path));
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * Attaching while the primary is still inside rte_eal_init() breaks the primary (the
 * secondary locks runtime files the primary is about to create). Wait until its telemetry
 * socket answers; a primary without telemetry gets a grace period instead.
 * @return false when told to stop meanwhile.
 */
static bool wait_initialised(const char *prefix)
{
	uint64_t deadline = cp_mono_ms() + ATTACH_WAIT_MS;

	while (!primary_initialised(prefix) && cp_mono_ms() < deadline) {
		if (__atomic_load_n(&g_quit, __ATOMIC_RELAXED) != 0)
			return false;
		usleep(100 * 1000);
	}
	return true;
}

/* ------------------------------------------------------------------------- */
/* Attaching to the fast path's objects                                        */

static int attach_once(struct cp_rt *rt, char *err, size_t errlen)
{
	const struct rte_memzone *mz;
	const struct dp_state *st;
	char name[32];
	unsigned w;

	mz = rte_memzone_lookup(DP_MZ_STATE);
	if (mz == NULL || mz->len < sizeof(struct dp_state))
		return snprintf(err, errlen, "memzone %s not found", DP_MZ_STATE), -ENOENT;
	st = mz->addr;
	if (__atomic_load_n(&st->magic, __ATOMIC_ACQUIRE) != DP_SHM_MAGIC)
		return snprintf(err, errlen, "memzone %s: bad magic (fast path still starting?)",
				DP_MZ_STATE), -EAGAIN;
	if (st->version != DP_SHM_VERSION) {
		snprintf(err, errlen, "shared memory version %u, this control plane speaks %u",
			 st->version, DP_SHM_VERSION);
		return -EPROTO;
	}
	if (st->n_workers == 0 || st->n_workers > DP_MAX_WORKERS)
		return snprintf(err, errlen, "fast path reports %u workers", st->n_workers), -EPROTO;
	rt->state = mz->addr;
	rt->n_workers = st->n_workers;
	mz = rte_memzone_lookup(DP_MZ_COUNTERS);
	if (mz == NULL || mz->len < rt->n_workers * sizeof(struct dp_counters))
		return snprintf(err, errlen, "memzone %s not found", DP_MZ_COUNTERS), -ENOENT;
	rt->counters = mz->addr;
	mz = rte_memzone_lookup(DP_MZ_QSBR);
	if (mz == NULL)
		return snprintf(err, errlen, "memzone %s not found", DP_MZ_QSBR), -ENOENT;
	rt->qsbr = mz->addr;
	rt->hash = rte_hash_find_existing(DP_HASH_ANSWERS);
	if (rt->hash == NULL)
		return snprintf(err, errlen, "hash %s not found", DP_HASH_ANSWERS), -ENOENT;
	rt->miss_ring = rte_ring_lookup(DP_RING_MISS);
	if (rt->miss_ring == NULL)
		return snprintf(err, errlen, "ring %s not found", DP_RING_MISS), -ENOENT;
	for (w = 0; w < rt->n_workers; w++) {
		snprintf(name, sizeof(name), DP_RING_REPLY_FMT, w);
		rt->reply_ring[w] = rte_ring_lookup(name);
		if (rt->reply_ring[w] == NULL)
			return snprintf(err, errlen, "ring %s not found", name), -ENOENT;
	}
	return 0;
}

static int attach(struct cp_rt *rt)
{
	uint64_t deadline = cp_mono_ms() + ATTACH_WAIT_MS;
	char err[256];
	int ret;
	int32_t pid;

	while ((ret = attach_once(rt, err, sizeof(err))) == -ENOENT || ret == -EAGAIN) {
		if (cp_mono_ms() >= deadline || __atomic_load_n(&g_quit, __ATOMIC_RELAXED))
			break;
		usleep(100 * 1000);
	}
	if (ret < 0) {
		cp_log("FATAL", "cannot attach to the fast path: %s", err);
		return ret;
	}
	/* The table has one writer: refuse to run next to a live control plane. */
	pid = __atomic_load_n(&rt->state->cp_pid, __ATOMIC_ACQUIRE);
	if (pid > 0 && pid != getpid() && pid_running(pid)) {
		cp_log("FATAL", "another control plane (pid %d) is attached to this fast path",
		       pid);
		return -EBUSY;
	}
	rt->config_gen = __atomic_load_n(&rt->state->config_gen, __ATOMIC_ACQUIRE);
	return 0;
}

/* ------------------------------------------------------------------------- */
/* Loop                                                                        */

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		__atomic_store_n(&g_hup, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&g_quit, 1, __ATOMIC_RELAXED);
}

static void wake_event(void *obj, int fd, short revents)
{
	struct cp_rt *rt = obj;

	(void)fd;
	(void)revents;
	rt->tick_now = true; /* the engine drains the descriptor in its tick */
}

static bool fastpath_alive(const struct cp_rt *rt)
{
	int32_t pid = rt->state->fp_pid;

	return pid <= 0 || pid_running(pid);
}

/* @return true when the loop should end. */
static bool check_signals(struct cp_rt *rt)
{
	uint32_t quit = __atomic_load_n(&g_quit, __ATOMIC_RELAXED);
	const struct cp_settings *set = cp_rt_settings(rt);
	char err[1024];

	if (__atomic_exchange_n(&g_hup, 0, __ATOMIC_RELAXED))
		cp_rt_reload(rt, err, sizeof(err));
	if (quit == 0)
		return false;
	if (quit > 1 || set->lameduck_ms == 0)
		return true;
	if (rt->lameduck_until_ms == 0) {
		/* Health keeps answering OK and queries keep being answered meanwhile. */
		rt->lameduck_until_ms = rt->now_ms + set->lameduck_ms;
		cp_log("INFO", "Going into lameduck mode for %u ms", set->lameduck_ms);
	}
	return rt->now_ms >= rt->lameduck_until_ms;
}

static void dispatch(struct cp_poll *p, int n)
{
	unsigned i;

	for (i = 0; i < p->n && n > 0; i++) {
		if (p->fds[i].revents == 0)
			continue;
		n--;
		p->ent[i].fn(p->ent[i].obj, p->fds[i].fd, p->fds[i].revents);
	}
}

static void housekeeping(struct cp_rt *rt, uint64_t *next_timer, uint64_t *next_beat)
{
	int ret = cp_engine_tick(rt->engine, cp_table_sink(rt->table), rt->now_ms);

	rt->tick_now = false;
	if (ret == 1)
		cp_rt_sync(rt);
	cp_table_reclaim(rt->table);
	if (rt->now_ms >= *next_timer) {
		*next_timer = rt->now_ms + TIMER_MS;
		cp_dnssrv_timer(rt->dns, rt->now_ms);
		cp_http_timer(rt->http, rt->now_ms);
		cp_ctl_timer(rt->ctl, rt->now_ms);
		reload_check(rt);
	}
	if (rt->now_ms >= *next_beat) {
		*next_beat = rt->now_ms + HEARTBEAT_MS;
		__atomic_store_n(&rt->state->cp_heartbeat, dp_monotonic_sec(), __ATOMIC_RELEASE);
		/* A killed fast path clears neither quit nor magic. */
		rt->fp_gone = !fastpath_alive(rt);
	}
}

/* @return 0 on a requested stop, -EPIPE when the fast path went away, -ELOOP when a
 * plugin found the process cannot go on (cp_engine_fatal). */
static int run(struct cp_rt *rt)
{
	struct cp_poll p = { 0 };
	uint64_t next_timer = 0, next_beat = 0, busy_until = 0;
	unsigned busy;
	int n, wfd, ret = 0;

	for (;;) {
		rt->now_ms = cp_mono_ms();
		if (check_signals(rt))
			break;
		/* quit and magic are cleared before the fast path frees its objects: stop
		 * touching them at once. */
		if (__atomic_load_n(&rt->state->quit, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&rt->state->magic, __ATOMIC_ACQUIRE) != DP_SHM_MAGIC ||
		    rt->fp_gone) {
			cp_log("ERROR", "the fast path (pid %d) is gone", rt->state->fp_pid);
			ret = -EPIPE;
			break;
		}
		if (rt->relisten)
			listen_all(rt);
		busy = cp_miss_poll(rt->miss);
		p.n = 0;
		cp_dnssrv_fill(rt->dns, &p);
		cp_http_fill(rt->http, &p);
		cp_ctl_fill(rt->ctl, &p);
		wfd = cp_engine_wake_fd(rt->engine);
		if (wfd >= 0)
			cp_poll_add(&p, wfd, POLLIN, wake_event, rt);
		/* Misses come in bursts: keep polling the ring every millisecond for a while
		 * after the last one, not only while it is non-empty. */
		if (busy > 0 || cp_miss_backlogged(rt->miss))
			busy_until = rt->now_ms + BUSY_LINGER_MS;
		n = poll(p.fds, p.n, busy >= 32 ? 0 : rt->now_ms < busy_until ? 1 : IDLE_POLL_MS);
		rt->now_ms = cp_mono_ms();
		if (n > 0)
			dispatch(&p, n);
		housekeeping(rt, &next_timer, &next_beat);
		/* A plugin's fatal finding (loop), logged by it: CoreDNS exits (log.Fatal). */
		if (cp_engine_fatal(rt->engine) != NULL) {
			cp_log("ERROR", "exiting: %s", cp_engine_fatal(rt->engine));
			ret = -ELOOP;
			break;
		}
	}
	free(p.fds);
	free(p.ent);
	return ret;
}

/* ------------------------------------------------------------------------- */
/* Start and stop                                                              */

static int start(struct cp_rt *rt, const struct cp_args *a)
{
	char err[1024];

	rt->table = cp_table_create(rt->hash, rt->qsbr, rt->state);
	rt->miss = cp_miss_create(rt);
	rt->dns = cp_dnssrv_create(rt);
	rt->http = cp_http_create(rt);
	if (rt->table == NULL || rt->miss == NULL || rt->dns == NULL || rt->http == NULL)
		return -ENOMEM;
	/* Mark and sweep: also removes what a previous control plane left behind. */
	if (cp_rt_sync(rt) < 0)
		cp_log("ERROR", "initial table sync failed; not ready until a sync succeeds");
	if (listen_all(rt) < 0) {
		fprintf(stderr, "dpdns-controlplane: cannot open the listeners (see above)\n");
		return -EADDRINUSE;
	}
	rt->ctl = cp_ctl_open(rt, a->ctl_path, err, sizeof(err));
	if (rt->ctl == NULL) {
		fprintf(stderr, "dpdns-controlplane: %s\n", err);
		return -EIO;
	}
	__atomic_store_n(&rt->state->cp_heartbeat, dp_monotonic_sec(), __ATOMIC_RELEASE);
	__atomic_store_n(&rt->state->cp_pid, (int32_t)getpid(), __ATOMIC_RELEASE);
	reload_schedule(rt);
	cp_log("INFO", "dpdns-controlplane %s attached: %u workers, table %d/%u entries, "
	       "generation %lu", DPDNS_VERSION, rt->n_workers, cp_table_entries(rt->table),
	       rt->state->table_size, (unsigned long)rt->config_gen);
	return 0;
}

static void stop(struct cp_rt *rt, bool fp_gone)
{
	/* The fast path stops queueing misses once cp_pid is 0. */
	if (rt->state != NULL && __atomic_load_n(&rt->state->cp_pid, __ATOMIC_RELAXED) == getpid())
		__atomic_store_n(&rt->state->cp_pid, 0, __ATOMIC_RELEASE);
	rt->detached = fp_gone;
	cp_ctl_free(rt->ctl);
	cp_http_free(rt->http);
	/* The engine completes its deferred answers (into the miss/DNS modules) first. */
	if (rt->engine != NULL)
		cp_engine_free(rt->engine);
	rt->engine = NULL;
	cp_dnssrv_free(rt->dns);
	if (!fp_gone) {
		cp_miss_free(rt->miss);
		cp_table_free(rt->table, 1000);
	}
	/* The table and zone set stay: the fast path keeps answering from them. */
}

/*
 * The fast path went away. A secondary's EAL keeps mappings (with their file locks) of
 * the runtime files after rte_eal_cleanup(), and the next primary cannot initialise while
 * they exist: start over as a fresh image at once, which waits for the next fast path.
 */
static void reattach_later(int32_t old_fp, char **argv)
{
	char pid[16], exe[4096];
	ssize_t n;

	snprintf(pid, sizeof(pid), "%d", old_fp);
	setenv(REATTACH_ENV, pid, 1);
	/* The EAL's descriptors (runtime files with their locks, the tap's queues) are not
	 * close-on-exec. */
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
	/* By its real path: the process name (comm) comes from it, and tools find the
	 * control plane by name. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		execv(exe, argv);
	}
	execv("/proc/self/exe", argv);
	cp_log("FATAL", "re-exec failed: %s", strerror(errno));
}

/* @return true once a new primary runs with the prefix, false when told to stop. */
static bool wait_primary(const struct cp_args *a, int32_t old_fp, char *path, size_t cap)
{
	cp_log("INFO", "waiting for a fast path with --file-prefix %s", a->prefix);
	/* The old one holds the runtime files until it has exited. */
	while (old_fp > 0 && pid_running(old_fp)) {
		if (__atomic_load_n(&g_quit, __ATOMIC_RELAXED) != 0)
			return false;
		usleep(100 * 1000);
	}
	while (!primary_alive(a->prefix, path, cap)) {
		if (__atomic_load_n(&g_quit, __ATOMIC_RELAXED) != 0)
			return false;
		sleep(1);
	}
	return true;
}

int main(int argc, char **argv)
{
	static struct cp_rt rt;
	const char *const *files;
	struct cp_args a = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	char path[512], err[1024];
	int32_t old_fp;
	int ret = 0;

	if (split_args(argc, argv, &a) < 0) {
		usage(stderr, argv[0]);
		return EXIT_USAGE;
	}
	snprintf(rt.corefile, sizeof(rt.corefile), "%s", a.corefile);
	snprintf(rt.ctl_path, sizeof(rt.ctl_path), "%s", a.ctl_path);
	/* The configuration first: its errors do not depend on the fast path. */
	rt.corefile_hash = config_hash(&rt, NULL);
	rt.engine = cp_engine_load(a.corefile, err, sizeof(err));
	if (rt.engine == NULL) {
		fprintf(stderr, "dpdns-controlplane: %s\n", err);
		return 1;
	}
	if (cp_engine_files(rt.engine, &files) > 1)
		rt.corefile_hash = config_hash(&rt, rt.engine); /* imports: known after the load */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (getenv(REATTACH_ENV) != NULL) {
		int32_t prev_fp = (int32_t)atoi(getenv(REATTACH_ENV));

		unsetenv(REATTACH_ENV);
		if (!wait_primary(&a, prev_fp, path, sizeof(path)))
			goto out_engine;
	} else if (!primary_alive(a.prefix, path, sizeof(path))) {
		fprintf(stderr, "dpdns-controlplane: no fast path (DPDK primary process) is running "
			"with --file-prefix %s (%s is not locked). Start dpdns-fastpath first and "
			"pass the same --file-prefix.\n", a.prefix, path);
		ret = -ENOENT;
		goto out_engine;
	}
	if (!wait_initialised(a.prefix))
		goto out_engine;
	if (rte_eal_init(a.eal_argc, a.eal_argv) < 0) {
		fprintf(stderr, "dpdns-controlplane: EAL init failed: %s\n",
			rte_errno != 0 ? rte_strerror(rte_errno) : "see the EAL messages above");
		ret = -EIO;
		goto out_engine;
	}
	rt.start_unix = (uint64_t)time(NULL);
	rt.start_ms = cp_mono_ms();
	rt.now_ms = rt.start_ms;
	srandom((unsigned)(rt.start_ms ^ (uint64_t)getpid()));
	ret = attach(&rt);
	if (ret == 0)
		ret = start(&rt, &a);
	if (ret == 0)
		ret = run(&rt);
	old_fp = rt.state != NULL ? rt.state->fp_pid : 0;
	stop(&rt, ret == -EPIPE);
	rte_eal_cleanup();
	if (ret == -EPIPE)
		reattach_later(old_fp, argv);
	free(a.eal_argv);
	return ret == 0 ? 0 : 1;

out_engine:
	cp_engine_free(rt.engine);
	free(a.eal_argv);
	return ret == 0 ? 0 : 1;
}
