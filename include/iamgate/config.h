/*
 * config.h - the iamgate configuration (/etc/iamgate/iamgate.json), loaded
 * strictly: unknown keys, wrong types, out-of-range values, undefined
 * references, bad CIDRs, a pii role mapped outside pii_group, or an unsafe
 * file (not root-owned, group/world-writable, symlink, unsafe parent) refuse
 * the whole file.  One loader serves the helper and the `iamgate` tool.
 */
#ifndef IAMGATE_CONFIG_H
#define IAMGATE_CONFIG_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "iamgate/cidr.h"
#include "iamgate/error.h"

#define IG_CONFIG_MAX_BYTES (1024 * 1024)

struct ig_allowlist {
	char *name;
	struct ig_cidr_set *set;
	int local; /* holds a loopback or unspecified address (confcheck.h) */
};

struct ig_role {
	char *name;
	char *arn;
	int pii;
	unsigned duration_seconds; /* 900..3600, default 900 */
};

struct ig_group {
	char *name;
	gid_t gid;     /* resolved at load (ig_roles_resolve_gids); compared, never the name */
	size_t *allow; /* indices into cfg->allowlists */
	size_t n_allow;
	size_t *roles; /* indices into cfg->roles */
	size_t n_roles;
};

enum ig_creds_source { IG_CREDS_IMDS = 0, IG_CREDS_FILE };

/*
 * The file a configuration was loaded from, as fstat saw the descriptor it
 * was read through, so a long-lived process can tell it has not changed
 * (ig_config_unchanged).  valid is 0 after ig_config_parse (no file) and
 * when the file had changed less than IG_CONFIG_SETTLE_SECONDS before the
 * load began: a later rewrite could then carry the very same timestamps
 * (coarse or whole-second file system clocks), so such a load is never
 * taken as current.
 */
struct ig_config_file_id {
	int valid;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

#define IG_CONFIG_SETTLE_SECONDS 2

struct ig_config {
	char *path;
	struct ig_config_file_id file;
	char *pii_group;     /* may be NULL when no role is pii */
	int pii_allow_local; /* test rigs: loopback/own addresses allowed for PII */
	struct ig_allowlist *allowlists;
	size_t n_allowlists;
	struct ig_group *groups;
	size_t n_groups;
	struct ig_role *roles;
	size_t n_roles;
	struct {
		char *state_dir;
		char *issuer;
		unsigned digits, step_seconds, window, max_failures, lockout_seconds;
		unsigned lockout_max_seconds; /* cap of the doubling lockouts */
	} totp;
	struct {
		char *path;
		int syslog;
		char *seal_key;              /* NULL: PATH.seal beside the log */
		unsigned seal_epoch_seconds; /* for `iamgate audit seal-init` */
	} audit;
	struct {
		char *dir;       /* per-session credential dirs */
		char *grant_dir; /* auth -> open_session grants */
		unsigned grant_ttl_seconds;
		int deny_on_issue_failure; /* "on_issue_failure": "deny" */
	} session;
	struct {
		char *region;       /* NULL when the section is absent */
		char *sts_endpoint; /* derived from region when absent */
		char *ca_file;      /* NULL: system store */
		unsigned timeout_seconds;
		enum ig_creds_source source;
		char *creds_file;
		char *profile;
		char *imds_endpoint;
		char *cache_dir;         /* IMDS credentials cache, root 0700 */
		unsigned imds_probe_uid; /* the metadata lockdown's probe uid */
	} aws;
	struct {
		char *sid_pattern;
		char **pii_buckets;
		size_t n_pii_buckets;
		char *bastion_role_arn;
	} policy;
};

/*
 * Parse and validate configuration text (no file checks).  name is used in
 * messages.  On refusal returns IG_ERR_CONFIG and writes one or more lines
 * "NAME:LINE:COL: problem; fix: ..." into err (truncated to errcap).
 */
int ig_config_parse(const char *text, size_t len, const char *name, struct ig_config **out,
                    char *err, size_t errcap) IG_MUST_CHECK;

/*
 * Load path: checks the file and every parent (root-owned, not group/world
 * writable, no symlink, regular file), then ig_config_parse, then the
 * checks against this host (confcheck.h: groups and their gids, ca_file,
 * the PII allowlists).
 */
int ig_config_load(const char *path, struct ig_config **out, char *err,
                   size_t errcap) IG_MUST_CHECK;

/*
 * 1 when cfg, loaded by ig_config_load, is still what loading path would
 * give: path is the same string as cfg->path, path passes again every check
 * ig_config_load makes on the file and its directories (root-owned, not
 * group/world writable, no symlink, regular file, one link, size limit),
 * and a fresh stat of the file matches cfg->file exactly (device, inode,
 * size, mtime, ctime; an in-place rewrite or chmod changes ctime, a
 * replacement the inode).  0 otherwise, including a NULL cfg or one from
 * ig_config_parse: the caller reloads (and so gets the refusal, if any).
 * Content is not reread; a change that keeps every timestamp (a clock set
 * back, a raw block write) is not seen.
 */
int ig_config_unchanged(const struct ig_config *cfg, const char *path);

void ig_config_free(struct ig_config *cfg);

/*
 * Where to audit the refusal of a configuration: its "audit"."path" when
 * the file is trusted (root-owned, safe parents) and that value can be read
 * from it, else the default /var/log/iamgate/audit.jsonl.  An untrusted file
 * names nothing: IG_ERR_UNSAFE (and friends).
 */
int ig_config_audit_path(const char *path, char *out, size_t cap) IG_MUST_CHECK;

/* Lookups by name; NULL/-1 when absent. */
const struct ig_group *ig_config_group(const struct ig_config *cfg, const char *name);
const struct ig_role *ig_config_role(const struct ig_config *cfg, const char *name);

#endif
