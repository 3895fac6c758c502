/*
 * fuzz-ws.c - the websocket frames LXD's event stream arrives in
 * (lxd_ws_parse), read one after the other as lxd_events_next does, with
 * fragments joined into messages whose JSON names an instance
 * (lxd_event_instance); and the client's masked frames (lxd_ws_encode).
 * The input is the byte stream after the 101 answer. Checked beyond
 * "no crash":
 * - a frame taken is its header in shortest form and its payload, so
 *   writing (fin, opcode, payload) back gives exactly the bytes taken;
 *   its opcode is a known one, a control frame is whole and <= 125 bytes;
 * - "need more" holds for every shorter prefix too;
 * - a refusal is -EPROTO or -EMSGSIZE (payload over the limit), and is
 *   decided by the first 10 bytes (the longest header);
 * - a masked client frame unmasks to its payload;
 * - an instance named by an event has a name and a project, no NUL.
 */
#include <errno.h>

#include "fuzz.h"
#include "lxd.h"

#define MAX	4096	/* small, so that oversize is reached */

/* A server frame written back in shortest form: its size. */
static size_t
reencode(unsigned char *out, const struct lxd_ws_frame *f)
{
	size_t h = 2;
	int i;

	out[0] = (unsigned char)((f->fin ? 0x80 : 0) | f->opcode);
	if (f->len < 126)
		out[1] = (unsigned char)f->len;
	else if (f->len <= 0xffff) {
		out[1] = 126;
		out[2] = (unsigned char)(f->len >> 8);
		out[3] = (unsigned char)f->len;
		h = 4;
	} else {
		out[1] = 127;
		for (i = 0; i < 8; i++)
			out[2 + i] = (unsigned char)((unsigned long long)f->len
			    >> (56 - 8 * i));
		h = 10;
	}
	memcpy(out + h, f->payload, f->len);
	return h + f->len;
}

static void
check_event(const unsigned char *p, size_t len)
{
	char proj[64], name[64];
	json_t *j;

	j = json_loadb((const char *)p, len, 0, NULL);
	if (j == NULL)
		return;
	if (lxd_event_instance(j, proj, sizeof(proj), name,
	    sizeof(name)) == 0) {
		FUZZ_CHECK(*proj != '\0' && *name != '\0');
		FUZZ_CHECK(strlen(proj) < sizeof(proj));
		FUZZ_CHECK(strlen(name) < sizeof(name));
	}
	json_decref(j);
}

static void
check_encode(const struct lxd_ws_frame *f, const unsigned char *mask)
{
	unsigned char out[6 + 125];
	size_t n, len = f->len > 125 ? 125 : f->len, i;

	n = lxd_ws_encode(out, f->opcode, f->payload, f->len, mask);
	FUZZ_CHECK(n == 6 + len);
	FUZZ_CHECK(out[0] == (0x80 | f->opcode) && out[1] == (0x80 | len));
	for (i = 0; i < len; i++)
		FUZZ_CHECK((out[6 + i] ^ out[2 + i % 4]) == f->payload[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char mask0[4] = { 0x37, 0xfa, 0x21, 0x3d };
	unsigned char *msg = malloc(MAX + 1), *back = malloc(MAX + 10);
	struct lxd_ws_frame f, g;
	size_t off = 0, mlen = 0;
	int in_msg = 0;
	long r;

	if (msg == NULL || back == NULL)
		abort();
	while (off < size) {
		r = lxd_ws_parse(data + off, size - off, MAX, &f);
		if (r < 0) {
			FUZZ_CHECK(r == -EPROTO || r == -EMSGSIZE);
			FUZZ_CHECK(lxd_ws_parse(data + off, size - off < 10 ?
			    size - off : 10, MAX, &g) == r);
			break;
		}
		if (r == 0) {
			FUZZ_CHECK(lxd_ws_parse(data + off, size - off - 1, MAX,
			    &g) == 0);
			break;
		}
		FUZZ_CHECK((size_t)r <= size - off && r >= 2);
		FUZZ_CHECK(f.len <= MAX);
		FUZZ_CHECK(f.payload + f.len == data + off + r);
		FUZZ_CHECK(f.opcode <= 2 || (f.opcode >= 8 && f.opcode <= 10));
		if (f.opcode >= 8)
			FUZZ_CHECK(f.fin && f.len <= 125);
		FUZZ_CHECK(reencode(back, &f) == (size_t)r);
		FUZZ_CHECK(memcmp(back, data + off, (size_t)r) == 0);
		check_encode(&f, off + 4 <= size ? data + off : mask0);

		/* Messages, as lxd_events_next joins them. */
		if (f.opcode == 1 || f.opcode == 2) {
			if (in_msg)
				break;
			mlen = 0;
			in_msg = 1;
		}
		if (f.opcode <= 2) {
			if (!in_msg || mlen + f.len > MAX)
				break;
			memcpy(msg + mlen, f.payload, f.len);
			mlen += f.len;
			if (f.fin) {
				check_event(msg, mlen);
				in_msg = 0;
			}
		}
		off += (size_t)r;
	}
	free(msg);
	free(back);
	return 0;
}
