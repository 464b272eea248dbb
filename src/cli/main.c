/*
 * iamgate - the command line for admins and auditors, sharing the helper's
 * core: check, enroll, status, unlock, audit.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "iamgate/audit.h"
#include "iamgate/audit_cli.h"
#include "iamgate/qr.h"
#include "iamgate/cidr.h"
#include "iamgate/confcheck.h"
#include "iamgate/config.h"
#include "iamgate/imds_guard.h"
#include "iamgate/policy.h"
#include "iamgate/reason.h"
#include "iamgate/roles.h"
#include "iamgate/store.h"
#include "iamgate/totp.h"
#include "iamgate/util.h"

#ifndef IG_DEFAULT_CONFIG
#define IG_DEFAULT_CONFIG "/etc/iamgate/iamgate.json"
#endif

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: iamgate COMMAND [options]\n"
	        "\n"
	        "  check  [--config PATH] [--policies DIR] [--json] [--probe|--no-probe]\n"
	        "         validate the configuration (and the roles' IAM policies), and\n"
	        "         try the instance metadata lockdown (on EC2, or with --probe)\n"
	        "  enroll [--config PATH] [--import-base32 -|SECRET] [--no-verify] [--force] USER\n"
	        "         create a TOTP secret for USER, print the otpauth URI and a QR code\n"
	        "  status [--config PATH] [--from ADDR] USER\n"
	        "         enrollment, failures, lockout, last login, groups and roles\n"
	        "  unlock [--config PATH] USER\n"
	        "         clear USER's failures and lockout (audited)\n"
	        "  audit  verify|show ...   (see `iamgate audit --help`)\n"
	        "\n"
	        "The default configuration is " IG_DEFAULT_CONFIG ".\n");
}

static struct ig_config *load(const char *arg)
{
	struct ig_config *cfg = NULL;
	char err[8192], path[PATH_MAX];

	if (ig_abs_path(arg, path, sizeof(path)) != 0) {
		fprintf(stderr, "iamgate: cannot make %s an absolute path: %s\n", arg,
		        strerror(errno));
		return NULL;
	}
	if (ig_config_load(path, &cfg, err, sizeof(err)) != 0) {
		fputs(err, stderr);
		fprintf(stderr,
		        "iamgate: configuration %s refused; every login is denied "
		        "until it is fixed\n",
		        path);
		return NULL;
	}
	return cfg;
}

static int open_store(const struct ig_config *cfg, struct ig_store **store)
{
	char why[512];

	if (ig_store_open(cfg, store, why, sizeof(why)) != 0) {
		fprintf(stderr, "iamgate: the TOTP state store cannot be used: %s\n", why);
		return -1;
	}
	return 0;
}

static int audit_cli(const struct ig_config *cfg, const char *event, const char *user,
                     enum ig_reason reason)
{
	struct ig_audit_opts ao = {.path = cfg->audit.path,
	                           .use_syslog = cfg->audit.syslog,
	                           .seal_key = cfg->audit.seal_key};
	struct ig_audit_event ev = {.event = event,
	                            .user = user,
	                            .service = "iamgate-cli",
	                            .decision = "info",
	                            .reason = ig_reason_name(reason)};
	const char *by = getenv("SUDO_USER");
	json_t *x = json_pack("{s:s}", "by", by ? by : "root");
	int r;

	ev.extra = x;
	r = ig_audit_append(&ao, &ev);
	json_decref(x);
	if (r != 0)
		fprintf(stderr, "iamgate: cannot write the audit log %s: %s\n", cfg->audit.path,
		        ig_strerror(r));
	return r;
}

struct report_ctx {
	int json;
	json_t *arr;
};

static void report_finding(void *ctx, const char *file, int line, enum ig_policy_sev sev,
                           const char *message)
{
	struct report_ctx *rc = ctx;
	const char *s = sev == IG_POLICY_ERROR ? "error" : "warning";

	if (rc->json)
		(void)json_array_append_new(rc->arr,
		                            json_pack("{s:s, s:i, s:s, s:s}", "file", file, "line",
		                                      line, "severity", s, "message", message));
	else
		printf("%s:%d: %s: %s\n", file, line, s, message);
}

/*
 * 1 when this host's firmware says it is an EC2 instance (Nitro: DMI vendor
 * "Amazon EC2"; Xen: a hypervisor uuid starting "ec2").  Elsewhere the
 * metadata addresses are no metadata service but whatever the routes reach.
 */
static int on_ec2(void)
{
	static const char *const files[] = {"/sys/class/dmi/id/sys_vendor",
	                                    "/sys/class/dmi/id/bios_vendor",
	                                    "/sys/hypervisor/uuid"};
	char buf[64];
	int yes = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && !yes; i++) {
		FILE *f = fopen(files[i], "re");

		if (f == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL)
			yes = strstr(buf, "Amazon EC2") != NULL || strncasecmp(buf, "ec2", 3) == 0;
		fclose(f);
	}
	return yes;
}

/* The lockdown was not tried: say why (probe: -1 auto, 0 --no-probe). */
static int imds_not_tried(const char *path, int json, int probe, json_t **out)
{
	const char *why = probe == 0 ? "not tried (--no-probe)"
	                             : "not tried: this host's firmware does not say it is an "
	                               "EC2 instance, so the metadata addresses lead elsewhere; "
	                               "iamgate check --probe tries them all the same";

	*out = json_pack("{s:n, s:s}", "holds", "detail", why);
	if (*out == NULL)
		*out = json_null();
	if (!json && probe != 0)
		fprintf(stderr, "%s: warning: metadata lockdown %s\n", path, why);
	return 0;
}

/*
 * The metadata lockdown (imds_guard.h), when the base credentials come from
 * IMDS: tried now from the probe uid, and, run as root, recorded for the
 * issuer (so a fixed rule counts at once).  probe: 1 --probe, 0 --no-probe,
 * -1 unless the endpoint is a metadata address on a host that is not an EC2
 * instance.  *out: the verdict for --json (JSON null when there is nothing
 * to try).  Returns 1 when it does not hold or cannot be checked.
 */
static int check_imds(const struct ig_config *cfg, const char *path, int json, int probe,
                      json_t **out)
{
	struct ig_imds_target t[IG_IMDS_GUARD_MAX_TARGETS];
	size_t n = 0;
	struct ig_imds_guard_cfg g = {.endpoint = cfg->aws.imds_endpoint,
	                              .uid = cfg->aws.imds_probe_uid,
	                              .state_dirfd = -1,
	                              .now = time(NULL),
	                              .fresh = 1};
	struct ig_imds_guard_result res;
	char why[512];
	int fd = -1, r;

	*out = json_null();
	if (cfg->aws.region == NULL || cfg->aws.source != IG_CREDS_IMDS)
		return 0;
	/* Two targets: the endpoint is a metadata address. */
	if (probe == 0 ||
	    (probe < 0 &&
	     ig_imds_guard_targets(cfg->aws.imds_endpoint, t, &n, why, sizeof(why)) == 0 &&
	     n == 2 && !on_ec2()))
		return imds_not_tried(path, json, probe, out);
	if (geteuid() == 0 && ig_own_dir(cfg->aws.cache_dir, 0700, &fd, why, sizeof(why)) == 0)
		g.state_dirfd = fd;
	r = ig_imds_guard_check(&g, &res);
	if (fd >= 0)
		close(fd);
	json_decref(*out);
	*out = json_pack("{s:b, s:s, s:s}", "holds", r == 0, "reason", ig_reason_name(res.reason),
	                 "detail", res.detail);
	if (*out == NULL)
		*out = json_null();
	if (!json && r == 0)
		printf("%s: %s\n", path, res.detail);
	else if (!json)
		fprintf(stderr, "%s: error: %s\n", path, res.detail);
	return r != 0;
}

static void print_warning(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "iamgate: warning: %s\n", msg);
}

/* What the configuration allows that this host makes risky (confcheck.h). */
static void host_warnings(const struct ig_config *cfg)
{
	struct ig_addr *own = NULL;
	size_t n = 0;

	if (ig_confcheck_own_addrs(&own, &n) != 0)
		fprintf(stderr, "iamgate: warning: cannot list this host's addresses\n");
	ig_confcheck_warnings(cfg, own, n, print_warning, NULL);
	free(own);
}

static int cmd_check(int argc, char **argv)
{
	static const struct option lo[] = {{"config", 1, 0, 'c'}, {"policies", 1, 0, 'p'},
	                                   {"json", 0, 0, 'j'},   {"no-probe", 0, 0, 'n'},
	                                   {"probe", 0, 0, 'P'},  {"help", 0, 0, 'h'},
	                                   {0, 0, 0, 0}};
	const char *path = IG_DEFAULT_CONFIG, *pdir = NULL;
	struct report_ctx rc = {0};
	struct ig_config *cfg;
	json_t *imds = NULL;
	int c, errors = 0, probe = -1, lock;

	while ((c = getopt_long(argc, argv, "c:p:jnPh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'p': pdir = optarg; break;
		case 'j': rc.json = 1; break;
		case 'n': probe = 0; break;
		case 'P': probe = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((cfg = load(path)) == NULL)
		return 1;
	host_warnings(cfg);
	if (pdir && cfg->policy.bastion_role_arn == NULL) {
		fprintf(stderr,
		        "iamgate: --policies needs \"policy\": {\"bastion_role_arn\": "
		        "\"arn:aws:iam::ACCOUNT:role/NAME\"} in %s: trust policies are checked "
		        "against the bastion's own role\n",
		        path);
		ig_config_free(cfg);
		return 1;
	}
	lock = check_imds(cfg, path, rc.json, probe, &imds);
	if (pdir) {
		struct ig_policy_role *roles = calloc(cfg->n_roles + 1, sizeof(*roles));
		struct ig_policy_opts po = {
		        .dir = pdir,
		        .sid_pattern = cfg->policy.sid_pattern,
		        .pii_buckets = (const char *const *)cfg->policy.pii_buckets,
		        .n_pii_buckets = cfg->policy.n_pii_buckets,
		        .bastion_role_arn = cfg->policy.bastion_role_arn,
		};
		if (roles == NULL) {
			json_decref(imds);
			ig_config_free(cfg);
			return 1;
		}
		for (size_t i = 0; i < cfg->n_roles; i++) {
			roles[i].name = cfg->roles[i].name;
			roles[i].arn = cfg->roles[i].arn;
			roles[i].pii = cfg->roles[i].pii;
		}
		rc.arr = json_array();
		errors = ig_policy_check(&po, roles, cfg->n_roles, report_finding, &rc);
		free(roles);
		if (rc.json) {
			json_t *o = json_pack("{s:s, s:O, s:i, s:O}", "config", path, "findings",
			                      rc.arr, "errors", (errors < 0 ? 1 : errors) + lock,
			                      "imds_lockdown", imds);
			char *t = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
			if (t)
				puts(t);
			free(t);
			json_decref(o);
		}
		json_decref(rc.arr);
		if (errors < 0) {
			fprintf(stderr, "iamgate: cannot analyse policies in %s: %s\n", pdir,
			        ig_strerror(errors));
			json_decref(imds);
			ig_config_free(cfg);
			return 1;
		}
	}
	if (rc.json && !pdir) {
		json_t *o = json_pack("{s:s, s:[], s:i, s:i, s:i, s:i, s:O}", "config", path,
		                      "findings", "errors", lock, "allowlists",
		                      (int)cfg->n_allowlists, "groups", (int)cfg->n_groups, "roles",
		                      (int)cfg->n_roles, "imds_lockdown", imds);
		char *t = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
		if (t)
			puts(t);
		free(t);
		json_decref(o);
	}
	if (!rc.json)
		printf("%s: configuration OK: %zu allowlists, %zu groups, %zu roles%s\n", path,
		       cfg->n_allowlists, cfg->n_groups, cfg->n_roles,
		       pdir ? (errors ? "; policy errors found" : "; policies OK") : "");
	json_decref(imds);
	ig_config_free(cfg);
	return errors || lock ? 1 : 0;
}

/* Read one line without echo from the terminal (or stdin when none). */
static int read_secret_line(const char *prompt, char *buf, size_t cap)
{
	struct termios old, noecho;
	FILE *in = fopen("/dev/tty", "r+");
	int tty = in != NULL, ok;

	if (!in)
		in = stdin;
	if (tty) {
		fputs(prompt, stderr);
		if (tcgetattr(fileno(in), &old) == 0) {
			noecho = old;
			noecho.c_lflag &= ~(tcflag_t)ECHO;
			(void)tcsetattr(fileno(in), TCSAFLUSH, &noecho);
		}
	}
	ok = fgets(buf, (int)cap, in) != NULL;
	if (tty) {
		(void)tcsetattr(fileno(in), TCSAFLUSH, &old);
		fputs("\n", stderr);
		fclose(in);
	}
	if (!ok)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* Percent-encode for an otpauth URI label/parameter. */
static int uri_part(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~' ||
		    ch == '@') {
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)ch;
		} else {
			if (o + 3 >= cap)
				return -1;
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

/* The one USER operand after the options, if it is a usable name. */
static const char *the_user(int argc, char **argv)
{
	if (optind + 1 != argc) {
		usage(stderr);
		return NULL;
	}
	if (!ig_name_is_safe(argv[optind])) {
		fprintf(stderr,
		        "iamgate: \"%s\" is not a usable user name (1-64 of A-Za-z0-9_.@-, not "
		        "starting with . or -)\n",
		        argv[optind]);
		return NULL;
	}
	return argv[optind];
}

static int cmd_enroll(int argc, char **argv)
{
	static const struct option lo[] = {{"config", 1, 0, 'c'},    {"import-base32", 1, 0, 'i'},
	                                   {"no-verify", 0, 0, 'n'}, {"force", 0, 0, 'f'},
	                                   {"help", 0, 0, 'h'},      {0, 0, 0, 0}};
	const char *path = IG_DEFAULT_CONFIG, *import = NULL, *user;
	struct ig_totp_params tp;
	uint8_t secret[IG_TOTP_SECRET_MAX];
	size_t slen = 20;
	char line[256], *b32 = NULL, host[256], label[512], issuer[256], uri[1024], code[9];
	struct ig_config *cfg = NULL;
	struct ig_store *store = NULL;
	int c, verify = 1, force = 0, rc = 1, r;

	while ((c = getopt_long(argc, argv, "c:i:nfh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'i': import = optarg; break;
		case 'n': verify = 0; break;
		case 'f': force = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((user = the_user(argc, argv)) == NULL)
		return 2;
	if ((cfg = load(path)) == NULL)
		return 1;
	if (import) {
		if (strcmp(import, "-") == 0) {
			if (fgets(line, sizeof(line), stdin) == NULL) {
				fprintf(stderr, "iamgate: no secret on standard input\n");
				goto out;
			}
			line[strcspn(line, "\r\n")] = '\0';
			import = line;
		} else {
			fprintf(stderr, "iamgate: warning: a secret on the command line is "
			                "visible to other users of this host in the process list; "
			                "prefer `--import-base32 -` with the secret on stdin\n");
		}
		r = ig_totp_from_base32(import, secret, sizeof(secret), &slen);
		if (r != 0 || slen < 10) {
			fprintf(stderr, "iamgate: the imported secret is not base32 of at least "
			                "10 bytes (RFC 4648 alphabet A-Z 2-7)\n");
			goto out;
		}
	} else if (ig_totp_new_secret(secret, slen) != 0) {
		fprintf(stderr, "iamgate: cannot read the kernel's random generator\n");
		goto out;
	}
	if (open_store(cfg, &store) != 0)
		goto out;
	if (!force) {
		struct ig_user_record st;
		if (ig_store_status(store, user, &st) == 0 && st.enrolled) {
			fprintf(stderr,
			        "iamgate: %s already has a TOTP secret; use --force to "
			        "replace it (the old one stops working)\n",
			        user);
			goto out;
		}
	}
	if (ig_totp_base32(secret, slen, &b32) != 0)
		goto out;
	if (gethostname(host, sizeof(host)) != 0)
		memcpy(host, "bastion", sizeof("bastion"));
	host[sizeof(host) - 1] = '\0';
	{
		char raw[600];
		if (ig_bfmt(raw, sizeof(raw), "%s:%s@%s", cfg->totp.issuer, user, host) != 0 ||
		    uri_part(raw, label, sizeof(label)) != 0 ||
		    uri_part(cfg->totp.issuer, issuer, sizeof(issuer)) != 0 ||
		    ig_bfmt(uri, sizeof(uri),
		            "otpauth://totp/"
		            "%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%u&period=%u",
		            label, b32, issuer, cfg->totp.digits, cfg->totp.step_seconds) != 0) {
			fprintf(stderr, "iamgate: names too long for an otpauth URI\n");
			goto out;
		}
	}
	printf("TOTP secret for %s (scan the code or enter the URI in an authenticator app):\n\n",
	       user);
	printf("%s\n\n", uri);
	ig_qr_print(uri);
	fflush(stdout);
	tp.digits = cfg->totp.digits;
	tp.step_seconds = cfg->totp.step_seconds;
	tp.window = cfg->totp.window;
	if (verify) {
		time_t now = time(NULL);
		int okc = 0;

		if (read_secret_line("Enter the current code from the app to confirm: ", line,
		                     sizeof(line)) != 0) {
			fprintf(stderr, "iamgate: no code given; nothing saved (use --no-verify "
			                "in scripts)\n");
			goto out;
		}
		for (long off = -(long)tp.window; off <= (long)tp.window; off++) {
			time_t t = now + off * (long)tp.step_seconds;
			if (ig_totp_code_at(secret, slen, t, &tp, code) == 0 &&
			    strlen(line) == tp.digits && ig_ct_equal(code, line, tp.digits))
				okc = 1;
			explicit_bzero(code, sizeof(code));
		}
		explicit_bzero(line, sizeof(line));
		if (!okc) {
			fprintf(stderr, "iamgate: that code does not match; nothing saved. Check "
			                "the phone's clock and try again\n");
			goto out;
		}
	}
	/* Audited first: a change the log cannot record is not made. */
	if (audit_cli(cfg, "enroll", user, force ? IG_R_SECRET_REPLACED : IG_R_SECRET_CREATED) !=
	    0) {
		fprintf(stderr, "iamgate: nothing saved\n");
		goto out;
	}
	r = ig_store_enroll(store, user, secret, slen, time(NULL), force);
	if (r != 0) {
		fprintf(stderr, "iamgate: cannot save the secret for %s: %s\n", user,
		        ig_strerror(r));
		(void)audit_cli(cfg, "enroll", user, IG_R_ENROLL_FAILED);
		goto out;
	}
	printf("\nEnrolled %s.\n", user);
	rc = 0;
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(line, sizeof(line));
	explicit_bzero(uri, sizeof(uri));
	ig_free_secret_str(b32);
	ig_store_close(store);
	ig_config_free(cfg);
	return rc;
}

static int cmd_unlock(int argc, char **argv)
{
	static const struct option lo[] = {
	        {"config", 1, 0, 'c'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	const char *path = IG_DEFAULT_CONFIG, *user;
	struct ig_user_record st;
	struct ig_store *store = NULL;
	struct ig_config *cfg;
	int c, r, rc = 1;

	while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((user = the_user(argc, argv)) == NULL)
		return 2;
	if ((cfg = load(path)) == NULL)
		return 1;
	if (open_store(cfg, &store) != 0)
		goto out;
	r = ig_store_status(store, user, &st);
	if (r == 0 && !st.enrolled) {
		fprintf(stderr, "iamgate: %s is not enrolled\n", user);
		goto out;
	}
	/* Audited first: a change the log cannot record is not made. */
	if (r != 0 || audit_cli(cfg, "unlock", user, IG_R_UNLOCKED_BY_ADMIN) != 0) {
		fprintf(stderr, "iamgate: %s not unlocked\n", user);
		goto out;
	}
	r = ig_store_unlock(store, user);
	if (r != 0) {
		fprintf(stderr, "iamgate: cannot unlock %s: %s\n", user, ig_strerror(r));
		(void)audit_cli(cfg, "unlock", user, IG_R_UNLOCK_FAILED);
		goto out;
	}
	printf("%s unlocked: failures and lockouts cleared.\n", user);
	rc = 0;
out:
	ig_store_close(store);
	ig_config_free(cfg);
	return rc;
}

static void fmt_time(int64_t t, char *buf, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		if (ig_bfmt(buf, cap, "never") != 0)
			buf[0] = '\0';
}

static int cmd_status(int argc, char **argv)
{
	static const struct option lo[] = {
	        {"config", 1, 0, 'c'}, {"from", 1, 0, 'f'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	const char *path = IG_DEFAULT_CONFIG, *from = NULL, *user;
	struct ig_user_groups g = {0};
	struct ig_user_record st;
	struct ig_store *store = NULL;
	struct ig_config *cfg;
	char t1[64], t2[64];
	int c, rc = 1, r;

	while ((c = getopt_long(argc, argv, "c:f:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'f': from = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((user = the_user(argc, argv)) == NULL)
		return 2;
	if ((cfg = load(path)) == NULL)
		return 1;
	if (open_store(cfg, &store) != 0)
		goto out;
	if ((r = ig_store_status(store, user, &st)) != 0) {
		fprintf(stderr, "iamgate: cannot read %s's state: %s\n", user, ig_strerror(r));
		goto out;
	}
	fmt_time(st.locked_until > time(NULL) ? st.locked_until : 0, t1, sizeof(t1));
	fmt_time(st.last_login, t2, sizeof(t2));
	printf("user:        %s\n", user);
	printf("enrolled:    %s\n", st.enrolled ? "yes" : "no");
	printf("failures:    %u of %u\n", st.failures, cfg->totp.max_failures);
	printf("locked:      %s\n", st.locked_until > time(NULL) ? t1 : "no");
	printf("lockouts:    %u since the last login or unlock\n", st.lockouts);
	printf("last login:  %s%s%s\n", t2, st.last_rhost[0] ? " from " : "", st.last_rhost);
	r = ig_roles_user_groups(user, &g);
	if (r != 0) {
		printf("groups:      (no such user in the group database)\n");
	} else {
		printf("groups:     ");
		for (size_t i = 0; i < cfg->n_groups; i++)
			if (ig_roles_in_group(&g, cfg->groups[i].gid))
				printf(" %s", cfg->groups[i].name);
		printf("\n");
	}
	if (from && r == 0) {
		struct ig_role_decision *d = NULL;
		struct ig_addr a;
		size_t n = 0;

		if (ig_addr_parse(from, &a) != 0) {
			fprintf(stderr, "iamgate: --from %s is not a literal IP address\n", from);
			goto out;
		}
		printf("login from %s: %s\n", from,
		       ig_reason_name(ig_roles_login_allowed(cfg, &g, &a)));
		if (ig_roles_resolve(cfg, &g, &a, 1, &d, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				printf("  role %-24s %-4s %s%s\n", d[i].role->name,
				       d[i].role->pii ? "pii" : "",
				       d[i].issue ? "issued" : "left out: ",
				       d[i].issue ? "" : ig_reason_name(d[i].reason));
			free(d);
		}
	}
	rc = 0;
out:
	ig_roles_user_groups_free(&g);
	ig_store_close(store);
	ig_config_free(cfg);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	umask(077);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "enroll") == 0)
		return cmd_enroll(argc - 1, argv + 1);
	if (strcmp(argv[1], "unlock") == 0)
		return cmd_unlock(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (strcmp(argv[1], "audit") == 0) {
		/* The auditors' commands read the log path from the config themselves. */
		return ig_audit_cli(argc - 1, argv + 1, "/var/log/iamgate/audit.jsonl");
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "iamgate: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
