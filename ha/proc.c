/* Tandem — MIT licence. had's privilege separation: open what needs root, fork, drop privileges. */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "ha/garp.h"
#include "ha/ha_conf.h"
#include "ha/ha_engine.h"
#include "ha/hb.h"
#include "ha/nl.h"
#include "ha/parent.h"
#include "ha/proc.h"

static void
proc_read_key(const char *path, struct engine_res *r)
{
	uint8_t buf[HB_KEY_MAX + 2];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		fatal("auth_key_file %s", path);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n == -1)
		fatal("auth_key_file %s", path);
	/* A text key's trailing newline is not part of it. */
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n < HB_KEY_MIN || n > HB_KEY_MAX)
		fatalx("auth_key_file %s: the key must be %d..%d bytes", path, HB_KEY_MIN,
		    HB_KEY_MAX);
	memcpy(r->key, buf, (size_t)n);
	r->keylen = (size_t)n;
	explicit_bzero(buf, sizeof(buf));
}

static int
proc_ctl_listen(const char *path)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >=
	    (int)sizeof(sun.sun_path))
		fatalx("control_socket %s: path too long", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		fatal("control socket");
	if (unlink(path) == -1 && errno != ENOENT)
		fatal("control socket: unlink %s", path);
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("control socket: bind %s", path);
	umask(old);
	if (chmod(path, 0600) == -1)
		fatal("control socket: chmod %s", path);
	if (listen(fd, 16) == -1)
		fatal("control socket: listen");
	return fd;
}

static void
proc_drop(uid_t uid, gid_t gid, pid_t parent)
{
	uid_t ru, eu, su;

	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		fatal("dropping privileges");
	if (getresuid(&ru, &eu, &su) == -1 || ru != uid || eu != uid || su != uid)
		fatalx("dropping privileges: still privileged");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
	/* After setresuid: a credential change clears the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_PDEATHSIG)");
	if (getppid() != parent)
		fatalx("the parent died during start-up");
	if (chdir("/") == -1)
		fatal("chdir /");
}

int
proc_start(const struct ha_conf *conf)
{
	struct parent_res pr;
	struct engine_res er;
	struct passwd *pw;
	char err[256];
	uid_t uid;
	gid_t gid;
	pid_t parent, pid;
	int sp[2], ifindex, garp_fd, hb_fd, ctl_fd, state_fd, stats_fd = -1;
	struct nl *nl;

	if (geteuid() != 0)
		fatalx("had must be started as root (it drops privileges itself)");
	memset(&er, 0, sizeof(er));
	proc_read_key(conf->auth_key_file, &er);
	if ((pw = getpwnam(conf->user)) == NULL)
		fatalx("user %s: no such user", conf->user);
	if (pw->pw_uid == 0)
		fatalx("user %s: must not be root", conf->user);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if ((ifindex = (int)if_nametoindex(conf->ifname)) == 0)
		fatal("interface %s", conf->ifname);
	if ((nl = nl_open(err, sizeof(err))) == NULL)
		fatalx("netlink: %s", err);
	if ((garp_fd = garp_socket(err, sizeof(err))) == -1)
		fatalx("%s", err);
	if ((hb_fd = hb_socket((const struct sockaddr *)&conf->bind, sizeof(conf->bind), err,
	    sizeof(err))) == -1)
		fatalx("heartbeat socket: %s", err);
	if ((state_fd = open(conf->state_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		fatal("state_file %s", conf->state_file);
	er.term = engine_read_term(state_fd);
	/* Opened here, rewritten in place by the child: it may not create files where root does. */
	if (conf->stats_file != NULL && (stats_fd = open(conf->stats_file,
	    O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) == -1)
		fatal("stats_file %s", conf->stats_file);
	ctl_fd = proc_ctl_listen(conf->control_socket);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("socketpair");

	parent = getpid();
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		/* The child: no netlink, no raw socket, no root. */
		nl_close(nl);
		close(garp_fd);
		close(sp[0]);
		proc_drop(uid, gid, parent);
		er.ipc = sp[1];
		er.hb_fd = hb_fd;
		er.ctl_fd = ctl_fd;
		er.state_fd = state_fd;
		er.stats_fd = stats_fd;
		exit(engine_run(conf, &er));
	}
	/* The parent: nothing that parses network input. */
	explicit_bzero(&er, sizeof(er));
	close(hb_fd);
	close(ctl_fd);
	close(state_fd);
	if (stats_fd != -1)
		close(stats_fd);
	close(sp[1]);
	if (fcntl(sp[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl");
	memset(&pr, 0, sizeof(pr));
	pr.ipc = sp[0];
	pr.child = pid;
	pr.nl = nl;
	pr.garp_fd = garp_fd;
	pr.ifindex = ifindex;
	return parent_run(conf, &pr);
}
