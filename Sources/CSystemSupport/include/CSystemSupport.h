#ifndef COFFER_SYSTEM_SUPPORT_H
#define COFFER_SYSTEM_SUPPORT_H

#include <sys/types.h>

/// Reads the uid of the process at the other end of a Unix socket. Returns 0 on success.
int coffer_peer_uid(int fd, uid_t *uid);

/// Keeps secrets out of core dumps and away from ptrace by other processes of the same user.
void coffer_harden_process(void);

/// Starts `path` with `argv` in a new session, stdin and stderr on /dev/null, stdout on
/// `stdout_fd`, and no other descriptors inherited. Returns the child's pid or -1.
pid_t coffer_spawn_detached(const char *path, char *const argv[], int stdout_fd);

/// Turns terminal echo off (on = 0) or back on (on = 1) for `fd`. Returns 0 on success.
int coffer_set_echo(int fd, int on);

#endif
