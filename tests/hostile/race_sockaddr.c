/* race_sockaddr: time-of-check/time-of-use on a socket address. connect and
 * bind are checked by the library OS and then run by the kernel, which
 * reads the sockaddr from the caller's memory. A second thread rewrites the
 * address between the sandbox's own listener and the host's: a unix socket
 * path (/tmp/race.sock <-> the host listener's host path), an abstract name
 * the host listens on, and a TCP port on 127.0.0.1 (the sandbox's listener
 * <-> the host's port); and, for bind, between a name in /tmp and a name in
 * the host's directory. Main thread: connect/bind in a loop; every
 * connection it makes is checked with getpeername ("PEER ..." when it is
 * not its own listener).
 * Usage: race_sockaddr SECONDS HOST_UNIX_PATH HOST_TCP_PORT ABSTRACT_NAME
 *
 * What should stop it: the kernel resolves unix paths in the sandbox's root
 * and abstract names and 127.0.0.1 in the sandbox's own network namespace:
 * the host's listeners are not there, whatever address the kernel reads.
 * The host side checks that none of its listeners accepted anything and
 * that no socket file appeared in its directory.
 */
#include "race.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

static struct sockaddr_un un_addr;
static struct sockaddr_in in_addr;
static volatile int stop_accept;

static void *acceptor(void *p)
{
    int *l = p;
    while (!stop_accept)
        for (int i = 0; i < 2; i++) {
            int c = accept4(l[i], NULL, NULL, SOCK_NONBLOCK);
            if (c >= 0)
                close(c);
        }
    return NULL;
}

static struct sockaddr_un mk_un(const char *path, int abstract)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (abstract)
        memcpy(a.sun_path + 1, path, strlen(path));
    else
        snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    return a;
}

int main(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    double secs = atof(argv[1]);
    static struct sockaddr_un own_un, host_un, host_abs, bind_own, bind_host;
    own_un = mk_un("/tmp/race.sock", 0);
    host_un = mk_un(argv[2], 0);
    host_abs = mk_un(argv[4], 1);
    bind_own = mk_un("/tmp/race-bind.sock", 0);
    char hb[108];
    snprintf(hb, sizeof hb, "%s.bound", argv[2]);
    bind_host = mk_un(hb, 0);

    int l[2];
    l[0] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REPORT("bind_own", bind(l[0], (struct sockaddr *)&own_un, sizeof own_un));
    listen(l[0], 512);
    l[1] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    static struct sockaddr_in own_in, host_in;
    memset(&own_in, 0, sizeof own_in);
    own_in.sin_family = AF_INET;
    own_in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REPORT("bind_own_tcp", bind(l[1], (struct sockaddr *)&own_in, sizeof own_in));
    socklen_t sl = sizeof own_in;
    getsockname(l[1], (struct sockaddr *)&own_in, &sl);
    listen(l[1], 512);
    host_in = own_in;
    host_in.sin_port = htons((unsigned short)atoi(argv[3]));
    pthread_t at;
    pthread_create(&at, NULL, acceptor, l);

    unsigned long conn_un = 0, conn_in = 0, bound = 0, strange = 0, iters = 0;
    struct flipper fu = {0}, fi = {0}, fb = {0};
    flipper_add(&fu, &own_un, sizeof own_un);
    flipper_add(&fu, &host_un, sizeof host_un);
    flipper_add(&fu, &own_un, sizeof own_un);
    flipper_add(&fu, &host_abs, sizeof host_abs);
    flipper_add(&fi, &own_in, sizeof own_in);
    flipper_add(&fi, &host_in, sizeof host_in);
    flipper_add(&fb, &bind_own, sizeof bind_own);
    flipper_add(&fb, &bind_host, sizeof bind_host);

    /* phase 1: unix connect */
    un_addr = own_un;
    flipper_start(&fu, &un_addr);
    double end = mono() + secs / 3;
    while (mono() < end) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&un_addr, sizeof un_addr) == 0) {
            conn_un++;
            struct sockaddr_un peer;
            socklen_t pl = sizeof peer;
            memset(&peer, 0, sizeof peer);
            if (getpeername(s, (struct sockaddr *)&peer, &pl) == 0 && strcmp(peer.sun_path, "/tmp/race.sock")) {
                if (strange++ < 10)
                    printf("PEER\tunix\t%s\n", peer.sun_path[0] ? peer.sun_path : peer.sun_path + 1);
            }
        }
        close(s);
        iters++;
    }
    flipper_stop(&fu);
    /* phase 2: tcp connect */
    in_addr = own_in;
    flipper_start(&fi, &in_addr);
    end = mono() + secs / 3;
    while (mono() < end) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&in_addr, sizeof in_addr) == 0) {
            conn_in++;
            struct sockaddr_in peer;
            socklen_t pl = sizeof peer;
            if (getpeername(s, (struct sockaddr *)&peer, &pl) == 0 && peer.sin_port != own_in.sin_port) {
                if (strange++ < 20)
                    printf("PEER\ttcp\t%d\n", ntohs(peer.sin_port));
            }
        }
        close(s);
        iters++;
    }
    flipper_stop(&fi);
    /* phase 3: bind */
    un_addr = bind_own;
    flipper_start(&fb, &un_addr);
    end = mono() + secs / 3;
    while (mono() < end) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (bind(s, (struct sockaddr *)&un_addr, sizeof un_addr) == 0)
            bound++;
        close(s);
        unlink("/tmp/race-bind.sock");
        iters++;
    }
    flipper_stop(&fb);
    stop_accept = 1;
    pthread_join(at, NULL);
    count("iterations", iters);
    count("connected_unix", conn_un);
    count("connected_tcp", conn_in);
    count("bound", bound);
    count("strange_peers", strange);
    probe("/tmp");
    printf("DONE\n");
    return 0;
}
