/*
 * audit_show.c - `iamgate audit show` (filters; an aligned table, or JSON
 * Lines for tools) and `iamgate audit verify --against` (the log beside the
 * copy shipped to CloudWatch Logs).  Everything from the log is printed
 * escaped: a user name is attacker-chosen.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "iamgate/audit_show.h"
#include "iamgate/util.h"

#define COL_CAP 40
#define MAX_WARN 5
#define COPY_MAX (256u << 20) /* the copy a verify --against reads at most */

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

int ig_audit_show_matches(const struct ig_audit_cli_opts *o, const struct ig_audit_record *rec)
{
	if (o->user && (rec->user == NULL || strcmp(rec->user, o->user) != 0))
		return 0;
	if (o->decision && strcmp(rec->decision, o->decision) != 0)
		return 0;
	if (o->event && strcmp(rec->event, o->event) != 0)
		return 0;
	if (o->reason && strcmp(rec->reason, o->reason) != 0)
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

static void row_cells(const struct ig_audit_cli_opts *o, const struct ig_audit_record *rec,
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
		ig_audit_cli_say(stderr, path);
		fprintf(stderr, ": %s.\n", e == ELOOP ? "it is a symbolic link" : strerror(e));
		return 2;
	}
	if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fputs("iamgate audit show: ", stderr);
		ig_audit_cli_say(stderr, path);
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

/* The state of one `show`: the readers, the widths, the counts. */
struct show {
	const struct ig_audit_cli_opts *o;
	struct reader rd[IG_AUDIT_CLI_MAX_LOGS];
	size_t width[NCOL];
	uint64_t shown, total, warned;
	int pass; /* 0 measures the columns, 1 prints */
};

static void print_row(struct show *sh, char cells[NCOL][COL_CAP * 4 + 8])
{
	for (int c = 0; c < NCOL; c++) {
		size_t l = strlen(cells[c]);
		if (sh->pass == 0 && l > sh->width[c])
			sh->width[c] = l;
		if (sh->pass == 1)
			printf("%-*s%s", c + 1 < NCOL ? (int)sh->width[c] : 0, cells[c],
			       c + 1 < NCOL ? "  " : "\n");
	}
	if (sh->pass == 1)
		sh->shown++;
}

static void show_record(struct show *sh, const struct ig_audit_record *rec)
{
	char cells[NCOL][COL_CAP * 4 + 8];
	char *d;

	if (sh->pass == 0 || sh->o->json)
		sh->total++;
	if (!ig_audit_show_matches(sh->o, rec))
		return;
	if (!sh->o->json) {
		row_cells(sh->o, rec, cells);
		print_row(sh, cells);
		return;
	}
	d = json_dumps(rec->obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (d) {
		puts(d);
		free(d);
	}
	sh->shown++;
}

/* One file, one pass.  0, or 2 on a read error. */
static int show_file(struct show *sh, size_t f)
{
	struct reader *R = &sh->rd[f];
	const char *p;
	size_t n;
	int bad, k;

	R->off = R->pos = R->len = 0;
	R->line = 0;
	R->skipping = 0;
	while ((k = rd_next(R, &p, &n, &bad)) == 1) {
		struct ig_audit_record rec;
		if (bad || ig_audit_line_parse(p, n, &rec, NULL, 0) != 0) {
			/* Warn once: in pass 0, or in the only pass with --json. */
			if ((sh->pass == 0 || sh->o->json) && sh->warned++ < MAX_WARN) {
				fputs("iamgate audit show: ", stderr);
				ig_audit_cli_say(stderr, sh->o->logs[f]);
				fprintf(stderr,
				        " line %llu is not an audit record; skipped (run `iamgate "
				        "audit verify`)\n",
				        (unsigned long long)R->line);
			}
			continue;
		}
		show_record(sh, &rec);
		ig_audit_line_clear(&rec);
	}
	if (k >= 0)
		return 0;
	fputs("iamgate audit show: read error on ", stderr);
	ig_audit_cli_say(stderr, sh->o->logs[f]);
	fputs("\n", stderr);
	return 2;
}

static void print_header(const struct show *sh)
{
	const char *tcol = sh->o->utc ? "TIME (UTC)" : "TIME (local)";

	for (int c = 0; c < NCOL; c++)
		printf("%-*s%s", c + 1 < NCOL ? (int)sh->width[c] : 0,
		       c == C_TIME ? tcol : col_names[c], c + 1 < NCOL ? "  " : "\n");
}

/*
 * Pass 0 measures column widths and warns about lines that are not records;
 * pass 1 prints.  Reading stops at each file's size as seen when opened, so
 * both passes see the same lines.
 */
int ig_audit_show(const struct ig_audit_cli_opts *o)
{
	struct show *sh = calloc(1, sizeof(*sh));
	int r = 2;
	size_t f;

	if (sh == NULL)
		return 2;
	sh->o = o;
	for (int c = 0; c < NCOL; c++)
		sh->width[c] = strlen(col_names[c]);
	sh->width[C_TIME] = strlen(o->utc ? "TIME (UTC)" : "TIME (local)");
	for (f = 0; f < o->nlogs; f++)
		sh->rd[f].fd = -1;
	for (f = 0; f < o->nlogs; f++)
		if (open_reader(o->logs[f], &sh->rd[f]) != 0)
			goto out;
	for (sh->pass = o->json ? 1 : 0; sh->pass < 2; sh->pass++) {
		if (sh->pass == 1 && !o->json)
			print_header(sh);
		for (f = 0; f < o->nlogs; f++)
			if (show_file(sh, f) != 0)
				goto out;
	}
	if (sh->warned > MAX_WARN)
		fprintf(stderr,
		        "iamgate audit show: ... and %llu more lines that are not records\n",
		        (unsigned long long)(sh->warned - MAX_WARN));
	if (!o->json)
		printf("(%llu of %llu events)\n", (unsigned long long)sh->shown,
		       (unsigned long long)sh->total);
	r = 0;
out:
	for (f = 0; f < o->nlogs; f++) {
		if (sh->rd[f].fd >= 0)
			close(sh->rd[f].fd);
		free(sh->rd[f].buf);
	}
	free(sh);
	fflush(stdout);
	return r;
}

/* ---- verify --against ------------------------------------------------- */

/* The copy: seq (as text) -> the line, for the lines that are records. */
struct copy {
	json_t *by_seq;
	uint64_t not_records;
};

static void copy_add(struct copy *c, const char *line, size_t n)
{
	struct ig_audit_record rec;
	char key[24];

	if (ig_audit_line_parse(line, n, &rec, NULL, 0) != 0) {
		c->not_records++;
		return;
	}
	if (ig_bfmt(key, sizeof(key), "%llu", (unsigned long long)rec.seq) == 0)
		(void)json_object_set_new(c->by_seq, key, json_stringn(line, n));
	ig_audit_line_clear(&rec);
}

/* The JSON of `aws logs get-log-events`/`filter-log-events`, or lines. */
static void copy_parse(struct copy *c, const char *text, size_t len)
{
	json_t *root = json_loadb(text, len, 0, NULL), *ev;
	size_t i;

	if (json_is_object(root) && json_is_array(json_object_get(root, "events"))) {
		json_array_foreach(json_object_get(root, "events"), i, ev)
		{
			json_t *m = json_object_get(ev, "message");
			if (json_is_string(m))
				copy_add(c, json_string_value(m), json_string_length(m));
		}
	} else {
		for (const char *p = text, *end = text + len; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			if (n > 0)
				copy_add(c, p, n);
			p += n + 1;
		}
	}
	json_decref(root);
}

static int copy_load(const char *file, struct copy *c)
{
	char *text = NULL;
	size_t len = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY), r;

	memset(c, 0, sizeof(*c));
	if (fd < 0 || (r = ig_read_fd(fd, COPY_MAX, &text, &len)) != 0) {
		fputs("iamgate audit verify: cannot read the copy ", stderr);
		ig_audit_cli_say(stderr, file);
		fprintf(stderr, ": %s.\n", fd < 0 ? strerror(errno) : ig_strerror(r));
		if (fd >= 0)
			close(fd);
		return 2;
	}
	close(fd);
	if ((c->by_seq = json_object()) == NULL) {
		free(text);
		return 2;
	}
	copy_parse(c, text, len);
	free(text);
	return 0;
}

struct cmp {
	uint64_t same, changed, unshipped, first_changed, first_unshipped;
	const char *host; /* the log's host (from its first record) */
	char host_buf[300];
};

/* One line of the log against the copy. */
static void cmp_line(struct cmp *m, struct copy *c, const char *p, size_t n)
{
	struct ig_audit_record rec;
	char key[24];
	json_t *v;

	if (ig_audit_line_parse(p, n, &rec, NULL, 0) != 0)
		return;
	if (m->host == NULL && ig_bfmt(m->host_buf, sizeof(m->host_buf), "%s", rec.host) == 0)
		m->host = m->host_buf;
	if (ig_bfmt(key, sizeof(key), "%llu", (unsigned long long)rec.seq) != 0)
		goto out;
	v = json_object_get(c->by_seq, key);
	if (v == NULL) {
		if (m->unshipped++ == 0)
			m->first_unshipped = rec.seq;
	} else if (json_string_length(v) == n && memcmp(json_string_value(v), p, n) == 0) {
		m->same++;
		(void)json_object_del(c->by_seq, key);
	} else {
		if (m->changed++ == 0)
			m->first_changed = rec.seq;
		(void)json_object_del(c->by_seq, key);
	}
out:
	ig_audit_line_clear(&rec);
}

/* Lines of the copy (of this host) that the log no longer has. */
static uint64_t count_missing(const struct copy *c, const char *host, uint64_t *first)
{
	const char *k;
	json_t *v;
	uint64_t n = 0;

	*first = 0;
	json_object_foreach(c->by_seq, k, v)
	{
		struct ig_audit_record rec;
		if (ig_audit_line_parse(json_string_value(v), json_string_length(v), &rec, NULL,
		                        0) != 0)
			continue;
		if (host == NULL || strcmp(rec.host, host) == 0) {
			n++;
			if (*first == 0 || rec.seq < *first)
				*first = rec.seq;
		}
		ig_audit_line_clear(&rec);
	}
	return n;
}

static void cmp_report(const struct cmp *m, uint64_t missing, uint64_t first_missing,
                       const struct copy *c)
{
	printf("against the shipped copy: %llu lines the same", (unsigned long long)m->same);
	if (c->not_records)
		printf(", %llu lines of the copy are not audit records",
		       (unsigned long long)c->not_records);
	puts("");
	if (m->changed)
		printf("  NOT the same: %llu line(s) differ from the copy, the first at seq %llu: "
		       "the log was changed after it was shipped\n",
		       (unsigned long long)m->changed, (unsigned long long)m->first_changed);
	if (missing)
		printf("  NOT the same: %llu line(s) of the copy are missing from the log, the "
		       "first at seq %llu: they were removed after they were shipped\n",
		       (unsigned long long)missing, (unsigned long long)first_missing);
	if (m->unshipped)
		printf("  %llu line(s) of the log are not in the copy (from seq %llu): not "
		       "shipped yet, or the copy is older\n",
		       (unsigned long long)m->unshipped, (unsigned long long)m->first_unshipped);
}

int ig_audit_show_against(const struct ig_audit_cli_opts *o, const char *file)
{
	struct reader rd;
	struct copy c;
	struct cmp m;
	const char *p;
	size_t n;
	uint64_t missing, first_missing;
	int bad, k, r = 2;

	memset(&m, 0, sizeof(m));
	if (copy_load(file, &c) != 0)
		return 2;
	for (size_t f = 0; f < o->nlogs; f++) {
		if (open_reader(o->logs[f], &rd) != 0)
			goto out;
		while ((k = rd_next(&rd, &p, &n, &bad)) == 1)
			if (!bad)
				cmp_line(&m, &c, p, n);
		close(rd.fd);
		free(rd.buf);
		if (k < 0)
			goto out;
	}
	missing = count_missing(&c, m.host, &first_missing);
	cmp_report(&m, missing, first_missing, &c);
	r = m.changed || missing ? 1 : 0;
out:
	json_decref(c.by_seq);
	return r;
}
