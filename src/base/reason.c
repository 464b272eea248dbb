/* reason.c - the names of reasons and phases (reason.h). */
#include <string.h>

#include "iamgate/reason.h"

static const char *const reason_names[IG_R__COUNT] = {
#define IG_REASON_NAME(id, name) [IG_R_##id] = name,
        IG_REASONS(IG_REASON_NAME)
#undef IG_REASON_NAME
};

static const char *const phase_names[IG_PHASE__COUNT] = {
        [IG_PHASE_AUTH] = "auth",
        [IG_PHASE_ACCOUNT] = "account",
        [IG_PHASE_OPEN_SESSION] = "open_session",
        [IG_PHASE_CLOSE_SESSION] = "close_session",
};

const char *ig_reason_name(enum ig_reason r)
{
	if ((unsigned)r >= IG_R__COUNT)
		return reason_names[IG_R_INTERNAL_ERROR];
	return reason_names[r];
}

int ig_reason_parse(const char *name, enum ig_reason *out)
{
	for (unsigned i = 0; i < IG_R__COUNT; i++)
		if (strcmp(reason_names[i], name) == 0) {
			*out = (enum ig_reason)i;
			return 0;
		}
	return IG_ERR_NOTFOUND;
}

const char *ig_phase_name(enum ig_phase p)
{
	if ((unsigned)p >= IG_PHASE__COUNT)
		return "unknown";
	return phase_names[p];
}

int ig_phase_parse(const char *name, enum ig_phase *out)
{
	for (unsigned i = 0; i < IG_PHASE__COUNT; i++)
		if (strcmp(phase_names[i], name) == 0) {
			*out = (enum ig_phase)i;
			return 0;
		}
	return IG_ERR_NOTFOUND;
}
