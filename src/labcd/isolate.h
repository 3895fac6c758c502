/*
 * isolate.h - a bridge and a network ACL of its own for each lab user's
 * project, so that members' containers do not reach each other
 * (isolate_members; isolate.c says how and what was measured).
 */
#ifndef LABCD_ISOLATE_H
#define LABCD_ISOLATE_H

#include <jansson.h>

#define ISOLATE_NAME_MAX	16	/* "labc-" + 8 hex: an interface name */

struct op;

/* The bridge (and ACL) name of a project: labc-XXXXXXXX. */
void	isolate_bridge_name(const char *project,
	    char out[ISOLATE_NAME_MAX]);
/*
 * The project's bridge with its ACL, made (a free /24 of member_subnets)
 * or mended; its name in br. 0, or -1 with why.
 */
int	isolate_ensure(struct op *op, const char *project,
	    char br[ISOLATE_NAME_MAX], char *why, size_t whysz);
/*
 * Point every nic of a profile's devices at br (a bridged nic's parent
 * too). -1 with the nic in bad if one cannot be (macvlan, physical...).
 */
int	isolate_devices(json_t *devices, const char *br, char *bad,
	    size_t badsz);
/* -1 with why if a configured profile has a nic isolate_devices refuses. */
int	isolate_profiles_movable(struct op *op, char *why, size_t whysz);
/*
 * 1 if a running instance of project has a nic that devices would move
 * to another network (LXD swaps the nic of a running container, which
 * then has no address until it restarts): its name in who. 0 if none, -1
 * if LXD did not list them.
 */
int	isolate_blocked(struct op *op, const char *project, json_t *devices,
	    char *who, size_t whosz);
/*
 * Is isolation in force for project? 0 yes; -1 no bridge or no ACL; 1 a
 * running container is still on another bridge; 2 its bridge is outside
 * member_subnets; why says which.
 */
int	isolate_check(struct op *op, const char *project, char *why,
	    size_t whysz);
/* Delete the project's bridge and ACL (user deletion); 0 or -errno. */
int	isolate_remove(struct op *op, const char *project);
/*
 * This labcd's bridges (project_prefix) whose owner project LXD no longer
 * has: [{name, owner}], or NULL if LXD did not list them.
 */
json_t	*isolate_orphans(struct op *op);

struct checkup;
/* doctor's check of isolate_members: what LXD needs for it. */
void	isolate_doctor(struct checkup *d);
#endif
