/*
 * cmd-admin-doctor.c - admin doctor: doctor's checks (doctor.c), one row
 * per finding (check, status, detail, fix). A "problem" makes the command
 * fail; it changes nothing.
 */
#include "doctor.h"
#include "proto.h"

static int
cmd_admin_doctor_exec(struct ctx *c)
{
	struct table *t = table_new(doctor_columns);
	int problems, warnings;

	problems = doctor_checks(ctx_op(c), cmd_opt(c, "dir"), cmd_opt(c,
	    "sshd-config"), t, &warnings);
	ctx_table(c, "checks", t);
	table_free(t);
	if (problems > 0)
		return ctx_error(c, "%d problem%s, %d warning%s: each problem "
		    "says the command that fixes it", problems,
		    problems == 1 ? "" : "s", warnings,
		    warnings == 1 ? "" : "s");
	if (c->format == FMT_TABLE)
		ctx_printf(c, "No problem%s.\n", warnings == 0 ? "" :
		    warnings == 1 ? " (1 warning)" : " (some warnings)");
	return PROTO_OK;
}

const struct cmd_entry cmd_admin_doctor_entry = {
	.name = "admin doctor",
	.args = "[--dir DIR] [--sshd-config FILE]",
	.summary = "check what labcd depends on, and say how to fix it",
	.help = "Checks LXD and its version, the storage pools (warns under\n"
	    "10% free, and when disk limits are configured on a pool that\n"
	    "cannot enforce them, such as dir) and bridges of the\n"
	    "profiles, the default image, member isolation\n"
	    "(isolate_members: LXD's network ACLs and its firewall driver;\n"
	    "a member not yet isolated shows as drift), the SSH port range,\n"
	    "the gateway account and its sshd drop-in\n"
	    "(DIR/50-labcontainers.conf, checked with sshd -t -f FILE; the\n"
	    "same options as 'admin gateway setup', for root only: sshd's\n"
	    "messages quote the files it reads, so only root sees them),\n"
	    "NVML, /dev/nvidia-uvm,\n"
	    "nvidia-container-cli when nvidia_runtime is on (or auto found it\n"
	    "after labcd started), containers given GPUs that get no driver\n"
	    "from the host, containers whose\n"
	    "NVIDIA libraries differ from the host's driver, the database\n"
	    "(integrity and references) and drift between it and LXD. Each\n"
	    "problem comes with the command that fixes it; any problem\n"
	    "makes it fail (exit 1), warnings alone do not.",
	.flags = CMD_ADMIN | CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT |
	    CMD_DOCTOR,
	.opts = {
		/* root runs sshd -t on them: the caller's file, read as root */
		{ "dir", 0, OPT_ARG | CMD_ROOT, "DIR" },
		{ "sshd-config", 0, OPT_ARG | CMD_ROOT, "FILE" },
	},
	.exec = cmd_admin_doctor_exec,
};
