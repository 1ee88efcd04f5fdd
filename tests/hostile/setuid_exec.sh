#!/bin/sh
# setuid_exec.sh: runs the host's real set-user-ID and set-group-ID programs
# (they are in the view: /usr/bin/passwd, su, chsh, chfn, gpasswd, chage,
# newgrp, mount, umount, unix_chkpwd, ...) the way one would to become root
# or to change the system: su to root, delete root's password, change
# root's shell, add itself to root's group, mount a tmpfs and a bind of /,
# unmount /usr, check a password with unix_chkpwd. A shell is the natural
# attacker here. Each attempt prints "EXIT <name> <status>"; "SU-ROOT-0"
# would mean su ran a command as root; then the program's own view of its
# identity and of the mount table after all of it.
# Usage: sh setuid_exec.sh
#
# What should stop it: no_new_privs (set-ID bits are ignored at exec, the
# programs run as the sandbox user, uid 1000), no capability in any
# namespace, and /etc/shadow not in the view; the programs fail, the
# sandbox's own /etc/passwd and mounts stay as they were, and the host's
# /etc is never reachable.
run() {
    name=$1
    shift
    "$@" </dev/null >/tmp/out.$$ 2>&1
    st=$?
    printf 'EXIT\t%s\t%s\n' "$name" "$st"
    sed 's/^/OUT\t/' /tmp/out.$$ | head -5
}
for b in /usr/bin/passwd /usr/bin/su /usr/bin/mount /usr/bin/umount /usr/bin/chsh /usr/bin/chfn \
    /usr/bin/gpasswd /usr/bin/newgrp /usr/bin/chage /usr/sbin/unix_chkpwd; do
    if [ -u "$b" ] || [ -g "$b" ]; then printf 'SETID\t%s\n' "$b"; fi
done
mounts_before=$(cat /proc/self/mounts)
passwd_before=$(cat /etc/passwd)
run su_root_c su -c 'echo SU-ROOT-$(id -u)' root
run su_dash su - root -c 'echo SU-ROOT-$(id -u)'
run passwd_d_root passwd -d root
run passwd_d_user passwd -d user
run chsh_root chsh -s /bin/sh root
run chfn_root chfn -f pwned root
run gpasswd_a gpasswd -a user root
run chage_root chage -d 0 root
run newgrp_root newgrp root
run mount_tmpfs mount -t tmpfs none /tmp
run mount_bind_root mount --bind / /home/user
run umount_usr umount /usr
run umount_lazy_t umount -l /t
run unix_chkpwd /usr/sbin/unix_chkpwd root nullok
printf 'ID\t%s\t%s\n' "$(id -u)" "$(id -g)"
[ "$mounts_before" = "$(cat /proc/self/mounts)" ] && printf 'MOUNTS-SAME\n'
[ "$passwd_before" = "$(cat /etc/passwd)" ] && printf 'PASSWD-SAME\n'
printf 'DONE\n'
