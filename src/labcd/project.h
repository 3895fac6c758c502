/*
 * project.h - what makes an LXD project a lab user's (project.c): the
 * owner key labcd writes, and the restrictions that make LXD a second
 * wall behind labcd.
 */
#ifndef LABCD_PROJECT_H
#define LABCD_PROJECT_H

#include <jansson.h>

#include "db-containers.h"
#include "labcd.h"	/* PROJECT_OWNER_KEY */


/*
 * The one rule for a lab user's LXD project: the one recorded for them
 * (stored; NULL or "" if none yet), else prefix (project_prefix) and
 * their name.
 */
void	 project_name(const char *prefix, const char *stored, const char *user,
	    char project[PROJECT_MAX]);
/*
 * NULL if config (an LXD project's) says it is user's, else why not:
 * labcd takes over no project it did not make for that user.
 */
const char *project_not_owned(json_t *config, const char *user);
/*
 * Add the restrictions to a new project's config. LXD (5.0.2) restricts
 * only a project with profiles of its own: labcd copies the configured
 * ones from the default project into it (project_mend).
 */
void	 project_restrict(json_t *config);
/*
 * The restriction keys config lacks or has otherwise, with the values
 * labcd wants (caller decrefs); NULL if it has them all.
 */
json_t	*project_restrictions_missing(json_t *config);
/*
 * Why an instance (an LXD instance object) is not one labcd could have
 * made, so it must not be adopted: privileged, nesting (any value LXD
 * could take as true), raw or other low-level config, a device labcd
 * does not make, in its own or its expanded config and devices, or a
 * profile not in profiles (the configured list); NULL if none. The ssh
 * device must equal ssh (ct_ssh_device), if ssh is not NULL. An eth0 of
 * its own is one ssh_port_mode = nat makes on the network of nic (the
 * profiles' eth0, ct_profile_nic), or untrusted where nic is NULL.
 */
const char *project_instance_untrusted(json_t *inst, json_t *ssh, json_t *nic,
	    const char *profiles, char *why, size_t whysz);

struct op;

/* What project_mend found or did. */
enum project_mend {
	PROJECT_RIGHT,		/* as labcd makes them */
	PROJECT_MENDED,		/* made so (or, without repair, would be) */
	PROJECT_OLD,		/* an older labcd's, with containers: stays */
	PROJECT_REFUSED		/* LXD refused, or an instance does not fit */
};

/*
 * Bring a user's project (p: LXD's project object) to what labcd makes:
 * restricted, with copies of the configured profiles of the default
 * project. Only looks when repair is 0. An older labcd's project has no
 * profiles of its own, and LXD gives it some only while it is empty: one
 * with containers stays unrestricted (PROJECT_OLD), and so does one with
 * a container the restrictions would refuse (PROJECT_REFUSED, with why).
 * The owner is checked by the caller (project_not_owned).
 */
enum project_mend project_mend(struct op *op, const char *project, json_t *p,
	    int repair, char *why, size_t whysz);

/*
 * The project's copies of the profiles, made again where the default
 * project's differ (and, with isolate_members, pointed at its own bridge)
 * unless that would move a running container's nic: before a start, so a
 * member whose containers all stopped starts on the right bridge. 0, or
 * -1 with why.
 */
/* The LXD project of a lab user, by project_name's rule. */
void	project_of(struct op *op, long long user_id, const char *user,
	    char project[PROJECT_MAX]);
/*
 * Make the user's LXD project if LXD has none (or adopt the one labcd
 * made for them), and record it. 0, or PROTO_FAILED with op->cause.
 * *limits, if not NULL: the project's config (caller decrefs).
 */
int	project_ensure(struct op *op, long long user_id, const char *user,
	    json_t **limits);

int	project_sync_profiles(struct op *op, const char *project, char *why,
	    size_t whysz);

#endif
