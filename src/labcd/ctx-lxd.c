/*
 * ctx-lxd.c - the LXD client of a connection, made when first needed and
 * kept for the connection's life; progress of long operations goes to
 * the client being served.
 */
#include <stdio.h>
#include <string.h>

#include "labcd.h"
#include "log.h"
#include "lxd.h"

/* LXD's stage names, said for people. */
static const char *
stage_name(const char *stage)
{
	if (strstr(stage, "unpack") != NULL)
		return "Unpacking the image";
	if (strstr(stage, "download") != NULL)
		return "Downloading the image";
	if (strstr(stage, "create_instance") != NULL)
		return "Creating";
	return "Working";
}

static void
on_progress(void *arg, const char *stage, const char *text, int percent)
{
	struct ctx *c = arg;

	if (percent >= 0)
		ctx_progress(c, "%s: %d%%", stage_name(stage), percent);
	else
		ctx_progress(c, "%s: %s", stage_name(stage), text);
}

struct lxd *
ctx_lxd(struct ctx *c)
{
	if (*c->lxdp == NULL) {
		*c->lxdp = lxd_new(*c->srv->cfg.lxd_socket != '\0' ?
		    c->srv->cfg.lxd_socket : NULL);
		if (*c->lxdp == NULL)
			fatalx("cannot make an LXD client (out of memory)");
	}
	lxd_set_progress(*c->lxdp, on_progress, c);
	return *c->lxdp;
}

const char *
ctx_lxd_error(struct ctx *c)
{
	return *c->lxdp != NULL ? lxd_error(*c->lxdp) : "";
}
