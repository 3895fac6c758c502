/* cmd-help.c - help: the commands, or one command's usage and text. */
#include <stdlib.h>
#include <string.h>

#include "labcd.h"
#include "proto.h"
#include "xmalloc.h"

/* "For root only: --dir, --sshd-config.": e's options only role may give. */
static void
opts_for(struct ctx *c, const char *who, const struct cmd_entry *e, int role)
{
	int i, n = 0;

	for (i = 0; i < CMD_MAXOPTS && e->opts[i].name != NULL; i++) {
		if (!(e->opts[i].flags & role))
			continue;
		if (n++ == 0)
			ctx_printf(c, "For %s only:", who);
		ctx_printf(c, "%s --%s", n == 1 ? "" : ",", e->opts[i].name);
	}
	if (n > 0)
		ctx_printf(c, ".\n");
}

/* Listed by plain 'help' for this caller? */
static int
shown(const struct ctx *c, const struct cmd_entry *e)
{
	return !((e->flags & CMD_ADMIN) && !c->id.admin) &&
	    !(e->flags & CMD_HIDDEN);
}

/*
 * text from column indent on, wrapped at spaces to the terminal's width
 * (80 when it is not known), later lines indented as far.
 */
static void
wrapped(struct ctx *c, const char *text, int indent)
{
	int width = (c->cols > 40 ? c->cols : 80) - 1 - indent;
	const char *p = text;
	int len, cut;

	if (width < 20)
		width = 20;
	for (;;) {
		len = (int)strlen(p);
		if (len <= width) {
			ctx_printf(c, "%s\n", p);
			return;
		}
		for (cut = width; cut > 0 && p[cut] != ' '; cut--)
			;
		if (cut == 0)	/* one long word: leave it whole */
			cut = (int)strcspn(p, " ");
		ctx_printf(c, "%.*s\n", cut, p);
		p += cut;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return;
		ctx_printf(c, "%*s", indent, "");
	}
}

static int
cmd_help_exec(struct ctx *c)
{
	const struct cmd_entry *e;
	int i, used;

	/*
	 * --names: every name for the shell's completion (data), and one
	 * line per command the caller may see for other completers (bash).
	 */
	if (cmd_opt(c, "names") != NULL) {
		json_t *names = json_array();

		for (i = 0; cmd_table[i] != NULL; i++) {
			e = cmd_table[i];
			json_array_append_new(names, json_string(e->name));
			if (shown(c, e))
				ctx_printf(c, "%s\n", e->name);
		}
		c->data = json_pack("{s:o}", "commands", names);
		return PROTO_OK;
	}
	if (c->args.argc == 0) {
		int w = 0, n;

		for (i = 0; cmd_table[i] != NULL; i++) {
			e = cmd_table[i];
			n = (int)strlen(e->name);
			if (shown(c, e) && n > w)
				w = n;
		}
		ctx_printf(c, "Commands (help COMMAND for more):\n");
		for (i = 0; cmd_table[i] != NULL; i++) {
			e = cmd_table[i];
			if (!shown(c, e))
				continue;
			ctx_printf(c, "  %-*s ", w, e->name);
			wrapped(c, e->summary, w + 3);
		}
		if (!c->id.admin)
			ctx_printf(c, "(admin commands are not shown: you are "
			    "not an admin)\n");
		return PROTO_OK;
	}
	e = cmd_find(c->args.argc, c->args.argv, &used);
	if (e == NULL || used != c->args.argc)
		return ctx_usage(c, "help: no command '%.64s'",
		    c->args.argv[0]);
	cmd_usage(e, &c->out);
	ctx_printf(c, "\n\n%s\n", e->summary);
	if (e->help != NULL) {
		const char *p;
		char *line;
		size_t n;

		ctx_printf(c, "\n");
		for (p = e->help; *p != '\0'; p += n + (p[n] == '\n')) {
			n = strcspn(p, "\n");
			line = xstrndup(p, n);
			wrapped(c, line, 0);
			free(line);
		}
	}
	if (e->flags & CMD_ROOT)
		ctx_printf(c, "\nFor root only: it works on the host as root, "
		    "and an admin is not root.\n");
	else if (e->flags & CMD_ADMIN)
		ctx_printf(c, "\nFor admins only.\n");
	opts_for(c, "root", e, CMD_ROOT);
	opts_for(c, "admins", e, CMD_ADMIN);
	return PROTO_OK;
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.args = "[COMMAND]",
	.summary = "list the commands, or explain one",
	.flags = CMD_ANON | CMD_READONLY | CMD_NOAUDIT,
	.min_args = 0, .max_args = 3,
	.opts = { { "names", 0, 0, NULL } },
	.exec = cmd_help_exec,
};
