/*
 * sandbox.c - no_new_privs and a seccomp deny list for ebbd's child
 *
 * See sandbox.h. The filter is built with libseccomp (no hand-written
 * BPF) and returns EPERM rather than killing, so a library that probes a
 * call it may not make gets an error it already handles. ptrace stays
 * allowed in sanitizer builds: LeakSanitizer stops the process's threads
 * with it at exit.
 */
#include "config.h"

#include <sys/prctl.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>

#ifdef HAVE_SECCOMP
#include <seccomp.h>
#endif

#include "ebb/util.h"
#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN	1
#endif
#endif

#ifdef HAVE_SECCOMP
/* what the child never needs: another program, another process's memory */
static const char *const denied[] = {
	"execve", "execveat",
#ifndef SANDBOX_ASAN
	"ptrace",
#endif
	"process_vm_readv", "process_vm_writev",
	"mount", "umount2", "pivot_root", "chroot", "swapon", "swapoff",
	"reboot", "kexec_load", "kexec_file_load", "init_module",
	"finit_module", "delete_module", "bpf", "perf_event_open",
	"userfaultfd", "acct", "settimeofday", "clock_settime",
	"sethostname", "setdomainname", "unshare", "setns",
};
#endif

int
sandbox_child(char **err_r)
{
#ifdef HAVE_SECCOMP
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 nr, rc;
#endif

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		*err_r = xasprintf("prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(errno));
		return -1;
	}
#ifdef HAVE_SECCOMP
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		*err_r = xstrdup("seccomp_init failed");
		return -1;
	}
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		/* a call this architecture lacks needs no rule */
		if ((nr = seccomp_syscall_resolve_name(denied[i])) ==
		    __NR_SCMP_ERROR)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr,
		    0)) < 0) {
			*err_r = xasprintf("seccomp: %s: %s", denied[i],
			    strerror(-rc));
			seccomp_release(ctx);
			return -1;
		}
	}
	if ((rc = seccomp_load(ctx)) < 0) {
		*err_r = xasprintf("seccomp_load: %s", strerror(-rc));
		seccomp_release(ctx);
		return -1;
	}
	seccomp_release(ctx);
	return 1;
#else
	return 0;
#endif
}
