/*
 * cmd-guide.c - guide: the member guide (docs/member.md, built into labcd
 * by the Makefile), with SERVER and SUFFIX filled in (and lab@SERVER with
 * the gateway account's name), so that a member reads it where they are,
 * even before logging in (ssh lab@SERVER guide).
 * guide --admin is the admin guide (docs/admin.md), for admins.
 */
#include <stdio.h>
#include <string.h>

#include "labcd.h"
#include "proto.h"

/* build/gen/guides.c, from docs/member.md and docs/admin.md */
extern const char guide_member[];
extern const char guide_admin[];

/*
 * text with SERVER and SUFFIX replaced, and the gateway login "lab@SERVER"
 * spelled with this server's gateway_user.
 */
static void
substitute(struct ctx *c, const char *text, const char *login,
    const char *server, const char *suffix)
{
	static const char *const words[] = { "lab@SERVER", "SERVER", "SUFFIX" };
	const char *with[3] = { login, server, suffix };
	const char *p = text, *s, *best;
	size_t i, w;

	while (*p != '\0') {
		best = NULL;
		w = 0;
		for (i = 0; i < 3; i++) {
			s = strstr(p, words[i]);
			if (s != NULL && (best == NULL || s < best)) {
				best = s;
				w = i;
			}
		}
		if (best == NULL) {
			ctx_printf(c, "%s", p);
			break;
		}
		ctx_printf(c, "%.*s%s", (int)(best - p), p, with[w]);
		p = best + strlen(words[w]);
	}
}

static int
cmd_guide_exec(struct ctx *c)
{
	const struct config *cfg = &c->srv->cfg;
	char server[256], suffix[256], login[300];
	int admin = cmd_opt(c, "admin") != NULL;	/* acl_allowed checked */

	config_server_name(cfg, server, sizeof(server));
	config_server_suffix(cfg, suffix, sizeof(suffix));
	snprintf(login, sizeof(login), "%s@%s", cfg->gateway_user, server);
	substitute(c, admin ? guide_admin : guide_member, login, server,
	    suffix);
	return PROTO_OK;
}

const struct cmd_entry cmd_guide_entry = {
	.name = "guide",
	.args = "[--admin]",
	.summary = "the member guide, for this server (--admin: the admin's)",
	.help = "From a laptop: ssh lab@... guide | less\n"
	    "The same text is docs/member.md (and docs/admin.md) in the "
	    "source.",
	.flags = CMD_ANON | CMD_READONLY | CMD_NOAUDIT,
	.opts = { { "admin", 0, CMD_ADMIN, NULL } },
	.exec = cmd_guide_exec,
};
