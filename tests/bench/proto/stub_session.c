/*
 * Measurement prototype only (tests/bench/lean_prototype.sh), never product
 * code: empty session phases, so a helper linked with this file instead of
 * session.o pulls in neither libcurl nor libxml2 and shows what auth and
 * account would cost in a helper without them.  prog_helper.c's curl calls
 * (open_session only, never reached here) get stubs too.
 */
#include <curl/curl.h>

#include "iamgate/session.h"

CURLcode curl_global_init(long flags)
{
	(void)flags;
	return CURLE_OK;
}

void curl_global_cleanup(void)
{
}

void ig_session_open(const struct ig_session_ctx *sc, json_t *reply)
{
	(void)sc;
	(void)reply;
}

void ig_session_close(const struct ig_session_ctx *sc, const char *session_id, json_t *reply)
{
	(void)sc;
	(void)session_id;
	(void)reply;
}
