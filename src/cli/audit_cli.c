/*
 * audit_cli.c - `iamgate audit verify|show`, for auditors.
 *
 * Runs without root: the log is opened read-only (O_NOFOLLOW: a symlink is
 * refused) and not required to be root-owned, so a member of the log's
 * group (iamgate-audit) can read it.  Everything taken from the log is
 * printed escaped: a user name is attacker-chosen and must not reach the
 * auditor's terminal as control characters.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "iamgate/audit.h"
#include "iamgate/util.h"

#define MAX_LOGS 100
#define MAX_CONFIG (1024 * 1024)
#define COL_CAP 40
#define MAX_WARN 5

static const char usage_text[] =
        "usage: iamgate audit verify [--log PATH ... | --config PATH] [--rotated]\n"
        "       iamgate audit show [--log PATH ... | --config PATH] [--rotated]\n"
        "                          [--user USER] [--since TIME] [--until TIME]\n"
        "                          [--decision allow|deny|info] [--role ROLE] [--event EVENT]\n"
        "                          [--json] [--utc]\n"
        "\n"
        "verify   check the hash chain: exit 0 and a count when intact, exit 1 naming\n"
        "         the first bad line and what is wrong (edited, missing, reordered,\n"
        "         inserted, torn, not JSON), exit 2 when the log cannot be read.\n"
        "show     list events: an aligned table (local time, or UTC with --utc), or\n"
        "         with --json one JSON object per line for tools.\n"
        "\n"
        "--log PATH      the log (default: audit.path of the configuration); repeat it\n"
        "                to check rotated files together, oldest first\n"
        "--config PATH   read audit.path from this configuration file\n"
        "--rotated       also read PATH.N ... PATH.1 (logrotate's older files) before PATH\n"
        "TIME            2026-11-29, 2026-11-29T10:00, 2026-11-29T10:00:00Z, +01:00 offsets,\n"
        "                or relative: -30m, -1h, -7d, -2w, now.  --until DATE includes\n"
        "                that whole day.  Without a zone, local time (UTC with --utc).\n"
        "\n"
        "Auditors need read access only: the log is 0640 root:iamgate-audit.\n";

struct opts {
	const char *logs[MAX_LOGS];
	size_t nlogs;
	const char *config;
	int rotated, json, utc;
	const char *user, *decision, *role, *event;
	const char *since_s, *until_s;
	int have_since, have_until;
	int64_t since, until;
};

/* Print s with anything but printable ASCII as \xNN, at most cap chars. */
static size_t safe_render(const char *s, char *out, size_t outcap, size_t cap)
{
	static const char hexd[] = "0123456789abcdef";
	size_t o = 0, shown = 0;

	if (s == NULL)
		s = "-";
	for (; *s && o + 5 < outcap; s++) {
		unsigned char c = (unsigned char)*s;
		size_t w = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : (c == '\\' ? 2 : 4);
		if (shown + w > cap) {
			if (o >= 2) {
				out[o - 2] = '.';
				out[o - 1] = '.';
			}
			break;
		}
		if (w == 1) {
			out[o++] = (char)c;
		} else if (w == 2) {
			out[o++] = '\\';
			out[o++] = '\\';
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hexd[c >> 4];
			out[o++] = hexd[c & 15];
		}
		shown += w;
	}
	out[o] = '\0';
	return o;
}

static void say_path(FILE *f, const char *p)
{
	char buf[PATH_MAX * 4 + 8];

	(void)safe_render(p, buf, sizeof(buf), sizeof(buf) - 8);
	fputs(buf, f);
}

static int read_config_path(const char *cfg, char *out, size_t cap)
{
	struct stat st;
	json_error_t jerr;
	json_t *root = NULL, *audit, *path;
	char *buf = NULL;
	size_t got = 0;
	ssize_t k;
	int fd, r = 2;

	fd = open(cfg, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		fputs("iamgate audit: cannot read the configuration ", stderr);
		say_path(stderr, cfg);
		if (e == EACCES)
			fputs(": permission denied.\n  The configuration is readable by root only; "
			      "as an "
			      "auditor, name the log\n  directly, e.g. --log "
			      "/var/log/iamgate/audit.jsonl\n",
			      stderr);
		else if (e == ELOOP)
			fputs(": it is a symbolic link; give the real path.\n", stderr);
		else
			fprintf(stderr, ": %s.\n", strerror(e));
		return 2;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_CONFIG) {
		fputs("iamgate audit: ", stderr);
		say_path(stderr, cfg);
		fputs(" is not a regular file of at most 1 MiB.\n", stderr);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	while (got < (size_t)st.st_size) {
		k = read(fd, buf + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	root = json_loadb(buf, got, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		fputs("iamgate audit: ", stderr);
		say_path(stderr, cfg);
		fprintf(stderr,
		        " is not valid JSON (line %d, column %d); run `iamgate check` to see "
		        "what is wrong.\n",
		        jerr.line, jerr.column);
		goto out;
	}
	audit = json_object_get(root, "audit");
	path = json_object_get(audit, "path");
	if (!json_is_string(path) || json_string_value(path)[0] != '/') {
		fputs("iamgate audit: ", stderr);
		say_path(stderr, cfg);
		fputs(" has no absolute \"audit\": {\"path\": ...}; give the log with --log "
		      "PATH.\n",
		      stderr);
		goto out;
	}
	if (ig_bfmt(out, cap, "%s", json_string_value(path)) != 0) {
		fputs("iamgate audit: audit.path is too long.\n", stderr);
		goto out;
	}
	r = 0;
out:
	json_decref(root);
	free(buf);
	close(fd);
	return r;
}

/* "iamgate audit: BEFORE<arg, escaped>AFTER", then the usage.  Exit 2. */
static int usage_error(const char *before, const char *arg, const char *after)
{
	char buf[256];

	(void)safe_render(arg, buf, sizeof(buf), 64);
	fputs("iamgate audit: ", stderr);
	fputs(before, stderr);
	fputs(buf, stderr);
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

static int known_option(const char *name, int show)
{
	static const char *const common[] = {"--log", "--config", "--rotated"};
	static const char *const show_only[] = {"--json",  "--utc",   "--user",  "--role",
	                                        "--event", "--since", "--until", "--decision"};

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (strcmp(name, common[i]) == 0)
			return 1;
	for (size_t i = 0; show && i < sizeof(show_only) / sizeof(show_only[0]); i++)
		if (strcmp(name, show_only[i]) == 0)
			return 1;
	return 0;
}

/* Parse options after the subcommand.  0, or an exit status. */
static int parse_opts(int argc, char **argv, int show, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		char name[32];
		int takes;

		if (strncmp(a, "--", 2) != 0)
			return usage_error("unexpected argument \"", a, "\"");
		eq = strchr(a, '=');
		if (ig_bfmt(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a) !=
		    0)
			return usage_error("unknown option \"", a, "\"");
		takes = strcmp(name, "--rotated") != 0 && strcmp(name, "--json") != 0 &&
		        strcmp(name, "--utc") != 0;
		if (!known_option(name, show))
			return usage_error("unknown option \"", name,
			                   show ? "\"" : "\" for verify");
		if (takes) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return usage_error("", name, " needs a value");
		} else if (eq) {
			return usage_error("", name, " takes no value");
		}
		if (strcmp(name, "--log") == 0) {
			if (o->nlogs >= MAX_LOGS)
				return usage_error("too many --log options (at most 100), at \"",
				                   val, "\"");
			o->logs[o->nlogs++] = val;
		} else if (strcmp(name, "--config") == 0) {
			o->config = val;
		} else if (strcmp(name, "--rotated") == 0) {
			o->rotated = 1;
		} else if (show && strcmp(name, "--json") == 0) {
			o->json = 1;
		} else if (show && strcmp(name, "--utc") == 0) {
			o->utc = 1;
		} else if (show && strcmp(name, "--user") == 0) {
			o->user = val;
		} else if (show && strcmp(name, "--role") == 0) {
			o->role = val;
		} else if (show && strcmp(name, "--event") == 0) {
			o->event = val;
		} else if (show && strcmp(name, "--decision") == 0) {
			if (strcmp(val, "allow") != 0 && strcmp(val, "deny") != 0 &&
			    strcmp(val, "info") != 0)
				return usage_error("--decision must be allow, deny or info, not \"",
				                   val, "\"");
			o->decision = val;
		} else if (show && (strcmp(name, "--since") == 0 || strcmp(name, "--until") == 0)) {
			/* Resolved after all options, since --utc may come later. */
			if (name[2] == 's')
				o->since_s = val;
			else
				o->until_s = val;
		} else {
			return usage_error("unknown option \"", name, "\"");
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		const char *val = pass == 0 ? o->since_s : o->until_s;
		int64_t *dst = pass == 0 ? &o->since : &o->until;
		if (val == NULL)
			continue;
		*(pass == 0 ? &o->have_since : &o->have_until) = 1;
		if (ig_audit_parse_time(val, o->utc, now_ms(), pass == 1, dst) != 0)
			return usage_error("cannot read the time \"", val,
			                   "\"; use e.g. 2026-11-29, 2026-11-29T10:00:00Z or -1h");
	}
	if (o->config && o->nlogs > 0)
		return usage_error("give either --log or --config, not both", "", "");
	if (o->rotated && o->nlogs > 1)
		return usage_error("--rotated goes with a single log, not ", "several --log", "");
	return 0;
}

/* The files to read, oldest first.  0 or an exit status. */
static int resolve_logs(struct opts *o, const char *default_log, char *cfgpath, size_t cap,
                        char **owned, size_t *nowned)
{
	const char *base;
	struct stat st;
	int r, n;

	*nowned = 0;
	if (o->config) {
		if ((r = read_config_path(o->config, cfgpath, cap)) != 0)
			return r;
		o->logs[o->nlogs++] = cfgpath;
	} else if (o->nlogs == 0) {
		if (default_log == NULL) {
			fputs("iamgate audit: no log given; use --log PATH or --config PATH.\n",
			      stderr);
			return 2;
		}
		o->logs[o->nlogs++] = default_log;
	}
	if (!o->rotated)
		return 0;
	base = o->logs[0];
	/* logrotate's NAME.1 is the newest rotated file; find the oldest. */
	for (n = 1; n < MAX_LOGS - 1; n++) {
		char p[PATH_MAX];
		if (ig_bfmt(p, sizeof(p), "%s.%d", base, n) != 0 || lstat(p, &st) != 0)
			break;
	}
	n--;
	{
		char gz[PATH_MAX];
		if (ig_bfmt(gz, sizeof(gz), "%s.%d.gz", base, n + 1) == 0 && lstat(gz, &st) == 0) {
			fputs("iamgate audit: note: ", stderr);
			say_path(stderr, gz);
			fputs(" is compressed and not read; decompress it and pass the files with "
			      "--log to include it.\n",
			      stderr);
		}
	}
	o->nlogs = 0;
	for (int k = n; k >= 1; k--) {
		char p[PATH_MAX];
		if (ig_bfmt(p, sizeof(p), "%s.%d", base, k) != 0 ||
		    (owned[*nowned] = strdup(p)) == NULL)
			return 2;
		o->logs[o->nlogs++] = owned[(*nowned)++];
	}
	o->logs[o->nlogs++] = base;
	return 0;
}

static const char *hint_for(int r)
{
	switch (r) {
	case IG_ERR_NOTFOUND: return "check the path (the log appears with the first event)";
	case IG_ERR_UNSAFE: return "give the real path of a regular file";
	case IG_ERR_IO:
		return "run as root, or as a member of group iamgate-audit (the log is 0640 "
		       "root:iamgate-audit)";
	default: return "";
	}
}

static int cmd_verify(struct opts *o)
{
	struct ig_audit_verify_result res;
	int r;

	r = ig_audit_verify_files(o->logs, o->nlogs, &res);
	if (r != 0 && r != IG_ERR_PARSE) {
		fputs("iamgate audit verify: cannot read ", stderr);
		say_path(stderr, o->logs[res.bad_file < o->nlogs ? res.bad_file : 0]);
		fprintf(stderr, ": %s; %s.\n", res.what[0] ? res.what : ig_strerror(r),
		        hint_for(r));
		return 2;
	}
	fputs("audit log ", stdout);
	if (o->nlogs > 1) {
		say_path(stdout, o->logs[0]);
		fputs(" ... ", stdout);
	}
	say_path(stdout, o->logs[o->nlogs - 1]);
	if (o->nlogs > 1)
		printf(" (%zu files)", o->nlogs);
	if (r == 0) {
		if (res.lines == 0) {
			fputs(": empty (no event since it was created or rotated)\n", stdout);
			return 0;
		}
		printf(": %llu lines, chain intact (seq %llu..%llu)\n",
		       (unsigned long long)res.lines, (unsigned long long)res.first_seq,
		       (unsigned long long)res.last_seq);
		if (res.start_prev[0] && strspn(res.start_prev, "0") != 64)
			printf("  note: the first line continues an earlier log (after seq %llu, "
			       "hash "
			       "%.16s...);\n  check that one too with --rotated, or --log OLDER "
			       "--log "
			       "NEWER\n",
			       (unsigned long long)(res.first_seq ? res.first_seq - 1 : 0),
			       res.start_prev);
		if (res.head_checked)
			fputs("  its end matches the writers' head record\n", stdout);
		return 0;
	}
	fputs(": NOT intact\n  ", stdout);
	if (o->nlogs > 1) {
		say_path(stdout, o->logs[res.bad_file]);
		fputs(" ", stdout);
	}
	printf("line %llu: %s\n", (unsigned long long)res.bad_line, res.what);
	if (res.broken_line == 0 && res.torn > 0)
		puts("  the chain is otherwise intact: a torn line comes from a writer that was "
		     "killed\n  or a full disk; the writers record it, they do not hide it");
	else
		puts("  compare with the syslog copy (authpriv: seq=... hash=...) to see what the "
		     "original said");
	printf("  %llu lines read\n", (unsigned long long)res.lines);
	return 1;
}

/* ---- show ----------------------------------------------------------- */

struct reader {
	int fd;
	uint64_t limit, off;
	char *buf;
	size_t cap, pos, len;
	uint64_t line;
	int skipping;
};

/* Next line: 1, 0 at end, -1 on error.  Over-long lines come back with
 * *n = 0 and *bad = 1. */
static int rd_next(struct reader *r, const char **p, size_t *n, int *bad)
{
	*bad = 0;
	for (;;) {
		char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		ssize_t k;
		size_t room;

		if (nl) {
			*p = r->buf + r->pos;
			*n = (size_t)(nl - *p);
			r->pos += *n + 1;
			r->line++;
			if (r->skipping) {
				r->skipping = 0;
				*bad = 1;
				*n = 0;
			}
			return 1;
		}
		if (r->len - r->pos > IG_AUDIT_MAX_LINE) {
			r->skipping = 1;
			r->pos = r->len;
		}
		if (r->pos > 0) {
			memmove(r->buf, r->buf + r->pos, r->len - r->pos);
			r->len -= r->pos;
			r->pos = 0;
		}
		room = r->cap - r->len;
		if (r->limit - r->off < room)
			room = (size_t)(r->limit - r->off);
		k = 0;
		if (room > 0) {
			do {
				k = pread(r->fd, r->buf + r->len, room, (off_t)r->off);
			} while (k < 0 && errno == EINTR);
			if (k < 0)
				return -1;
		}
		if (k == 0) {
			if (r->len == 0 && !r->skipping)
				return 0;
			*p = r->buf;
			*n = r->len;
			*bad = r->skipping;
			r->skipping = 0;
			r->pos = r->len = 0;
			r->line++;
			return 1;
		}
		r->off += (uint64_t)k;
		r->len += (size_t)k;
	}
}

static int role_matches(json_t *obj, const char *role)
{
	json_t *v = json_object_get(obj, "role"), *x;
	size_t i;

	if (json_is_string(v) && strcmp(json_string_value(v), role) == 0)
		return 1;
	json_array_foreach(json_object_get(obj, "roles"), i, x)
	{
		if (json_is_string(x) && strcmp(json_string_value(x), role) == 0)
			return 1;
		if (json_is_object(x) && json_is_string(json_object_get(x, "role")) &&
		    strcmp(json_string_value(json_object_get(x, "role")), role) == 0)
			return 1;
	}
	return 0;
}

static int matches(const struct opts *o, const struct ig_audit_record *rec)
{
	if (o->user && (rec->user == NULL || strcmp(rec->user, o->user) != 0))
		return 0;
	if (o->decision && strcmp(rec->decision, o->decision) != 0)
		return 0;
	if (o->event && strcmp(rec->event, o->event) != 0)
		return 0;
	if (o->have_since && rec->time_ms < o->since)
		return 0;
	if (o->have_until && rec->time_ms > o->until)
		return 0;
	if (o->role && !role_matches(rec->obj, o->role))
		return 0;
	return 1;
}

enum { C_TIME, C_USER, C_RHOST, C_EVENT, C_DECISION, C_REASON, C_ROLE, NCOL };
static const char *const col_names[NCOL] = {"TIME",     "USER",   "RHOST", "EVENT",
                                            "DECISION", "REASON", "ROLE"};

static void row_cells(const struct opts *o, const struct ig_audit_record *rec,
                      char cells[NCOL][COL_CAP * 4 + 8])
{
	char role[512] = "";
	time_t s = (time_t)(rec->time_ms / 1000);
	struct tm tm;
	json_t *v = json_object_get(rec->obj, "role"), *x;
	size_t i, used = 0;

	if (o->utc ? gmtime_r(&s, &tm) == NULL : localtime_r(&s, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	if (strftime(cells[C_TIME], COL_CAP, o->utc ? "%Y-%m-%d %H:%M:%SZ" : "%Y-%m-%d %H:%M:%S %z",
	             &tm) == 0)
		cells[C_TIME][0] = '\0';
	(void)safe_render(rec->user, cells[C_USER], COL_CAP * 4 + 8, COL_CAP);
	(void)safe_render(rec->rhost, cells[C_RHOST], COL_CAP * 4 + 8, COL_CAP);
	(void)safe_render(rec->event, cells[C_EVENT], COL_CAP * 4 + 8, COL_CAP);
	(void)safe_render(rec->decision, cells[C_DECISION], COL_CAP * 4 + 8, COL_CAP);
	(void)safe_render(rec->reason, cells[C_REASON], COL_CAP * 4 + 8, COL_CAP);
	if (json_is_string(v)) {
		(void)snprintf(role, sizeof(role), "%s", json_string_value(v));
	} else {
		json_array_foreach(json_object_get(rec->obj, "roles"), i, x)
		{
			const char *name = json_is_string(x)
			                           ? json_string_value(x)
			                           : json_string_value(json_object_get(x, "role"));
			int k;
			if (name == NULL)
				continue;
			k = snprintf(role + used, sizeof(role) - used, "%s%s", used ? "," : "",
			             name);
			if (k < 0 || (size_t)k >= sizeof(role) - used)
				break;
			used += (size_t)k;
		}
	}
	(void)safe_render(role[0] ? role : NULL, cells[C_ROLE], COL_CAP * 4 + 8, COL_CAP);
}

static int open_reader(const char *path, struct reader *r)
{
	struct stat st;

	memset(r, 0, sizeof(*r));
	r->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (r->fd < 0) {
		int e = errno;
		fputs("iamgate audit show: cannot read ", stderr);
		say_path(stderr, path);
		fprintf(stderr, ": %s; %s.\n", e == ELOOP ? "it is a symbolic link" : strerror(e),
		        hint_for(e == ENOENT ? IG_ERR_NOTFOUND
		                             : (e == ELOOP ? IG_ERR_UNSAFE : IG_ERR_IO)));
		return 2;
	}
	if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fputs("iamgate audit show: ", stderr);
		say_path(stderr, path);
		fputs(" is not a regular file.\n", stderr);
		close(r->fd);
		r->fd = -1;
		return 2;
	}
	r->limit = (uint64_t)st.st_size;
	r->cap = 2 * (IG_AUDIT_MAX_LINE + 1);
	if ((r->buf = malloc(r->cap)) == NULL) {
		close(r->fd);
		r->fd = -1;
		return 2;
	}
	return 0;
}

/*
 * One pass over all files: pass 0 measures column widths and warns about
 * lines that are not records; pass 1 prints.  Reading stops at each file's
 * size as seen in pass 0, so both passes see the same lines.
 */
static int cmd_show(struct opts *o)
{
	struct reader rd[MAX_LOGS];
	char cells[NCOL][COL_CAP * 4 + 8];
	size_t width[NCOL];
	uint64_t shown = 0, total = 0, warned = 0;
	int r = 0;
	size_t f;

	for (int c = 0; c < NCOL; c++)
		width[c] = strlen(col_names[c]);
	if (!o->json)
		width[C_TIME] = strlen(o->utc ? "TIME (UTC)" : "TIME (local)");
	memset(rd, 0, sizeof(rd));
	for (f = 0; f < o->nlogs; f++)
		rd[f].fd = -1;
	for (f = 0; f < o->nlogs; f++) {
		if ((r = open_reader(o->logs[f], &rd[f])) != 0)
			goto out;
	}
	for (int pass = o->json ? 1 : 0; pass < 2; pass++) {
		if (pass == 1 && !o->json) {
			for (int c = 0; c < NCOL; c++)
				printf("%-*s%s", c + 1 < NCOL ? (int)width[c] : 0,
				       c == C_TIME ? (o->utc ? "TIME (UTC)" : "TIME (local)")
				                   : col_names[c],
				       c + 1 < NCOL ? "  " : "\n");
		}
		for (f = 0; f < o->nlogs; f++) {
			struct reader *R = &rd[f];
			const char *p;
			size_t n;
			int bad, k;

			R->off = R->pos = R->len = 0;
			R->line = 0;
			R->skipping = 0;
			while ((k = rd_next(R, &p, &n, &bad)) == 1) {
				struct ig_audit_record rec;
				if (bad || ig_audit_parse_line(p, n, &rec, NULL, 0) != 0) {
					/* Warn once: in pass 0, or in the only pass with --json. */
					if ((pass == 0 || o->json) && warned++ < MAX_WARN) {
						fputs("iamgate audit show: ", stderr);
						say_path(stderr, o->logs[f]);
						fprintf(stderr,
						        " line %llu is not an audit record; "
						        "skipped (run "
						        "`iamgate audit verify`)\n",
						        (unsigned long long)R->line);
					}
					continue;
				}
				if (pass == 0 || o->json)
					total++;
				if (matches(o, &rec)) {
					if (o->json) {
						char *d = json_dumps(rec.obj,
						                     JSON_COMPACT |
						                             JSON_PRESERVE_ORDER |
						                             JSON_ENSURE_ASCII);
						if (d) {
							puts(d);
							free(d);
						}
						shown++;
					} else {
						row_cells(o, &rec, cells);
						for (int c = 0; c < NCOL; c++) {
							size_t l = strlen(cells[c]);
							if (pass == 0 && l > width[c])
								width[c] = l;
							if (pass == 1)
								printf("%-*s%s",
								       c + 1 < NCOL ? (int)width[c]
								                    : 0,
								       cells[c],
								       c + 1 < NCOL ? "  " : "\n");
						}
						if (pass == 1)
							shown++;
					}
				}
				ig_audit_record_clear(&rec);
			}
			if (k < 0) {
				fputs("iamgate audit show: read error on ", stderr);
				say_path(stderr, o->logs[f]);
				fputs("\n", stderr);
				r = 2;
				goto out;
			}
		}
	}
	if (warned > MAX_WARN)
		fprintf(stderr,
		        "iamgate audit show: ... and %llu more lines that are not records\n",
		        (unsigned long long)(warned - MAX_WARN));
	if (!o->json)
		printf("(%llu of %llu events)\n", (unsigned long long)shown,
		       (unsigned long long)total);
	r = 0;
out:
	for (f = 0; f < o->nlogs; f++) {
		if (rd[f].fd >= 0)
			close(rd[f].fd);
		free(rd[f].buf);
	}
	fflush(stdout);
	return r;
}

int ig_audit_cli(int argc, char **argv, const char *default_log_path)
{
	char cfgpath[PATH_MAX];
	char *owned[MAX_LOGS];
	size_t nowned = 0;
	struct opts o;
	int show, r;

	if (argc < 2 || argv[1] == NULL) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(argv[1], "verify") != 0 && strcmp(argv[1], "show") != 0)
		return usage_error("unknown command \"", argv[1], "\"; use verify or show");
	show = strcmp(argv[1], "show") == 0;
	if ((r = parse_opts(argc, argv, show, &o)) != 0)
		return r;
	if ((r = resolve_logs(&o, default_log_path, cfgpath, sizeof(cfgpath), owned, &nowned)) == 0)
		r = show ? cmd_show(&o) : cmd_verify(&o);
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	fflush(stdout);
	return r;
}
