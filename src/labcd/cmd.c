/*
 * cmd.c - the one command table, finding a command from argv, parsing its
 * options, and the one function that decides who may run what.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labcd.h"
#include "proto.h"
#include "xmalloc.h"

extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_login_entry;
extern const struct cmd_entry cmd_logout_entry;
extern const struct cmd_entry cmd_whoami_entry;
extern const struct cmd_entry cmd_guide_entry;
extern const struct cmd_entry cmd_passwd_entry;
extern const struct cmd_entry cmd_log_entry;
extern const struct cmd_entry cmd_create_entry;
extern const struct cmd_entry cmd_launch_entry;
extern const struct cmd_entry cmd_start_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_restart_entry;
extern const struct cmd_entry cmd_set_entry;
extern const struct cmd_entry cmd_delete_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_details_entry;
extern const struct cmd_entry cmd_images_entry;
extern const struct cmd_entry cmd_key_add_entry;
extern const struct cmd_entry cmd_key_list_entry;
extern const struct cmd_entry cmd_key_del_entry;
extern const struct cmd_entry cmd_key_gen_entry;
extern const struct cmd_entry cmd_quota_entry;
extern const struct cmd_entry cmd_admin_quota_set_entry;
extern const struct cmd_entry cmd_admin_quota_show_entry;
extern const struct cmd_entry cmd_nc_entry;
extern const struct cmd_entry cmd_ssh_config_entry;
extern const struct cmd_entry cmd_gateway_keys_entry;
extern const struct cmd_entry cmd_admin_user_lock_entry;
extern const struct cmd_entry cmd_admin_user_unlock_entry;
extern const struct cmd_entry cmd_admin_gateway_setup_entry;
extern const struct cmd_entry cmd_gpus_entry;
extern const struct cmd_entry cmd_gpu_attach_entry;
extern const struct cmd_entry cmd_gpu_detach_entry;
extern const struct cmd_entry cmd_admin_user_add_entry;
extern const struct cmd_entry cmd_admin_user_del_entry;
extern const struct cmd_entry cmd_admin_user_list_entry;
extern const struct cmd_entry cmd_admin_passwd_entry;
extern const struct cmd_entry cmd_admin_log_entry;
extern const struct cmd_entry cmd_admin_reconcile_entry;
extern const struct cmd_entry cmd_admin_doctor_entry;
extern const struct cmd_entry cmd_admin_import_entry;

const struct cmd_entry *const cmd_table[] = {
	&cmd_help_entry,
	&cmd_login_entry,
	&cmd_logout_entry,
	&cmd_whoami_entry,
	&cmd_guide_entry,
	&cmd_passwd_entry,
	&cmd_log_entry,
	&cmd_create_entry,
	&cmd_launch_entry,
	&cmd_start_entry,
	&cmd_stop_entry,
	&cmd_restart_entry,
	&cmd_set_entry,
	&cmd_delete_entry,
	&cmd_list_entry,
	&cmd_details_entry,
	&cmd_images_entry,
	&cmd_gpus_entry,
	&cmd_gpu_attach_entry,
	&cmd_gpu_detach_entry,
	&cmd_key_add_entry,
	&cmd_key_list_entry,
	&cmd_key_del_entry,
	&cmd_key_gen_entry,
	&cmd_quota_entry,
	&cmd_nc_entry,
	&cmd_ssh_config_entry,
	&cmd_gateway_keys_entry,
	&cmd_admin_user_add_entry,
	&cmd_admin_user_del_entry,
	&cmd_admin_user_list_entry,
	&cmd_admin_user_lock_entry,
	&cmd_admin_user_unlock_entry,
	&cmd_admin_passwd_entry,
	&cmd_admin_log_entry,
	&cmd_admin_reconcile_entry,
	&cmd_admin_quota_set_entry,
	&cmd_admin_quota_show_entry,
	&cmd_admin_gateway_setup_entry,
	&cmd_admin_doctor_entry,
	&cmd_admin_import_entry,
	NULL
};

/* How many words of argv spell name; 0 if they don't. */
static int
match_words(const char *name, int argc, char *const *argv)
{
	const char *p = name;
	int n = 0;

	while (*p != '\0') {
		size_t len = strcspn(p, " ");

		if (n >= argc || strlen(argv[n]) != len ||
		    strncmp(argv[n], p, len) != 0)
			return 0;
		n++;
		p += len;
		if (*p == ' ')
			p++;
	}
	return n;
}

const struct cmd_entry *
cmd_find(int argc, char *const *argv, int *used)
{
	const struct cmd_entry *best = NULL;
	int i, n, bestn = 0;

	for (i = 0; cmd_table[i] != NULL; i++) {
		n = match_words(cmd_table[i]->name, argc, argv);
		if (n > bestn) {
			best = cmd_table[i];
			bestn = n;
		}
	}
	*used = bestn;
	return best;
}

void
cmd_usage(const struct cmd_entry *e, struct buf *b)
{
	buf_printf(b, "usage: %s%s%s", e->name, *e->args ? " " : "", e->args);
}

const char *
cmd_opt(const struct ctx *c, const char *name)
{
	int i;

	for (i = 0; i < CMD_MAXOPTS && c->cmd->opts[i].name != NULL; i++) {
		if (strcmp(c->cmd->opts[i].name, name) == 0)
			return c->args.val[i];
	}
	return NULL;
}

static int
find_opt(const struct cmd_entry *e, const char *name, size_t len, char letter)
{
	int i;

	for (i = 0; i < CMD_MAXOPTS && e->opts[i].name != NULL; i++) {
		if (letter != 0 ? e->opts[i].letter == letter :
		    strlen(e->opts[i].name) == len &&
		    strncmp(e->opts[i].name, name, len) == 0)
			return i;
	}
	return -1;
}

/*
 * Parse argv (after the command's name) into options and positional
 * arguments. 0, or -1 with a usage message in err.
 */
int
cmd_parse(const struct cmd_entry *e, int argc, char *const *argv,
    struct args *a, struct buf *err)
{
	char **pos = xcalloc((size_t)argc + 1, sizeof(*pos));
	int i, k, npos = 0, only_pos = 0;

	memset(a, 0, sizeof(*a));
	a->argv = pos;
	for (i = 0; i < argc; i++) {
		const char *s = argv[i], *eq, *val;

		if (only_pos || s[0] != '-' || s[1] == '\0') {
			pos[npos++] = argv[i];
			continue;
		}
		if (strcmp(s, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (s[1] == '-') {
			eq = strchr(s + 2, '=');
			k = find_opt(e, s + 2, eq ? (size_t)(eq - s - 2) :
			    strlen(s + 2), 0);
		} else {
			eq = NULL;
			k = s[2] == '\0' ? find_opt(e, NULL, 0, s[1]) : -1;
		}
		if (k < 0) {
			buf_printf(err, "%s: unknown option '%.40s'\n", e->name,
			    s);
			goto usage;
		}
		if (!e->opts[k].has_arg) {
			if (eq != NULL) {
				buf_printf(err, "%s: option --%s takes no "
				    "value\n", e->name, e->opts[k].name);
				goto usage;
			}
			a->val[k] = "";
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			buf_printf(err, "%s: option --%s needs a value (%s)\n",
			    e->name, e->opts[k].name, e->opts[k].arg_name);
			goto usage;
		}
		a->val[k] = val;
	}
	a->argc = npos;
	if (npos < e->min_args || (e->max_args >= 0 && npos > e->max_args)) {
		buf_printf(err, "%s: %s\n", e->name, npos < e->min_args ?
		    "missing arguments" : "too many arguments");
		goto usage;
	}
	return 0;
usage:
	cmd_usage(e, err);
	return -1;
}

/* The first option given that names lists (space-separated), or -1. */
static int
opt_in(const struct ctx *c, const char *names)
{
	const char *p, *name;
	size_t len;
	int i;

	if (names == NULL)
		return -1;
	for (i = 0; i < CMD_MAXOPTS && c->cmd->opts[i].name != NULL; i++) {
		if (c->args.val[i] == NULL)
			continue;
		name = c->cmd->opts[i].name;
		len = strlen(name);
		for (p = names; (p = strstr(p, name)) != NULL; p += len) {
			if ((p == names || p[-1] == ' ') &&
			    (p[len] == ' ' || p[len] == '\0'))
				return i;
		}
	}
	return -1;
}

int
cmd_root_refused(const struct ctx *c)
{
	return c->id.admin && !c->id.root && ((c->cmd->flags & CMD_ROOT) ||
	    opt_in(c, c->cmd->root_opts) >= 0);
}

int
cmd_allowed(struct ctx *c)
{
	const struct cmd_entry *e = c->cmd;
	const char *who = c->id.user[0] ? c->id.user : c->id.host_user;
	int k;

	if ((e->flags & CMD_ADMIN) && !c->id.admin)
		return ctx_error(c, "'%s' is for admins only; you are %s",
		    e->name, who);
	if ((k = opt_in(c, e->admin_opts)) >= 0 && !c->id.admin)
		return ctx_error(c, "%s --%s is for admins only; you are %s",
		    e->name, e->opts[k].name, who);
	/* An admin is not root: these read or change the host as root. */
	if ((e->flags & CMD_ROOT) && !c->id.root)
		return ctx_error(c, "'%s' is for root only: it works on the "
		    "host as root, and an admin is not root; you are %s. Ask "
		    "root to run it (sudo labc %s ...)", e->name, who, e->name);
	if ((k = opt_in(c, c->cmd->root_opts)) >= 0 && !c->id.root)
		return ctx_error(c, "%s --%s is for root only: with it root "
		    "reads or changes what you name on the host, and an admin "
		    "is not root; you are %s. Leave it out (the default is "
		    "used), or ask root to run it", e->name, e->opts[k].name,
		    who);
	if (e->flags & (CMD_ANON | CMD_ADMIN))
		return 0;
	if (c->id.user_id != 0)
		return 0;
	if (c->id.admin && !(e->flags & CMD_USER))
		return 0;
	if (c->id.admin)
		return ctx_error(c, "'%s' acts for a lab user and you are %s, "
		    "an admin without one: run 'labc --as USER %s ...'",
		    e->name, c->id.host_user, e->name);
	if (c->stale_session)
		return ctx_error(c, "your login has expired: run 'login' "
		    "again");
	return ctx_error(c, "you are not logged in: run 'login' first (no "
	    "account? ask your lab's admin)");
}
