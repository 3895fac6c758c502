/*
 * t-view.c - what labcd's view keeps of an LXD instance (view_ct_parse):
 * the fields list, details, quota and the drift check read, from LXD's
 * own JSON, NICs in name order with their MAC from volatile keys; and a
 * view that follows nothing says so (readers then ask LXD).
 */
#include <string.h>

#include <jansson.h>

#include "view.h"
#include "test.h"

static const char inst_json[] =
    "{\"name\": \"box\", \"project\": \"lab-alice\", \"status\": \"Running\","
    " \"expanded_config\": {\"limits.cpu\": \"2\", \"limits.memory\": \"1GiB\","
    "  \"image.description\": \"Debian bookworm\","
    "  \"volatile.base_image\": \"852285b13a31aa\","
    "  \"volatile.eth1.hwaddr\": \"00:16:3e:00:00:02\","
    "  \"volatile.eth0.hwaddr\": \"00:16:3e:00:00:01\"},"
    " \"expanded_devices\": {"
    "  \"root\": {\"type\": \"disk\", \"path\": \"/\", \"pool\": \"default\", \"size\": \"10GiB\"},"
    "  \"eth1\": {\"type\": \"nic\", \"network\": \"other\"},"
    "  \"eth0\": {\"type\": \"nic\", \"network\": \"labcbr0\"},"
    "  \"ssh\": {\"type\": \"proxy\", \"listen\": \"tcp:127.0.0.1:62000\","
    "   \"connect\": \"tcp:127.0.0.1:22\"}}}";

static void
parses_what_labcd_shows(void)
{
	json_t *inst = json_loads(inst_json, 0, NULL);
	struct view_ct v;

	REQUIRE(inst != NULL);
	view_ct_parse(inst, "ignored", &v);
	CHECK(strcmp(v.project, "lab-alice") == 0);
	CHECK(strcmp(v.name, "box") == 0);
	CHECK(strcmp(v.status, "Running") == 0);
	CHECK(strcmp(v.cpu, "2") == 0);
	CHECK(strcmp(v.memory, "1GiB") == 0);
	CHECK(strcmp(v.disk, "10GiB") == 0);
	CHECK(strcmp(v.image, "Debian bookworm") == 0);
	CHECK(strcmp(v.fingerprint, "852285b13a31aa") == 0);
	CHECK(v.has_ssh == 1);
	CHECK(strcmp(v.ssh_listen, "tcp:127.0.0.1:62000") == 0);
	CHECK(strcmp(v.nics[0].name, "eth0") == 0);
	CHECK(strcmp(v.nics[0].mac, "00:16:3e:00:00:01") == 0);
	CHECK(strcmp(v.nics[0].network, "labcbr0") == 0);
	CHECK(strcmp(v.nics[1].name, "eth1") == 0);
	CHECK(strcmp(v.nics[1].network, "other") == 0);
	CHECK(v.ipv4[0] == '\0');	/* the leases' to say */
	json_decref(inst);
}

/* What an instance says of itself is not trusted, nor too long kept. */
static void
bounded_and_defaulted(void)
{
	char longname[400];
	json_t *inst;
	struct view_ct v;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	inst = json_pack("{s:s, s:s, s:{s:s}, s:{s:{s:s, s:s}}}", "name",
	    "c1", "status", "Stopped", "expanded_config",
	    "image.description", longname, "expanded_devices", "nic0",
	    "type", "nic", "parent", "br0");
	REQUIRE(inst != NULL);
	view_ct_parse(inst, "default", &v);
	CHECK(strcmp(v.project, "default") == 0);	/* none in the object */
	CHECK(strlen(v.image) == sizeof(v.image) - 1);
	CHECK(v.has_ssh == 0 && v.ssh_listen[0] == '\0');
	CHECK(strcmp(v.nics[0].network, "br0") == 0);	/* parent: not LXD's */
	CHECK(v.nics[0].mac[0] == '\0');
	CHECK(v.cpu[0] == '\0' && v.memory[0] == '\0' && v.disk[0] == '\0');
	json_decref(inst);
	/* nothing at all: an empty record, no crash */
	inst = json_object();
	view_ct_parse(inst, "p", &v);
	CHECK(strcmp(v.project, "p") == 0 && v.name[0] == '\0');
	json_decref(inst);
}

static void
not_live_says_so(void)
{
	struct view_ct *v = (struct view_ct *)1;
	struct view_quota q;
	struct view_stats st;
	size_t n = 7;

	CHECK(view_list(NULL, &v, &n) == -1 && v == NULL && n == 0);
	CHECK(view_quota("lab-alice", &q) == -1);
	CHECK(view_gpu_cards() == NULL);
	view_stats(&st);
	CHECK(st.live == 0 && st.instances == 0);
}

static void
lookup_finds_by_project_and_name(void)
{
	struct view_ct v[3];

	memset(v, 0, sizeof(v));
	strcpy(v[0].project, "a");
	strcpy(v[0].name, "z");
	strcpy(v[1].project, "b");
	strcpy(v[1].name, "a");
	strcpy(v[2].project, "b");
	strcpy(v[2].name, "c");
	CHECK(view_lookup(v, 3, "b", "a") == &v[1]);
	CHECK(view_lookup(v, 3, "b", "c") == &v[2]);
	CHECK(view_lookup(v, 3, "a", "a") == NULL);
	CHECK(view_lookup(v, 0, "a", "z") == NULL);
}

int
main(void)
{
	RUN(parses_what_labcd_shows);
	RUN(bounded_and_defaulted);
	RUN(not_live_says_so);
	RUN(lookup_finds_by_project_and_name);
	return t_done();
}
