/*
 * nvml.h - NVIDIA GPUs through NVML, loaded at run time with dlopen (no
 * build dependency). A host without the library says so, and nothing else
 * is affected. The library is loaded and initialised once per process.
 */
#ifndef LABCD_NVML_H
#define LABCD_NVML_H

#include <stddef.h>

struct nvml_proc {
	unsigned int		 pid;		/* host PID */
	unsigned long long	 mem;		/* GPU memory, bytes (0: unknown) */
	/* Whose it is, not NVML's word: "" here; gpu_reading_parse fills
	   them from a reading (the LXD project and container of its
	   cgroup; project "" for the host's). */
	char			 project[128];
	char			 container[64];
};

struct nvml_gpu {
	int			 index;		/* as nvidia-smi numbers them */
	char			 name[96];
	char			 uuid[96];
	char			 pci[32];	/* LXD's form: "0000:3b:00.0" */
	unsigned long long	 mem_total;	/* bytes */
	unsigned long long	 mem_used;
	int			 util;		/* %, -1 if unknown */
	size_t			 nprocs;
	struct nvml_proc	*procs;		/* compute + graphics, by PID */
};

/*
 * All GPUs with their processes. lib: the library to dlopen (NULL:
 * "libnvidia-ml.so.1"). 0 and *gpus, *n (free with nvml_free), or -1 with
 * err: "no NVIDIA driver found (libnvidia-ml.so.1: ...)" when the library
 * cannot be loaded, or NVML's own error text.
 */
int	nvml_query(const char *lib, struct nvml_gpu **gpus, size_t *n,
	    char *err, size_t errsz);
void	nvml_free(struct nvml_gpu *gpus, size_t n);
/* The driver's version ("550.54.15"), as the host's NVML says; 0 or -1. */
int	nvml_driver_version(const char *lib, char *out, size_t outsz,
	    char *err, size_t errsz);
/* "00000000:3B:00.0" -> "0000:3b:00.0" (out of at least 32 bytes). */
void	nvml_pci_normalize(const char *busid, char *out);

#endif
