/*
 * cmd-key-gen.c - key gen: a new ed25519 key pair for someone without one.
 * The public key is registered; the private key is shown once and kept
 * nowhere.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "ct.h"
#include "keys.h"
#include "proto.h"
#include "sshkey.h"

static int
cmd_key_gen_exec(struct ctx *c)
{
	const char *comment = c->args.argc ? c->args.argv[0] : c->id.user;
	char *pub = NULL, *priv = NULL, fp[64];
	int r;

	if (sshkey_generate_ed25519(comment, &pub, &priv) != 0)
		return ctx_usage(c, "the comment must be printable text of at "
		    "most 256 bytes, without spaces at either end");
	r = keys_add(ctx_op(c), c->id.user_id, pub, 1, fp);
	free(pub);
	if (r != 0) {
		sodium_memzero(priv, strlen(priv));
		free(priv);
		return ctx_fail(c, ctx_op(c));
	}
	ctx_target(c, "%s", fp);
	ctx_printf(c, "Key %s registered. Its private key is below, shown this "
	    "once and kept nowhere.\nSave it on your laptop, for example:\n"
	    "  cat > ~/.ssh/labc_ed25519   (paste, then Ctrl-D)\n"
	    "  chmod 600 ~/.ssh/labc_ed25519\n"
	    "and connect with ssh -i ~/.ssh/labc_ed25519 ...\n\n%s", fp, priv);
	sodium_memzero(priv, strlen(priv));
	free(priv);
	(void)ct_sync_keys(ctx_op(c), c->id.user_id, c->id.user);
	return PROTO_OK;
}

const struct cmd_entry cmd_key_gen_entry = {
	.name = "key gen",
	.args = "[COMMENT]",
	.summary = "make a new SSH key pair; show the private key once",
	.help = "Better: make the key on your own laptop (ssh-keygen -t\n"
	    "ed25519) and 'key add' its .pub line; then no private key ever\n"
	    "leaves your laptop.",
	.flags = CMD_USER,
	.min_args = 0, .max_args = 1,
	.exec = cmd_key_gen_exec,
};
