/*
 * fuzz_policy.c - libFuzzer target for the policy analyser and jsonpos.
 *
 * Build and run (from the repo root; crashers land in build/fuzz-policy/, copy
 * any into tests/fuzz/corpus/policy/ once fixed):
 *   mkdir -p build/fuzz-policy/corpus && \
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -Iinclude -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=all -o build/fuzz-policy/fuzz_policy tests/fuzz/fuzz_policy.c \
 *     src/core/policy.c src/core/jsonpos.c src/base/util.c src/base/error.c -ljansson && \
 *   build/fuzz-policy/fuzz_policy -max_total_time=60 -max_len=8192 \
 *     -dict=tests/fuzz/fuzz_policy.dict -artifact_prefix=build/fuzz-policy/ \
 *     build/fuzz-policy/corpus tests/fuzz/corpus/policy
 *
 * What it checks on every input:
 *  - jsonpos against jansson as an oracle: whenever jansson accepts the text
 *    (any root, no duplicate keys) and it is no deeper than IG_JSON_MAX_DEPTH,
 *    ig_json_locate must find the root and every value jansson sees (the
 *    first FUZZ_MAX_NODES of them, fewer for long inputs), at a byte that
 *    starts a value of the same type, and every member key at a '"'.
 *    Whenever ig_json_locate says the text is well-formed, jansson must
 *    agree except for its own limits (numbers out of range, duplicates, a
 *    NUL byte after a number, which it lets pass).
 *  - the policy analyser on the bytes as a permission policy and as a trust
 *    policy, for a pii and a non-pii role: no crash, no leak, no sanitizer
 *    finding; every finding has a line >= 1 and a non-empty, printable,
 *    one-line message; the returned count equals the errors reported (or
 *    exceeds it when the analyser said it stopped showing them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "iamgate/jsonpos.h"
#include "iamgate/policy.h"

/* Each located node costs a scan of the input: bound the total bytes scanned. */
#define FUZZ_SCAN_BUDGET 4000000
#define FUZZ_MAX_NODES 2000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	const char *text;
	size_t len;
	struct ig_json_step path[IG_JSON_MAX_DEPTH + 1];
	size_t nodes;
	size_t max_nodes;
};

static size_t linecol_to_offset(const char *text, size_t len, int line, int col)
{
	size_t off = 0;

	for (int l = 1; l < line; l++) {
		const char *nl = memchr(text + off, '\n', len - off);
		if (nl == NULL)
			abort();
		off = (size_t)(nl - text) + 1;
	}
	off += (size_t)col - 1;
	if (off >= len)
		abort();
	return off;
}

static void expect_start(const struct walk *w, size_t depth, int where_key, json_t *v)
{
	int line, col;
	size_t off;
	char c;

	if (ig_json_locate(w->text, w->len, w->path, depth, where_key, &line, &col) != 0)
		abort();
	off = linecol_to_offset(w->text, w->len, line, col);
	c = w->text[off];
	if (where_key) {
		if (c != '"')
			abort();
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (c != '{')
			abort();
		break;
	case JSON_ARRAY:
		if (c != '[')
			abort();
		break;
	case JSON_STRING:
		if (c != '"')
			abort();
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		if (c != '-' && (c < '0' || c > '9'))
			abort();
		break;
	case JSON_TRUE:
		if (c != 't')
			abort();
		break;
	case JSON_FALSE:
		if (c != 'f')
			abort();
		break;
	case JSON_NULL:
		if (c != 'n')
			abort();
		break;
	default: abort();
	}
}

static void walk(struct walk *w, json_t *v, size_t depth)
{
	if (w->nodes++ >= w->max_nodes)
		return;
	expect_start(w, depth, 0, v);
	if (depth >= IG_JSON_MAX_DEPTH)
		return;
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			w->path[depth] = (struct ig_json_step){NULL, i};
			walk(w, json_array_get(v, i), depth + 1);
		}
	} else if (json_is_object(v)) {
		const char *key;
		json_t *m;
		json_object_foreach(v, key, m)
		{
			w->path[depth] = (struct ig_json_step){key, 0};
			expect_start(w, depth + 1, 1, m);
			walk(w, m, depth + 1);
		}
	}
}

static size_t json_depth(json_t *v, size_t cap)
{
	size_t best = 0, d;

	if (cap == 0)
		return 1;
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++)
			if ((d = json_depth(json_array_get(v, i), cap - 1)) > best)
				best = d;
		return best + 1;
	}
	if (json_is_object(v)) {
		const char *key;
		json_t *m;
		json_object_foreach(v, key, m)
		{
			if ((d = json_depth(m, cap - 1)) > best)
				best = d;
		}
		return best + 1;
	}
	return 0;
}

static void check_jsonpos(const char *text, size_t len)
{
	json_error_t err;
	json_t *root;
	int line, col, r;

	r = ig_json_locate(text, len, NULL, 0, 0, &line, &col);
	if (r != 0 && r != IG_ERR_PARSE)
		abort();
	root = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	                  &err);
	if (root == NULL) {
		/* We accepted what jansson refused: only jansson's own limits may explain it. */
		if (r == 0 && strstr(err.text, "too big") == NULL &&
		    strstr(err.text, "overflow") == NULL && strstr(err.text, "duplicate") == NULL &&
		    strstr(err.text, "NUL byte in object key") == NULL)
			abort();
		return;
	}
	if (json_depth(root, IG_JSON_MAX_DEPTH + 2) <= IG_JSON_MAX_DEPTH) {
		struct walk *w = calloc(1, sizeof(*w));
		if (w == NULL)
			abort();
		/* jansson accepted, we refused: wrong, except that jansson lets a NUL
		 * byte after a number pass, which we refuse as RFC 8259 does. */
		if (r != 0 && memchr(text, 0, len) == NULL)
			abort();
		w->text = text;
		w->len = len;
		w->max_nodes = FUZZ_SCAN_BUDGET / (len + 1);
		if (w->max_nodes > FUZZ_MAX_NODES)
			w->max_nodes = FUZZ_MAX_NODES;
		if (w->max_nodes < 16)
			w->max_nodes = 16;
		if (r == 0) /* jansson never loads a key with a NUL byte */
			walk(w, root, 0);
		free(w);
	}
	json_decref(root);
}

struct tally {
	int errors; /* errors reported */
	int hidden; /* the "not shown" notice was reported */
};

static void report(void *ctx, const char *file, int line, enum ig_policy_sev sev,
                   const char *message)
{
	struct tally *t = ctx;

	if (file == NULL || line < 1 || message == NULL || message[0] == '\0')
		abort();
	for (const char *p = message; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			abort(); /* a finding is one printable line */
	if (sev == IG_POLICY_ERROR)
		t->errors++;
	if (strstr(message, "counted but not shown") != NULL)
		t->hidden = 1;
}

static void check_policy(const char *text, size_t len)
{
	static const char *const buckets[] = {"acme-rds-exports", "acme-backup-*"};
	struct ig_policy_opts o = {
	        .dir = NULL,
	        .sid_pattern = NULL,
	        .pii_buckets = buckets,
	        .n_pii_buckets = 2,
	        .bastion_role_arn = "arn:aws:iam::111122223333:role/iamgate-bastion",
	};
	struct ig_policy_role roles[] = {
	        {"prod-pii", "arn:aws:iam::111122223333:role/prod-pii", 1},
	        {"prod-dev", "arn:aws:iam::111122223333:role/prod-dev", 0},
	};

	for (size_t i = 0; i < 2; i++) {
		for (int trust = 0; trust <= 1; trust++) {
			struct tally t = {0, 0};
			int reach = 0;
			int r = ig_policy_check_text(&o, &roles[i], "fuzz.json", text, len, trust,
			                             &reach, report, &t);
			/* Only allocation failure may stop the analysis; the count it
			 * returns is the number of errors it reported, unless it said
			 * it stopped showing them. */
			if (r < 0 ? r != IG_ERR_NOMEM
			          : (r != t.errors && !(t.hidden && r > t.errors)))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_jsonpos((const char *)data, size);
	check_policy((const char *)data, size);
	return 0;
}
