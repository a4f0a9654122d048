/*
 * sandbox.h - confine ebbd's unprivileged child further
 *
 * The child parses data from the internet (milter, HTTP, control
 * requests) and needs no new program, no debugger hooks and no new
 * privileges. After it has dropped to [general] user, sandbox_child()
 * sets no_new_privs and, when ebb is built with libseccomp, installs a
 * seccomp filter that answers EPERM to execve, execveat, ptrace,
 * process_vm_readv/writev and the system administration calls (mount,
 * swapon, reboot, module loading, kexec, bpf...). It is a deny list: the
 * child's libraries (libmilter's threads, libevent, OpenSSL, the resolver)
 * keep every call they make.
 */
#ifndef EBB_SANDBOX_H
#define EBB_SANDBOX_H

/*
 * sandbox_child - confine the calling process for good. Returns 1 with the
 * seccomp filter in place, 0 with no_new_privs only (built without
 * libseccomp), -1 and *err_r (allocated) on failure.
 */
int	sandbox_child(char **err_r);

#endif
