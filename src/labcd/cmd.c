/*
 * cmd.c - the one command table, finding a command from argv, parsing its
 * options (with --help, -h and --format, which the table gives every
 * command or every CMD_FORMAT one) and saying its usage. Who may run what
 * is acl.c's.
 */
#include <stdint.h>
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
extern const struct cmd_entry cmd_copy_entry;
extern const struct cmd_entry cmd_snapshot_entry;
extern const struct cmd_entry cmd_snapshots_entry;
extern const struct cmd_entry cmd_snapshot_del_entry;
extern const struct cmd_entry cmd_snapshot_schedule_entry;
extern const struct cmd_entry cmd_restore_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_import_entry;
extern const struct cmd_entry cmd_delete_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_details_entry;
extern const struct cmd_entry cmd_images_entry;
extern const struct cmd_entry cmd_servers_entry;
extern const struct cmd_entry cmd_move_entry;
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
extern const struct cmd_entry cmd_gpu_renew_entry;
extern const struct cmd_entry cmd_gpu_request_entry;
extern const struct cmd_entry cmd_gpu_queue_entry;
extern const struct cmd_entry cmd_gpu_cancel_entry;
extern const struct cmd_entry cmd_usage_entry;
extern const struct cmd_entry cmd_notices_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_admin_gpu_exempt_entry;
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
	&cmd_copy_entry,
	&cmd_snapshot_entry,
	&cmd_snapshots_entry,
	&cmd_snapshot_del_entry,
	&cmd_snapshot_schedule_entry,
	&cmd_restore_entry,
	&cmd_export_entry,
	&cmd_import_entry,
	&cmd_delete_entry,
	&cmd_move_entry,
	&cmd_list_entry,
	&cmd_details_entry,
	&cmd_images_entry,
	&cmd_servers_entry,
	&cmd_gpus_entry,
	&cmd_gpu_attach_entry,
	&cmd_gpu_detach_entry,
	&cmd_gpu_renew_entry,
	&cmd_gpu_request_entry,
	&cmd_gpu_queue_entry,
	&cmd_gpu_cancel_entry,
	&cmd_usage_entry,
	&cmd_notices_entry,
	&cmd_status_entry,
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
	&cmd_admin_gpu_exempt_entry,
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
	if (e->flags & CMD_FORMAT)
		buf_printf(b, " [--format table|json%s]",
		    e->flags & CMD_NOCSV ? "" : "|csv");
}

/* 'CMD --help' is 'help CMD': the same text, run and audited as help. */
void
cmd_help_instead(struct ctx *c, char *const *argv, int used)
{
	char **words = xcalloc((size_t)used + 1, sizeof(*words));
	int i;

	for (i = 0; i < used; i++)
		words[i] = argv[i];
	free((void *)(uintptr_t)c->args.argv);
	memset(&c->args, 0, sizeof(c->args));
	c->args.argc = used;
	c->args.argv = words;
	c->cmd = &cmd_help_entry;
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
 * The options every command has, after its own in the numbering: --help
 * and -h; --format with CMD_FORMAT.
 */
#define OPT_HELP	CMD_MAXOPTS
#define OPT_FORMAT	(CMD_MAXOPTS + 1)
static const struct cmd_opt help_opt = { "help", 'h', 0, NULL };
static const struct cmd_opt format_opt = { "format", 0, OPT_ARG, "FORMAT" };

static const struct cmd_opt *
opt_at(const struct cmd_entry *e, int k)
{
	if (k == OPT_HELP)
		return &help_opt;
	if (k == OPT_FORMAT)
		return &format_opt;
	return &e->opts[k];
}

/* An option of e, or of every command: its number, or -1. */
static int
find_any_opt(const struct cmd_entry *e, const char *name, size_t len,
    char letter)
{
	int k;

	if ((k = find_opt(e, name, len, letter)) >= 0)
		return k;
	if (letter != 0 ? letter == help_opt.letter : len == 4 &&
	    strncmp(name, help_opt.name, len) == 0)
		return OPT_HELP;
	if ((e->flags & CMD_FORMAT) && letter == 0 && len == 6 &&
	    strncmp(name, format_opt.name, len) == 0)
		return OPT_FORMAT;
	return -1;
}

/*
 * Parse argv (after the command's name) into options and positional
 * arguments. 0, or -1 with a usage message in err. With --help (or -h),
 * the positional arguments are not counted: the caller shows the help.
 */
int
cmd_parse(const struct cmd_entry *e, int argc, char *const *argv,
    struct args *a, struct buf *err)
{
	char **pos = xcalloc((size_t)argc + 1, sizeof(*pos));
	const struct cmd_opt *o;
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
			k = find_any_opt(e, s + 2, eq ? (size_t)(eq - s - 2) :
			    strlen(s + 2), 0);
		} else {
			eq = NULL;
			k = s[2] == '\0' ? find_any_opt(e, NULL, 0, s[1]) : -1;
		}
		if (k < 0) {
			buf_printf(err, "%s: unknown option '%.40s'\n", e->name,
			    s);
			goto usage;
		}
		o = opt_at(e, k);
		if (!(o->flags & OPT_ARG)) {
			if (eq != NULL) {
				buf_printf(err, "%s: option --%s takes no "
				    "value\n", e->name, o->name);
				goto usage;
			}
			if (k == OPT_HELP)
				a->help = 1;
			else
				a->val[k] = "";
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			buf_printf(err, "%s: option --%s needs a value (%s)\n",
			    e->name, o->name, o->arg_name);
			goto usage;
		}
		if (k == OPT_FORMAT)
			a->format = val;
		else
			a->val[k] = val;
	}
	a->argc = npos;
	if (a->help)
		return 0;
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
