/* cmd-images.c - images: what containers can be made from. */
#include <stdio.h>
#include <string.h>

#include "labcd.h"
#include "lxd.h"
#include "proto.h"

static int
cmd_images_exec(struct ctx *c)
{
	static const char *const cols[] = { "alias", "fingerprint",
	    "description", "size", "default", NULL };
	const char *def = c->srv->cfg.default_image;
	struct lxd *l = ctx_lxd(c);
	json_t *list = NULL, *img;
	struct table *t;
	size_t i;

	if (lxd_image_list(l, NULL, &list) != 0)
		return ctx_error(c, "%s", lxd_error(l));
	t = table_new(cols);
	json_array_foreach(list, i, img) {
		const char *fp = json_string_value(json_object_get(img,
		    "fingerprint"));
		const char *desc = json_string_value(json_object_get(
		    json_object_get(img, "properties"), "description"));
		json_t *aliases = json_object_get(img, "aliases");
		const char *alias = json_string_value(json_object_get(
		    json_array_get(aliases, 0), "name"));
		char fp12[13], size[32];
		int is_def;

		if (fp == NULL)
			continue;
		snprintf(fp12, sizeof(fp12), "%s", fp);
		snprintf(size, sizeof(size), "%.0f MiB", (double)
		    json_integer_value(json_object_get(img, "size")) / 1048576);
		is_def = (alias != NULL && strcmp(alias, def) == 0) ||
		    strncmp(fp, def, strlen(def)) == 0;
		table_add(t, alias ? alias : "-", fp12, desc ? desc : "", size,
		    is_def ? "yes" : "");
	}
	json_decref(list);
	ctx_table(c, "images", t);
	table_free(t);
	return PROTO_OK;
}

const struct cmd_entry cmd_images_entry = {
	.name = "images",
	.args = "",
	.summary = "list the images containers can be made from",
	.flags = CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.exec = cmd_images_exec,
};
