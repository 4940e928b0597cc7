/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns-fastpath - EAL and setup only: arguments, shared objects, ports, exception tap,
 * worker launch, and the orderly teardown that releases the hugepage files.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_pdump.h>

#include "fp.h"

#define FP_MAIN_SLEEP_US 100 /**< the main lcore must not spin: it shares the machine */
#define FP_EXIT_USAGE    2

struct fp_app {
	struct fp_config cfg;
	struct fp_shm shm;
	struct fp_exc exc;
	struct fp_port_caps caps;
	struct fp_worker *workers;
	unsigned int n_workers;
	uint16_t port_id;
	bool port_up;
	int exc_port;   /**< -1: none */
	bool pdump;
};

/* The signal handler stores through this pointer: an early flag until dp_state exists. */
static uint32_t fp_early_quit;
static uint32_t *fp_quit_flag = &fp_early_quit;

static void fp_on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(__atomic_load_n(&fp_quit_flag, __ATOMIC_ACQUIRE), 1, __ATOMIC_RELEASE);
}

static void fp_app_usage_hook(const char *prog)
{
	printf("\n");
	fp_usage(stdout, prog);
}

/** Split argv at "--": EAL part in argv[0..*eal_argc), application part returned. */
static char **fp_split_args(int argc, char **argv, int *eal_argc, int *app_argc)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			*eal_argc = i;
			*app_argc = argc - i;
			argv[i] = argv[0]; /* getopt wants a program name first */
			return argv + i;
		}
	}
	*eal_argc = argc;
	*app_argc = 1;
	return argv;
}

static bool fp_eal_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

static int fp_app_port(struct fp_app *a)
{
	int p = a->cfg.port_id >= 0 ? a->cfg.port_id : fp_port_default(UINT16_MAX);

	if (p < 0) {
		RTE_LOG(ERR, DPDNS, "no ethdev port: give the EAL a device "
			"(e.g. --vdev net_af_xdp0,iface=eth1) or a PCI NIC\n");
		return -ENODEV;
	}
	if (!rte_eth_dev_is_valid_port((uint16_t)p)) {
		RTE_LOG(ERR, DPDNS, "--port %d: no such ethdev port (%u available)\n", p,
			rte_eth_dev_count_avail());
		return -ENODEV;
	}
	a->port_id = (uint16_t)p;
	return 0;
}

static void fp_app_fill_state(struct fp_app *a)
{
	struct dp_state *st = a->shm.state;
	struct rte_ether_addr mac;
	unsigned int lcore, i = 0;

	st->port_id = a->port_id;
	st->n_rxq = (uint16_t)a->n_workers;
	rte_eth_dev_get_name_by_port(a->port_id, st->port_name);
	rte_eth_macaddr_get(a->port_id, &mac);
	memcpy(st->mac, &mac, sizeof(st->mac));
	if (rte_lcore_count() == 1) {
		st->worker_lcore[0] = (uint16_t)rte_get_main_lcore();
		return;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		st->worker_lcore[i++] = (uint16_t)lcore;
	}
}

static int fp_app_exception(struct fp_app *a)
{
	struct rte_ether_addr mac;

	a->exc_port = -1;
	if (a->cfg.no_exception)
		return 0;
	memcpy(&mac, a->shm.state->mac, sizeof(mac));
	a->exc_port = fp_port_exc_create(a->cfg.exc_iface, &mac, a->shm.pool);
	if (a->exc_port < 0)
		return a->exc_port;
	a->shm.state->exc_port_id = (uint16_t)a->exc_port;
	a->exc.port_id = (uint16_t)a->exc_port;
	a->exc.to_kernel = a->shm.exc_tx;
	a->exc.to_wire = a->shm.exc_rx;
	return 0;
}

static int fp_app_workers(struct fp_app *a, int socket)
{
	a->workers = rte_zmalloc_socket("fp_workers", sizeof(*a->workers) * a->n_workers,
					RTE_CACHE_LINE_SIZE, socket);
	if (a->workers == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < a->n_workers; i++) {
		struct fp_worker *w = &a->workers[i];

		fp_worker_init(w, &a->shm, i, a->port_id, (uint16_t)i);
		w->rx_csum = a->caps.rx_csum;
		w->tx_csum = a->caps.tx_csum;
		w->mtu = a->caps.mtu;
	}
	if (rte_lcore_count() == 1) {
		a->workers[0].main_duties = true;
		a->workers[0].exc = a->exc_port >= 0 ? &a->exc : NULL;
	}
	return 0;
}

static void fp_app_log(const struct fp_app *a)
{
	const struct dp_state *st = a->shm.state;
	char buf[INET6_ADDRSTRLEN];

	RTE_LOG(INFO, DPDNS, "port %u (%s) %02x:%02x:%02x:%02x:%02x:%02x, %u worker(s), "
		"rx csum %s, tx csum %s, mtu %u, exception %s\n", a->port_id, st->port_name,
		st->mac[0], st->mac[1], st->mac[2], st->mac[3], st->mac[4], st->mac[5],
		a->n_workers, a->caps.rx_csum ? "offload" : "software",
		a->caps.tx_csum ? "offload" : "software", a->caps.mtu,
		a->exc_port >= 0 ? a->cfg.exc_iface : "none");
	for (unsigned int i = 0; i < st->n_addr4; i++)
		RTE_LOG(INFO, DPDNS, "answering on %s\n",
			inet_ntop(AF_INET, st->addr4[i], buf, sizeof(buf)));
	for (unsigned int i = 0; i < st->n_addr6; i++)
		RTE_LOG(INFO, DPDNS, "answering on %s\n",
			inet_ntop(AF_INET6, st->addr6[i], buf, sizeof(buf)));
}

static int fp_app_setup(struct fp_app *a)
{
	unsigned int lcores = rte_lcore_count();
	int socket, ret;

	a->exc_port = -1;
	a->n_workers = lcores == 1 ? 1 : lcores - 1;
	if (a->n_workers > DP_MAX_WORKERS) {
		RTE_LOG(ERR, DPDNS, "%u worker lcores, at most %d supported\n", a->n_workers,
			DP_MAX_WORKERS);
		return -EINVAL;
	}
	ret = fp_app_port(a);
	if (ret < 0)
		return ret;
	socket = rte_eth_dev_socket_id(a->port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	ret = fp_shm_create(&a->shm, &a->cfg, a->n_workers, socket);
	if (ret < 0) {
		RTE_LOG(ERR, DPDNS, "shared objects: %s (another dpdns-fastpath with the same "
			"--file-prefix?)\n", rte_strerror(-ret));
		return ret;
	}
	if (__atomic_load_n(&fp_early_quit, __ATOMIC_ACQUIRE))
		a->shm.state->quit = 1;
	__atomic_store_n(&fp_quit_flag, &a->shm.state->quit, __ATOMIC_RELEASE);
	ret = fp_port_setup(a->port_id, (uint16_t)a->n_workers, a->shm.pool, &a->caps);
	if (ret < 0)
		return ret;
	a->port_up = true;
	fp_app_fill_state(a);
	ret = fp_app_exception(a);
	if (ret == 0)
		ret = fp_app_workers(a, socket);
	if (ret < 0)
		return ret;
	if (fp_telemetry_register(&a->shm, a->exc_port >= 0 ? &a->exc : NULL) < 0)
		RTE_LOG(WARNING, DPDNS, "telemetry command /dpdns/stats not registered\n");
	a->pdump = rte_pdump_init() == 0;
	fp_app_log(a);
	fp_shm_publish(&a->shm);
	return 0;
}

static void fp_app_run(struct fp_app *a)
{
	struct dp_state *st = a->shm.state;
	unsigned int lcore, i = 0;

	if (rte_lcore_count() == 1) {
		fp_worker_main(&a->workers[0]);
		return;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		rte_eal_remote_launch(fp_worker_main, &a->workers[i++], lcore);
	}
	while (!__atomic_load_n(&st->quit, __ATOMIC_RELAXED)) {
		fp_main_duties(st, a->exc_port >= 0 ? &a->exc : NULL);
		rte_delay_us_sleep(FP_MAIN_SLEEP_US);
	}
	rte_eal_mp_wait_lcore();
}

static void fp_app_teardown(struct fp_app *a)
{
	RTE_LOG(INFO, DPDNS, "shutting down\n");
	fp_telemetry_detach();
	if (a->pdump)
		rte_pdump_uninit();
	if (a->exc_port >= 0)
		fp_port_close((uint16_t)a->exc_port);
	if (a->port_up)
		fp_port_close(a->port_id);
	rte_free(a->workers);
	__atomic_store_n(&fp_quit_flag, &fp_early_quit, __ATOMIC_RELEASE);
	if (a->shm.state != NULL)
		fp_shm_destroy(&a->shm);
}

int main(int argc, char **argv)
{
	static struct fp_app app;
	int eal_argc, app_argc, ret;
	char **app_argv = fp_split_args(argc, argv, &eal_argc, &app_argc);

	rte_set_application_usage_hook(fp_app_usage_hook);
	if (fp_eal_wants_help(eal_argc, argv))
		return rte_eal_init(eal_argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	ret = fp_args_parse(&app.cfg, app_argc, app_argv, stderr);
	if (ret != 0)
		return ret > 0 ? EXIT_SUCCESS : FP_EXIT_USAGE;
	signal(SIGINT, fp_on_signal);
	signal(SIGTERM, fp_on_signal);
	if (rte_eal_init(eal_argc, argv) < 0) {
		fprintf(stderr, "dpdns-fastpath: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return EXIT_FAILURE;
	}
	ret = fp_app_setup(&app);
	if (ret == 0)
		fp_app_run(&app);
	fp_app_teardown(&app);
	rte_eal_cleanup();
	return ret == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
