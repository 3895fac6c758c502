/* cmd-gpu-attach.c - gpu attach: give GPUs to one of your containers. */
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "gpu.h"
#include "lxd.h"
#include "proto.h"

static int
cmd_gpu_attach_exec(struct ctx *c)
{
	const char *name = c->args.argv[0], *list = c->args.argv[1];
	struct gpu_req req;
	struct ct ct;
	char project[64], *now;
	json_t *patch;
	int r;

	ctx_target(c, "%.64s %.32s", name, list);
	if (cmd_opt(c, "exclusive") != NULL &&
	    (r = gpu_exclusive_allowed(c)) != 0)
		return r;
	if ((r = ct_find(c, name, &ct)) != 0 ||
	    (r = ct_check_ready(c, &ct)) != 0)
		return r;
	if (strcmp(list, "none") == 0)
		return ctx_usage(c, "gpu attach needs GPUs: all or a list");
	if ((r = gpu_request(c, list, cmd_opt(c, "exclusive") != NULL,
	    &req)) != 0)
		return r;
	if ((r = gpu_reserve(c, c->id.user_id, ct.id, &req)) != 0) {
		gpu_request_free(&req);
		return r;
	}
	ct_project_of(c, ct.user_id, c->id.user, project);
	patch = json_pack("{s:o}", "devices", gpu_devices(&req));
	if (req.n > 0 && c->srv->cfg.nvidia_runtime)
		json_object_set_new(patch, "config", json_pack("{s:s, s:s}",
		    "nvidia.runtime", "true", "nvidia.driver.capabilities",
		    "compute,utility"));
	r = lxd_instance_patch(ctx_lxd(c), project, ct.name, patch);
	json_decref(patch);
	if (r != 0) {
		gpu_release(c, ct.id, &req);
		gpu_request_free(&req);
		return ctx_error(c, "LXD refused the GPUs for %s: %s", ct.name,
		    ctx_lxd_error(c));
	}
	gpu_request_free(&req);
	now = gpu_of_container(c, ct.id);
	ctx_printf(c, "%s has GPU %s.\n", ct.name, now);
	free(now);
	return PROTO_OK;
}

const struct cmd_entry cmd_gpu_attach_entry = {
	.name = "gpu attach",
	.args = "NAME all|LIST [--exclusive]",
	.summary = "give GPUs (nvidia-smi numbers, e.g. 0,2) to a container",
	.help = "--exclusive: nobody else may have them until you detach\n"
	    "them or delete the container.",
	.flags = CMD_USER,
	.min_args = 2, .max_args = 2,
	.opts = { { "exclusive", 0, 0, NULL } },
	.exec = cmd_gpu_attach_exec,
};
