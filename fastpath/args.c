/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns fast path - application command line (the part after "--").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fp.h"

#define FP_PROG "dpdns-fastpath"

enum {
	OPT_ADDR = 256,
	OPT_PORT,
	OPT_EXC,
	OPT_NO_EXC,
	OPT_TABLE,
	OPT_MBUFS,
	OPT_HELP,
};

static const struct option fp_opts[] = {
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "exception-iface", required_argument, NULL, OPT_EXC },
	{ "no-exception", no_argument, NULL, OPT_NO_EXC },
	{ "table-size", required_argument, NULL, OPT_TABLE },
	{ "mbufs", required_argument, NULL, OPT_MBUFS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

void fp_usage(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [EAL options] -- --addr IP [--addr IP ...] [options]\n"
		"\n"
		"  --addr IP               IPv4 or IPv6 address answered on (repeatable, up to %d each)\n"
		"  --port ID               DNS ethdev port (default: first port that is not the\n"
		"                          exception tap)\n"
		"  --exception-iface NAME  kernel interface of the exception tap (default %s)\n"
		"  --no-exception          no exception tap: frames the fast path does not handle\n"
		"                          are dropped and counted\n"
		"  --table-size N          answer table capacity (default %u)\n"
		"  --mbufs N               mbuf pool size (default %u)\n"
		"  --help                  this text\n"
		"\n"
		"Example: %s -l 0-1 --file-prefix dpdns --vdev net_af_xdp0,iface=eth1 -- \\\n"
		"             --addr 198.18.0.53 --addr 2001:db8::53\n\n"
		"Statistics: dpdk-telemetry.py -f PREFIX, command /dpdns/stats\n",
		prog, DP_MAX_ADDRS, FP_DEFAULT_EXC, FP_DEFAULT_TABLE, FP_DEFAULT_MBUFS, prog);
}

static int fp_args_addr(struct fp_config *cfg, const char *s, FILE *err)
{
	uint8_t buf[16];

	if (inet_pton(AF_INET, s, buf) == 1) {
		if (cfg->n_addr4 == DP_MAX_ADDRS) {
			fprintf(err, FP_PROG ": --addr %s: more than %d IPv4 addresses\n", s, DP_MAX_ADDRS);
			return -EINVAL;
		}
		memcpy(&cfg->addr4[cfg->n_addr4++], buf, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		if (cfg->n_addr6 == DP_MAX_ADDRS) {
			fprintf(err, FP_PROG ": --addr %s: more than %d IPv6 addresses\n", s, DP_MAX_ADDRS);
			return -EINVAL;
		}
		memcpy(cfg->addr6[cfg->n_addr6++], buf, 16);
		return 0;
	}
	fprintf(err, FP_PROG ": --addr '%s': not an IPv4 or IPv6 address\n", s);
	return -EINVAL;
}

static int fp_args_uint(const char *opt, const char *s, unsigned long min, unsigned long max,
			unsigned long *out, FILE *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(err, FP_PROG ": %s '%s': expected a number from %lu to %lu\n", opt, s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int fp_args_iface(struct fp_config *cfg, const char *s, FILE *err)
{
	size_t len = strlen(s);

	if (len == 0 || len >= IF_NAMESIZE || strpbrk(s, " /,=:") != NULL) {
		fprintf(err, FP_PROG ": --exception-iface '%s': not a valid interface name "
			"(1-%d characters, no ' /,=:')\n", s, IF_NAMESIZE - 1);
		return -EINVAL;
	}
	memcpy(cfg->exc_iface, s, len + 1);
	return 0;
}

static int fp_args_one(struct fp_config *cfg, int opt, const char *arg, FILE *err)
{
	unsigned long v;
	int ret;

	switch (opt) {
	case OPT_ADDR:
		return fp_args_addr(cfg, arg, err);
	case OPT_PORT:
		ret = fp_args_uint("--port", arg, 0, RTE_MAX_ETHPORTS - 1, &v, err);
		cfg->port_id = (int)v;
		return ret;
	case OPT_EXC:
		return fp_args_iface(cfg, arg, err);
	case OPT_NO_EXC:
		cfg->no_exception = true;
		return 0;
	case OPT_TABLE:
		ret = fp_args_uint("--table-size", arg, 1024, 1ul << 26, &v, err);
		cfg->table_size = (uint32_t)v;
		return ret;
	case OPT_MBUFS:
		ret = fp_args_uint("--mbufs", arg, 4095, 1ul << 24, &v, err);
		cfg->mbufs = (uint32_t)v;
		return ret;
	default:
		return -EINVAL;
	}
}

int fp_args_parse(struct fp_config *cfg, int argc, char **argv, FILE *err)
{
	const char *prog = argc > 0 ? argv[0] : FP_PROG;
	int opt, ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->port_id = -1;
	cfg->table_size = FP_DEFAULT_TABLE;
	cfg->mbufs = FP_DEFAULT_MBUFS;
	strcpy(cfg->exc_iface, FP_DEFAULT_EXC);

	optind = 0; /* 0: glibc re-initialises getopt (tests parse several times) */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", fp_opts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			fp_usage(stdout, prog);
			return 1;
		}
		if (opt == '?' || opt == ':') {
			const char *bad = argv[optind - 1];

			fprintf(err, FP_PROG ": %s '%s' (see --help)\n",
				opt == ':' ? "missing value for" : "unknown option", bad);
			return -EINVAL;
		}
		ret = fp_args_one(cfg, opt, optarg, err);
		if (ret < 0)
			return ret;
	}
	if (optind < argc) {
		fprintf(err, FP_PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
		return -EINVAL;
	}
	if (cfg->n_addr4 + cfg->n_addr6 == 0) {
		fprintf(err, FP_PROG ": --addr is required (at least one address to answer on)\n");
		return -EINVAL;
	}
	return 0;
}
