/*
 * nvml-stub.c - a stand-in libnvidia-ml.so.1 for the tests: the NVML calls
 * labcd makes, with NVML's names, structs and semantics, answering from a
 * text file instead of a driver. Not part of the installed program.
 *
 * The file is named by $NVML_STUB_FILE (unset or missing: no GPUs) and is
 * read again by nvmlInit_v2 and by every nvmlDeviceGetCount_v2, so a test
 * can change it under a running labcd. Lines:
 *
 *   gpu NAME BUSID UUID MEM_TOTAL_MIB MEM_USED_MIB UTIL_PERCENT
 *	a GPU, numbered by its order in the file; BUSID in NVML's form
 *	"00000000:3B:00.0" (BUSID "-": nvmlDeviceGetPciInfo answers
 *	UNKNOWN, as for a card that fell off the bus); NAME without spaces;
 *	UTIL_PERCENT "-" makes nvmlDeviceGetUtilizationRates answer
 *	NOT_SUPPORTED
 *   proc GPU_INDEX PID USED_MIB	a compute process on that GPU; USED_MIB
 *	"-" is NVML_VALUE_NOT_AVAILABLE (as under Windows' WDDM)
 *   gproc GPU_INDEX PID USED_MIB	a graphics process
 *   fail init		nvmlInit answers DRIVER_NOT_LOADED
 *   fail procs		the process lists answer UNKNOWN
 *   driver VERSION	what nvmlSystemGetDriverVersion says (default
 *	550.54.15), as after a driver upgrade on the host
 *   # a comment; blank lines are ignored too
 *
 * Built with -DNVML_STUB_OLD it is an old driver instead: only the
 * unsuffixed nvmlInit, GetCount, GetHandleByIndex, GetPciInfo (the older
 * 52-byte struct) and process calls (the 16-byte v1 struct).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NVML_SUCCESS			0
#define NVML_ERROR_UNINITIALIZED	1
#define NVML_ERROR_INVALID_ARGUMENT	2
#define NVML_ERROR_NOT_SUPPORTED	3
#define NVML_ERROR_INSUFFICIENT_SIZE	7
#define NVML_ERROR_DRIVER_NOT_LOADED	9
#define NVML_ERROR_UNKNOWN		999
#define NVML_VALUE_NOT_AVAILABLE	(~0ULL)

#define STUB_GPUS	64
#define STUB_PROCS	4096
#define MIB		(1024ULL * 1024)

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st {
	unsigned int	index;
} *nvmlDevice_t;
typedef struct {
	unsigned int		gpu, memory;
} nvmlUtilization_t;
typedef struct {
	unsigned long long	total, free, used;
} nvmlMemory_t;
typedef struct {
	unsigned int		pid;
	unsigned long long	usedGpuMemory;
} nvmlProcessInfo_v1_t;
typedef struct {
	unsigned int		pid;
	unsigned long long	usedGpuMemory;
	unsigned int		gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;
typedef struct {
	char			busIdLegacy[16];
	unsigned int		domain, bus, device, pciDeviceId;
	unsigned int		pciSubSystemId;
	char			busId[32];
} nvmlPciInfo_t;
/* Before nvmlDeviceGetPciInfo_v3. */
typedef struct {
	char			busId[16];
	unsigned int		domain, bus, device, pciDeviceId;
	unsigned int		pciSubSystemId;
	unsigned int		reserved0, reserved1, reserved2, reserved3;
} nvmlPciInfo_v1_t;

const char	*nvmlErrorString(nvmlReturn_t);
nvmlReturn_t	 nvmlShutdown(void);
nvmlReturn_t	 nvmlSystemGetDriverVersion(char *, unsigned int);
nvmlReturn_t	 nvmlDeviceGetName(nvmlDevice_t, char *, unsigned int);
nvmlReturn_t	 nvmlDeviceGetUUID(nvmlDevice_t, char *, unsigned int);
nvmlReturn_t	 nvmlDeviceGetMemoryInfo(nvmlDevice_t, nvmlMemory_t *);
nvmlReturn_t	 nvmlDeviceGetUtilizationRates(nvmlDevice_t,
		    nvmlUtilization_t *);
#ifdef NVML_STUB_OLD
nvmlReturn_t	 nvmlInit(void);
nvmlReturn_t	 nvmlDeviceGetCount(unsigned int *);
nvmlReturn_t	 nvmlDeviceGetHandleByIndex(unsigned int, nvmlDevice_t *);
nvmlReturn_t	 nvmlDeviceGetPciInfo(nvmlDevice_t, nvmlPciInfo_v1_t *);
nvmlReturn_t	 nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t,
		    unsigned int *, nvmlProcessInfo_v1_t *);
nvmlReturn_t	 nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t,
		    unsigned int *, nvmlProcessInfo_v1_t *);
#else
nvmlReturn_t	 nvmlInit_v2(void);
nvmlReturn_t	 nvmlDeviceGetCount_v2(unsigned int *);
nvmlReturn_t	 nvmlDeviceGetHandleByIndex_v2(unsigned int, nvmlDevice_t *);
nvmlReturn_t	 nvmlDeviceGetPciInfo_v3(nvmlDevice_t, nvmlPciInfo_t *);
nvmlReturn_t	 nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t,
		    unsigned int *, nvmlProcessInfo_t *);
nvmlReturn_t	 nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t,
		    unsigned int *, nvmlProcessInfo_t *);
#endif

struct stub_gpu {
	char			name[96];
	char			busid[32];
	char			uuid[96];
	unsigned long long	total, used;	/* MiB */
	int			util;		/* -1: NOT_SUPPORTED */
};

struct stub_proc {
	unsigned int		gpu, pid;
	unsigned long long	mib;		/* or NVML_VALUE_NOT_AVAILABLE */
	int			graphics;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int initialized;			/* nvmlInit calls less nvmlShutdown */
static int fail_init, fail_procs;
static struct stub_gpu gpus[STUB_GPUS];
static unsigned int ngpus;
static struct stub_proc procs[STUB_PROCS];
static unsigned int nprocs;
static char driver[80];
static struct nvmlDevice_st handles[STUB_GPUS];

/* $NVML_STUB_FILE again; called with lock held. */
static void
reread(void)
{
	const char *path = getenv("NVML_STUB_FILE");
	char line[512], kw[16], arg[16], util[16];
	struct stub_gpu *g;
	struct stub_proc *p;
	FILE *f;

	ngpus = nprocs = 0;
	fail_init = fail_procs = 0;
	snprintf(driver, sizeof(driver), "550.54.15");
	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%15s", kw) != 1 || kw[0] == '#')
			continue;
		if (strcmp(kw, "gpu") == 0 && ngpus < STUB_GPUS) {
			g = &gpus[ngpus];
			if (sscanf(line, "gpu %95s %31s %95s %llu %llu %15s",
			    g->name, g->busid, g->uuid, &g->total, &g->used,
			    util) != 6)
				continue;
			g->util = strcmp(util, "-") == 0 ? -1 : atoi(util);
			ngpus++;
		} else if ((strcmp(kw, "proc") == 0 ||
		    strcmp(kw, "gproc") == 0) && nprocs < STUB_PROCS) {
			p = &procs[nprocs];
			if (sscanf(line, "%*s %u %u %15s", &p->gpu, &p->pid,
			    arg) != 3)
				continue;
			p->mib = strcmp(arg, "-") == 0 ? NVML_VALUE_NOT_AVAILABLE :
			    strtoull(arg, NULL, 10);
			p->graphics = kw[0] == 'g';
			nprocs++;
		} else if (strcmp(kw, "driver") == 0) {
			if (sscanf(line, "driver %79s", driver) != 1)
				snprintf(driver, sizeof(driver), "550.54.15");
		} else if (strcmp(kw, "fail") == 0 &&
		    sscanf(line, "fail %15s", arg) == 1) {
			if (strcmp(arg, "init") == 0)
				fail_init = 1;
			else if (strcmp(arg, "procs") == 0)
				fail_procs = 1;
		}
	}
	fclose(f);
}

/* The GPU behind DEV, or NULL; called with lock held. */
static struct stub_gpu *
gpu_of(nvmlDevice_t dev)
{
	if (!initialized || dev < handles || dev >= handles + STUB_GPUS ||
	    dev->index >= ngpus)
		return NULL;
	return &gpus[dev->index];
}

static nvmlReturn_t
do_init(void)
{
	nvmlReturn_t rc = NVML_SUCCESS;

	pthread_mutex_lock(&lock);
	reread();
	if (fail_init)
		rc = NVML_ERROR_DRIVER_NOT_LOADED;
	else
		initialized++;
	pthread_mutex_unlock(&lock);
	return rc;
}

static nvmlReturn_t
do_count(unsigned int *n)
{
	nvmlReturn_t rc = NVML_SUCCESS;

	if (n == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	pthread_mutex_lock(&lock);
	if (!initialized)
		rc = NVML_ERROR_UNINITIALIZED;
	else {
		reread();
		*n = ngpus;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static nvmlReturn_t
do_handle(unsigned int i, nvmlDevice_t *dev)
{
	nvmlReturn_t rc = NVML_SUCCESS;

	if (dev == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	pthread_mutex_lock(&lock);
	if (!initialized)
		rc = NVML_ERROR_UNINITIALIZED;
	else if (i >= ngpus)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	else {
		handles[i].index = i;
		*dev = &handles[i];
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

/* "00000000:3B:00.0" as the numbers and the legacy "0000:3B:00.0". */
static void
pci_fields(const char *busid, unsigned int *dom, unsigned int *bus,
    unsigned int *dev, char legacy[16])
{
	*dom = *bus = *dev = 0;
	sscanf(busid, "%x:%x:%x", dom, bus, dev);
	snprintf(legacy, 16, "%04X:%02X:%02X.0", *dom & 0xffff, *bus & 0xff,
	    *dev & 0xff);
}

/*
 * The compute or graphics processes of DEV, as NVML gives them: with too
 * little room (or none), INSUFFICIENT_SIZE and the number needed in *n,
 * except that no processes is SUCCESS and 0. Each is written by PUT.
 */
static nvmlReturn_t
do_procs(nvmlDevice_t dev, int graphics, unsigned int *n, void *infos,
    void (*put)(void *, unsigned int, unsigned int, unsigned long long))
{
	nvmlReturn_t rc = NVML_SUCCESS;
	unsigned int i, need = 0, k = 0;

	if (n == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	pthread_mutex_lock(&lock);
	if (!initialized)
		rc = NVML_ERROR_UNINITIALIZED;
	else if (gpu_of(dev) == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	else if (fail_procs)
		rc = NVML_ERROR_UNKNOWN;
	if (rc != NVML_SUCCESS)
		goto out;
	for (i = 0; i < nprocs; i++)
		if (procs[i].gpu == dev->index && procs[i].graphics == graphics)
			need++;
	if (need > 0 && (infos == NULL || *n < need)) {
		*n = need;
		rc = NVML_ERROR_INSUFFICIENT_SIZE;
		goto out;
	}
	for (i = 0; i < nprocs; i++)
		if (procs[i].gpu == dev->index && procs[i].graphics == graphics)
			put(infos, k++, procs[i].pid,
			    procs[i].mib == NVML_VALUE_NOT_AVAILABLE ?
			    NVML_VALUE_NOT_AVAILABLE : procs[i].mib * MIB);
	*n = need;
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

const char *
nvmlErrorString(nvmlReturn_t rc)
{
	switch (rc) {
	case NVML_SUCCESS:
		return "Success";
	case NVML_ERROR_UNINITIALIZED:
		return "Uninitialized";
	case NVML_ERROR_INVALID_ARGUMENT:
		return "Invalid Argument";
	case NVML_ERROR_NOT_SUPPORTED:
		return "Not Supported";
	case NVML_ERROR_INSUFFICIENT_SIZE:
		return "Insufficient Size";
	case NVML_ERROR_DRIVER_NOT_LOADED:
		return "Driver Not Loaded";
	default:
		return "Unknown Error";
	}
}

nvmlReturn_t
nvmlShutdown(void)
{
	nvmlReturn_t rc = NVML_SUCCESS;

	pthread_mutex_lock(&lock);
	if (initialized > 0)
		initialized--;
	else
		rc = NVML_ERROR_UNINITIALIZED;
	pthread_mutex_unlock(&lock);
	return rc;
}

nvmlReturn_t
nvmlSystemGetDriverVersion(char *version, unsigned int len)
{
	nvmlReturn_t rc = NVML_SUCCESS;

	if (version == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	pthread_mutex_lock(&lock);
	if (!initialized)
		rc = NVML_ERROR_UNINITIALIZED;
	else if (strlen(driver) >= len)
		rc = NVML_ERROR_INSUFFICIENT_SIZE;
	else
		snprintf(version, len, "%s", driver);
	pthread_mutex_unlock(&lock);
	return rc;
}

nvmlReturn_t
nvmlDeviceGetName(nvmlDevice_t dev, char *name, unsigned int len)
{
	nvmlReturn_t rc = NVML_SUCCESS;
	struct stub_gpu *g;

	if (name == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	pthread_mutex_lock(&lock);
	if ((g = gpu_of(dev)) == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	else if (strlen(g->name) >= len)
		rc = NVML_ERROR_INSUFFICIENT_SIZE;
	else
		strcpy(name, g->name);
	pthread_mutex_unlock(&lock);
	return rc;
}

nvmlReturn_t
nvmlDeviceGetUUID(nvmlDevice_t dev, char *uuid, unsigned int len)
{
	nvmlReturn_t rc = NVML_SUCCESS;
	struct stub_gpu *g;

	if (uuid == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	pthread_mutex_lock(&lock);
	if ((g = gpu_of(dev)) == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	else if (strlen(g->uuid) >= len)
		rc = NVML_ERROR_INSUFFICIENT_SIZE;
	else
		strcpy(uuid, g->uuid);
	pthread_mutex_unlock(&lock);
	return rc;
}

nvmlReturn_t
nvmlDeviceGetMemoryInfo(nvmlDevice_t dev, nvmlMemory_t *m)
{
	nvmlReturn_t rc = NVML_SUCCESS;
	struct stub_gpu *g;

	if (m == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	pthread_mutex_lock(&lock);
	if ((g = gpu_of(dev)) == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	else {
		m->total = g->total * MIB;
		m->used = g->used * MIB;
		m->free = g->total > g->used ? (g->total - g->used) * MIB : 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

nvmlReturn_t
nvmlDeviceGetUtilizationRates(nvmlDevice_t dev, nvmlUtilization_t *u)
{
	nvmlReturn_t rc = NVML_SUCCESS;
	struct stub_gpu *g;

	if (u == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	pthread_mutex_lock(&lock);
	if ((g = gpu_of(dev)) == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	else if (g->util < 0)
		rc = NVML_ERROR_NOT_SUPPORTED;
	else {
		u->gpu = (unsigned int)g->util;
		u->memory = g->total ? (unsigned int)(g->used * 100 /
		    g->total) : 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

#ifdef NVML_STUB_OLD

static void
put_v1(void *infos, unsigned int k, unsigned int pid, unsigned long long mem)
{
	nvmlProcessInfo_v1_t *p = (nvmlProcessInfo_v1_t *)infos + k;

	p->pid = pid;
	p->usedGpuMemory = mem;
}

nvmlReturn_t
nvmlInit(void)
{
	return do_init();
}

nvmlReturn_t
nvmlDeviceGetCount(unsigned int *n)
{
	return do_count(n);
}

nvmlReturn_t
nvmlDeviceGetHandleByIndex(unsigned int i, nvmlDevice_t *dev)
{
	return do_handle(i, dev);
}

nvmlReturn_t
nvmlDeviceGetPciInfo(nvmlDevice_t dev, nvmlPciInfo_v1_t *pci)
{
	nvmlReturn_t rc = NVML_SUCCESS;
	struct stub_gpu *g;

	if (pci == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	pthread_mutex_lock(&lock);
	if ((g = gpu_of(dev)) == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	else if (strcmp(g->busid, "-") == 0)
		rc = NVML_ERROR_UNKNOWN;
	else {
		memset(pci, 0, sizeof(*pci));
		pci_fields(g->busid, &pci->domain, &pci->bus, &pci->device,
		    pci->busId);
		/* Where the new struct has busId: must not be read. */
		pci->reserved0 = pci->reserved1 = 0x58585858;
		pci->reserved2 = pci->reserved3 = 0x58585858;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

nvmlReturn_t
nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t dev, unsigned int *n,
    nvmlProcessInfo_v1_t *infos)
{
	return do_procs(dev, 0, n, infos, put_v1);
}

nvmlReturn_t
nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t dev, unsigned int *n,
    nvmlProcessInfo_v1_t *infos)
{
	return do_procs(dev, 1, n, infos, put_v1);
}

#else

static void
put_v2(void *infos, unsigned int k, unsigned int pid, unsigned long long mem)
{
	nvmlProcessInfo_t *p = (nvmlProcessInfo_t *)infos + k;

	p->pid = pid;
	p->usedGpuMemory = mem;
	p->gpuInstanceId = p->computeInstanceId = 0xFFFFFFFF;
}

nvmlReturn_t
nvmlInit_v2(void)
{
	return do_init();
}

nvmlReturn_t
nvmlDeviceGetCount_v2(unsigned int *n)
{
	return do_count(n);
}

nvmlReturn_t
nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *dev)
{
	return do_handle(i, dev);
}

nvmlReturn_t
nvmlDeviceGetPciInfo_v3(nvmlDevice_t dev, nvmlPciInfo_t *pci)
{
	nvmlReturn_t rc = NVML_SUCCESS;
	struct stub_gpu *g;

	if (pci == NULL)
		return NVML_ERROR_INVALID_ARGUMENT;
	pthread_mutex_lock(&lock);
	if ((g = gpu_of(dev)) == NULL)
		rc = NVML_ERROR_INVALID_ARGUMENT;
	else if (strcmp(g->busid, "-") == 0)
		rc = NVML_ERROR_UNKNOWN;
	else {
		memset(pci, 0, sizeof(*pci));
		pci_fields(g->busid, &pci->domain, &pci->bus, &pci->device,
		    pci->busIdLegacy);
		pci->pciDeviceId = 0x20B010DE;
		snprintf(pci->busId, sizeof(pci->busId), "%s", g->busid);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

nvmlReturn_t
nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t dev, unsigned int *n,
    nvmlProcessInfo_t *infos)
{
	return do_procs(dev, 0, n, infos, put_v2);
}

nvmlReturn_t
nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t dev, unsigned int *n,
    nvmlProcessInfo_t *infos)
{
	return do_procs(dev, 1, n, infos, put_v2);
}

#endif
