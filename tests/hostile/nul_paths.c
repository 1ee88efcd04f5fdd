/* nul_paths: names with embedded NULs and other bytes a careless resolver
 * might treat specially. With a NUL in the middle: an open/creat, mkdir,
 * symlink target and rename whose bytes after the NUL name a host path; a
 * unix socket address whose sun_path holds "/tmp/x\0<host path>" with the
 * length covering both (bind and connect), and an abstract one ("\0" then a
 * host path); an xattr name "user.a\0trusted.b". Without NULs: names made of
 * invalid UTF-8, overlong encodings of "." and "/" ("\xc0\xae", "\xc0\xaf"),
 * backslashes, "%2e%2e", full-width letters, a trailing carriage return, names of
 * only spaces, and control characters; each is probed as part of a path
 * that would climb to /etc/shadow if it meant "..".
 * Usage: nul_paths HOSTDIR
 *
 * What should stop it: a path is a C string: everything after the first
 * NUL is ignored by the library OS and by the kernel alike (a pathname
 * socket's name ends at its first NUL too); any other byte is just part of
 * a name. Nothing may appear in HOSTDIR, and no probe may reach /etc/shadow.
 */
#include "hostile.h"
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/xattr.h>

static char buf[8192];

/* "<a>\0<b>" in buf */
static char *with_nul(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    memcpy(buf, a, la);
    buf[la] = 0;
    memcpy(buf + la + 1, b, lb + 1);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char host[4200];
    snprintf(host, sizeof host, "%s/nul-created", argv[1]);
    REPORT("creat_nul", syscall(SYS_openat, AT_FDCWD, with_nul("/tmp/nul1", host), O_CREAT | O_WRONLY, 0644));
    REPORT("mkdir_nul", syscall(SYS_mkdirat, AT_FDCWD, with_nul("/tmp/nul2", host), 0755));
    REPORT("symlink_target_nul", syscall(SYS_symlinkat, with_nul("/tmp/nultarget", "/../../etc/shadow"), AT_FDCWD, "/tmp/nul3"));
    char link[256] = {0};
    long n = syscall(SYS_readlinkat, AT_FDCWD, "/tmp/nul3", link, sizeof link - 1);
    report("readlink_nul3", n, errno);
    if (n > 0)
        hexline("LINK", "/tmp/nul3", (unsigned char *)link, n);
    REPORT("rename_nul", syscall(SYS_renameat, AT_FDCWD, "/tmp/nul1", AT_FDCWD, with_nul("/tmp/nul4", host)));
    REPORT("open_passwd_nul_shadow", syscall(SYS_openat, AT_FDCWD, with_nul("/etc/passwd", "/../shadow"), O_RDONLY, 0));

    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    char hs[200];
    snprintf(hs, sizeof hs, "%s/nul.sock", argv[1]);
    size_t l1 = strlen("/tmp/nulsock");
    memcpy(a.sun_path, "/tmp/nulsock", l1);
    memcpy(a.sun_path + l1 + 1, hs, strlen(hs) < sizeof a.sun_path - l1 - 2 ? strlen(hs) : sizeof a.sun_path - l1 - 2);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    REPORT("bind_sun_path_nul", bind(s, (struct sockaddr *)&a, sizeof a));
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    listen(s, 4);
    REPORT("connect_sun_path_nul", connect(c, (struct sockaddr *)&a, sizeof a));
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path + 1, hs, strlen(hs) < sizeof a.sun_path - 2 ? strlen(hs) : sizeof a.sun_path - 2);
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    REPORT("bind_abstract_hostpath", bind(s2, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 1 + strlen(hs)));
    REPORT("setxattr_name_nul", syscall(SYS_setxattr, "/tmp/nul3", with_nul("user.a", "trusted.b"), "v", 1, XATTR_CREATE));
    REPORT("lsetxattr_name_nul", syscall(SYS_lsetxattr, "/tmp/nul3", with_nul("user.a", "trusted.b"), "v", 1, 0));

    static const char *odd[] = {
        "/tmp/\xc0\xae\xc0\xae/\xc0\xae\xc0\xae/etc/shadow",
        "/tmp/\xc0\xae\xc0\xae\xc0\xaf\xc0\xae\xc0\xae\xc0\xaf" "etc\xc0\xaf" "shadow",
        "/tmp/..\\..\\..\\etc\\shadow",
        "/tmp/%2e%2e/%2e%2e/etc/shadow",
        "/tmp/\xef\xbc\x8e\xef\xbc\x8e/\xef\xbd\x85tc/shadow",
        "/tmp/..\r/../etc/shadow",
        "/tmp/ ../../etc/shadow",
        "/tmp/.. /.. /etc/shadow",
        "/tmp/\x01\x02\x7f/../../etc/shadow",
        "/tmp/\xff\xfe/../../etc/gshadow",
        "/etc/shadow\r",
        "/etc/shadow ",
        "/etc/shadow/.",
        "/etc//shadow//",
        "/etc/./shadow",
        "/etc/SHADOW",
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        probe(odd[i]);
    probe("/tmp");
    printf("DONE\n");
    return 0;
}
