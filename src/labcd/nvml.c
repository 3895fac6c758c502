/*
 * nvml.c - the host's NVIDIA GPUs and their processes through NVML, which
 * is dlopen()ed at run time: labcd neither builds nor links against the
 * driver. The few declarations needed are NVML's own (nvml.h, API 13),
 * copied below; docs/lxd-api.md section 10 has their sources and sizes.
 *
 * One mutex guards the loaded library and every NVML call. A library that
 * cannot be loaded, or an nvmlInit that fails, is tried again on the next
 * query (the driver may be installed or started later); once loaded and
 * started, NVML stays so for the life of the process.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvml.h"
#include "xmalloc.h"

#define NVML_DEFAULT_LIB		"libnvidia-ml.so.1"
#define NVML_SUCCESS			0
#define NVML_ERROR_INSUFFICIENT_SIZE	7
#define NVML_VALUE_NOT_AVAILABLE	(~0ULL)
/* Process lists are asked for again when they grow between two calls. */
#define NVML_PROC_TRIES			4
#define NVML_PROC_MAX			(1U << 20)

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct {
	unsigned int		gpu, memory;
} nvmlUtilization_t;
typedef struct {
	unsigned long long	total, free, used;
} nvmlMemory_t;
/* The unsuffixed process calls. */
typedef struct {
	unsigned int		pid;
	unsigned long long	usedGpuMemory;
} nvmlProcessInfo_v1_t;
/* _v2 and _v3 (nvml.h's nvmlProcessInfo_t). */
typedef struct {
	unsigned int		pid;
	unsigned long long	usedGpuMemory;
	unsigned int		gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_v2_t;
/*
 * _v3's layout. _v2 and the unsuffixed call fill an older 52-byte struct
 * that begins the same way (busId[16], domain, bus, device, ...) and has
 * reserved words where busId lies here.
 */
typedef struct {
	char			busIdLegacy[16];
	unsigned int		domain, bus, device, pciDeviceId;
	unsigned int		pciSubSystemId;
	char			busId[32];
} nvmlPciInfo_t;

_Static_assert(sizeof(nvmlProcessInfo_v1_t) == 16, "nvmlProcessInfo_v1_t");
_Static_assert(sizeof(nvmlProcessInfo_v2_t) == 24, "nvmlProcessInfo_v2_t");
_Static_assert(sizeof(nvmlPciInfo_t) == 68, "nvmlPciInfo_t");
_Static_assert(sizeof(nvmlMemory_t) == 24, "nvmlMemory_t");
_Static_assert(sizeof(void (*)(void)) == sizeof(void *), "dlsym");

typedef nvmlReturn_t (*procs_fn)(nvmlDevice_t, unsigned int *,
    nvmlProcessInfo_v2_t *);
typedef nvmlReturn_t (*procs_v1_fn)(nvmlDevice_t, unsigned int *,
    nvmlProcessInfo_v1_t *);

static pthread_mutex_t nvml_lock = PTHREAD_MUTEX_INITIALIZER;

/* Guarded by nvml_lock. Functions the library lacks stay NULL. */
static struct {
	void		*dl;
	char		 path[4096];	/* what dl was loaded from */
	int		 started;	/* nvmlInit succeeded */
	nvmlReturn_t	(*init)(void);
	const char	*(*error_string)(nvmlReturn_t);
	nvmlReturn_t	(*count)(unsigned int *);
	nvmlReturn_t	(*driver)(char *, unsigned int);
	nvmlReturn_t	(*handle)(unsigned int, nvmlDevice_t *);
	nvmlReturn_t	(*name)(nvmlDevice_t, char *, unsigned int);
	nvmlReturn_t	(*uuid)(nvmlDevice_t, char *, unsigned int);
	nvmlReturn_t	(*pci)(nvmlDevice_t, nvmlPciInfo_t *);
	int		 pci_v3;	/* pci is _v3: busId is valid */
	nvmlReturn_t	(*memory)(nvmlDevice_t, nvmlMemory_t *);
	nvmlReturn_t	(*util)(nvmlDevice_t, nvmlUtilization_t *);
	procs_fn	 procs[2];	/* compute, graphics: _v3 or _v2 */
	procs_v1_fn	 procs_v1[2];	/* the unsuffixed ones otherwise */
} nv;

/*
 * The first of NAMES (NULL-terminated) the library exports, stored in the
 * function pointer at FN; its position in NAMES, or -1.
 */
static int
sym(void *fn, const char *const *names)
{
	void *p;
	int i;

	for (i = 0; names[i] != NULL; i++) {
		if ((p = dlsym(nv.dl, names[i])) != NULL) {
			memcpy(fn, &p, sizeof(p));
			return i;
		}
	}
	return -1;
}
#define SYM(fn, ...) sym(&(fn), (const char *const[]){ __VA_ARGS__, NULL })

static void
nvml_error(char *err, size_t errsz, const char *what, nvmlReturn_t rc)
{
	const char *s = nv.error_string != NULL ? nv.error_string(rc) : NULL;

	if (s != NULL)
		snprintf(err, errsz, "%s: %s", what, s);
	else
		snprintf(err, errsz, "%s: NVML error %d", what, rc);
}

static void
unload(void)
{
	dlclose(nv.dl);
	memset(&nv, 0, sizeof(nv));
}

/* Loads LIB, unless it is loaded already; -1 with err. */
static int
load(const char *lib, char *err, size_t errsz)
{
	const char *e;
	size_t len = strlen(lib);

	if (nv.dl != NULL) {
		if (strcmp(lib, nv.path) == 0)
			return 0;
		snprintf(err, errsz, "NVML is loaded from %s already; restart "
		    "labcd to load %s", nv.path, lib);
		return -1;
	}
	if (len >= sizeof(nv.path)) {
		snprintf(err, errsz, "no NVIDIA driver found (%.64s...: path "
		    "too long)", lib);
		return -1;
	}
	dlerror();
	if ((nv.dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		if ((e = dlerror()) == NULL)
			e = "unknown error";
		/* dlerror() names the file itself, most of the time. */
		if (strncmp(e, lib, len) == 0 && e[len] == ':')
			snprintf(err, errsz, "no NVIDIA driver found (%s)", e);
		else
			snprintf(err, errsz, "no NVIDIA driver found (%s: %s)",
			    lib, e);
		return -1;
	}
	SYM(nv.init, "nvmlInit_v2", "nvmlInit");
	SYM(nv.count, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
	SYM(nv.handle, "nvmlDeviceGetHandleByIndex_v2",
	    "nvmlDeviceGetHandleByIndex");
	if (nv.init == NULL || nv.count == NULL || nv.handle == NULL) {
		snprintf(err, errsz, "no NVIDIA driver found (%s is not NVML: "
		    "no nvmlInit_v2, nvmlDeviceGetCount_v2 or "
		    "nvmlDeviceGetHandleByIndex_v2)", lib);
		unload();
		return -1;
	}
	SYM(nv.error_string, "nvmlErrorString");
	SYM(nv.driver, "nvmlSystemGetDriverVersion");
	SYM(nv.name, "nvmlDeviceGetName");
	SYM(nv.uuid, "nvmlDeviceGetUUID");
	nv.pci_v3 = SYM(nv.pci, "nvmlDeviceGetPciInfo_v3",
	    "nvmlDeviceGetPciInfo_v2", "nvmlDeviceGetPciInfo") == 0;
	SYM(nv.memory, "nvmlDeviceGetMemoryInfo");
	SYM(nv.util, "nvmlDeviceGetUtilizationRates");
	if (SYM(nv.procs[0], "nvmlDeviceGetComputeRunningProcesses_v3",
	    "nvmlDeviceGetComputeRunningProcesses_v2") < 0)
		SYM(nv.procs_v1[0], "nvmlDeviceGetComputeRunningProcesses");
	if (SYM(nv.procs[1], "nvmlDeviceGetGraphicsRunningProcesses_v3",
	    "nvmlDeviceGetGraphicsRunningProcesses_v2") < 0)
		SYM(nv.procs_v1[1], "nvmlDeviceGetGraphicsRunningProcesses");
	memcpy(nv.path, lib, len + 1);
	return 0;
}

static int
start(char *err, size_t errsz)
{
	nvmlReturn_t rc;

	if (nv.started)
		return 0;
	if ((rc = nv.init()) != NVML_SUCCESS) {
		nvml_error(err, errsz, "NVML could not start", rc);
		return -1;
	}
	nv.started = 1;
	return 0;
}

/* Up to MAX hex digits at *S followed by END; the value, or -1. */
static long long
hexfield(const char **s, int max, char end)
{
	const char *p = *s;
	long long v = 0;
	int n;

	for (n = 0; n < max && isxdigit((unsigned char)*p); n++, p++)
		v = v * 16 + (isdigit((unsigned char)*p) ? *p - '0' :
		    tolower((unsigned char)*p) - 'a' + 10);
	if (n == 0 || *p != end)
		return -1;
	*s = end != '\0' ? p + 1 : p;
	return v;
}

void
nvml_pci_normalize(const char *busid, char *out)
{
	long long dom = 0, bus, dev, fn;
	const char *p = busid;
	size_t i;

	/* "DOMAIN:BUS:DEV.FN", or "BUS:DEV.FN" in domain 0. */
	if (strchr(busid, ':') != strrchr(busid, ':') &&
	    (dom = hexfield(&p, 8, ':')) < 0)
		goto verbatim;
	if ((bus = hexfield(&p, 2, ':')) < 0 ||
	    (dev = hexfield(&p, 2, '.')) < 0 ||
	    (fn = hexfield(&p, 1, '\0')) < 0)
		goto verbatim;
	/* The casts lose nothing (8, 2, 2 and 1 digits) and say so to gcc. */
	snprintf(out, 32, "%04x:%02x:%02x.%x", (unsigned int)dom,
	    (unsigned char)bus, (unsigned char)dev, (unsigned char)fn);
	return;
verbatim:
	for (i = 0; i < 31 && busid[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)busid[i]);
	out[i] = '\0';
}

static void
pci_of(const nvmlPciInfo_t *pci, char *out)
{
	char id[33];

	if (nv.pci_v3 && pci->busId[0] != '\0')
		snprintf(id, sizeof(id), "%.32s", pci->busId);
	else if (pci->busIdLegacy[0] != '\0')
		snprintf(id, sizeof(id), "%.16s", pci->busIdLegacy);
	else
		snprintf(id, sizeof(id), "%08x:%02x:%02x.0", pci->domain,
		    pci->bus, pci->device);
	nvml_pci_normalize(id, out);
}

/*
 * A process seen on G, from its compute list or else its graphics list.
 * The first NCOMPUTE entries came from the compute list. A PID twice in
 * the same list (one entry per MIG instance) adds up; a PID in both lists
 * keeps the compute list's memory unless that one is unknown.
 */
static void
add_proc(struct nvml_gpu *g, size_t *cap, size_t ncompute, int graphics,
    unsigned int pid, unsigned long long mem)
{
	size_t i;

	if (mem == NVML_VALUE_NOT_AVAILABLE)
		mem = 0;
	for (i = 0; i < g->nprocs; i++) {
		if (g->procs[i].pid != pid)
			continue;
		if (!graphics || i >= ncompute)
			g->procs[i].mem += mem;
		else if (g->procs[i].mem == 0)
			g->procs[i].mem = mem;
		return;
	}
	if (g->nprocs == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		g->procs = xrealloc(g->procs, *cap * sizeof(*g->procs));
	}
	memset(&g->procs[g->nprocs], 0, sizeof(g->procs[0]));
	g->procs[g->nprocs].pid = pid;
	g->procs[g->nprocs++].mem = mem;
}

static nvmlReturn_t
call_procs(nvmlDevice_t dev, int graphics, unsigned int *n, void *buf)
{
	if (nv.procs[graphics] != NULL)
		return nv.procs[graphics](dev, n, buf);
	return nv.procs_v1[graphics](dev, n, buf);
}

/*
 * DEV's compute (GRAPHICS 0) or graphics processes, added to G. Asks for
 * the size first: NVML answers INSUFFICIENT_SIZE with the number, or
 * SUCCESS when there are none. -1 if NVML would not list them.
 */
static int
list_procs(nvmlDevice_t dev, int graphics, struct nvml_gpu *g, size_t *cap,
    size_t ncompute)
{
	size_t esz = nv.procs[graphics] != NULL ?
	    sizeof(nvmlProcessInfo_v2_t) : sizeof(nvmlProcessInfo_v1_t);
	unsigned int n = 0, room = 0, i;
	unsigned char *buf = NULL;
	nvmlReturn_t rc;
	int tries;

	if (nv.procs[graphics] == NULL && nv.procs_v1[graphics] == NULL)
		return -1;
	rc = call_procs(dev, graphics, &n, NULL);
	for (tries = 0; rc == NVML_ERROR_INSUFFICIENT_SIZE &&
	    tries < NVML_PROC_TRIES && n <= NVML_PROC_MAX; tries++) {
		room = n * 2 + 5;
		buf = xrealloc(buf, room * esz);
		n = room;
		rc = call_procs(dev, graphics, &n, buf);
	}
	if (rc != NVML_SUCCESS) {
		free(buf);
		return -1;
	}
	if (n > room)		/* SUCCESS to the probe: none */
		n = room;
	for (i = 0; i < n; i++) {
		unsigned int pid;
		unsigned long long mem;

		/* pid at 0 and usedGpuMemory at 8 in both layouts */
		memcpy(&pid, buf + i * esz, sizeof(pid));
		memcpy(&mem, buf + i * esz + 8, sizeof(mem));
		add_proc(g, cap, ncompute, graphics, pid, mem);
	}
	free(buf);
	return 0;
}

static int
proc_cmp(const void *a, const void *b)
{
	const struct nvml_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/*
 * What NVML says about DEV. A field it cannot give stays empty (0, -1
 * for util); a process list it cannot give leaves out its processes.
 */
static void
device(nvmlDevice_t dev, struct nvml_gpu *g)
{
	nvmlPciInfo_t pci;
	nvmlMemory_t mem;
	nvmlUtilization_t u;
	size_t cap = 0, ncompute;

	g->util = -1;
	if (nv.name == NULL ||
	    nv.name(dev, g->name, sizeof(g->name)) != NVML_SUCCESS)
		g->name[0] = '\0';
	g->name[sizeof(g->name) - 1] = '\0';
	if (nv.uuid == NULL ||
	    nv.uuid(dev, g->uuid, sizeof(g->uuid)) != NVML_SUCCESS)
		g->uuid[0] = '\0';
	g->uuid[sizeof(g->uuid) - 1] = '\0';
	memset(&pci, 0, sizeof(pci));
	if (nv.pci != NULL && nv.pci(dev, &pci) == NVML_SUCCESS)
		pci_of(&pci, g->pci);
	if (nv.memory != NULL && nv.memory(dev, &mem) == NVML_SUCCESS) {
		g->mem_total = mem.total;
		g->mem_used = mem.used;
	}
	if (nv.util != NULL && nv.util(dev, &u) == NVML_SUCCESS &&
	    u.gpu <= 100)
		g->util = (int)u.gpu;
	list_procs(dev, 0, g, &cap, 0);
	ncompute = g->nprocs;
	list_procs(dev, 1, g, &cap, ncompute);
	if (g->nprocs > 1)
		qsort(g->procs, g->nprocs, sizeof(*g->procs), proc_cmp);
}

int
nvml_query(const char *lib, struct nvml_gpu **gpus, size_t *n, char *err,
    size_t errsz)
{
	struct nvml_gpu *g = NULL;
	nvmlDevice_t dev;
	nvmlReturn_t rc;
	unsigned int count, i;
	int r = -1;

	*gpus = NULL;
	*n = 0;
	pthread_mutex_lock(&nvml_lock);
	if (lib == NULL || *lib == '\0')
		lib = NVML_DEFAULT_LIB;
	if (load(lib, err, errsz) != 0 || start(err, errsz) != 0)
		goto out;
	if ((rc = nv.count(&count)) != NVML_SUCCESS) {
		nvml_error(err, errsz, "NVML could not count the GPUs", rc);
		goto out;
	}
	if (count > 0)
		g = xcalloc(count, sizeof(*g));
	for (i = 0; i < count; i++) {
		if ((rc = nv.handle(i, &dev)) != NVML_SUCCESS) {
			char what[64];

			snprintf(what, sizeof(what), "NVML could not open GPU %u",
			    i);
			nvml_error(err, errsz, what, rc);
			nvml_free(g, i);
			g = NULL;
			goto out;
		}
		g[i].index = (int)i;
		device(dev, &g[i]);
	}
	*gpus = g;
	*n = count;
	r = 0;
out:
	pthread_mutex_unlock(&nvml_lock);
	return r;
}

int
nvml_driver_version(const char *lib, char *out, size_t outsz, char *err,
    size_t errsz)
{
	/* NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE is 80. */
	char v[80];
	nvmlReturn_t rc;
	int r = -1;

	out[0] = '\0';
	pthread_mutex_lock(&nvml_lock);
	if (lib == NULL || *lib == '\0')
		lib = NVML_DEFAULT_LIB;
	if (load(lib, err, errsz) != 0 || start(err, errsz) != 0)
		goto out;
	if (nv.driver == NULL) {
		snprintf(err, errsz, "%s has no nvmlSystemGetDriverVersion", lib);
		goto out;
	}
	if ((rc = nv.driver(v, sizeof(v))) != NVML_SUCCESS) {
		nvml_error(err, errsz, "NVML could not give the driver version",
		    rc);
		goto out;
	}
	v[sizeof(v) - 1] = '\0';
	snprintf(out, outsz, "%s", v);
	r = 0;
out:
	pthread_mutex_unlock(&nvml_lock);
	return r;
}

void
nvml_free(struct nvml_gpu *gpus, size_t n)
{
	size_t i;

	if (gpus == NULL)
		return;
	for (i = 0; i < n; i++)
		free(gpus[i].procs);
	free(gpus);
}
