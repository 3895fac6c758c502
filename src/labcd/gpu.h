/*
 * gpu.h - GPUs for containers (gpu.c): which ones a request names, who
 * may have them (exclusive holds, the GPU quota), the LXD devices, and
 * which container and lab user a GPU process belongs to.
 */
#ifndef LABCD_GPU_H
#define LABCD_GPU_H

#include <stddef.h>
#include <jansson.h>

#include "labcd.h"
#include "nvml.h"

struct gpu_req {
	char		 server[64];	/* the cluster member whose GPUs these
					   are; "" on one server */
	struct nvml_gpu	*inv;		/* the host's GPUs */
	size_t		 ninv;
	int		*idx;		/* the ones asked for, ascending */
	size_t		 n;
	int		 exclusive;
	int		 any;		/* any:N: free GPUs were chosen */
	long long	 lease;		/* seconds held; 0: no end */
	int		 busy;		/* refused for now only: too few free,
					   or held by others (kept by
					   gpu_request's failure too) */
};

/*
 * Read "all", "none", "0,2" (nvidia-smi indexes), "any" or "any:N"
 * against the host's GPUs. any picks N GPUs nobody holds, the least used
 * first (memory, then utilisation). 0 (req filled; n may be 0),
 * PROTO_USAGE for a bad list, or PROTO_FAILED when GPUs are asked for and
 * NVML is missing, or too few are free (op->cause).
 */
int	gpu_request(struct op *op, const char *server, const char *spec,
	    int exclusive, struct gpu_req *req);
/*
 * On an LXD cluster --gpu names the GPUs of one member: "SERVER:N,..."
 * or, where the member is known (server not ""), plain numbers; "any" and
 * "any:N" on any member. Resolve spec: *server (in: "" not known yet, or
 * the one it must be; out: the member, labcd's choice for any: the one
 * with the most GPUs free) and *plain (what gpu_request reads; caller
 * frees); why says a choice, or "". On one server spec stays as it is.
 * PROTO_OK, or PROTO_USAGE/PROTO_FAILED (op->cause; busy set when only
 * for now).
 */
int	gpu_spec_server(struct op *op, const char *spec, char server[64],
	    char **plain, char *why, size_t whysz, int *busy);
/* gpu_request for an existing container project/name, on its member. */
int	gpu_request_ct(struct op *op, const char *project, const char *name,
	    const char *spec, int exclusive, struct gpu_req *req);
void	gpu_request_free(struct gpu_req *req);
/*
 * May the caller hold GPUs exclusively (gpu_exclusive in labcd.conf)?
 * 0, or PROTO_FAILED saying why not and what to do instead.
 */
int	gpu_exclusive_allowed(struct op *op);
/*
 * In one transaction: refuse GPUs held exclusively by another container
 * (or, for an exclusive request, used by any other), refuse going over the
 * user's GPU quota, then record them for container ct_id.
 */
int	gpu_reserve(struct op *op, long long user_id, long long ct_id,
	    struct gpu_req *req);
/*
 * How long GPUs given now are held: --for (opt, NULL if not given)
 * checked against gpu_lease_max (gpu_lease_unlimited may go beyond), or
 * gpu_lease_default. 0 and *secs (0: no end), or PROTO_USAGE/PROTO_FAILED
 * saying why not.
 */
int	gpu_lease_for(struct op *op, const char *opt, long long *secs);
/*
 * Take GPU gpu from a container (project/name, row ct_id): LXD's device
 * first (hot-unplugged from a running one), then the record. PROTO_OK,
 * or PROTO_FAILED saying why (the record is kept: it is still held).
 */
int	gpu_take(struct op *op, const char *project, const char *name,
	    long long ct_id, int gpu);
/*
 * Could spec (as --gpu takes it) ever be given to user_id within their
 * GPU quota, counting what they hold now? server: the member plain
 * numbers are of (its container's, --server; "" one server or not known).
 * PROTO_OK, or PROTO_FAILED saying why not (before a request waits for
 * GPUs it could never get).
 */
int	gpu_quota_allows(struct op *op, long long user_id, const char *server,
	    const char *spec);
/*
 * A cluster member's GPUs free now (a PCI address LXD can use, nobody
 * holds them) and *total, from its node: or -1 when it cannot be read.
 */
int	gpu_free_on(struct op *op, const char *server, int *total);
/*
 * Is LXD a cluster? The view's word, else LXD's at connect; once seen,
 * for labcd's life (fails closed while the view reloads). 1 or 0.
 */
int	gpu_on_cluster(struct op *op);
/*
 * Give the GPUs of req to a container of user_id (project/name, row
 * ct_id): recorded (gpu_reserve), then the LXD devices, plus the host's
 * driver when labcd delivers it and the container lacks it. PROTO_OK and
 * *running (it was), *driver_added (a restart brings the driver in); else
 * PROTO_FAILED and nothing kept (req->busy: only for now).
 */
int	gpu_give(struct op *op, long long user_id, const char *project,
	    const char *name, long long ct_id, struct gpu_req *req,
	    int *running, int *driver_added, int *had_driver);
/* Forget GPUs of a container (all if req is NULL). */
void	gpu_release(struct op *op, long long ct_id, const struct gpu_req *req);
/* LXD devices for the request: {"gpu2": {type gpu, pci ..., mode 0666}}. */
json_t	*gpu_devices(const struct gpu_req *req);
/* The devices of the GPUs the container holds now (its gpus rows). */
json_t	*gpu_devices_held(struct op *op, long long ct_id);
/*
 * The instance config that delivers the host's NVIDIA driver to a
 * container given GPUs (nvidia.runtime, applied by LXD at its start), or
 * NULL when labcd delivers none (nvidia_runtime off). Caller owns it.
 */
json_t	*gpu_driver_config(const struct config *cfg);
/*
 * Before a start: a container with GPUs that lacks that config (given them
 * while delivery was off) gets it. Failures are logged; the start goes on.
 */
void	gpu_driver_ensure(struct op *op, const char *project, const char *name,
	    long long ct_id);
/*
 * How n GPUs of a container are numbered inside it: from 0, in the order
 * of their host numbers ("GPU 0 inside", "GPU 0 and 1 inside", "GPU 0 to 3
 * inside"). Host GPU 2 alone is GPU 0 inside.
 */
void	gpu_inside(size_t n, char *out, size_t outsz);
/* "WORD 15:04, in 7h59" (another day: "WORD 2026-12-03 15:04, ..."). */
void	gpu_until(const char *word, long long end, char *out, size_t outsz);
/*
 * "0,2" of a container ("m1:0,m1:2" on several servers), each with
 * "(exclusive, until 15:04, in 7h59)" as it has them, for details and
 * attach; caller frees.
 */
char	*gpu_of_container(struct op *op, long long ct_id);
/*
 * The container of a host PID from /proc/PID/cgroup: 1 and project/name,
 * 0 for a host process, -1 if the process is gone.
 */
int	gpu_pid_container(unsigned int pid, char project[128], char name[64]);

/*
 * Every GPU NVML sees, as 'gpus' and the status page show it (the JSON of
 * 'gpus --format json', PROTOCOL.md): 0 and *out, an array (caller
 * decrefs), or PROTO_FAILED with op->cause (no driver, NVML's error).
 */
int	gpu_report(struct op *op, json_t **out);
/*
 * The same, and on a cluster the GPUs of every member (each with its
 * "server"), as the members' labcd --node read them; *unread: the
 * members that gave no reading, [{"server", "why"}].
 */
int	gpu_report_all(struct op *op, json_t **out, json_t **unread);
struct config;
struct gpu_use;
/* When the idle clock takes a hold back (0: never). */
long long gpu_reclaim_at(const struct config *cfg, const struct gpu_use *u);

struct checkup;
/* doctor's checks of the GPUs: NVML and the driver, nvidia-uvm, the
   runtime that gives containers the host's driver, and, when LXD
   answers, containers given GPUs without it or with other libraries. */
void	gpu_doctor(struct checkup *d);
#endif
