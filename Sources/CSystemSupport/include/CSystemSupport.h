#ifndef COFFER_SYSTEM_SUPPORT_H
#define COFFER_SYSTEM_SUPPORT_H

#include <sys/types.h>

/// Reads the uid of the process at the other end of a Unix socket. Returns 0 on success.
int coffer_peer_uid(int fd, uid_t *uid);

/// The process id of the peer of a connected Unix socket (SO_PEERCRED); 0 on success, -1 otherwise.
int coffer_peer_pid(int fd, pid_t *pid);

/// Keeps secrets out of core dumps and away from ptrace by other processes of the same user.
void coffer_harden_process(void);

/// Hands memory the allocator holds but no longer uses back to the system (glibc's `malloc_trim`),
/// so a burst of short-lived allocations (opening a large vault) does not stay in the resident size.
void coffer_release_free_memory(void);

/// Bytes the allocator has handed out and not yet had back (glibc's `mallinfo2`), for measuring
/// what a data structure holds; 0 where that is not known.
size_t coffer_heap_in_use(void);

/// Starts `path` with `argv` in a new session, stdin and stderr on /dev/null, stdout on
/// `stdout_fd`, and no other descriptors inherited. Returns the child's pid or -1.
pid_t coffer_spawn_detached(const char *path, char *const argv[], int stdout_fd);

/// Starts `path` with `argv`: stdin from `stdin_fd` and stdout to `stdout_fd` (-1: /dev/null for
/// either), stderr on /dev/null, no other descriptors inherited; in a new session when `new_session`
/// is not 0, so closing the terminal does not end it. Returns the child's pid or -1. Foundation's
/// `Process` is not used for this: on Linux its `waitUntilExit` can miss a child that exits at once.
pid_t coffer_spawn(const char *path, char *const argv[], int stdin_fd, int stdout_fd, int new_session);

/// Waits for `pid` to end. Returns its exit status, 128 + the signal that ended it, or -1.
int coffer_wait_for_exit(pid_t pid);

/// Waits up to `timeout_ms` for `pid` to end (with a pidfd, so nothing polls); past that it is
/// killed and -2 returned. Otherwise as `coffer_wait_for_exit`.
int coffer_wait_for_exit_within(pid_t pid, int timeout_ms);

/// Starts `path` with `argv` and exactly the environment `envp`, without a shell. Standard output
/// and error go to `stdout_fd` and `stderr_fd` (-1: inherited); standard input is inherited.
/// Returns the child's pid, or -1.
pid_t coffer_spawn_with_environment(const char *path, char *const argv[], char *const envp[], int stdout_fd,
                                    int stderr_fd);

/// Waits for `pid`; sets `*exit_code` when it exited (else -1) and `*signal_number` when a signal
/// ended it (else 0). Returns 0, or -1 when there is no such child.
int coffer_wait_for_status(pid_t pid, int *exit_code, int *signal_number);

/// Turns terminal echo off (on = 0) or back on (on = 1) for `fd`. Returns 0 on success.
int coffer_set_echo(int fd, int on);

#endif
