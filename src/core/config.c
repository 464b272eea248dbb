/*
 * config.c - strict loading of iamgate.json with jansson.
 *
 * Every problem is reported as "FILE:LINE:COL: what; fix: how" (positions
 * from jsonpos, since jansson keeps none for values) and counted; any
 * problem refuses the whole configuration (unlike pam_faillock, which logs
 * and goes on).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "iamgate/audit_seal.h"
#include "iamgate/confcheck.h"
#include "iamgate/config.h"
#include "iamgate/jsonpos.h"
#include "iamgate/util.h"

#define MAX_DEPTH 8
#define MAX_ITEMS 100000

struct ctx {
	const char *text;
	size_t len;
	const char *name;
	char *err;
	size_t errcap;
	size_t errlen;
	int nerr;
	struct ig_json_step path[MAX_DEPTH];
	size_t depth;
};

static void push_key(struct ctx *c, const char *key)
{
	if (c->depth < MAX_DEPTH) {
		c->path[c->depth].key = key;
		c->path[c->depth].index = 0;
	}
	c->depth++;
}

static void push_index(struct ctx *c, size_t i)
{
	if (c->depth < MAX_DEPTH) {
		c->path[c->depth].key = NULL;
		c->path[c->depth].index = i;
	}
	c->depth++;
}

static void pop(struct ctx *c)
{
	c->depth--;
}

/* Text of the current path like groups."ops".roles[0], for messages. */
static void path_text(const struct ctx *c, char *buf, size_t cap)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->depth && i < MAX_DEPTH; i++) {
		int n;
		if (c->path[i].key)
			n = snprintf(buf + off, cap - off, "%s\"%s\"", i ? "." : "",
			             c->path[i].key);
		else
			n = snprintf(buf + off, cap - off, "[%zu]", c->path[i].index);
		if (n < 0 || (size_t)n >= cap - off)
			return;
		off += (size_t)n;
	}
	if (off == 0)
		(void)snprintf(buf, cap, "(top level)");
}

/* Report a problem at the current path (where_key: point at the key). */
static void report(struct ctx *c, int where_key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void report(struct ctx *c, int where_key, const char *fmt, ...)
{
	char msg[512], where[256];
	int line = 0, col = 0, n;
	va_list ap;

	c->nerr++;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	path_text(c, where, sizeof(where));
	if (c->depth <= MAX_DEPTH && ig_json_locate(c->text, c->len, c->path, c->depth,
	                                            where_key && c->depth > 0, &line, &col) == 0)
		n = snprintf(c->err + c->errlen, c->errcap - c->errlen, "%s:%d:%d: %s: %s\n",
		             c->name, line, col, where, msg);
	else
		n = snprintf(c->err + c->errlen, c->errcap - c->errlen, "%s: %s: %s\n", c->name,
		             where, msg);
	if (n > 0 && (size_t)n < c->errcap - c->errlen)
		c->errlen += (size_t)n;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	default: return "unknown";
	}
}

/* A key starting with '#' and holding a string is a comment: the example
 * configuration is annotated this way, since JSON has no comments. */
static int is_comment(const char *key, const json_t *v)
{
	return key[0] == '#' && json_is_string(v);
}

/* Refuse keys of obj not in allowed (NULL-terminated). */
static void check_keys(struct ctx *c, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		int ok = is_comment(key, v);
		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = 1;
		if (!ok) {
			char list[256] = "";
			size_t off = 0;
			for (size_t i = 0; allowed[i]; i++) {
				int n = snprintf(list + off, sizeof(list) - off, "%s%s",
				                 i ? ", " : "", allowed[i]);
				if (n < 0 || (size_t)n >= sizeof(list) - off)
					break;
				off += (size_t)n;
			}
			push_key(c, key);
			report(c, 1,
			       "unknown key; fix: remove it or correct its spelling (allowed: %s)",
			       list);
			pop(c);
		}
	}
}

static json_t *want(struct ctx *c, json_t *obj, const char *key, json_type type, int required)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		if (required)
			report(c, 0, "missing required key \"%s\"; fix: add it", key);
		return NULL;
	}
	if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v))) {
		push_key(c, key);
		report(c, 0, "must be %s, not %s; fix: change the value's type",
		       type == JSON_OBJECT    ? "an object"
		       : type == JSON_ARRAY   ? "an array"
		       : type == JSON_STRING  ? "a string"
		       : type == JSON_INTEGER ? "an integer"
		                              : "a boolean",
		       type_name(v));
		pop(c);
		return NULL;
	}
	return v;
}

static char *dupstr(struct ctx *c, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		report(c, 0, "out of memory");
	return d;
}

/* A string value; NULL when absent/wrong (reported) or when null_ok and null. */
static char *get_string(struct ctx *c, json_t *obj, const char *key, int required, int null_ok,
                        const char *dflt)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	if (v == NULL || (null_ok && json_is_null(v))) {
		if (v == NULL && required) {
			report(c, 0, "missing required key \"%s\"; fix: add it", key);
			return NULL;
		}
		return dflt ? dupstr(c, dflt) : NULL;
	}
	if ((v = want(c, obj, key, JSON_STRING, 1)) == NULL)
		return NULL;
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || s[0] == '\0' || strlen(s) > 4096) {
		push_key(c, key);
		report(c, 0, "must be a non-empty string without NUL bytes, at most 4096 bytes");
		pop(c);
		return NULL;
	}
	return dupstr(c, s);
}

static int get_uint(struct ctx *c, json_t *obj, const char *key, unsigned lo, unsigned hi,
                    unsigned dflt, unsigned *out)
{
	json_t *v = json_object_get(obj, key);
	json_int_t n;

	*out = dflt;
	if (v == NULL)
		return 0;
	if ((v = want(c, obj, key, JSON_INTEGER, 1)) == NULL)
		return -1;
	n = json_integer_value(v);
	if (n < (json_int_t)lo || n > (json_int_t)hi) {
		push_key(c, key);
		report(c, 0, "%lld is out of range; fix: use a value from %u to %u", (long long)n,
		       lo, hi);
		pop(c);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

static int get_bool(struct ctx *c, json_t *obj, const char *key, int dflt, int *out)
{
	json_t *v = json_object_get(obj, key);

	*out = dflt;
	if (v == NULL)
		return 0;
	if ((v = want(c, obj, key, JSON_TRUE, 1)) == NULL)
		return -1;
	*out = json_is_true(v);
	return 0;
}

static void require_abs(struct ctx *c, const char *key, const char *s)
{
	if (s && s[0] != '/') {
		push_key(c, key);
		report(c, 0, "\"%s\" is not an absolute path; fix: start it with /", s);
		pop(c);
	}
}

static int name_ok(const char *s)
{
	return ig_name_is_safe(s);
}

/* arn:PARTITION:iam::ACCOUNT(12 digits):role/PATH/NAME */
static int role_arn_ok(const char *arn)
{
	/* Compiled once per process: the helper loads the configuration on
	 * every call, and compiling cost more than all else it checks per role. */
	static regex_t re;
	static int ready;

	if (!ready) {
		if (regcomp(&re,
		            "^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/([A-Za-z0-9_+=,.@-]+/)*"
		            "[A-Za-z0-9_+=,.@-]{1,64}$",
		            REG_EXTENDED | REG_NOSUB) != 0)
			return 0;
		ready = 1;
	}
	return regexec(&re, arn, 0, NULL, 0) == 0;
}

static void parse_allowlists(struct ctx *c, struct ig_config *cfg, json_t *obj)
{
	const char *key;
	json_t *v;
	size_t i = 0;

	cfg->allowlists = calloc(json_object_size(obj) + 1, sizeof(*cfg->allowlists));
	if (cfg->allowlists == NULL) {
		report(c, 0, "out of memory");
		return;
	}
	push_key(c, "allowlists");
	json_object_foreach(obj, key, v)
	{
		struct ig_allowlist *al;

		if (is_comment(key, v))
			continue;
		al = &cfg->allowlists[i++];
		size_t j;
		json_t *e;

		cfg->n_allowlists = i;
		push_key(c, key);
		if (!name_ok(key))
			report(c, 1,
			       "allowlist name must be 1-64 of A-Za-z0-9_.@- ; fix: rename it");
		al->name = dupstr(c, key);
		if (!json_is_array(v)) {
			report(c, 0, "must be an array of CIDR strings, not %s", type_name(v));
			pop(c);
			continue;
		}
		if (json_array_size(v) == 0)
			report(c, 0, "empty allowlist; fix: list at least one CIDR or remove it");
		if (json_array_size(v) > MAX_ITEMS)
			report(c, 0, "more than %d entries", MAX_ITEMS);
		if (ig_cidr_set_new(&al->set) != 0) {
			report(c, 0, "out of memory");
			pop(c);
			continue;
		}
		json_array_foreach(v, j, e)
		{
			struct ig_cidr cidr;
			const char *s;
			int r;

			push_index(c, j);
			if (!json_is_string(e)) {
				report(c, 0,
				       "must be a CIDR string like \"203.0.113.0/24\", not %s",
				       type_name(e));
				pop(c);
				continue;
			}
			s = json_string_value(e);
			r = ig_cidr_parse(s, &cidr);
			if (r == IG_ERR_INVAL)
				report(c, 0,
				       "\"%s\" has host bits set beyond the prefix; fix: use the "
				       "network address",
				       s);
			else if (r != 0 || strlen(s) != json_string_length(e))
				report(c, 0,
				       "\"%s\" is not a CIDR; fix: write ADDRESS/PREFIX, e.g. "
				       "\"203.0.113.0/24\" or \"2001:db8::/48\"",
				       s);
			else if (ig_cidr_set_add(al->set, &cidr) != 0)
				report(c, 0, "out of memory");
			else
				al->local |= ig_confcheck_local_prefix(&cidr);
			pop(c);
		}
		pop(c);
	}
	pop(c);
}

static void parse_roles(struct ctx *c, struct ig_config *cfg, json_t *obj)
{
	static const char *const keys[] = {"arn", "pii", "duration_seconds", NULL};
	const char *key;
	json_t *v;
	size_t i = 0;

	cfg->roles = calloc(json_object_size(obj) + 1, sizeof(*cfg->roles));
	if (cfg->roles == NULL) {
		report(c, 0, "out of memory");
		return;
	}
	push_key(c, "roles");
	json_object_foreach(obj, key, v)
	{
		struct ig_role *r;

		if (is_comment(key, v))
			continue;
		r = &cfg->roles[i++];

		cfg->n_roles = i;
		push_key(c, key);
		r->name = dupstr(c, key);
		r->duration_seconds = 900;
		if (!name_ok(key))
			report(c, 1,
			       "role name must be 1-64 of A-Za-z0-9_.@- (it becomes an AWS "
			       "profile name); fix: rename it");
		if (!json_is_object(v)) {
			report(c, 0, "must be an object with \"arn\", not %s", type_name(v));
			pop(c);
			continue;
		}
		check_keys(c, v, keys);
		r->arn = get_string(c, v, "arn", 1, 0, NULL);
		if (r->arn && !role_arn_ok(r->arn)) {
			push_key(c, "arn");
			report(c, 0,
			       "\"%s\" is not an IAM role ARN; fix: use "
			       "arn:aws:iam::ACCOUNT:role/NAME",
			       r->arn);
			pop(c);
		}
		(void)get_bool(c, v, "pii", 0, &r->pii);
		(void)get_uint(c, v, "duration_seconds", 900, 3600, 900, &r->duration_seconds);
		pop(c);
	}
	pop(c);
}

static size_t *resolve_names(struct ctx *c, json_t *arr, const char *what, size_t *n_out,
                             int (*find)(const struct ig_config *, const char *, size_t *),
                             const struct ig_config *cfg, const char *fixwhere)
{
	size_t *idx, j;
	json_t *e;

	*n_out = 0;
	idx = calloc(json_array_size(arr) + 1, sizeof(*idx));
	if (idx == NULL) {
		report(c, 0, "out of memory");
		return NULL;
	}
	json_array_foreach(arr, j, e)
	{
		size_t k;

		push_index(c, j);
		if (!json_is_string(e))
			report(c, 0, "must be the name of %s (a string), not %s", what,
			       type_name(e));
		else if (find(cfg, json_string_value(e), &k) != 0)
			report(c, 0,
			       "%s \"%s\" is not defined; fix: define it under \"%s\" or "
			       "correct the name",
			       what, json_string_value(e), fixwhere);
		else
			idx[(*n_out)++] = k;
		pop(c);
	}
	return idx;
}

static int find_allowlist(const struct ig_config *cfg, const char *name, size_t *k)
{
	for (size_t i = 0; i < cfg->n_allowlists; i++)
		if (cfg->allowlists[i].name && strcmp(cfg->allowlists[i].name, name) == 0) {
			*k = i;
			return 0;
		}
	return -1;
}

static int find_role(const struct ig_config *cfg, const char *name, size_t *k)
{
	for (size_t i = 0; i < cfg->n_roles; i++)
		if (cfg->roles[i].name && strcmp(cfg->roles[i].name, name) == 0) {
			*k = i;
			return 0;
		}
	return -1;
}

static void parse_groups(struct ctx *c, struct ig_config *cfg, json_t *obj)
{
	static const char *const keys[] = {"allow_from", "roles", NULL};
	const char *key;
	json_t *v;
	size_t i = 0;

	cfg->groups = calloc(json_object_size(obj) + 1, sizeof(*cfg->groups));
	if (cfg->groups == NULL) {
		report(c, 0, "out of memory");
		return;
	}
	push_key(c, "groups");
	json_object_foreach(obj, key, v)
	{
		struct ig_group *g;

		if (is_comment(key, v))
			continue;
		g = &cfg->groups[i++];
		json_t *a;

		cfg->n_groups = i;
		push_key(c, key);
		g->name = dupstr(c, key);
		if (!name_ok(key))
			report(c, 1, "group name must be 1-64 of A-Za-z0-9_.@- ; fix: rename it");
		if (!json_is_object(v)) {
			report(c, 0, "must be an object with \"allow_from\" and \"roles\", not %s",
			       type_name(v));
			pop(c);
			continue;
		}
		check_keys(c, v, keys);
		if ((a = want(c, v, "allow_from", JSON_ARRAY, 1)) != NULL) {
			push_key(c, "allow_from");
			if (json_array_size(a) == 0)
				report(c, 0,
				       "empty: nobody could log in through this group; fix: name "
				       "at least one allowlist");
			g->allow = resolve_names(c, a, "allowlist", &g->n_allow, find_allowlist,
			                         cfg, "allowlists");
			pop(c);
		}
		if ((a = want(c, v, "roles", JSON_ARRAY, 1)) != NULL) {
			push_key(c, "roles");
			g->roles =
			        resolve_names(c, a, "role", &g->n_roles, find_role, cfg, "roles");
			pop(c);
		}
		pop(c);
	}
	pop(c);
}

/* The PII rule at load time: a pii role may be mapped only to pii_group. */
static void check_pii(struct ctx *c, struct ig_config *cfg)
{
	int any_pii = 0;

	for (size_t i = 0; i < cfg->n_roles; i++)
		any_pii |= cfg->roles[i].pii;
	if (any_pii && cfg->pii_group == NULL)
		report(c, 0,
		       "roles are marked \"pii\" but \"pii_group\" is not set; fix: set "
		       "\"pii_group\" to the PII-access group");
	if (cfg->pii_group && ig_config_group(cfg, cfg->pii_group) == NULL) {
		push_key(c, "pii_group");
		report(c, 0, "group \"%s\" is not defined under \"groups\"; fix: define it",
		       cfg->pii_group);
		pop(c);
	}
	for (size_t i = 0; i < cfg->n_groups; i++) {
		const struct ig_group *g = &cfg->groups[i];

		for (size_t j = 0; j < g->n_roles; j++) {
			const struct ig_role *r = &cfg->roles[g->roles[j]];

			if (!r->pii || (cfg->pii_group && strcmp(g->name, cfg->pii_group) == 0))
				continue;
			push_key(c, "groups");
			push_key(c, g->name);
			push_key(c, "roles");
			push_index(c, j);
			report(c, 0,
			       "pii role \"%s\" is mapped to group \"%s\", but pii roles may "
			       "only be mapped to the pii_group \"%s\"; fix: remove it here "
			       "or map it under \"%s\"",
			       r->name, g->name, cfg->pii_group ? cfg->pii_group : "(unset)",
			       cfg->pii_group ? cfg->pii_group : "(unset)");
			pop(c);
			pop(c);
			pop(c);
			pop(c);
		}
	}
}

static void parse_totp(struct ctx *c, struct ig_config *cfg, json_t *obj)
{
	static const char *const keys[] = {
	        "state_dir", "issuer",       "digits",          "step_seconds",
	        "window",    "max_failures", "lockout_seconds", "lockout_max_seconds",
	        NULL};
	json_t *o = obj ? obj : json_object();

	push_key(c, "totp");
	if (obj)
		check_keys(c, o, keys);
	cfg->totp.state_dir = get_string(c, o, "state_dir", 0, 0, "/var/lib/iamgate/totp");
	require_abs(c, "state_dir", cfg->totp.state_dir);
	cfg->totp.issuer = get_string(c, o, "issuer", 0, 0, "iamgate");
	(void)get_uint(c, o, "digits", 6, 8, 6, &cfg->totp.digits);
	(void)get_uint(c, o, "step_seconds", 15, 300, 30, &cfg->totp.step_seconds);
	(void)get_uint(c, o, "window", 0, 10, 1, &cfg->totp.window);
	(void)get_uint(c, o, "max_failures", 1, 100, 5, &cfg->totp.max_failures);
	(void)get_uint(c, o, "lockout_seconds", 1, 86400 * 7, 900, &cfg->totp.lockout_seconds);
	/* Absent: a day, or the first lockout's length when that is longer. */
	if (get_uint(c, o, "lockout_max_seconds", 1, 86400 * 30,
	             cfg->totp.lockout_seconds > 86400 ? cfg->totp.lockout_seconds : 86400,
	             &cfg->totp.lockout_max_seconds) == 0 &&
	    cfg->totp.lockout_max_seconds < cfg->totp.lockout_seconds)
		report(c, 0,
		       "lockout_max_seconds (%u) is shorter than lockout_seconds (%u); fix: make "
		       "it at least as long (it caps the doubling of repeated lockouts)",
		       cfg->totp.lockout_max_seconds, cfg->totp.lockout_seconds);
	pop(c);
	if (!obj)
		json_decref(o);
}

static void parse_audit(struct ctx *c, struct ig_config *cfg, json_t *obj)
{
	static const char *const keys[] = {"path", "syslog", "seal_key", "seal_epoch_seconds",
	                                   NULL};
	json_t *o = obj ? obj : json_object();

	push_key(c, "audit");
	if (obj)
		check_keys(c, o, keys);
	cfg->audit.path = get_string(c, o, "path", 0, 0, "/var/log/iamgate/audit.jsonl");
	require_abs(c, "path", cfg->audit.path);
	(void)get_bool(c, o, "syslog", 1, &cfg->audit.syslog);
	/* NULL: the sealing key lives beside the log (PATH.seal). */
	cfg->audit.seal_key = get_string(c, o, "seal_key", 0, 0, NULL);
	require_abs(c, "seal_key", cfg->audit.seal_key);
	(void)get_uint(c, o, "seal_epoch_seconds", IG_AUDIT_SEAL_EPOCH_MIN, IG_AUDIT_SEAL_EPOCH_MAX,
	               IG_AUDIT_SEAL_EPOCH_DEFAULT, &cfg->audit.seal_epoch_seconds);
	pop(c);
	if (!obj)
		json_decref(o);
}

static void parse_session(struct ctx *c, struct ig_config *cfg, json_t *obj)
{
	static const char *const keys[] = {"dir", "grant_dir", "grant_ttl_seconds",
	                                   "on_issue_failure", NULL};
	json_t *o = obj ? obj : json_object();
	char *f;

	push_key(c, "session");
	if (obj)
		check_keys(c, o, keys);
	cfg->session.dir = get_string(c, o, "dir", 0, 0, "/run/iamgate/sessions");
	require_abs(c, "dir", cfg->session.dir);
	cfg->session.grant_dir = get_string(c, o, "grant_dir", 0, 0, "/run/iamgate/grants");
	require_abs(c, "grant_dir", cfg->session.grant_dir);
	(void)get_uint(c, o, "grant_ttl_seconds", 5, 600, 120, &cfg->session.grant_ttl_seconds);
	f = get_string(c, o, "on_issue_failure", 0, 0, "continue");
	if (f && strcmp(f, "deny") == 0)
		cfg->session.deny_on_issue_failure = 1;
	else if (f && strcmp(f, "continue") != 0) {
		push_key(c, "on_issue_failure");
		report(c, 0, "\"%s\" is not allowed; fix: use \"continue\" or \"deny\"", f);
		pop(c);
	}
	free(f);
	pop(c);
	if (!obj)
		json_decref(o);
}

static void parse_aws(struct ctx *c, struct ig_config *cfg, json_t *obj)
{
	static const char *const keys[] = {"region",          "sts_endpoint", "ca_file",
	                                   "timeout_seconds", "credentials",  NULL};
	static const char *const ckeys[] = {
	        "source", "file", "profile", "imds_endpoint", "cache_dir", "imds_probe_uid", NULL};
	json_t *cr;
	char *src;
	char buf[256];

	cfg->aws.timeout_seconds = 5;
	cfg->aws.creds_file = strdup("/etc/iamgate/aws-credentials");
	cfg->aws.profile = strdup("default");
	cfg->aws.imds_endpoint = strdup("http://169.254.169.254");
	cfg->aws.cache_dir = strdup("/run/iamgate/cache");
	cfg->aws.imds_probe_uid = 65534;
	if (!cfg->aws.creds_file || !cfg->aws.profile || !cfg->aws.imds_endpoint ||
	    !cfg->aws.cache_dir)
		report(c, 0, "out of memory");
	if (obj == NULL)
		return;
	push_key(c, "aws");
	check_keys(c, obj, keys);
	cfg->aws.region = get_string(c, obj, "region", 1, 0, NULL);
	if (cfg->aws.region) {
		regex_t re;
		if (regcomp(&re, "^[a-z]{2}(-[a-z]+)+-[0-9]+$", REG_EXTENDED | REG_NOSUB) == 0) {
			if (regexec(&re, cfg->aws.region, 0, NULL, 0) != 0) {
				push_key(c, "region");
				report(c, 0,
				       "\"%s\" is not an AWS region name; fix: e.g. "
				       "\"ap-northeast-1\"",
				       cfg->aws.region);
				pop(c);
			}
			regfree(&re);
		}
	}
	cfg->aws.sts_endpoint = get_string(c, obj, "sts_endpoint", 0, 1, NULL);
	if (cfg->aws.sts_endpoint == NULL && cfg->aws.region &&
	    ig_bfmt(buf, sizeof(buf), "https://sts.%s.amazonaws.com", cfg->aws.region) == 0)
		cfg->aws.sts_endpoint = dupstr(c, buf);
	if (cfg->aws.sts_endpoint && strncmp(cfg->aws.sts_endpoint, "https://", 8) != 0) {
		push_key(c, "sts_endpoint");
		report(c, 0, "must be an https:// URL (TLS is always verified); fix: use https");
		pop(c);
	}
	cfg->aws.ca_file = get_string(c, obj, "ca_file", 0, 1, NULL);
	require_abs(c, "ca_file", cfg->aws.ca_file);
	(void)get_uint(c, obj, "timeout_seconds", 1, 60, 5, &cfg->aws.timeout_seconds);
	cr = want(c, obj, "credentials", JSON_OBJECT, 0);
	if (cr) {
		push_key(c, "credentials");
		check_keys(c, cr, ckeys);
		src = get_string(c, cr, "source", 0, 0, "imds");
		if (src && strcmp(src, "imds") == 0)
			cfg->aws.source = IG_CREDS_IMDS;
		else if (src && strcmp(src, "file") == 0)
			cfg->aws.source = IG_CREDS_FILE;
		else if (src && strcmp(src, "env") == 0) {
			push_key(c, "source");
			report(c, 0,
			       "\"env\" cannot work: the helper runs with an empty environment; "
			       "fix: use \"imds\" (the instance role) or \"file\" (a root-only "
			       "shared-credentials file)");
			pop(c);
		} else if (src) {
			push_key(c, "source");
			report(c, 0,
			       "\"%s\" is not a credential source; fix: use \"imds\" or \"file\"",
			       src);
			pop(c);
		}
		free(src);
		if (json_object_get(cr, "file")) {
			free(cfg->aws.creds_file);
			cfg->aws.creds_file = get_string(c, cr, "file", 0, 0, NULL);
			require_abs(c, "file", cfg->aws.creds_file);
		}
		if (json_object_get(cr, "profile")) {
			free(cfg->aws.profile);
			cfg->aws.profile = get_string(c, cr, "profile", 0, 0, NULL);
		}
		if (json_object_get(cr, "imds_endpoint")) {
			free(cfg->aws.imds_endpoint);
			cfg->aws.imds_endpoint = get_string(c, cr, "imds_endpoint", 0, 0, NULL);
			if (cfg->aws.imds_endpoint &&
			    strncmp(cfg->aws.imds_endpoint, "http://", 7) != 0) {
				push_key(c, "imds_endpoint");
				report(c, 0, "must be an http:// URL (IMDS is plain HTTP)");
				pop(c);
			}
		}
		if (json_object_get(cr, "cache_dir")) {
			free(cfg->aws.cache_dir);
			cfg->aws.cache_dir = get_string(c, cr, "cache_dir", 0, 0, NULL);
			require_abs(c, "cache_dir", cfg->aws.cache_dir);
		}
		/* The metadata lockdown is tried from this uid (never root). */
		(void)get_uint(c, cr, "imds_probe_uid", 1, 4294967294u, 65534,
		               &cfg->aws.imds_probe_uid);
		pop(c);
	}
	pop(c);
}

static int bucket_ok(const char *b)
{
	size_t n = strlen(b);

	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '.' ||
		      b[i] == '-' || b[i] == '*' || b[i] == '?'))
			return 0;
	return 1;
}

static void parse_policy(struct ctx *c, struct ig_config *cfg, json_t *obj)
{
	static const char *const keys[] = {"sid_pattern", "pii_buckets", "bastion_role_arn", NULL};
	json_t *a;

	cfg->policy.sid_pattern = strdup("^[A-Z][A-Za-z0-9]+$");
	if (cfg->policy.sid_pattern == NULL)
		report(c, 0, "out of memory");
	if (obj == NULL)
		return;
	push_key(c, "policy");
	check_keys(c, obj, keys);
	if (json_object_get(obj, "sid_pattern")) {
		regex_t re;
		free(cfg->policy.sid_pattern);
		cfg->policy.sid_pattern = get_string(c, obj, "sid_pattern", 0, 0, NULL);
		if (cfg->policy.sid_pattern) {
			if (regcomp(&re, cfg->policy.sid_pattern, REG_EXTENDED | REG_NOSUB) != 0) {
				push_key(c, "sid_pattern");
				report(c, 0, "not a valid POSIX extended regular expression");
				pop(c);
			} else {
				regfree(&re);
			}
		}
	}
	cfg->policy.bastion_role_arn = get_string(c, obj, "bastion_role_arn", 0, 0, NULL);
	if (cfg->policy.bastion_role_arn && !role_arn_ok(cfg->policy.bastion_role_arn)) {
		push_key(c, "bastion_role_arn");
		report(c, 0, "\"%s\" is not an IAM role ARN; fix: the bastion instance role's ARN",
		       cfg->policy.bastion_role_arn);
		pop(c);
	}
	if ((a = want(c, obj, "pii_buckets", JSON_ARRAY, 0)) != NULL) {
		size_t j;
		json_t *e;
		cfg->policy.pii_buckets = calloc(json_array_size(a) + 1, sizeof(char *));
		if (cfg->policy.pii_buckets == NULL) {
			report(c, 0, "out of memory");
		} else {
			push_key(c, "pii_buckets");
			json_array_foreach(a, j, e)
			{
				push_index(c, j);
				if (!json_is_string(e) || !bucket_ok(json_string_value(e)))
					report(c, 0,
					       "must be an S3 bucket name or pattern: 1-63 of "
					       "a-z 0-9 . - (and * ? as wildcards); fix: give the "
					       "bucket's name, not its ARN");
				else
					cfg->policy.pii_buckets[cfg->policy.n_pii_buckets++] =
					        dupstr(c, json_string_value(e));
				pop(c);
			}
			pop(c);
		}
	}
	pop(c);
}

int ig_config_parse(const char *text, size_t len, const char *name, struct ig_config **out,
                    char *err, size_t errcap)
{
	static const char *const keys[] = {
	        "pii_group", "pii_allow_local", "allowlists", "groups", "roles", "totp",
	        "audit",     "session",         "aws",        "policy", NULL};
	struct ctx c = {.text = text, .len = len, .name = name, .err = err, .errcap = errcap};
	struct ig_config *cfg = NULL;
	json_error_t je;
	json_t *root = NULL, *v;

	*out = NULL;
	if (errcap == 0)
		return IG_ERR_INVAL;
	err[0] = '\0';
	if (len > IG_CONFIG_MAX_BYTES) {
		report(&c, 0, "file is larger than %d bytes; fix: shorten it", IG_CONFIG_MAX_BYTES);
		return IG_ERR_CONFIG;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		(void)snprintf(err, errcap,
		               "%s:%d:%d: not valid JSON: %s; fix: correct the syntax there\n",
		               name, je.line, je.column, je.text);
		return IG_ERR_CONFIG;
	}
	if (!json_is_object(root)) {
		report(&c, 0, "the top level must be a JSON object");
		goto out;
	}
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL || (cfg->path = strdup(name)) == NULL) {
		report(&c, 0, "out of memory");
		goto out;
	}
	check_keys(&c, root, keys);
	cfg->pii_group = get_string(&c, root, "pii_group", 0, 0, NULL);
	(void)get_bool(&c, root, "pii_allow_local", 0, &cfg->pii_allow_local);
	if ((v = want(&c, root, "allowlists", JSON_OBJECT, 1)) != NULL)
		parse_allowlists(&c, cfg, v);
	if ((v = want(&c, root, "roles", JSON_OBJECT, 1)) != NULL)
		parse_roles(&c, cfg, v);
	if ((v = want(&c, root, "groups", JSON_OBJECT, 1)) != NULL) {
		if (json_object_size(v) == 0) {
			push_key(&c, "groups");
			report(&c, 0,
			       "no groups: nobody could log in; fix: map at least one group");
			pop(&c);
		}
		parse_groups(&c, cfg, v);
	}
	if (c.nerr == 0)
		check_pii(&c, cfg);
	parse_totp(&c, cfg, want(&c, root, "totp", JSON_OBJECT, 0));
	parse_audit(&c, cfg, want(&c, root, "audit", JSON_OBJECT, 0));
	parse_session(&c, cfg, want(&c, root, "session", JSON_OBJECT, 0));
	parse_aws(&c, cfg, want(&c, root, "aws", JSON_OBJECT, 0));
	parse_policy(&c, cfg, want(&c, root, "policy", JSON_OBJECT, 0));
out:
	json_decref(root);
	if (c.nerr > 0 || cfg == NULL) {
		ig_config_free(cfg);
		if (c.nerr == 0)
			(void)snprintf(err, errcap, "%s: out of memory\n", name);
		return IG_ERR_CONFIG;
	}
	*out = cfg;
	return 0;
}

/*
 * Open path's directory the way the loader trusts it: path and every parent
 * pass ig_safe_path, then the directory is opened and checked again.  *base
 * points into path at the file name.
 */
static int open_config_dir(const char *path, int *dfd, const char **base, char *why, size_t whycap)
{
	char dir[PATH_MAX];
	int r;

	*dfd = -1;
	if (path == NULL || path[0] != '/' || strlen(path) >= sizeof(dir))
		return IG_ERR_INVAL;
	if ((r = ig_safe_path(path, why, whycap)) != 0)
		return r;
	memcpy(dir, path, strlen(path) + 1);
	*base = strrchr(path, '/') + 1;
	dir[*base - path - 1 == 0 ? 1 : *base - path - 1] = '\0';
	/* ig_safe_path(path) walked dir and its parents already. */
	return ig_open_checked_dir(dir, dfd, why, whycap);
}

static int ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

/* Record what was read; a file changed just before the load is "racy" (a
 * rewrite after the load could get identical timestamps): not recorded. */
static void record_file(struct ig_config *cfg, const struct stat *st, const struct timespec *began)
{
	struct timespec settled = st->st_ctim;

	settled.tv_sec += IG_CONFIG_SETTLE_SECONDS;
	memset(&cfg->file, 0, sizeof(cfg->file));
	if (ts_cmp(&settled, began) > 0)
		return;
	cfg->file.dev = st->st_dev;
	cfg->file.ino = st->st_ino;
	cfg->file.size = st->st_size;
	cfg->file.mtim = st->st_mtim;
	cfg->file.ctim = st->st_ctim;
	cfg->file.valid = 1;
}

int ig_config_load(const char *path, struct ig_config **out, char *err, size_t errcap)
{
	char why[512];
	const char *base = NULL;
	struct timespec began = {0, 0};
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int dfd = -1, r;

	*out = NULL;
	if (errcap == 0)
		return IG_ERR_INVAL;
	if (path == NULL || path[0] != '/' || strlen(path) >= PATH_MAX) {
		(void)snprintf(err, errcap, "%s: the configuration path must be absolute\n",
		               path ? path : "(none)");
		return IG_ERR_CONFIG;
	}
	/* Before anything is looked at: a change from here on may share the
	 * file's timestamps (see record_file). */
	if (clock_gettime(CLOCK_REALTIME, &began) != 0)
		began.tv_sec = 0; /* nothing counts as settled: never reused */
	if ((r = open_config_dir(path, &dfd, &base, why, sizeof(why))) != 0) {
		(void)snprintf(err, errcap, "%s: refused: %s\n", path, why);
		return IG_ERR_CONFIG;
	}
	/* The identity recorded is that of the descriptor read (an in-place
	 * write during the read changes ctime after the fstat, so the next
	 * ig_config_unchanged sees a difference). */
	r = ig_read_file_at_stat(dfd, base, IG_CONFIG_MAX_BYTES, 0, &text, &len, &st);
	close(dfd);
	if (r == IG_ERR_UNSAFE) {
		(void)snprintf(err, errcap,
		               "%s: refused: must be a regular file owned by root, not writable by "
		               "group or others, not a link; fix: chown root:root %s && chmod 0600 "
		               "%s\n",
		               path, path, path);
		return IG_ERR_CONFIG;
	}
	if (r == IG_ERR_RANGE) {
		(void)snprintf(err, errcap, "%s: refused: larger than %d bytes\n", path,
		               IG_CONFIG_MAX_BYTES);
		return IG_ERR_CONFIG;
	}
	if (r != 0) {
		(void)snprintf(err, errcap, "%s: cannot read: %s\n", path, ig_strerror(r));
		return IG_ERR_CONFIG;
	}
	r = ig_config_parse(text, len, path, out, err, errcap);
	free(text);
	if (r == 0 && ig_confcheck_host(*out, err, errcap) != 0) {
		ig_config_free(*out);
		*out = NULL;
		return IG_ERR_CONFIG;
	}
	if (r == 0)
		record_file(*out, &st, &began);
	return r;
}

int ig_config_unchanged(const struct ig_config *cfg, const char *path)
{
	const struct ig_config_file_id *id;
	const char *base = NULL;
	struct stat st;
	int dfd = -1, r;

	if (cfg == NULL || !cfg->file.valid || cfg->path == NULL || path == NULL ||
	    strcmp(cfg->path, path) != 0)
		return 0;
	if (open_config_dir(path, &dfd, &base, NULL, 0) != 0)
		return 0;
	r = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW);
	close(dfd);
	if (r != 0 || ig_file_trusted(&st, IG_CONFIG_MAX_BYTES, 0) != 0)
		return 0;
	id = &cfg->file;
	return st.st_dev == id->dev && st.st_ino == id->ino && st.st_size == id->size &&
	       ts_cmp(&st.st_mtim, &id->mtim) == 0 && ts_cmp(&st.st_ctim, &id->ctim) == 0;
}

int ig_config_audit_path(const char *path, char *out, size_t cap)
{
	const char *base = NULL, *ap = "/var/log/iamgate/audit.jsonl";
	char *text = NULL;
	json_t *root = NULL, *v;
	size_t len = 0;
	int dfd = -1, r;

	/* Only a file an untrusted user cannot have written may name a path. */
	if ((r = open_config_dir(path, &dfd, &base, NULL, 0)) != 0)
		return r;
	r = ig_read_file_at(dfd, base, IG_CONFIG_MAX_BYTES, 0, &text, &len);
	close(dfd);
	if (r != 0)
		return r;
	root = json_loadb(text, len, 0, NULL);
	free(text);
	v = json_object_get(json_object_get(root, "audit"), "path");
	if (json_is_string(v) && json_string_value(v)[0] == '/' &&
	    strlen(json_string_value(v)) == json_string_length(v))
		ap = json_string_value(v);
	r = ig_bfmt(out, cap, "%s", ap);
	json_decref(root);
	return r;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void ig_config_free(struct ig_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->pii_group);
	for (size_t i = 0; i < cfg->n_allowlists; i++) {
		free(cfg->allowlists[i].name);
		ig_cidr_set_free(cfg->allowlists[i].set);
	}
	free(cfg->allowlists);
	for (size_t i = 0; i < cfg->n_groups; i++) {
		free(cfg->groups[i].name);
		free(cfg->groups[i].allow);
		free(cfg->groups[i].roles);
	}
	free(cfg->groups);
	for (size_t i = 0; i < cfg->n_roles; i++) {
		free(cfg->roles[i].name);
		free(cfg->roles[i].arn);
	}
	free(cfg->roles);
	free(cfg->totp.state_dir);
	free(cfg->totp.issuer);
	free(cfg->audit.path);
	free(cfg->audit.seal_key);
	free(cfg->session.dir);
	free(cfg->session.grant_dir);
	free(cfg->aws.region);
	free(cfg->aws.sts_endpoint);
	free(cfg->aws.ca_file);
	free(cfg->aws.creds_file);
	free(cfg->aws.profile);
	free(cfg->aws.imds_endpoint);
	free(cfg->aws.cache_dir);
	free(cfg->policy.sid_pattern);
	free_strv(cfg->policy.pii_buckets, cfg->policy.n_pii_buckets);
	free(cfg->policy.bastion_role_arn);
	free(cfg);
}

const struct ig_group *ig_config_group(const struct ig_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_groups; i++)
		if (cfg->groups[i].name && strcmp(cfg->groups[i].name, name) == 0)
			return &cfg->groups[i];
	return NULL;
}

const struct ig_role *ig_config_role(const struct ig_config *cfg, const char *name)
{
	size_t k;

	return find_role(cfg, name, &k) == 0 ? &cfg->roles[k] : NULL;
}
