#define _GNU_SOURCE
#include "CSystemSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int coffer_peer_uid(int fd, uid_t *uid) {
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *uid = credentials.uid;
    return 0;
}

int coffer_peer_pid(int fd, pid_t *pid) {
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *pid = credentials.pid;
    return 0;
}

void coffer_harden_process(void) {
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

extern char **environ;

pid_t coffer_spawn(const char *path, char *const argv[], int stdin_fd, int stdout_fd, int new_session) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    pid_t pid = -1;
    if (posix_spawn_file_actions_init(&actions) != 0) return -1;
    if (posix_spawnattr_init(&attributes) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return -1;
    }
    if (stdin_fd < 0) posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    else posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
    if (stdout_fd < 0) posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    else posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (new_session) posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
    if (posix_spawn(&pid, path, &actions, &attributes, argv, environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return pid;
}

pid_t coffer_spawn_detached(const char *path, char *const argv[], int stdout_fd) {
    return coffer_spawn(path, argv, -1, stdout_fd, 1);
}

int coffer_wait_for_exit(pid_t pid) {
    int exit_code = -1, signal_number = 0;
    if (coffer_wait_for_status(pid, &exit_code, &signal_number) != 0) return -1;
    return signal_number != 0 ? 128 + signal_number : exit_code;
}

int coffer_wait_for_exit_within(pid_t pid, int timeout_ms) {
#ifdef SYS_pidfd_open
    int descriptor = (int)syscall(SYS_pidfd_open, pid, 0);
    if (descriptor >= 0) {
        struct pollfd waiter = {.fd = descriptor, .events = POLLIN, .revents = 0};
        int ready;
        do {
            ready = poll(&waiter, 1, timeout_ms);
        } while (ready < 0 && errno == EINTR);
        close(descriptor);
        if (ready == 0) {
            kill(pid, SIGKILL);
            coffer_wait_for_exit(pid);
            return -2;
        }
    }
#endif
    // Without pidfds (kernels before 5.3) the wait is unbounded, as it was before.
    return coffer_wait_for_exit(pid);
}

pid_t coffer_spawn_with_environment(const char *path, char *const argv[], char *const envp[], int stdout_fd,
                                    int stderr_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    sigset_t all, none;
    pid_t pid = -1;
    if (posix_spawn_file_actions_init(&actions) != 0) return -1;
    if (posix_spawnattr_init(&attributes) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return -1;
    }
    if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
    if (stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    // The parent ignores the signals it forwards; the child must get them as any program would.
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    if (posix_spawn(&pid, path, &actions, &attributes, argv, envp) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return pid;
}

int coffer_wait_for_status(pid_t pid, int *exit_code, int *signal_number) {
    int status = 0;
    pid_t result;
    do {
        result = waitpid(pid, &status, 0);
    } while (result < 0 && errno == EINTR);
    if (result < 0) return -1;
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    *signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return 0;
}

int coffer_set_echo(int fd, int on) {
    struct termios settings;
    if (tcgetattr(fd, &settings) != 0) return -1;
    if (on) settings.c_lflag |= ECHO; else settings.c_lflag &= ~ECHO;
    return tcsetattr(fd, TCSAFLUSH, &settings);
}

void coffer_release_free_memory(void) {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

size_t coffer_heap_in_use(void) {
#ifdef __GLIBC__
    return mallinfo2().uordblks;
#else
    return 0;
#endif
}
