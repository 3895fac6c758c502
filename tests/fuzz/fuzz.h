/*
 * fuzz.h - what the libFuzzer targets in tests/fuzz share: the entry point
 * and an invariant check that stops the run with a report. libFuzzer keeps
 * the input of any abort as a crash artifact (build/fuzz/artifacts).
 */
#ifndef LABC_FUZZ_H
#define LABC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant: if c is false, say which and where, then abort. */
#define FUZZ_CHECK(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

/* The input as a C string: a copy, cut at the first NUL (caller frees). */
static inline char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Whether s is printable ASCII and newlines only (a message to a person). */
static inline int
fuzz_printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((*s < 0x20 && *s != '\n') || *s >= 0x7f)
			return 0;
	}
	return 1;
}

#endif
