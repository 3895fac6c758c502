/*
 * node.h - labcd --node (node.c): a cluster member's GPUs, read-only, for
 * the labcd that runs the lab.
 */
#ifndef LABCD_NODE_H
#define LABCD_NODE_H

#include <jansson.h>

struct config;

/*
 * This machine's GPUs as NVML sees them, each process with the LXD
 * project and container it runs in (from /proc, never a command line):
 * {"gpus": [{"index", "name", "pci", "uuid", "memory_total",
 * "memory_used", "utilization", "processes": [{"pid", "memory",
 * "project", "container"}]}], "error": null or why NVML cannot say}.
 */
json_t	*node_reading(const char *nvml_library);
/* labcd --node: serve node_reading until a signal; the exit status. */
int	node_main(const struct config *cfg);

#endif
