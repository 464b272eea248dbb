/*
 * protocol.c - checking the module <-> helper messages (protocol.h).  Built
 * into both the helper and the module, so both sides agree on what a
 * well-formed message is, and fuzzed on its own.
 */
#include <string.h>

#include "iamgate/protocol.h"
#include "iamgate/reason.h"

static const char *get_str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	const char *s;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	/* Embedded NULs or oversize values are malformed, never truncated. */
	if (strlen(s) != json_string_length(v) || strlen(s) > IG_PROTO_MAX_FIELD)
		return NULL;
	return s;
}

int ig_proto_parse_request(json_t *rq, struct ig_proto_request *r)
{
	static const char *const keys[] = {"v",   "phase", "config", "user",    "rhost", "service",
	                                   "tty", "code",  "grant",  "session", NULL};
	const char *key;
	json_t *v;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(rq))
		return -1;
	json_object_foreach(rq, key, v)
	{
		int ok = 0;

		for (size_t i = 0; keys[i]; i++)
			ok |= strcmp(key, keys[i]) == 0;
		if (!ok)
			return -1;
		if (strcmp(key, "v") != 0 && get_str(rq, key) == NULL)
			return -1;
	}
	v = json_object_get(rq, "v");
	if (!json_is_integer(v) || json_integer_value(v) != IG_PROTO_VERSION)
		return -1;
	r->phase = get_str(rq, "phase");
	r->config = get_str(rq, "config");
	r->user = get_str(rq, "user");
	r->rhost = get_str(rq, "rhost");
	r->service = get_str(rq, "service");
	r->tty = get_str(rq, "tty");
	r->code = get_str(rq, "code");
	r->grant = get_str(rq, "grant");
	r->session = get_str(rq, "session");
	if (r->phase == NULL || r->config == NULL || r->user == NULL)
		return -1;
	if (ig_phase_parse(r->phase, &r->phase_id) != 0)
		return -1;
	return 0;
}

int ig_proto_id_ok(const char *id)
{
	if (id == NULL || strlen(id) != IG_ID_HEX_LEN)
		return 0;
	for (size_t i = 0; i < IG_ID_HEX_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

static int str_ok(const json_t *v, size_t max)
{
	return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) &&
	       json_string_length(v) <= max;
}

int ig_proto_reply_ok(const json_t *reply)
{
	const json_t *m, *e, *v;
	const char *k;
	size_t i;

	if (!json_is_object(reply) || !str_ok(json_object_get(reply, "result"), 64) ||
	    !str_ok(json_object_get(reply, "reason"), 128))
		return 0;
	m = json_object_get(reply, "messages");
	if (m) {
		if (!json_is_array(m))
			return 0;
		json_array_foreach(m, i, v) if (!str_ok(v, IG_PROTO_MAX_FIELD)) return 0;
	}
	e = json_object_get(reply, "env");
	if (e) {
		if (!json_is_object(e))
			return 0;
		json_object_foreach((json_t *)e, k,
		                    v) if (!str_ok(v, 4096) ||
		                           strchr(json_string_value(v), '\n')) return 0;
	}
	v = json_object_get(reply, "grant");
	if (v && !(json_is_string(v) && ig_proto_id_ok(json_string_value(v))))
		return 0;
	v = json_object_get(reply, "session");
	if (v && !(json_is_string(v) && ig_proto_id_ok(json_string_value(v))))
		return 0;
	return 1;
}
