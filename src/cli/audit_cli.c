/*
 * audit_cli.c - `iamgate audit verify|show|seal-init|seal`.
 *
 * verify and show run without root: the log is opened read-only (O_NOFOLLOW:
 * a symlink is refused) and not required to be root-owned, so a member of
 * the log's group (iamgate-audit) can read it.  Everything taken from the
 * log is printed escaped: a user name is attacker-chosen and must not reach
 * the auditor's terminal as control characters.  seal-init and seal are
 * root's: they write the log and the sealing key.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iamgate/audit_cli.h"
#include "iamgate/audit_file.h"
#include "iamgate/audit_show.h"
#include "iamgate/audit_verify.h"
#include "iamgate/config.h"
#include "iamgate/qr.h"
#include "iamgate/util.h"

static const char usage_text[] =
        "usage: iamgate audit verify [--log PATH ... | --config PATH] [--rotated]\n"
        "                            [--verification-key FILE|-] [--against FILE]\n"
        "       iamgate audit show [--log PATH ... | --config PATH] [--rotated]\n"
        "                          [--user USER] [--role ROLE] [--decision allow|deny|info]\n"
        "                          [--reason REASON] [--event EVENT]\n"
        "                          [--since TIME] [--until TIME] [--json] [--utc]\n"
        "       iamgate audit seal-init [--config PATH]\n"
        "       iamgate audit seal [--config PATH]\n"
        "\n"
        "verify     check the hash chain: exit 0 and a count when intact, exit 1 naming\n"
        "           the first bad line and what is wrong (edited, missing, reordered,\n"
        "           inserted, torn, not JSON), exit 2 when the log cannot be read.\n"
        "           With the verification key, also check the seals: which lines are\n"
        "           sealed and intact, the first that is not, where sealing stops.\n"
        "           With --against, compare with a copy shipped off the host.\n"
        "show       list events: an aligned table (local time, or UTC with --utc), or\n"
        "           with --json one JSON object per line for tools.\n"
        "seal-init  create the sealing key and print the verification key, once.\n"
        "seal       close the sealing key's epoch if it has passed (run by a timer).\n"
        "\n"
        "--log PATH      the log (default: audit.path of the configuration); repeat it\n"
        "                to check rotated files together, oldest first\n"
        "--config PATH   read audit.path (and the sealing settings) from this file\n"
        "--rotated       also read PATH.N ... PATH.1 (logrotate's older files) before PATH\n"
        "--verification-key FILE\n"
        "                read the verification key from FILE, or from standard input\n"
        "                with -; never give it on the command line (ps shows argv)\n"
        "--against FILE  the shipped copy: the lines one per line, or the JSON of\n"
        "                `aws logs get-log-events`\n"
        "TIME            2026-11-29, 2026-11-29T10:00, 2026-11-29T10:00:00Z, +01:00 offsets,\n"
        "                or relative: -30m, -1h, -7d, -2w, now.  --until DATE includes\n"
        "                that whole day.  Without a zone, local time (UTC with --utc).\n"
        "\n"
        "Auditors need read access only: the log is 0640 root:iamgate-audit.\n";

enum cmd { C_VERIFY, C_SHOW, C_SEAL_INIT, C_SEAL };

enum {
	O_LOG = 256,
	O_CONFIG,
	O_ROTATED,
	O_JSON,
	O_UTC,
	O_USER,
	O_ROLE,
	O_EVENT,
	O_REASON,
	O_DECISION,
	O_SINCE,
	O_UNTIL,
	O_VKEY,
	O_AGAINST,
	O_HELP
};

/* Which command takes which option. */
#define M_VERIFY (1u << C_VERIFY)
#define M_SHOW (1u << C_SHOW)
#define M_SEAL ((1u << C_SEAL_INIT) | (1u << C_SEAL))

struct optdef {
	struct option o;
	unsigned cmds;
};

static const struct optdef optdefs[] = {
        {{"log", 1, 0, O_LOG}, M_VERIFY | M_SHOW},
        {{"config", 1, 0, O_CONFIG}, M_VERIFY | M_SHOW | M_SEAL},
        {{"rotated", 0, 0, O_ROTATED}, M_VERIFY | M_SHOW},
        {{"json", 0, 0, O_JSON}, M_SHOW},
        {{"utc", 0, 0, O_UTC}, M_SHOW},
        {{"user", 1, 0, O_USER}, M_SHOW},
        {{"role", 1, 0, O_ROLE}, M_SHOW},
        {{"event", 1, 0, O_EVENT}, M_SHOW},
        {{"reason", 1, 0, O_REASON}, M_SHOW},
        {{"decision", 1, 0, O_DECISION}, M_SHOW},
        {{"since", 1, 0, O_SINCE}, M_SHOW},
        {{"until", 1, 0, O_UNTIL}, M_SHOW},
        {{"verification-key", 1, 0, O_VKEY}, M_VERIFY},
        {{"against", 1, 0, O_AGAINST}, M_VERIFY},
        {{"help", 0, 0, O_HELP}, M_VERIFY | M_SHOW | M_SEAL},
};
#define N_OPTS (sizeof(optdefs) / sizeof(optdefs[0]))

void ig_audit_cli_say(FILE *f, const char *s)
{
	static const char hexd[] = "0123456789abcdef";

	for (s = s ? s : "-"; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			fputc(c, f);
		} else if (c == '\\') {
			fputs("\\\\", f);
		} else {
			fputs("\\x", f);
			fputc(hexd[c >> 4], f);
			fputc(hexd[c & 15], f);
		}
	}
}

/* "iamgate audit: BEFORE<arg, escaped>AFTER", then the usage.  Exit 2. */
static int usage_error(const char *before, const char *arg, const char *after)
{
	fputs("iamgate audit: ", stderr);
	fputs(before, stderr);
	ig_audit_cli_say(stderr, arg);
	fputs(after, stderr);
	fputs("\n\n", stderr);
	fputs(usage_text, stderr);
	return 2;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One option's value into o.  0, or an exit status. */
static int take_opt(int c, const char *val, struct ig_audit_cli_opts *o, const char **since,
                    const char **until)
{
	switch (c) {
	case O_LOG:
		if (o->nlogs >= IG_AUDIT_CLI_MAX_LOGS)
			return usage_error("too many --log options (at most 100), at \"", val,
			                   "\"");
		o->logs[o->nlogs++] = val;
		return 0;
	case O_CONFIG: o->config = val; return 0;
	case O_ROTATED: o->rotated = 1; return 0;
	case O_JSON: o->json = 1; return 0;
	case O_UTC: o->utc = 1; return 0;
	case O_USER: o->user = val; return 0;
	case O_ROLE: o->role = val; return 0;
	case O_EVENT: o->event = val; return 0;
	case O_REASON: o->reason = val; return 0;
	case O_DECISION:
		if (strcmp(val, "allow") != 0 && strcmp(val, "deny") != 0 &&
		    strcmp(val, "info") != 0)
			return usage_error("--decision must be allow, deny or info, not \"", val,
			                   "\"");
		o->decision = val;
		return 0;
	case O_SINCE: *since = val; return 0;
	case O_UNTIL: *until = val; return 0;
	case O_VKEY: o->vkey_file = val; return 0;
	case O_AGAINST: o->against = val; return 0;
	default: return usage_error("", "", "unknown option");
	}
}

/* --since/--until, once --utc is known. */
static int resolve_times(struct ig_audit_cli_opts *o, const char *since, const char *until)
{
	if (since != NULL) {
		o->have_since = 1;
		if (ig_audit_line_parse_time(since, o->utc, now_ms(), 0, &o->since) != 0)
			return usage_error("cannot read the time \"", since,
			                   "\"; use e.g. 2026-11-29, 2026-11-29T10:00:00Z or -1h");
	}
	if (until != NULL) {
		o->have_until = 1;
		if (ig_audit_line_parse_time(until, o->utc, now_ms(), 1, &o->until) != 0)
			return usage_error("cannot read the time \"", until,
			                   "\"; use e.g. 2026-11-29, 2026-11-29T10:00:00Z or -1h");
	}
	return 0;
}

/* Parse the options after the command (argv[0]).  0, or an exit status
 * (-1: --help was printed, exit 0). */
static int parse_opts(int argc, char **argv, enum cmd cmd, struct ig_audit_cli_opts *o)
{
	struct option lo[N_OPTS + 1];
	const char *since = NULL, *until = NULL;
	int c, r, idx;

	memset(o, 0, sizeof(*o));
	memset(lo, 0, sizeof(lo));
	for (size_t i = 0; i < N_OPTS; i++)
		lo[i] = optdefs[i].o;
	optind = 0; /* the CLI may run more than once in a process (tests) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", lo, &idx)) != -1) {
		if (c == '?' || c == ':')
			return usage_error("unknown option or missing value at \"",
			                   argv[optind - 1], "\"");
		if (!(optdefs[idx].cmds & (1u << cmd)))
			return usage_error("--", optdefs[idx].o.name,
			                   " does not go with this command");
		if (c == O_HELP) {
			fputs(usage_text, stdout);
			return -1;
		}
		if ((r = take_opt(c, optarg, o, &since, &until)) != 0)
			return r;
	}
	if (optind < argc)
		return usage_error("unexpected argument \"", argv[optind], "\"");
	if ((r = resolve_times(o, since, until)) != 0)
		return r;
	if (o->config && o->nlogs > 0)
		return usage_error("give either --log or --config, not both", "", "");
	if (o->rotated && o->nlogs > 1)
		return usage_error("--rotated goes with a single log, not ", "several --log", "");
	return 0;
}

static const char *hint_for(int r)
{
	switch (r) {
	case IG_ERR_NOTFOUND: return "check the path (the log appears with the first event)";
	case IG_ERR_UNSAFE: return "give the real path of a root-owned regular file";
	case IG_ERR_IO:
		return "run as root, or as a member of group iamgate-audit (the log is 0640 "
		       "root:iamgate-audit)";
	default: return "";
	}
}

/* logrotate's NAME.1 is the newest rotated file: list NAME.N .. NAME.1, NAME. */
static int add_rotated(struct ig_audit_cli_opts *o, char **owned, size_t *nowned)
{
	const char *base = o->logs[0];
	char p[PATH_MAX];
	struct stat st;
	int n;

	for (n = 1; n < IG_AUDIT_CLI_MAX_LOGS - 1; n++)
		if (ig_bfmt(p, sizeof(p), "%s.%d", base, n) != 0 || lstat(p, &st) != 0)
			break;
	n--;
	if (ig_bfmt(p, sizeof(p), "%s.%d.gz", base, n + 1) == 0 && lstat(p, &st) == 0) {
		fputs("iamgate audit: note: ", stderr);
		ig_audit_cli_say(stderr, p);
		fputs(" is compressed and not read; decompress it and pass the files with --log "
		      "to include it.\n",
		      stderr);
	}
	o->nlogs = 0;
	for (int k = n; k >= 1; k--) {
		if (ig_bfmt(p, sizeof(p), "%s.%d", base, k) != 0 ||
		    (owned[*nowned] = strdup(p)) == NULL)
			return 2;
		o->logs[o->nlogs++] = owned[(*nowned)++];
	}
	o->logs[o->nlogs++] = base;
	return 0;
}

/* The files to read, oldest first.  0 or an exit status. */
static int resolve_logs(struct ig_audit_cli_opts *o, const char *default_log, char *cfgpath,
                        size_t cap, char **owned, size_t *nowned)
{
	int r;

	*nowned = 0;
	if (o->config) {
		/* The config loader's own reader: a trusted file only. */
		if ((r = ig_config_audit_path(o->config, cfgpath, cap)) != 0) {
			fputs("iamgate audit: cannot read audit.path from ", stderr);
			ig_audit_cli_say(stderr, o->config);
			fprintf(stderr, ": %s; name the log with --log PATH instead.\n",
			        ig_strerror(r));
			return 2;
		}
		o->logs[o->nlogs++] = cfgpath;
	} else if (o->nlogs == 0) {
		if (default_log == NULL) {
			fputs("iamgate audit: no log given; use --log PATH or --config PATH.\n",
			      stderr);
			return 2;
		}
		o->logs[o->nlogs++] = default_log;
	}
	return o->rotated ? add_rotated(o, owned, nowned) : 0;
}

/* ---- verify ----------------------------------------------------------- */

/* The verification key from a file or standard input, never argv. */
static int read_vkey(const char *file, struct ig_audit_seal_vkey *vk)
{
	char buf[IG_AUDIT_SEAL_VKEY_MAX + 8];
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "re");
	int r = 2;

	if (f == NULL) {
		fputs("iamgate audit verify: cannot read the verification key from ", stderr);
		ig_audit_cli_say(stderr, file);
		fprintf(stderr, ": %s.\n", strerror(errno));
		return 2;
	}
	if (fgets(buf, sizeof(buf), f) != NULL) {
		buf[strcspn(buf, " \t\r\n")] = '\0';
		if (ig_audit_seal_vkey_parse(buf, vk) == 0)
			r = 0;
	}
	if (r != 0)
		fputs("iamgate audit verify: that is not a verification key (igseal1-... as "
		      "`iamgate audit seal-init` printed it).\n",
		      stderr);
	explicit_bzero(buf, sizeof(buf));
	if (f != stdin)
		fclose(f);
	return r;
}

static void say_time(int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char t[40];

	if (gmtime_r(&s, &tm) == NULL || strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		fputs("?", stdout);
	else
		fputs(t, stdout);
}

static void say_at(const struct ig_audit_cli_opts *o, size_t file, uint64_t line)
{
	if (o->nlogs > 1) {
		ig_audit_cli_say(stdout, o->logs[file < o->nlogs ? file : 0]);
		fputs(" ", stdout);
	}
	printf("line %llu", (unsigned long long)line);
}

/* The seals' verdict.  0 when every line from seal-init on is proven. */
static int report_seal(const struct ig_audit_cli_opts *o, const struct ig_audit_seal_result *s)
{
	if (!s->found) {
		puts("sealing: NOT proven: no line of this log starts sealing with this "
		     "verification key\n  (wrong key, sealing never set up, or the lines that "
		     "started it were removed)");
		return 1;
	}
	fputs("sealing: from ", stdout);
	say_at(o, s->first_file, s->first_line);
	fputs(" to ", stdout);
	say_at(o, s->proven_file, s->proven_line);
	printf(": sealed and intact (epochs %llu..%llu, %llu closed",
	       (unsigned long long)s->first_epoch, (unsigned long long)s->last_epoch,
	       (unsigned long long)s->epochs_closed);
	if (s->proven_until_ms > 0) {
		fputs(", proven until ", stdout);
		say_time(s->proven_until_ms);
	}
	puts(")");
	if (s->bad_line) {
		fputs("  NOT proven from ", stdout);
		say_at(o, s->bad_file, s->bad_line);
		printf(": %s\n", s->what);
	}
	if (s->stop_line && !s->bad_line) {
		fputs("  sealing stops at ", stdout);
		say_at(o, s->stop_file, s->stop_line);
		printf(": %s\n", s->stop_what);
	}
	return s->bad_line || s->stop_line ? 1 : 0;
}

static void report_intact(const struct ig_audit_cli_opts *o,
                          const struct ig_audit_verify_result *res)
{
	printf(": %llu lines, chain intact (seq %llu..%llu)\n", (unsigned long long)res->lines,
	       (unsigned long long)res->first_seq, (unsigned long long)res->last_seq);
	if (res->start_prev[0] && strspn(res->start_prev, "0") != 64)
		printf("  note: the first line continues an earlier log (after seq %llu, hash "
		       "%.16s...);\n  check that one too with --rotated, or --log OLDER --log "
		       "NEWER\n",
		       (unsigned long long)(res->first_seq ? res->first_seq - 1 : 0),
		       res->start_prev);
	if (res->head_checked)
		fputs("  its end matches the writers' head record\n", stdout);
	(void)o;
}

static void report_broken(const struct ig_audit_cli_opts *o,
                          const struct ig_audit_verify_result *res)
{
	fputs(": NOT intact\n  ", stdout);
	say_at(o, res->bad_file, res->bad_line);
	printf(": %s\n", res->what);
	if (res->broken_line == 0 && res->torn > 0)
		puts("  the chain is otherwise intact: a torn line comes from a writer that was "
		     "killed\n  or a full disk; the writers record it, they do not hide it");
	else
		puts("  compare with the copy shipped off the host (verify --against) or the "
		     "syslog copy (seq=... hash=...) to see what the original said");
	printf("  %llu lines read\n", (unsigned long long)res->lines);
}

static int cmd_verify(struct ig_audit_cli_opts *o)
{
	struct ig_audit_seal_vkey vk;
	struct ig_audit_verify_seal vs;
	struct ig_audit_verify_result res;
	int r, rc = 0;

	memset(&vs, 0, sizeof(vs));
	if (o->vkey_file) {
		if (read_vkey(o->vkey_file, &vk) != 0)
			return 2;
		vs.vk = &vk;
	}
	r = ig_audit_verify_files(o->logs, o->nlogs, &res, o->vkey_file ? &vs : NULL);
	explicit_bzero(&vk, sizeof(vk));
	if (r != 0 && r != IG_ERR_PARSE) {
		fputs("iamgate audit verify: cannot read ", stderr);
		ig_audit_cli_say(stderr, o->logs[res.bad_file < o->nlogs ? res.bad_file : 0]);
		fprintf(stderr, ": %s; %s.\n", res.what[0] ? res.what : ig_strerror(r),
		        hint_for(r));
		return 2;
	}
	fputs("audit log ", stdout);
	if (o->nlogs > 1) {
		ig_audit_cli_say(stdout, o->logs[0]);
		fputs(" ... ", stdout);
	}
	ig_audit_cli_say(stdout, o->logs[o->nlogs - 1]);
	if (o->nlogs > 1)
		printf(" (%zu files)", o->nlogs);
	if (r == 0 && res.lines == 0)
		fputs(": empty (no event since it was created or rotated)\n", stdout);
	else if (r == 0)
		report_intact(o, &res);
	else
		report_broken(o, &res);
	rc = r == 0 ? 0 : 1;
	if (o->vkey_file && report_seal(o, &vs.seal) != 0)
		rc = 1;
	if (o->against && (r = ig_audit_show_against(o, o->against)) > rc)
		rc = r;
	return rc;
}

/* ---- seal-init, seal -------------------------------------------------- */

static int load_config(const struct ig_audit_cli_opts *o, struct ig_config **cfg)
{
	const char *path = o->config ? o->config : IG_DEFAULT_CONFIG;
	char err[1024];

	if (ig_config_load(path, cfg, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "iamgate audit: %s\n", err);
	return 2;
}

static struct ig_audit_opts writer_opts(const struct ig_config *cfg)
{
	struct ig_audit_opts ao;

	memset(&ao, 0, sizeof(ao));
	ao.path = cfg->audit.path;
	ao.use_syslog = cfg->audit.syslog;
	ao.seal_key = cfg->audit.seal_key;
	return ao;
}

/* The key file's directory (opened trusted) and name. */
static int key_place(const struct ig_config *cfg, int *dfd, char *name, size_t cap)
{
	char path[PATH_MAX], dir[PATH_MAX];
	int r;

	if (cfg->audit.seal_key)
		r = ig_bfmt(path, sizeof(path), "%s", cfg->audit.seal_key);
	else
		r = ig_bfmt(path, sizeof(path), "%s.seal", cfg->audit.path);
	if (r != 0 || (r = ig_audit_file_split(path, dir, sizeof(dir), name, cap)) != 0)
		return r;
	return ig_open_trusted_dir(dir, dfd, NULL, 0);
}

static void print_vkey(const char *vkey, const struct ig_audit_seal_key *k)
{
	char id[IG_AUDIT_SEAL_ID_LEN + 1];

	ig_audit_seal_key_id(k->key, id);
	printf("Sealing is on: key id %s, one epoch every %" PRIu32 " s.\n\n"
	       "The verification key (shown this once; it is not kept on this host):\n\n  %s\n\n",
	       id, k->epoch_s, vkey);
	ig_qr_print(vkey);
	puts("\nKeep it off this host (a safe, the auditors' password manager): with it,\n"
	     "`iamgate audit verify --verification-key FILE` proves each sealed line;\n"
	     "anyone who holds it could also forge seals, so never store it here.");
}

static int cmd_seal_init(const struct ig_audit_cli_opts *o)
{
	struct ig_config *cfg = NULL;
	struct ig_audit_seal_key k;
	struct ig_audit_opts ao;
	char name[NAME_MAX + 1], vkey[IG_AUDIT_SEAL_VKEY_MAX + 1], id[IG_AUDIT_SEAL_ID_LEN + 1];
	struct ig_audit_event ev = {"audit_seal_init",  NULL, NULL, "iamgate-cli", "info",
	                            "seal_initialized", NULL};
	int dfd = -1, fd, r = 2;

	memset(&k, 0, sizeof(k));
	if (load_config(o, &cfg) != 0)
		return 2;
	if (key_place(cfg, &dfd, name, sizeof(name)) != 0) {
		fputs("iamgate audit seal-init: the sealing key's directory is not a trusted "
		      "(root-owned, not group/world-writable) directory.\n",
		      stderr);
		goto out;
	}
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0 || errno != ENOENT) {
		if (fd >= 0)
			close(fd);
		fputs("iamgate audit seal-init: a sealing key already exists; sealing goes on "
		      "with it.\n  To start again with a new verification key, remove it "
		      "first (the log records that sealing stopped there).\n",
		      stderr);
		goto out;
	}
	if (ig_audit_seal_new((uint64_t)time(NULL), cfg->audit.seal_epoch_seconds, &k) != 0 ||
	    ig_audit_seal_vkey_format(&k, vkey, sizeof(vkey)) != 0 ||
	    ig_audit_seal_store(dfd, name, &k, -1) != 0) {
		fputs("iamgate audit seal-init: cannot write the sealing key.\n", stderr);
		goto out;
	}
	ig_audit_seal_key_id(k.key, id);
	ev.extra = json_pack("{sssIsI}", "key_id", id, "epoch_seconds", (json_int_t)k.epoch_s,
	                     "start", (json_int_t)k.start_s);
	ao = writer_opts(cfg);
	if (ev.extra == NULL || ig_audit_append(&ao, &ev) != 0) {
		(void)unlinkat(dfd, name, 0);
		fputs("iamgate audit seal-init: cannot write the audit log; no key was kept.\n",
		      stderr);
		goto out;
	}
	print_vkey(vkey, &k);
	r = 0;
out:
	json_decref(ev.extra);
	explicit_bzero(&k, sizeof(k));
	explicit_bzero(vkey, sizeof(vkey));
	if (dfd >= 0)
		close(dfd);
	ig_config_free(cfg);
	return r;
}

static int cmd_seal(const struct ig_audit_cli_opts *o)
{
	struct ig_config *cfg = NULL;
	struct ig_audit_opts ao;
	int r;

	if (load_config(o, &cfg) != 0)
		return 2;
	ao = writer_opts(cfg);
	if ((r = ig_audit_tick(&ao)) != 0) {
		fputs("iamgate audit seal: cannot seal ", stderr);
		ig_audit_cli_say(stderr, cfg->audit.path);
		fprintf(stderr,
		        ": %s; check the log's directory and the sealing key file "
		        "(root-owned, mode 0600).\n",
		        ig_strerror(r));
	}
	ig_config_free(cfg);
	return r == 0 ? 0 : 2;
}

/* ---- dispatch --------------------------------------------------------- */

static int find_cmd(const char *name, enum cmd *out)
{
	static const char *const names[] = {"verify", "show", "seal-init", "seal"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum cmd)i;
			return 0;
		}
	}
	return IG_ERR_NOTFOUND;
}

int ig_audit_cli(int argc, char **argv, const char *default_log_path)
{
	char cfgpath[PATH_MAX];
	char *owned[IG_AUDIT_CLI_MAX_LOGS];
	size_t nowned = 0;
	struct ig_audit_cli_opts o;
	enum cmd cmd;
	int r;

	if (argc < 2 || argv[1] == NULL) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (find_cmd(argv[1], &cmd) != 0)
		return usage_error("unknown command \"", argv[1],
		                   "\"; use verify, show, seal-init or seal");
	if ((r = parse_opts(argc - 1, argv + 1, cmd, &o)) != 0)
		return r < 0 ? 0 : r;
	if (cmd == C_SEAL_INIT)
		return cmd_seal_init(&o);
	if (cmd == C_SEAL)
		return cmd_seal(&o);
	if ((r = resolve_logs(&o, default_log_path, cfgpath, sizeof(cfgpath), owned, &nowned)) == 0)
		r = cmd == C_SHOW ? ig_audit_show(&o) : cmd_verify(&o);
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	fflush(stdout);
	return r;
}
