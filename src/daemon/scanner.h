/*
 * scanner.h - ebbd's process that reads the queue files (scanner.c)
 */
#ifndef EBB_SCANNER_H
#define EBB_SCANNER_H

#include <sys/types.h>

struct config;

/* scanner_wanted - whether cfg's backend reads its files in a scanner */
int	scanner_wanted(const struct config *cfg);

/*
 * scanner_start - fork the scanner, as root, before the child. Returns its
 * pid and *fd_r, the parent's end of the socket to give mta_remote_new;
 * 0 and *fd_r -1 when the backend has none (scanner_wanted). The new
 * process closes *lockfd and never returns; a failure there is fatal to
 * it, and so to ebbd, which stops when the scanner is gone.
 */
pid_t	scanner_start(const struct config *cfg, int *lockfd, int *fd_r);

#endif
