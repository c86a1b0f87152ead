/* kevent.c: the names of kernel events and TCP states (kevent.h). */
#include <string.h>

#include "kevent.h"

static const struct {
	const char *system, *name;
} tracepoints[SL_KEV_COUNT] = {
	[SL_KEV_SET_STATE] = { "sock", "inet_sock_set_state" },
	[SL_KEV_SEND_RESET] = { "tcp", "tcp_send_reset" },
	[SL_KEV_RECEIVE_RESET] = { "tcp", "tcp_receive_reset" },
	[SL_KEV_RETRANSMIT] = { "tcp", "tcp_retransmit_skb" },
	[SL_KEV_RETRANSMIT_SYNACK] = { "tcp", "tcp_retransmit_synack" },
	[SL_KEV_DROP] = { "skb", "kfree_skb" },
};

const char *sl_kev_name(int type)
{
	if (type < 0 || type >= SL_KEV_COUNT)
		return NULL;
	return tracepoints[type].name;
}

const char *sl_kev_system(int type)
{
	if (type < 0 || type >= SL_KEV_COUNT)
		return NULL;
	return tracepoints[type].system;
}

int sl_kev_parse(const char *name)
{
	const char *colon = name ? strchr(name, ':') : NULL;

	if (!name)
		return -1;
	for (int i = 0; i < SL_KEV_COUNT; i++) {
		if (colon &&
		    (strncmp(name, tracepoints[i].system, colon - name) ||
		     tracepoints[i].system[colon - name]))
			continue;
		if (!strcmp(colon ? colon + 1 : name, tracepoints[i].name))
			return i;
	}
	return -1;
}

/* include/net/tcp_states.h: the numbers are ABI (sock_diag reports them). */
static const char *const kstates[] = {
	[1] = "ESTABLISHED",	 [2] = "SYN_SENT",   [3] = "SYN_RECV",
	[4] = "FIN_WAIT1",	 [5] = "FIN_WAIT2",  [6] = "TIME_WAIT",
	[7] = "CLOSE",		 [8] = "CLOSE_WAIT", [9] = "LAST_ACK",
	[10] = "LISTEN",	 [11] = "CLOSING",   [12] = "NEW_SYN_RECV",
	[13] = "BOUND_INACTIVE",
};

const char *sl_kstate_name(int state)
{
	if (state <= 0 ||
	    state >= (int)(sizeof(kstates) / sizeof(kstates[0])) ||
	    !kstates[state])
		return "?";
	return kstates[state];
}
