/*
 * restrict_families — run a program as systemd's RestrictAddressFamilies= would, for e2e tests.
 *
 *   restrict_families "AF_UNIX AF_INET AF_INET6 AF_NETLINK" PROGRAM [ARGS...]
 *
 * Installs a seccomp filter under which socket(2) and socketpair(2) fail with EAFNOSUPPORT
 * for every family not listed, then execs PROGRAM. The first argument is the value of the
 * unit's RestrictAddressFamilies= line (the allow-list form only), so a test runs the
 * daemon under the unit's own setting: libzmq aborts on bind when getifaddrs() cannot
 * open its AF_NETLINK socket, which a unit started under systemd would only show in the
 * journal. Exit 2: bad usage, an unknown family, or an architecture this tool does not
 * know (the test then skips the check); 1: seccomp refused; 127: exec failed.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define MAX_FAMILIES 16

static const struct {
    const char *name;
    int family;
} known_families[] = {
    {"AF_UNIX", AF_UNIX},       {"AF_INET", AF_INET},     {"AF_INET6", AF_INET6},
    {"AF_NETLINK", AF_NETLINK}, {"AF_PACKET", AF_PACKET},
};

static int family_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof known_families / sizeof known_families[0]; i++)
        if (strcmp(known_families[i].name, name) == 0)
            return known_families[i].family;
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: restrict_families \"AF_UNIX AF_INET ...\" PROGRAM [ARGS...]\n");
        return 2;
    }
#ifndef THIS_AUDIT_ARCH
    fprintf(stderr, "restrict_families: this architecture is not supported\n");
    return 2;
#else
    int families[MAX_FAMILIES];
    int family_count = 0;
    char list[256];
    snprintf(list, sizeof list, "%s", argv[1]);
    for (char *save = NULL, *name = strtok_r(list, " ", &save); name;
         name = strtok_r(NULL, " ", &save)) {
        int family = family_by_name(name);
        if (family < 0 || family_count == MAX_FAMILIES) {
            fprintf(stderr, "restrict_families: unknown family %s\n", name);
            return 2;
        }
        families[family_count++] = family;
    }

    /* A filter of: wrong arch -> kill; not socket/socketpair -> allow; a listed
     * family -> allow; anything else -> EAFNOSUPPORT, as systemd answers. */
    struct sock_filter filter[8 + MAX_FAMILIES];
    size_t n = 0;
    filter[n++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_AUDIT_ARCH, 1, 0);
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    filter[n++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 2, 0);
    filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socketpair, 1, 0);
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                               offsetof(struct seccomp_data, args[0]));
    for (int i = 0; i < family_count; i++) {
        /* Jump to the final ALLOW: past the remaining checks and the ERRNO. */
        unsigned char to_allow = (unsigned char)(family_count - i);
        filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)families[i],
                                                   to_allow, 0);
    }
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT);
    filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog program = {(unsigned short)n, filter};

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
        perror("restrict_families: seccomp");
        return 1;
    }
    execvp(argv[2], argv + 2);
    perror(argv[2]);
    return 127;
#endif
}
