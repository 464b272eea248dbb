/*
 * policy.c - IAM policy analysis for `iamgate check --policies DIR` (see
 * policy.h for the rules).
 *
 * The question "does this role reach customer data?" is answered by matching
 * a table of REAL sensitive action names against the statement's action
 * patterns, and the statement's resource patterns against patterns for the
 * sensitive resources.  Matching real names (rather than comparing patterns
 * textually) is what makes "rds:*", "rds:*Snapshot*" or "*:*" count.
 *
 * Resource matching is an intersection of two patterns: the policy's, where
 * '*' matches anything (colons included: the widest reading of IAM's rule, so
 * we never under-report), and ours, where '*' stays inside one ARN segment
 * (real region, account, bucket, log group and log stream names never contain
 * ':'), '%' matches anything and '?' one non-colon character.  Keeping our
 * side segment-bound avoids false alarms such as a pattern for the log groups
 * under /aws/lambda/ reaching /aws/rds/ through a colon no real ARN has.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "iamgate/jsonpos.h"
#include "iamgate/policy.h"
#include "iamgate/util.h"

#define MAXPATH 12       /* jsonpos path steps we track */
#define MSG_CAP 1024     /* one finding's text */
#define SAN_CAP 100      /* a document string quoted in a message */
#define MAX_PATTERN 4096 /* longer action/resource patterns are assumed to match */
#define MAX_SHOWN 100    /* findings shown per file */

/* ---------------------------------------------------------------------------
 * Pattern matching
 */

static int ceq(char a, char b, int icase)
{
	if (icase)
		return tolower((unsigned char)a) == tolower((unsigned char)b);
	return a == b;
}

/* Classic glob with one backtrack point: '*' any run, '?' one char. */
static int glob_match(const char *p, size_t pn, const char *s, size_t sn, int icase)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && (p[pi] == '?' || ceq(p[pi], s[si], icase))) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else {
			return 0;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

int ig_iam_action_match(const char *pattern, const char *action)
{
	const char *pc, *ac;

	if (pattern == NULL || action == NULL || action[0] == '\0')
		return 0;
	if (strcmp(pattern, "*") == 0)
		return (ac = strchr(action, ':')) != NULL && ac != action && ac[1] != '\0';
	if ((pc = strchr(pattern, ':')) == NULL || (ac = strchr(action, ':')) == NULL)
		return 0;
	if (pc == pattern || pc[1] == '\0' || ac == action || ac[1] == '\0')
		return 0;
	return glob_match(pattern, (size_t)(pc - pattern), action, (size_t)(ac - action), 1) &&
	       glob_match(pc + 1, strlen(pc + 1), ac + 1, strlen(ac + 1), 1);
}

int ig_iam_resource_match(const char *pattern, const char *arn)
{
	if (pattern == NULL || arn == NULL)
		return 0;
	return glob_match(pattern, strlen(pattern), arn, strlen(arn), 0);
}

/* Our side's tokens: '*' = [^:]*, '%' = .*, '?' = [^:], else literal. */
static int t_loops(char t)
{
	return t == '*' || t == '%';
}

static int t_nocolon(char t)
{
	return t == '*' || t == '?';
}

/*
 * 1 if some string matches both the policy pattern p (glob, '*' and '?'
 * unrestricted) and our target pattern t (tokens above).  A search over the
 * product of the two automata: states (i, j), visited once each.
 */
static int meets(const char *p, size_t m, const char *t, size_t k, int icase)
{
	size_t w = k + 1, nstates;
	uint8_t *seen = NULL;
	uint32_t *stack = NULL;
	size_t sp = 0, cap = 64;
	int found = 0;

	if (m > MAX_PATTERN || k > MAX_PATTERN)
		return 1; /* absurd length: assume it matches (fail closed) */
	nstates = (m + 1) * w;
	seen = calloc((nstates + 7) / 8, 1);
	stack = malloc(cap * sizeof(*stack));
	if (seen == NULL || stack == NULL) {
		found = 1; /* fail closed: report rather than miss */
		goto out;
	}
	/* Each state is pushed at most once, so the stack never exceeds nstates;
	 * it starts small because most searches touch few states. */
#define VISIT(I, J)                                                                                \
	do {                                                                                       \
		size_t s_ = (I)*w + (J);                                                           \
		if (!(seen[s_ / 8] & (1u << (s_ % 8)))) {                                          \
			seen[s_ / 8] |= (uint8_t)(1u << (s_ % 8));                                 \
			if (sp == cap) {                                                           \
				uint32_t *ns_ = realloc(stack, 2 * cap * sizeof(*stack));          \
				if (ns_ == NULL) {                                                 \
					found = 1;                                                 \
					goto out;                                                  \
				}                                                                  \
				stack = ns_;                                                       \
				cap *= 2;                                                          \
			}                                                                          \
			stack[sp++] = (uint32_t)s_;                                                \
		}                                                                                  \
	} while (0)
	VISIT(0, 0);
	while (sp > 0) {
		size_t s = stack[--sp], i = s / w, j = s % w;
		if (i == m && j == k) {
			found = 1;
			break;
		}
		if (i < m && p[i] == '*')
			VISIT(i + 1, j);
		if (j < k && t_loops(t[j]))
			VISIT(i, j + 1);
		if (i < m && j < k) {
			char pc = p[i], tc = t[j];
			size_t ni = pc == '*' ? i : i + 1;
			size_t nj = t_loops(tc) ? j : j + 1;
			int p_lit = pc != '*' && pc != '?';
			int t_lit = !t_loops(tc) && tc != '?';
			int ok;
			if (p_lit && t_lit)
				ok = ceq(pc, tc, icase);
			else if (p_lit)
				ok = !(t_nocolon(tc) && pc == ':');
			else
				ok = 1; /* the policy's wildcard can be whatever ours needs */
			if (ok && (ni != i || nj != j))
				VISIT(ni, nj);
		}
	}
#undef VISIT
out:
	free(seen);
	free(stack);
	return found;
}

/*
 * A policy resource pattern with policy variables ("${aws:username}") widened
 * to '*': the variable can expand to anything the caller controls.
 */
static char *widen_vars(const char *p)
{
	size_t n = strlen(p), o = 0;
	char *q = malloc(n + 1);

	if (q == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *end;
		if (p[i] == '$' && p[i + 1] == '{' && (end = strchr(p + i + 2, '}')) != NULL) {
			q[o++] = '*';
			i = (size_t)(end - p);
			continue;
		}
		q[o++] = p[i];
	}
	q[o] = '\0';
	return q;
}

static int resource_meets(const char *policy_pattern, const char *target)
{
	char *w = widen_vars(policy_pattern);
	int r;

	if (w == NULL)
		return 1; /* fail closed */
	r = meets(w, strlen(w), target, strlen(target), 0);
	free(w);
	return r;
}

/* ---------------------------------------------------------------------------
 * What counts as customer data
 */

enum cat { CAT_RDS, CAT_RDSLOG, CAT_BACKUP, CAT_S3OBJ, CAT_S3BUCKET, CAT_LOGS, CAT_COUNT };

static const char *const cat_name[CAT_COUNT] = {
        [CAT_RDS] = "RDS snapshots, exports and restores",
        [CAT_RDSLOG] = "RDS database log files",
        [CAT_BACKUP] = "AWS Backup recovery points",
        [CAT_S3OBJ] = "objects in a pii bucket",
        [CAT_S3BUCKET] = "access policy or replication of a pii bucket",
        [CAT_LOGS] = "RDS CloudWatch log groups",
};

/* Resource targets per category ('*' = within a segment, '%' = anything). */
static const char *const rds_targets[] = {"arn:*:rds:*:*:%", NULL};
static const char *const backup_targets[] = {"%", NULL};
static const char *const logs_targets[] = {
        "arn:*:logs:*:*:log-group:/aws/rds/*",
        "arn:*:logs:*:*:log-group:/aws/rds/*:log-stream:*",
        NULL,
};

struct sens_action {
	const char *action;
	enum cat cat;
};

/* Real action names (IAM Service Authorization Reference). */
static const struct sens_action sens_actions[] = {
        {"rds:CopyDBSnapshot", CAT_RDS},
        {"rds:CopyDBClusterSnapshot", CAT_RDS},
        {"rds:ModifyDBSnapshotAttribute", CAT_RDS},
        {"rds:ModifyDBClusterSnapshotAttribute", CAT_RDS},
        {"rds:StartExportTask", CAT_RDS},
        {"rds:RestoreDBInstanceFromDBSnapshot", CAT_RDS},
        {"rds:RestoreDBClusterFromSnapshot", CAT_RDS},
        {"rds:RestoreDBInstanceToPointInTime", CAT_RDS},
        {"rds:RestoreDBClusterToPointInTime", CAT_RDS},
        {"rds:DownloadDBLogFilePortion", CAT_RDSLOG},
        {"rds:DownloadCompleteDBLogFile", CAT_RDSLOG},
        {"backup:StartRestoreJob", CAT_BACKUP},
        {"backup:GetRecoveryPointRestoreMetadata", CAT_BACKUP},
        {"backup:StartCopyJob", CAT_BACKUP},
        {"backup:PutBackupVaultAccessPolicy", CAT_BACKUP},
        {"s3:GetObject", CAT_S3OBJ},
        {"s3:GetObjectVersion", CAT_S3OBJ},
        {"s3:GetObjectTorrent", CAT_S3OBJ},
        {"s3:GetObjectVersionTorrent", CAT_S3OBJ},
        {"s3:GetObjectVersionForReplication", CAT_S3OBJ},
        {"s3:ReplicateObject", CAT_S3OBJ},
        {"s3:PutObjectAcl", CAT_S3OBJ},
        {"s3:PutObjectVersionAcl", CAT_S3OBJ},
        {"s3:PutBucketPolicy", CAT_S3BUCKET},
        {"s3:DeleteBucketPolicy", CAT_S3BUCKET},
        {"s3:PutBucketAcl", CAT_S3BUCKET},
        {"s3:PutReplicationConfiguration", CAT_S3BUCKET},
        {"logs:GetLogEvents", CAT_LOGS},
        {"logs:FilterLogEvents", CAT_LOGS},
        {"logs:StartQuery", CAT_LOGS},
        {"logs:GetLogRecord", CAT_LOGS},
        {"logs:StartLiveTail", CAT_LOGS},
        {"logs:CreateExportTask", CAT_LOGS},
        {"logs:PutSubscriptionFilter", CAT_LOGS},
        {"logs:Unmask", CAT_LOGS},
};

/* Verbs that begin the names of actions that change something. */
static const char *const write_verbs[] = {
        /* the most common first: the first match is the one a message names */
        "Put",     "Create",    "Delete",   "Update",    "Modify",     "Attach",   "Detach",
        "Start",   "Stop",      "Restore",  "Copy",      "Tag",        "Untag",    "Set",
        "Add",     "Remove",    "Reboot",   "Terminate", "Run",        "Invoke",   "Pass",
        "Abort",   "Accept",    "Allocate", "Apply",     "Associate",  "Assume",   "Authorize",
        "Cancel",  "Change",    "Complete", "Decrypt",   "Deregister", "Disable",  "Disassociate",
        "Enable",  "Encrypt",   "Execute",  "Export",    "Failover",   "Import",   "Initiate",
        "Promote", "Publish",   "Purge",    "ReEncrypt", "Register",   "Reject",   "Release",
        "Replace", "Replicate", "Reset",    "Revoke",    "Rotate",     "Schedule", "Send",
        "Unmask",  "Upload",    "Write",
};

/* ---------------------------------------------------------------------------
 * Analysis context and reporting
 */

struct pctx {
	const struct ig_policy_opts *o;
	const struct ig_policy_role *role;
	const char *file;
	ig_policy_report_fn fn;
	void *fnctx;
	regex_t sid_re;
	const char *sid_pattern;
	int errors;
	int reach;
	int is_trust;
	int shown;  /* findings shown for the current file */
	int hidden; /* findings counted but not shown */
	/* where positions come from */
	const char *text;
	size_t len;
	int fixed_line; /* > 0: the document came from a string on this line */
	struct ig_json_step path[MAXPATH];
	size_t np;
};

static void push_key(struct pctx *c, const char *key)
{
	if (c->np < MAXPATH)
		c->path[c->np] = (struct ig_json_step){key, 0};
	c->np++;
}

static void push_idx(struct pctx *c, size_t i)
{
	if (c->np < MAXPATH)
		c->path[c->np] = (struct ig_json_step){NULL, i};
	c->np++;
}

static void pop(struct pctx *c)
{
	c->np--;
}

/* Line of the current path (its key if where_key), or the nearest ancestor. */
static int here(const struct pctx *c, int where_key)
{
	size_t n = c->np < MAXPATH ? c->np : MAXPATH;
	int line, col;

	if (c->fixed_line > 0)
		return c->fixed_line;
	if (c->text == NULL)
		return 1;
	for (;;) {
		if (ig_json_locate(c->text, c->len, c->path, n, where_key, &line, &col) == 0)
			return line;
		if (n == 0)
			return 1;
		n--;
		where_key = 0;
	}
}

/* Copy s as printable ASCII (others as '?', '"' as '\''), truncated. */
static const char *san(const char *s, char *buf, size_t cap)
{
	size_t o = 0, i = 0;

	if (s == NULL)
		s = "(null)";
	for (; s[i] != '\0' && o + 4 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf[o++] = ch == '"' ? '\'' : (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	if (s[i] != '\0') {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Report a finding at line (or, when line < 0, at the current path's line,
 * where_key as given).  After MAX_SHOWN findings in one file the rest are
 * only counted: each position costs a scan of the file, and a hostile file
 * with thousands of statements must not make the check quadratic.
 */
static void vfinding(struct pctx *c, int line, int where_key, enum ig_policy_sev sev,
                     const char *fmt, va_list ap)
{
	char msg[MSG_CAP];
	int n;

	if (sev == IG_POLICY_ERROR)
		c->errors++;
	if (c->shown >= MAX_SHOWN) {
		c->hidden++;
		return;
	}
	c->shown++;
	if (line < 0)
		line = here(c, where_key);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		memcpy(msg, "(message could not be formatted)", 33);
	/* A message is one line of printable ASCII whatever went into it. */
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	c->fn(c->fnctx, c->file, line, sev, msg);
}

static void finding(struct pctx *c, int line, enum ig_policy_sev sev, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void finding(struct pctx *c, int line, enum ig_policy_sev sev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinding(c, line, 0, sev, fmt, ap);
	va_end(ap);
}

static void finding_here(struct pctx *c, int where_key, enum ig_policy_sev sev, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));

static void finding_here(struct pctx *c, int where_key, enum ig_policy_sev sev, const char *fmt,
                         ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinding(c, -1, where_key, sev, fmt, ap);
	va_end(ap);
}

/* Start counting shown findings afresh (per file); report what was hidden. */
static void flush_hidden(struct pctx *c)
{
	if (c->hidden > 0)
		c->fn(c->fnctx, c->file, 1, IG_POLICY_WARNING,
		      "more findings in this file were counted but not shown; fix the ones above "
		      "and run the check again");
	c->shown = 0;
	c->hidden = 0;
}

#define ERR_HERE(c, wk, ...) finding_here((c), (wk), IG_POLICY_ERROR, __VA_ARGS__)
#define WARN_HERE(c, wk, ...) finding_here((c), (wk), IG_POLICY_WARNING, __VA_ARGS__)

/* ---------------------------------------------------------------------------
 * String lists (Action, Resource, ...: a string or an array of strings)
 */

struct slist {
	const char *key; /* member name, for positions and messages */
	const char **v;
	size_t n;
	int present;
	int is_array;
};

/* 0 ok (possibly absent), 1 malformed (reported as a finding), or IG_ERR_NOMEM. */
static int slist_get(struct pctx *c, json_t *obj, const char *key, struct slist *l)
{
	json_t *v = json_object_get(obj, key);
	size_t i;
	json_t *e;

	memset(l, 0, sizeof(*l));
	l->key = key;
	if (v == NULL)
		return 0;
	l->present = 1;
	push_key(c, key);
	if (json_is_string(v)) {
		l->n = 1;
		l->v = malloc(sizeof(*l->v));
		if (l->v == NULL) {
			pop(c);
			return IG_ERR_NOMEM;
		}
		l->v[0] = json_string_value(v);
		pop(c);
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) == 0) {
		ERR_HERE(c, 0, "%s must be a string or a non-empty array of strings", key);
		pop(c);
		return 1;
	}
	l->is_array = 1;
	l->n = json_array_size(v);
	l->v = calloc(l->n, sizeof(*l->v));
	if (l->v == NULL) {
		pop(c);
		return IG_ERR_NOMEM;
	}
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e)) {
			push_idx(c, i);
			ERR_HERE(c, 0, "%s[%zu] must be a string", key, i);
			pop(c);
			pop(c);
			free(l->v);
			l->v = NULL;
			return 1;
		}
		l->v[i] = json_string_value(e);
	}
	pop(c);
	return 0;
}

static void slist_free(struct slist *l)
{
	free(l->v);
	l->v = NULL;
}

/* Make element i of l (a member of the current statement) the current path. */
static void push_elem(struct pctx *c, const struct slist *l, size_t i)
{
	push_key(c, l->key);
	if (l->is_array)
		push_idx(c, i);
}

static void pop_elem(struct pctx *c, const struct slist *l)
{
	if (l->is_array)
		pop(c);
	pop(c);
}

/* ---------------------------------------------------------------------------
 * Statement rules
 */

static int all_stars(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '*')
			return 0;
	return 1;
}

/* "*", "*:*", "**:*" ...: every action of every service. */
static int action_is_blanket(const char *a)
{
	const char *colon = strchr(a, ':');

	if (colon == NULL)
		return all_stars(a, strlen(a));
	return all_stars(a, (size_t)(colon - a)) && all_stars(colon + 1, strlen(colon + 1));
}

/* "*", "arn:*", "arn:aws:*", "arn:*:*:*:*:*": every resource. */
static int resource_is_blanket(const char *r)
{
	const char *rest = r;
	int stars = 0;

	if (strncmp(rest, "arn:", 4) == 0) {
		const char *colon;
		rest += 4;
		colon = strchr(rest, ':');
		if (colon != NULL && colon > rest &&
		    memchr(rest, '*', (size_t)(colon - rest)) == NULL)
			rest = colon + 1; /* a literal partition */
	}
	if (*rest == '\0')
		return 0;
	for (; *rest != '\0'; rest++) {
		if (*rest == '*')
			stars = 1;
		else if (*rest != ':')
			return 0;
	}
	return stars;
}

static int action_is_wellformed(const char *a)
{
	const char *colon = strchr(a, ':');

	if (strcmp(a, "*") == 0)
		return 1;
	return colon != NULL && colon != a && colon[1] != '\0' && strchr(colon + 1, ':') == NULL;
}

/* Does the action part of the pattern begin with a wildcard ("rds:*")?  Then
 * naming one verb it can begin with would mislead. */
static int starts_wild(const char *pattern)
{
	const char *colon = strchr(pattern, ':');
	const char *act = colon ? colon + 1 : pattern;

	return act[0] == '*' || act[0] == '?';
}

/* The first write verb the action pattern can begin with, or NULL. */
static const char *write_verb_of(const char *pattern)
{
	const char *colon = strchr(pattern, ':');
	const char *act = colon ? colon + 1 : pattern;
	char target[64];

	for (size_t i = 0; i < sizeof(write_verbs) / sizeof(write_verbs[0]); i++) {
		if (ig_bfmt(target, sizeof(target), "%s%%", write_verbs[i]) != 0)
			continue;
		if (meets(act, strlen(act), target, strlen(target), 1))
			return write_verbs[i];
	}
	return NULL;
}

/* Does the statement allow action (Action patterns, or outside NotAction)?
 * *which receives the index of the matching Action element (or SIZE_MAX). */
static int allows_action(const struct slist *act, const struct slist *notact, const char *action,
                         size_t *which)
{
	*which = SIZE_MAX;
	if (act->present) {
		for (size_t i = 0; i < act->n; i++) {
			if (ig_iam_action_match(act->v[i], action)) {
				*which = i;
				return 1;
			}
		}
		return 0;
	}
	if (notact->present) {
		for (size_t i = 0; i < notact->n; i++)
			if (ig_iam_action_match(notact->v[i], action))
				return 0;
		return 1;
	}
	return 0;
}

/* Index of the first resource pattern that can name a target of category cat,
 * SIZE_MAX if none; with NotResource every resource counts (returns 0). */
static size_t reaches_resource(const struct pctx *c, const struct slist *res,
                               const struct slist *notres, enum cat cat)
{
	const char *const *targets = NULL;
	char t[160];

	if (notres->present)
		return 0;
	switch (cat) {
	case CAT_RDS:
	case CAT_RDSLOG: targets = rds_targets; break;
	case CAT_BACKUP: targets = backup_targets; break;
	case CAT_LOGS: targets = logs_targets; break;
	case CAT_S3OBJ:
	case CAT_S3BUCKET:
		for (size_t b = 0; b < c->o->n_pii_buckets; b++) {
			if (ig_bfmt(t, sizeof(t), "arn:*:s3:::%s%s", c->o->pii_buckets[b],
			            cat == CAT_S3OBJ ? "/%" : "") != 0)
				continue; /* names were validated: cannot happen */
			for (size_t i = 0; i < res->n; i++)
				if (resource_meets(res->v[i], t))
					return i;
		}
		return SIZE_MAX;
	default: return SIZE_MAX;
	}
	for (size_t k = 0; targets[k] != NULL; k++)
		for (size_t i = 0; i < res->n; i++)
			if (resource_meets(res->v[i], targets[k]))
				return i;
	return SIZE_MAX;
}

static void check_reach(struct pctx *c, const struct slist *act, const struct slist *notact,
                        const struct slist *res, const struct slist *notres)
{
	int done[CAT_COUNT] = {0};
	size_t res_at[CAT_COUNT]; /* per category: resource index, SIZE_MAX none */
	int res_known[CAT_COUNT] = {0};
	char s1[SAN_CAP], s2[SAN_CAP], s3[SAN_CAP];

	for (size_t i = 0; i < sizeof(sens_actions) / sizeof(sens_actions[0]); i++) {
		const struct sens_action *sa = &sens_actions[i];
		size_t which, ri;

		if (done[sa->cat] || !allows_action(act, notact, sa->action, &which))
			continue;
		if (!res_known[sa->cat]) {
			res_at[sa->cat] = reaches_resource(c, res, notres, sa->cat);
			res_known[sa->cat] = 1;
		}
		if ((ri = res_at[sa->cat]) == SIZE_MAX)
			continue;
		done[sa->cat] = 1;
		c->reach = 1;
		if (c->role->pii)
			continue;
		if (which != SIZE_MAX)
			push_elem(c, act, which);
		else
			push_key(c, notact->key);
		ERR_HERE(c, 0,
		         "role \"%s\" is not marked pii but this statement reaches customer data "
		         "(%s): "
		         "%s through \"%s\" on \"%s\"; mark the role pii or narrow the statement",
		         san(c->role->name, s1, sizeof(s1)), cat_name[sa->cat], sa->action,
		         which != SIZE_MAX ? san(act->v[which], s2, sizeof(s2)) : "NotAction",
		         notres->present ? "NotResource" : san(res->v[ri], s3, sizeof(s3)));
		if (which != SIZE_MAX)
			pop_elem(c, act);
		else
			pop(c);
	}
}

static int key_allowed(const char *key, const char *const *allowed)
{
	for (size_t i = 0; allowed[i] != NULL; i++)
		if (strcmp(key, allowed[i]) == 0)
			return 1;
	return 0;
}

/* Does this condition operator make the key's presence mandatory? */
static int op_requires(const char *op, json_t *value)
{
	size_t n = strlen(op);

	if (strncasecmp(op, "ForAllValues:", 13) == 0)
		return 0; /* true for an absent key */
	if (n >= 8 && strcasecmp(op + n - 8, "IfExists") == 0)
		return 0;
	if (strcasecmp(op, "Null") == 0) {
		/* {"Null": {"k": "false"}} requires k; "true" requires its absence. */
		if (json_is_false(value))
			return 1;
		return json_is_string(value) && strcasecmp(json_string_value(value), "false") == 0;
	}
	return 1;
}

/* 1 if the statement's Condition requires one of keys[] (case-insensitive). */
static int condition_requires(json_t *cond, const char *const *keys)
{
	const char *op, *k;
	json_t *block, *v;

	if (!json_is_object(cond))
		return 0;
	json_object_foreach(cond, op, block)
	{
		if (!json_is_object(block))
			continue;
		json_object_foreach(block, k, v)
		{
			for (size_t i = 0; keys[i] != NULL; i++)
				if (strcasecmp(k, keys[i]) == 0 && op_requires(op, v))
					return 1;
		}
	}
	return 0;
}

/* Condition must be {"Operator": {"key": value, ...}, ...}. */
static int condition_wellformed(struct pctx *c, json_t *cond)
{
	const char *op;
	json_t *block;

	push_key(c, "Condition");
	if (!json_is_object(cond)) {
		ERR_HERE(c, 0, "Condition must be an object of operators");
		pop(c);
		return 0;
	}
	json_object_foreach(cond, op, block)
	{
		if (!json_is_object(block)) {
			push_key(c, op);
			ERR_HERE(c, 0, "Condition operator block must be an object of keys");
			pop(c);
			pop(c);
			return 0;
		}
	}
	pop(c);
	return 1;
}

struct trust_state {
	int assume, ssi, tag;
};

static int is_account_principal(const char *p)
{
	size_t n = strlen(p);

	if (n == 12 && strspn(p, "0123456789") == 12)
		return 1;
	return n > 5 && strcmp(p + n - 5, ":root") == 0;
}

/* Check the Principal of an Allow statement; *names_bastion = 1 if it names
 * the bastion.  Returns 0 or IG_ERR_NOMEM. */
static int check_principal(struct pctx *c, json_t *pr, int *names_bastion)
{
	static const char *const kinds[] = {"AWS", "Service", "Federated", "CanonicalUser", NULL};
	const char *kind;
	json_t *v;
	char s1[SAN_CAP], s2[SAN_CAP];

	*names_bastion = 0;
	push_key(c, "Principal");
	if (json_is_string(pr) && strcmp(json_string_value(pr), "*") == 0) {
		ERR_HERE(c, 0,
		         "trust policy trusts any principal (\"*\"); only the bastion role %s "
		         "may assume this role",
		         san(c->o->bastion_role_arn, s1, sizeof(s1)));
		pop(c);
		return 0;
	}
	if (!json_is_object(pr)) {
		ERR_HERE(c, 0, "Principal must be \"*\" or an object");
		pop(c);
		return 0;
	}
	json_object_foreach(pr, kind, v)
	{
		struct slist l;
		int r;
		if (!key_allowed(kind, kinds)) {
			push_key(c, kind);
			ERR_HERE(c, 1, "unknown principal type \"%s\"", san(kind, s1, sizeof(s1)));
			pop(c);
			continue;
		}
		if ((r = slist_get(c, pr, kind, &l)) < 0) {
			pop(c);
			return r;
		}
		if (r > 0)
			continue;
		for (size_t i = 0; i < l.n; i++) {
			const char *p = l.v[i];
			push_elem(c, &l, i);
			if (strcmp(kind, "AWS") != 0)
				ERR_HERE(c, 0,
				         "trust policy trusts %s principal \"%s\"; only the "
				         "bastion role "
				         "%s may assume this role",
				         kind, san(p, s1, sizeof(s1)),
				         san(c->o->bastion_role_arn, s2, sizeof(s2)));
			else if (strcmp(p, c->o->bastion_role_arn) == 0)
				*names_bastion = 1;
			else if (strcmp(p, "*") == 0)
				ERR_HERE(c, 0,
				         "trust policy trusts any AWS principal (\"*\"); only the "
				         "bastion "
				         "role %s may assume this role",
				         san(c->o->bastion_role_arn, s1, sizeof(s1)));
			else if (is_account_principal(p))
				ERR_HERE(c, 0,
				         "trust policy trusts account \"%s\" (every principal it "
				         "allows); "
				         "only the bastion role %s may assume this role",
				         san(p, s1, sizeof(s1)),
				         san(c->o->bastion_role_arn, s2, sizeof(s2)));
			else
				ERR_HERE(c, 0,
				         "trust policy trusts principal \"%s\"; only the bastion "
				         "role %s "
				         "may assume this role",
				         san(p, s1, sizeof(s1)),
				         san(c->o->bastion_role_arn, s2, sizeof(s2)));
			pop_elem(c, &l);
		}
		slist_free(&l);
	}
	pop(c);
	return 0;
}

static int check_trust_statement(struct pctx *c, json_t *st, const struct slist *act,
                                 const struct slist *notact, struct trust_state *ts)
{
	static const char *const tag_keys[] = {"aws:RequestTag/bastion-source-ip",
	                                       "aws:PrincipalTag/bastion-source-ip", NULL};
	static const char *const sid_keys[] = {"sts:SourceIdentity", "aws:SourceIdentity", NULL};
	json_t *pr = json_object_get(st, "Principal");
	json_t *cond = json_object_get(st, "Condition");
	size_t which;
	int bastion, r;

	if (json_object_get(st, "NotPrincipal") != NULL) {
		push_key(c, "NotPrincipal");
		ERR_HERE(c, 1,
		         "NotPrincipal with Effect Allow trusts every principal not listed; "
		         "name the bastion role in Principal");
		pop(c);
	}
	if (pr == NULL) {
		if (json_object_get(st, "NotPrincipal") == NULL)
			ERR_HERE(c, 0, "trust statement has no Principal");
		return 0;
	}
	if ((r = check_principal(c, pr, &bastion)) < 0 || !bastion)
		return r;
	if (allows_action(act, notact, "sts:SetSourceIdentity", &which))
		ts->ssi = 1;
	if (allows_action(act, notact, "sts:TagSession", &which))
		ts->tag = 1;
	if (!allows_action(act, notact, "sts:AssumeRole", &which))
		return 0;
	ts->assume = 1;
	if (c->role->pii) {
		if (!condition_requires(cond, tag_keys))
			ERR_HERE(
			        c, 0,
			        "pii role trust policy: this AssumeRole statement has no condition "
			        "requiring the bastion-source-ip session tag "
			        "(aws:RequestTag/bastion-source-ip)");
		if (!condition_requires(cond, sid_keys))
			ERR_HERE(
			        c, 0,
			        "pii role trust policy: this AssumeRole statement has no condition "
			        "requiring the source identity (sts:SourceIdentity)");
	} else if (!condition_requires(cond, sid_keys)) {
		WARN_HERE(c, 0,
		          "trust policy: this AssumeRole statement has no condition requiring the "
		          "source identity (sts:SourceIdentity), so CloudTrail may not name the "
		          "person");
	}
	return 0;
}

struct sid_seen {
	const char **v;
	size_t n, cap;
};

static int check_sid(struct pctx *c, json_t *st, struct sid_seen *seen)
{
	json_t *sid = json_object_get(st, "Sid");
	char s1[SAN_CAP], s2[SAN_CAP];
	const char *s;

	if (sid == NULL) {
		ERR_HERE(c, 0, "statement has no Sid; name it (Sid naming rule %s)",
		         san(c->sid_pattern, s1, sizeof(s1)));
		return 0;
	}
	push_key(c, "Sid");
	if (!json_is_string(sid)) {
		ERR_HERE(c, 0, "Sid must be a string");
		pop(c);
		return 0;
	}
	s = json_string_value(sid);
	if (regexec(&c->sid_re, s, 0, NULL, 0) != 0)
		ERR_HERE(c, 0, "Sid \"%s\" does not match the Sid naming rule %s",
		         san(s, s1, sizeof(s1)), san(c->sid_pattern, s2, sizeof(s2)));
	for (size_t i = 0; i < seen->n; i++) {
		if (strcmp(seen->v[i], s) == 0) {
			ERR_HERE(c, 0, "duplicate Sid \"%s\" in this policy",
			         san(s, s1, sizeof(s1)));
			pop(c);
			return 0;
		}
	}
	if (seen->n == seen->cap) {
		size_t ncap = seen->cap ? seen->cap * 2 : 16;
		const char **nv = realloc(seen->v, ncap * sizeof(*nv));
		if (nv == NULL) {
			pop(c);
			return IG_ERR_NOMEM;
		}
		seen->v = nv;
		seen->cap = ncap;
	}
	seen->v[seen->n++] = s;
	pop(c);
	return 0;
}

static int check_statement(struct pctx *c, json_t *st, struct sid_seen *seen,
                           struct trust_state *ts)
{
	static const char *const perm_keys[] = {"Sid",      "Effect",      "Action",    "NotAction",
	                                        "Resource", "NotResource", "Condition", NULL};
	static const char *const trust_keys[] = {"Sid",    "Effect",    "Principal", "NotPrincipal",
	                                         "Action", "NotAction", "Condition", NULL};
	struct slist act = {0}, notact = {0}, res = {0}, notres = {0};
	const char *key, *eff;
	json_t *v, *effect;
	char s1[SAN_CAP], s2[SAN_CAP];
	int allow, r, bad = 0;

	if (!json_is_object(st)) {
		ERR_HERE(c, 0, "statement must be an object");
		return 0;
	}
	json_object_foreach(st, key, v)
	{
		if (key_allowed(key, c->is_trust ? trust_keys : perm_keys))
			continue;
		push_key(c, key);
		if (!c->is_trust &&
		    (strcmp(key, "Principal") == 0 || strcmp(key, "NotPrincipal") == 0))
			ERR_HERE(c, 1, "%s in a permission policy (it belongs in trust.json)", key);
		else if (c->is_trust &&
		         (strcmp(key, "Resource") == 0 || strcmp(key, "NotResource") == 0))
			ERR_HERE(c, 1, "%s in a trust policy (IAM refuses it)", key);
		else
			ERR_HERE(c, 1, "unknown key \"%s\" in statement", san(key, s1, sizeof(s1)));
		pop(c);
	}
	if ((r = check_sid(c, st, seen)) < 0)
		return r;

	effect = json_object_get(st, "Effect");
	eff = json_is_string(effect) ? json_string_value(effect) : NULL;
	if (eff == NULL || (strcmp(eff, "Allow") != 0 && strcmp(eff, "Deny") != 0)) {
		if (effect != NULL)
			push_key(c, "Effect");
		ERR_HERE(c, 0, "Effect must be \"Allow\" or \"Deny\"");
		if (effect != NULL)
			pop(c);
		return 0;
	}
	allow = strcmp(eff, "Allow") == 0;

	if ((r = slist_get(c, st, "Action", &act)) != 0 ||
	    (r = slist_get(c, st, "NotAction", &notact)) != 0 ||
	    (r = slist_get(c, st, "Resource", &res)) != 0 ||
	    (r = slist_get(c, st, "NotResource", &notres)) != 0)
		goto out;
	if (act.present == notact.present) {
		ERR_HERE(c, 0, "statement needs exactly one of Action and NotAction");
		bad = 1;
	}
	if (!c->is_trust && res.present == notres.present) {
		ERR_HERE(c, 0, "statement needs exactly one of Resource and NotResource");
		bad = 1;
	}
	for (int pass = 0; pass < 2; pass++) {
		const struct slist *l = pass ? &notact : &act;
		for (size_t i = 0; i < l->n; i++) {
			if (action_is_wellformed(l->v[i]))
				continue;
			push_elem(c, l, i);
			ERR_HERE(c, 0, "malformed action \"%s\"; write service:Action",
			         san(l->v[i], s1, sizeof(s1)));
			pop_elem(c, l);
			bad = 1;
		}
	}
	if (json_object_get(st, "Condition") != NULL &&
	    !condition_wellformed(c, json_object_get(st, "Condition")))
		bad = 1;
	if (bad || !allow)
		goto out;

	for (size_t i = 0; i < act.n; i++) {
		if (!action_is_blanket(act.v[i]))
			continue;
		push_elem(c, &act, i);
		ERR_HERE(c, 0,
		         "Action \"%s\" allows every action; name the actions this duty needs",
		         san(act.v[i], s1, sizeof(s1)));
		pop_elem(c, &act);
	}
	if (notact.present) {
		push_key(c, "NotAction");
		ERR_HERE(c, 1,
		         "NotAction with Effect Allow allows every action not listed; list the "
		         "actions instead");
		pop(c);
	}
	if (c->is_trust) {
		r = check_trust_statement(c, st, &act, &notact, ts);
		goto out;
	}
	if (notres.present) {
		push_key(c, "NotResource");
		WARN_HERE(c, 1,
		          "NotResource with Effect Allow applies to every resource not listed; "
		          "list the resources instead");
		pop(c);
	}
	for (size_t i = 0; i < res.n; i++) {
		const char *verb = NULL;
		size_t a;
		if (!resource_is_blanket(res.v[i]))
			continue;
		for (a = 0; a < act.n && verb == NULL; a++)
			verb = write_verb_of(act.v[a]);
		if (verb == NULL && !notact.present)
			continue;
		push_elem(c, &res, i);
		ERR_HERE(c, 0,
		         "Resource \"%s\" on write action \"%s\" (%s%s); name the resources it may "
		         "change",
		         san(res.v[i], s1, sizeof(s1)),
		         verb ? san(act.v[a - 1], s2, sizeof(s2)) : "NotAction",
		         verb && !starts_wild(act.v[a - 1]) ? verb : "any write verb",
		         verb && !starts_wild(act.v[a - 1]) ? "..." : "");
		pop_elem(c, &res);
		break;
	}
	check_reach(c, &act, &notact, &res, &notres);
out:
	slist_free(&act);
	slist_free(&notact);
	slist_free(&res);
	slist_free(&notres);
	return r < 0 ? r : 0;
}

/* The policy document itself: {"Version", "Id", "Statement"}. */
static int check_document(struct pctx *c, json_t *doc)
{
	static const char *const doc_keys[] = {"Version", "Id", "Statement", NULL};
	struct sid_seen seen = {0};
	struct trust_state ts = {0};
	const char *key;
	json_t *v, *stmts, *ver;
	char s1[SAN_CAP];
	int r = 0;

	if (!json_is_object(doc)) {
		ERR_HERE(c, 0, "policy document must be a JSON object");
		return 0;
	}
	json_object_foreach(doc, key, v)
	{
		if (key_allowed(key, doc_keys))
			continue;
		push_key(c, key);
		ERR_HERE(c, 1, "unknown key \"%s\" in policy document", san(key, s1, sizeof(s1)));
		pop(c);
	}
	ver = json_object_get(doc, "Version");
	if (ver == NULL) {
		WARN_HERE(c, 0, "no Version; write \"Version\": \"2012-10-17\"");
	} else {
		const char *s = json_is_string(ver) ? json_string_value(ver) : "";
		push_key(c, "Version");
		if (strcmp(s, "2008-10-17") == 0)
			WARN_HERE(c, 0,
			          "Version 2008-10-17 has no policy variables; use 2012-10-17");
		else if (strcmp(s, "2012-10-17") != 0)
			ERR_HERE(c, 0, "Version must be \"2012-10-17\"");
		pop(c);
	}
	stmts = json_object_get(doc, "Statement");
	if (stmts == NULL) {
		ERR_HERE(c, 0, "policy document has no Statement");
		return 0;
	}
	push_key(c, "Statement");
	if (json_is_array(stmts)) {
		size_t i;
		json_t *st;
		if (json_array_size(stmts) == 0)
			ERR_HERE(c, 0, "Statement is empty");
		json_array_foreach(stmts, i, st)
		{
			push_idx(c, i);
			r = check_statement(c, st, &seen, &ts);
			pop(c);
			if (r < 0)
				goto out;
		}
	} else if (json_is_object(stmts)) {
		if ((r = check_statement(c, stmts, &seen, &ts)) < 0)
			goto out;
	} else {
		ERR_HERE(c, 0, "Statement must be an object or an array of objects");
		goto out;
	}
	if (c->is_trust) {
		if (!ts.assume)
			ERR_HERE(
			        c, 1,
			        "trust policy does not allow the bastion role %s to sts:AssumeRole",
			        san(c->o->bastion_role_arn, s1, sizeof(s1)));
		if (!ts.ssi)
			ERR_HERE(c, 1,
			         "trust policy does not allow sts:SetSourceIdentity for the "
			         "bastion role; "
			         "CloudTrail could not name the person");
		if (!ts.tag)
			ERR_HERE(c, 1,
			         "trust policy does not allow sts:TagSession for the bastion role; "
			         "the "
			         "session tags (user, bastion-source-ip) could not be set");
	}
out:
	pop(c);
	free(seen.v);
	return r;
}

/* ---------------------------------------------------------------------------
 * Documents: plain, CLI wrappers, URL-encoded strings
 */

static int hexval(char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'a' && h <= 'f')
		return h - 'a' + 10;
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	return -1;
}

/* RFC 3986 percent-decoding ('+' stays '+'); NULL on a bad escape. */
static char *url_decode(const char *s, size_t n, size_t *outlen)
{
	char *d = malloc(n + 1);
	size_t o = 0;

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			d[o++] = s[i];
			continue;
		}
		if (i + 2 >= n + 0 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
			free(d);
			return NULL;
		}
		d[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
		i += 2;
	}
	d[o] = '\0';
	*outlen = o;
	return d;
}

/* The document is a JSON string (as IAM's API returns it): decode and check. */
static int check_string_document(struct pctx *c, json_t *str)
{
	const char *s = json_string_value(str);
	size_t n = json_string_length(str), dn = 0, i = 0;
	char *dec = NULL;
	json_error_t err;
	json_t *doc = NULL;
	char s1[SAN_CAP];
	int r;

	c->fixed_line = here(c, 0);
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	if (i < n && s[i] == '{') {
		dec = malloc(n + 1);
		if (dec != NULL) {
			memcpy(dec, s, n);
			dec[n] = '\0';
			dn = n;
		}
	} else if ((dec = url_decode(s, n, &dn)) == NULL) {
		ERR_HERE(c, 0, "policy document string is neither JSON nor URL-encoded JSON");
		return 0;
	}
	if (dec == NULL)
		return IG_ERR_NOMEM;
	doc = json_loadb(dec, dn, JSON_REJECT_DUPLICATES, &err);
	if (doc == NULL) {
		ERR_HERE(c, 0,
		         "malformed JSON in the policy document string: %s (line %d column %d "
		         "of the decoded text)",
		         san(err.text, s1, sizeof(s1)), err.line, err.column);
		free(dec);
		return 0;
	}
	r = check_document(c, doc);
	json_decref(doc);
	free(dec);
	return r;
}

static int check_embedded(struct pctx *c, json_t *parent, const char *key)
{
	json_t *v = json_object_get(parent, key);
	int r;

	push_key(c, key);
	if (json_is_string(v))
		r = check_string_document(c, v);
	else
		r = check_document(c, v);
	pop(c);
	return r;
}

static int check_root(struct pctx *c, json_t *root)
{
	json_t *v;

	if (json_object_get(root, "Statement") != NULL)
		return check_document(c, root);
	if (json_object_get(root, "PolicyDocument") != NULL) /* get-role-policy */
		return check_embedded(c, root, "PolicyDocument");
	v = json_object_get(root, "PolicyVersion"); /* get-policy-version */
	if (json_is_object(v) && json_object_get(v, "Document") != NULL) {
		int r;
		push_key(c, "PolicyVersion");
		r = check_embedded(c, v, "Document");
		pop(c);
		return r;
	}
	v = json_object_get(root, "Role"); /* get-role, for trust.json */
	if (c->is_trust && json_is_object(v) && json_object_get(v, "AssumeRolePolicyDocument")) {
		int r;
		push_key(c, "Role");
		r = check_embedded(c, v, "AssumeRolePolicyDocument");
		pop(c);
		return r;
	}
	ERR_HERE(c, 0,
	         "not an IAM policy document: no Statement, PolicyDocument, "
	         "PolicyVersion.Document%s",
	         c->is_trust ? " or Role.AssumeRolePolicyDocument" : "");
	return 0;
}

static int bucket_name_ok(const char *b)
{
	size_t n = strlen(b);

	if (n == 0 || n > 63)
		return 0;
	return strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-*?") == n;
}

static int opts_ok(const struct ig_policy_opts *o)
{
	if (o == NULL || o->bastion_role_arn == NULL || o->bastion_role_arn[0] == '\0')
		return 0;
	if (o->n_pii_buckets > 0 && o->pii_buckets == NULL)
		return 0;
	for (size_t i = 0; i < o->n_pii_buckets; i++)
		if (o->pii_buckets[i] == NULL || !bucket_name_ok(o->pii_buckets[i]))
			return 0;
	return 1;
}

static int ctx_init(struct pctx *c, const struct ig_policy_opts *o, ig_policy_report_fn fn,
                    void *fnctx)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->fn = fn;
	c->fnctx = fnctx;
	c->sid_pattern = o->sid_pattern ? o->sid_pattern : IG_POLICY_DEFAULT_SID_PATTERN;
	if (regcomp(&c->sid_re, c->sid_pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return IG_ERR_CONFIG;
	return 0;
}

static int check_text(struct pctx *c, const struct ig_policy_role *role, const char *file,
                      const char *text, size_t len, int is_trust)
{
	json_error_t err;
	json_t *root;
	char s1[SAN_CAP];
	int line, col, r;

	c->role = role;
	c->file = file;
	c->text = text;
	c->len = len;
	c->is_trust = is_trust;
	c->fixed_line = 0;
	c->np = 0;
	c->shown = 0;
	c->hidden = 0;
	r = ig_json_locate(text, len, NULL, 0, 0, &line, &col);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL || r != 0) {
		if (root == NULL)
			finding(c, err.line > 0 ? err.line : 1, IG_POLICY_ERROR,
			        "malformed JSON: %s (column %d)", san(err.text, s1, sizeof(s1)),
			        err.column);
		else
			finding(c, 1, IG_POLICY_ERROR, "malformed JSON (stray NUL byte)");
		json_decref(root);
		return 0;
	}
	r = check_root(c, root);
	json_decref(root);
	flush_hidden(c);
	return r;
}

int ig_policy_check_text(const struct ig_policy_opts *o, const struct ig_policy_role *role,
                         const char *file, const char *text, size_t len, int is_trust,
                         int *reaches_pii, ig_policy_report_fn fn, void *ctx)
{
	struct pctx c;
	int r;

	if (!opts_ok(o) || role == NULL || role->name == NULL || file == NULL || text == NULL ||
	    fn == NULL)
		return IG_ERR_INVAL;
	if ((r = ctx_init(&c, o, fn, ctx)) != 0)
		return r;
	r = check_text(&c, role, file, text, len, is_trust);
	regfree(&c.sid_re);
	if (r < 0)
		return r;
	if (c.reach && reaches_pii != NULL)
		*reaches_pii = 1;
	return c.errors;
}

/* ---------------------------------------------------------------------------
 * Directories
 */

/* Read dirfd/name: O_NOFOLLOW, a regular file, at most IG_POLICY_MAX_FILE. */
static int read_doc(int dirfd, const char *name, char **buf, size_t *len, const char **why)
{
	struct stat st;
	char *b = NULL;
	size_t got = 0;
	int fd, r = 0;

	*buf = NULL;
	*why = NULL;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		*why = errno == ELOOP ? "is a symbolic link" : strerror(errno);
		return errno == ENOENT ? IG_ERR_NOTFOUND : IG_ERR_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		*why = "is not a regular file";
		r = IG_ERR_UNSAFE;
		goto out;
	}
	if (st.st_size > IG_POLICY_MAX_FILE) {
		*why = "is larger than the limit for a policy file";
		r = IG_ERR_RANGE;
		goto out;
	}
	r = ig_read_fd(fd, IG_POLICY_MAX_FILE, &b, &got);
	if (r == IG_ERR_RANGE)
		*why = "is larger than the limit for a policy file";
	else if (r == IG_ERR_IO)
		*why = strerror(errno);
	if (r != 0)
		goto out;
	*buf = b;
	*len = got;
	b = NULL;
out:
	free(b);
	close(fd);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the permission policy files (*.json except trust.json). */
static int list_policies(int rolefd, char ***names, size_t *n, int *too_many)
{
	DIR *d;
	struct dirent *e;
	char **v = NULL;
	size_t cnt = 0;
	int fd, r = 0;

	*names = NULL;
	*n = 0;
	*too_many = 0;
	if ((fd = dup(rolefd)) < 0)
		return IG_ERR_IO;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return IG_ERR_IO;
	}
	if ((v = calloc(IG_POLICY_MAX_FILES, sizeof(*v))) == NULL) {
		r = IG_ERR_NOMEM;
		goto out;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json") != 0 ||
		    strcmp(e->d_name, "trust.json") == 0)
			continue;
		if (cnt == IG_POLICY_MAX_FILES) {
			*too_many = 1;
			break;
		}
		if ((v[cnt] = strdup(e->d_name)) == NULL) {
			r = IG_ERR_NOMEM;
			goto out;
		}
		cnt++;
	}
	qsort(v, cnt, sizeof(*v), cmp_names);
	*names = v;
	*n = cnt;
	v = NULL;
out:
	if (v != NULL) {
		for (size_t i = 0; i < cnt; i++)
			free(v[i]);
		free(v);
	}
	closedir(d);
	return r;
}

static int check_file(struct pctx *c, const struct ig_policy_role *role, int rolefd,
                      const char *rolepath, const char *name, int is_trust)
{
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	const char *why;
	int r;

	if (ig_bfmt(path, sizeof(path), "%s/%s", rolepath, name) != 0)
		return IG_ERR_RANGE;
	c->file = path;
	c->text = NULL;
	r = read_doc(rolefd, name, &buf, &len, &why);
	if (r == IG_ERR_NOMEM)
		return r;
	if (r == IG_ERR_NOTFOUND && is_trust) {
		finding(c, 0, IG_POLICY_ERROR,
		        "role \"%s\" has no trust policy: expected %s (the role's trust policy "
		        "document or `aws iam get-role` output)",
		        role->name, path);
		return 0;
	}
	if (r != 0) {
		finding(c, 0, IG_POLICY_ERROR, "cannot read: %s %s", path, why ? why : "");
		return 0;
	}
	r = check_text(c, role, path, buf, len, is_trust);
	c->text = NULL;
	free(buf);
	return r;
}

static int check_role(struct pctx *c, int dirfd, const struct ig_policy_role *role)
{
	char rolepath[PATH_MAX];
	char **names = NULL;
	size_t n = 0;
	int rolefd, too_many = 0, r = 0;

	if (ig_bfmt(rolepath, sizeof(rolepath), "%s/%s", c->o->dir, role->name) != 0)
		return IG_ERR_RANGE;
	c->role = role;
	c->file = rolepath;
	c->text = NULL;
	rolefd = openat(dirfd, role->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rolefd < 0) {
		if (errno == ENOENT)
			finding(c, 0, IG_POLICY_ERROR,
			        "no policy directory for role \"%s\": expected %s/ holding "
			        "trust.json "
			        "and the role's permission policies (*.json)",
			        role->name, rolepath);
		else
			finding(c, 0, IG_POLICY_ERROR, "cannot open %s: %s", rolepath,
			        errno == ELOOP || errno == ENOTDIR
			                ? "not a directory (or a symbolic link)"
			                : strerror(errno));
		return 0;
	}
	c->reach = 0;
	if ((r = check_file(c, role, rolefd, rolepath, "trust.json", 1)) < 0)
		goto out;
	if ((r = list_policies(rolefd, &names, &n, &too_many)) < 0)
		goto out;
	c->file = rolepath;
	if (too_many)
		finding(c, 0, IG_POLICY_ERROR,
		        "more than %d policy files in %s; only the first %d "
		        "were read",
		        IG_POLICY_MAX_FILES, rolepath, IG_POLICY_MAX_FILES);
	if (n == 0)
		finding(c, 0, IG_POLICY_WARNING,
		        "no permission policy (*.json besides trust.json) "
		        "in %s",
		        rolepath);
	for (size_t i = 0; i < n; i++) {
		if ((r = check_file(c, role, rolefd, rolepath, names[i], 0)) < 0)
			goto out;
	}
	c->file = rolepath;
	if (role->pii && !c->reach)
		finding(c, 0, IG_POLICY_WARNING,
		        "role \"%s\" is marked pii but none of its policies reach customer data; "
		        "unmark it or check the policies",
		        role->name);
	r = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	close(rolefd);
	return r;
}

int ig_policy_check(const struct ig_policy_opts *o, const struct ig_policy_role *roles,
                    size_t n_roles, ig_policy_report_fn fn, void *ctx)
{
	struct pctx c;
	int dirfd = -1, r;

	if (!opts_ok(o) || o->dir == NULL || (roles == NULL && n_roles > 0) || fn == NULL)
		return IG_ERR_INVAL;
	for (size_t i = 0; i < n_roles; i++)
		if (roles[i].name == NULL || !ig_name_is_safe(roles[i].name))
			return IG_ERR_INVAL;
	if ((r = ctx_init(&c, o, fn, ctx)) != 0)
		return r;
	dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = errno == ENOENT ? IG_ERR_NOTFOUND : IG_ERR_IO;
		goto out;
	}
	for (size_t i = 0; i < n_roles; i++)
		if ((r = check_role(&c, dirfd, &roles[i])) < 0)
			goto out;
	r = c.errors;
out:
	if (dirfd >= 0)
		close(dirfd);
	regfree(&c.sid_re);
	return r;
}
