/*
 * exec.h - run an MTA command without a shell
 *
 * ebb runs postconf, postsuper and postqueue (and later sendmail) by
 * execve with an argument vector and a clean environment, never through a
 * shell, so no queue id or path is ever parsed as shell syntax. Queue ids
 * go on the command's standard input where the command supports it
 * ("postsuper -h -"), which also batches them into one process.
 */
#ifndef EBB_EXEC_H
#define EBB_EXEC_H

#include <sys/types.h>

#include <stddef.h>

#define EXEC_OUT_MAX	(512UL * 1024 * 1024)	/* stdout kept, at most */
#define EXEC_ERR_MAX	(8 * 1024)		/* stderr kept, at most */

struct exec_result {
	int	 status;	/* exit status 0..255 */
	char	*out;		/* stdout, NUL-terminated (when asked) */
	size_t	 out_len;
	char	*err;		/* stderr, NUL-terminated, kept start */
};

/*
 * exec_run - run argv[0] (an absolute path) with argv and the environment
 * PATH=/usr/sbin:/usr/bin:/sbin:/bin only; write in[0..in_len) to its
 * standard input (in may be NULL: empty input), collect its standard error
 * and, when want_out is set, its standard output (more than EXEC_OUT_MAX
 * bytes is an error; without want_out, standard output is kept in res->err
 * with standard error). timeout is in seconds, 0 for none; on timeout the
 * command is killed. Returns 0 when the command ran and exited (whatever
 * its status, in res->status), or -1 with *err_r set (allocated) when it
 * could not be run, was killed by a signal or timed out. The caller frees
 * the result with exec_result_free, also after an error.
 */
int	 exec_run(const char *const argv[], const char *in, size_t in_len,
	    int want_out, int timeout, struct exec_result *res, char **err_r);

/*
 * exec_spawn - start argv[0] as exec_run does (execve, the same clean
 * environment, no shell) with /dev/null as its standard input, output and
 * error, and return at once: its pid, or -1 with *err_r set (allocated).
 * The caller reaps it with waitpid.
 */
pid_t	 exec_spawn(const char *const argv[], char **err_r);

/* exec_result_free - free res's buffers (res itself is the caller's) */
void	 exec_result_free(struct exec_result *res);

/*
 * exec_find - the absolute path of an executable named name in the sbin
 * and bin directories (/usr/sbin /usr/local/sbin /sbin /usr/bin /bin),
 * allocated; NULL when there is none.
 */
char	*exec_find(const char *name);

/*
 * exec_first_line - the first non-empty line of text, at most 200 bytes,
 * for error messages (an allocated copy; "" when text is NULL or empty).
 */
char	*exec_first_line(const char *text);

#endif
