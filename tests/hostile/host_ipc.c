/* host_ipc: looks for host services reachable without the file system:
 * an abstract unix socket the host listens on ("\0NAME", not a file, so no
 * view can hide it), a TCP port the host listens on at 127.0.0.1, a System V
 * shared-memory segment the host created under a known key, and a unix
 * socket of the host reached through a symlink planted in the writable
 * layer that names the socket's host path.
 * Usage: host_ipc ABSTRACT_NAME TCP_PORT SHM_KEY HOST_SOCKET_PATH
 *
 * What should stop it: the sandbox's own network namespace (abstract unix
 * names and 127.0.0.1 are per network namespace: ECONNREFUSED), its own
 * IPC namespace (shmget of the host's key: ENOENT), and the private root
 * (the host socket's path does not exist in the view: ENOENT).
 */
#include "hostile.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>

int main(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    size_t n = strlen(argv[1]);
    memcpy(un.sun_path + 1, argv[1], n);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    REPORT("connect_abstract", syscall(SYS_connect, s, &un, offsetof(struct sockaddr_un, sun_path) + 1 + n));
    close(s);

    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_port = htons((unsigned short)atoi(argv[2]));
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s = socket(AF_INET, SOCK_STREAM, 0);
    REPORT("connect_tcp_loopback", syscall(SYS_connect, s, &in, sizeof in));
    close(s);

    REPORT("shmget_host_key", syscall(SYS_shmget, (key_t)strtol(argv[3], NULL, 0), 0, 0));

    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    snprintf(un.sun_path, sizeof un.sun_path, "%s", argv[4]);
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    REPORT("connect_host_socket_path", syscall(SYS_connect, s, &un, sizeof un));
    close(s);
    syscall(SYS_symlinkat, argv[4], AT_FDCWD, "/tmp/hostsock");
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    strcpy(un.sun_path, "/tmp/hostsock");
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    REPORT("connect_host_socket_symlink", syscall(SYS_connect, s, &un, sizeof un));
    close(s);
    printf("DONE\n");
    return 0;
}
