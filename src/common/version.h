/* version.h - the one version string of labcontainers. */
#ifndef LABC_VERSION_H
#define LABC_VERSION_H
#define LABC_VERSION "0.1.0"
#endif
