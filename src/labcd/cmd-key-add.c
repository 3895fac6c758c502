/* cmd-key-add.c - key add: register an SSH public key of yours. */
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "keys.h"
#include "proto.h"
#include "xmalloc.h"

static int
cmd_key_add_exec(struct ctx *c)
{
	struct buf line = BUF_INIT(20000);
	char fp[64], *in = NULL;
	int i, r;

	/* The key as one quoted word, as several words, or on stdin. */
	for (i = 0; i < c->args.argc; i++) {
		if (i > 0)
			(void)buf_adds(&line, " ");
		(void)buf_adds(&line, c->args.argv[i]);
	}
	if (c->args.argc == 0) {
		if (ctx_prompt(c, "Public key (one line, as in "
		    "~/.ssh/id_ed25519.pub): ", 1, &in) != 0)
			return ctx_error(c, "key add: no key given");
		(void)buf_adds(&line, in);
		free(in);
	}
	ctx_target(c, "%.60s", buf_str(&line));
	r = keys_add(ctx_op(c), c->id.user_id, buf_str(&line),
	    c->id.root, fp);
	buf_free(&line);
	if (r != 0)
		return ctx_fail(c, ctx_op(c));
	ctx_target(c, "%s", fp);
	if (c->id.root)
		ctx_printf(c, "Key %s registered (proven: root vouches for "
		    "it).\n", fp);
	else
		ctx_printf(c, "Key %s registered, not proven yet: it logs you "
		    "in at the gateway after you have used it once there ('ssh "
		    "%s@SERVER', then 'login').\n", fp,
		    c->srv->cfg.gateway_user);
	if (ct_sync_keys(ctx_op(c), c->id.user_id, c->id.user) != 0)
		ctx_printf(c, "Some containers could not be updated now; they "
		    "are when they next start.\n");
	return PROTO_OK;
}

const struct cmd_entry cmd_key_add_entry = {
	.name = "key add",
	.args = "[PUBKEY]",
	.summary = "register an SSH public key (from the argument or stdin)",
	.help = "PUBKEY is one line such as 'ssh-ed25519 AAAA... you@laptop'\n"
	    "(quote it, or pipe it: labc key add < ~/.ssh/id_ed25519.pub).\n"
	    "It goes into every one of your containers at once. At the SSH\n"
	    "gateway it logs you in only once proven: ssh to the gateway\n"
	    "with it and 'login' there once (a key root adds is proven).",
	.flags = CMD_USER,
	.min_args = 0, .max_args = 8,
	.exec = cmd_key_add_exec,
};
