using System.Diagnostics;
using System.Globalization;

namespace ContainerNetworking.Bench;

/// <summary>
/// The floor: the same kernel work done by the smallest program that can do it — a C program, written to a temp
/// directory and compiled with gcc at run time, that per container creates a named namespace as <c>ip netns add</c>
/// does (file, unshare, bind mount), one RTM_NEWLINK for the veth (host end on the bridge and up, eth0 in the
/// container), then in the container lo up, eth0's IPv6 address generation off (addrgenmode none, as Connect does on an
/// IPv4-only network), eth0 up, eth0's index, the address and the default route; teardown is
/// one RTM_DELLINK and the unmount. No NAT, no ports. It times itself, so its process start is not counted.
/// <para>
/// <paramref name="batched"/> ("floor-batch"): the same requests, several per sendmsg, as the best a program can do: the
/// veth created with NLM_F_ECHO (its answer names eth0's ifindex, IFLA_LINK, so no RTM_GETLINK), then the container's
/// five requests (lo up, addrgenmode none, eth0 up, address, route) in one datagram; teardown sends the RTM_DELLINKs 32 per datagram.
/// </para>
/// </summary>
public sealed class FloorImpl(bool batched = false) : Impl
{
    private string? _exe;
    private string? _why;
    private Process? _proc;

    public override string Name => batched ? "floor-batch" : "floor";
    public override string Description => batched ? "raw netlink in C, several requests per sendmsg (ns+veth+addr+route only)" : "raw netlink in C (ns+veth+addr+route only)";
    public override bool Complete => false;
    public override string? Unavailable => EnsureBuilt() ? null : _why;

    private bool EnsureBuilt()
    {
        if (_exe is not null) return true;
        if (_why is not null) return false;
        var gcc = Sh.Which("gcc") ?? Sh.Which("cc");
        if (gcc is null) { _why = "no gcc (build/bench.sh --install-peers installs it)"; return false; }
        var dir = Path.Combine(Cleanup.TempDir, "floor");
        Directory.CreateDirectory(dir);
        var src = Path.Combine(dir, "floor.c");
        File.WriteAllText(src, Source);
        var exe = Path.Combine(dir, "floor");
        var r = Sh.Run(gcc, ["-O2", "-Wall", "-o", exe, src], check: false);
        if (r.ExitCode != 0) { _why = "gcc failed: " + r.Stderr.Trim(); return false; }
        _exe = exe;
        return true;
    }

    public override void SetupNetwork(Topology t) => Topology.IpBatch(t.Host, $"""
        link add {Topology.Bridge} type bridge
        addr add {Topology.Gateway}/16 dev {Topology.Bridge}
        link set {Topology.Bridge} up
        """);

    public override void SetupContainers(Topology t, int n)
    {
        _proc = Sh.Start(_exe!, [t.HostPath, Cleanup.Own + "ctr", n.ToString(CultureInfo.InvariantCulture), Topology.Bridge, batched ? "batched" : "sequential"]);
        SelfSetupMs = ReadTime("setup_ns");
    }

    public override void TeardownContainers(Topology t, int n)
    {
        _proc!.StandardInput.WriteLine("teardown");
        _proc.StandardInput.Flush();
        SelfTeardownMs = ReadTime("teardown_ns");
        _proc.WaitForExit(30_000);
        _proc.Dispose();
        _proc = null;
    }

    public override void TeardownNetwork(Topology t) => Topology.IpBatch(t.Host, $"link del {Topology.Bridge}");

    private double ReadTime(string key)
    {
        var line = _proc!.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith(key + " ", StringComparison.Ordinal))
        {
            _proc.WaitForExit(5000);
            throw new CommandFailedException($"floor failed: {line} {_proc.StandardError.ReadToEnd()}".Trim());
        }
        return long.Parse(line[(key.Length + 1)..], CultureInfo.InvariantCulture) / 1e6;
    }

    private const string Source = """
        // The floor: namespace + veth + address + route per container with raw rtnetlink, nothing else.
        #define _GNU_SOURCE
        #include <errno.h>
        #include <fcntl.h>
        #include <sched.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <time.h>
        #include <unistd.h>
        #include <arpa/inet.h>
        #include <sys/mount.h>
        #include <sys/socket.h>
        #include <linux/if.h>
        #include <linux/if_link.h>
        #include <linux/netlink.h>
        #include <linux/rtnetlink.h>
        #include <linux/veth.h>

        static char buf[65536], rx[65536];
        static char *msg = buf;         // the message being built; batched ones follow each other in buf
        static int mlen;
        static unsigned seq = 1;
        static int last_index, last_link;

        static void die(const char *what) { fprintf(stderr, "%s: %s\n", what, strerror(errno)); exit(1); }

        static int nl_open(void) {
            int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
            if (fd < 0) die("socket");
            struct sockaddr_nl a = { .nl_family = AF_NETLINK };
            if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
            return fd;
        }
        static void begin(int type, int flags) {
            memset(msg, 0, 1024);
            struct nlmsghdr *h = (struct nlmsghdr *)msg;
            h->nlmsg_type = type;
            h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
            h->nlmsg_seq = ++seq;
            mlen = NLMSG_HDRLEN;
        }
        static void put(const void *d, int n) { memcpy(msg + mlen, d, n); mlen += NLMSG_ALIGN(n); }
        static void attr(int type, const void *d, int n) {
            struct rtattr *a = (struct rtattr *)(msg + mlen);
            a->rta_type = type; a->rta_len = RTA_LENGTH(n);
            memcpy(RTA_DATA(a), d, n);
            mlen += RTA_ALIGN(a->rta_len);
        }
        static int nest(int type) { int off = mlen; struct rtattr *a = (struct rtattr *)(msg + mlen); a->rta_type = type; mlen += RTA_LENGTH(0); return off; }
        static void end_nest(int off) { ((struct rtattr *)(msg + off))->rta_len = mlen - off; }
        static void talk(int fd, const char *what) {
            ((struct nlmsghdr *)msg)->nlmsg_len = mlen;
            if (send(fd, msg, mlen, 0) < 0) die("send");
            for (;;) {
                int n = recv(fd, rx, sizeof rx, 0);
                if (n < 0) die("recv");
                for (struct nlmsghdr *h = (struct nlmsghdr *)rx; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
                    if (h->nlmsg_seq != seq) continue;
                    if (h->nlmsg_type == NLMSG_ERROR) {
                        struct nlmsgerr *e = NLMSG_DATA(h);
                        if (e->error) { fprintf(stderr, "%s: %s\n", what, strerror(-e->error)); exit(1); }
                        return;
                    }
                    if (h->nlmsg_type == RTM_NEWLINK) {
                        struct ifinfomsg *ifi = NLMSG_DATA(h);
                        last_index = ifi->ifi_index;
                        int len = IFLA_PAYLOAD(h);
                        for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
                            if (a->rta_type == IFLA_LINK) last_link = *(int *)RTA_DATA(a);
                    }
                }
            }
        }
        // Batched: close the message being built and start the next one after it in buf.
        static int queued;
        static unsigned first_seq;
        static void queue(void) {
            ((struct nlmsghdr *)msg)->nlmsg_len = mlen;
            if (!queued) first_seq = seq;
            queued++;
            msg += NLMSG_ALIGN(mlen);
        }
        // Sends every queued message in one datagram and waits for all their ACKs.
        static void talk_many(int fd, const char *what) {
            if (send(fd, buf, msg - buf, 0) < 0) die("send");
            int pending = queued;
            while (pending > 0) {
                int n = recv(fd, rx, sizeof rx, 0);
                if (n < 0) die("recv");
                for (struct nlmsghdr *h = (struct nlmsghdr *)rx; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
                    if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq < first_seq || h->nlmsg_seq > seq) continue;
                    struct nlmsgerr *e = NLMSG_DATA(h);
                    if (e->error) { fprintf(stderr, "%s: %s\n", what, strerror(-e->error)); exit(1); }
                    pending--;
                }
            }
            msg = buf;
            queued = 0;
        }
        static int link_index(int fd, const char *name) {
            begin(RTM_GETLINK, 0);
            struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
            put(&ifi, sizeof ifi);
            attr(IFLA_IFNAME, name, strlen(name) + 1);
            last_index = 0;
            talk(fd, "RTM_GETLINK");
            return last_index;
        }
        static long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000L + t.tv_nsec; }

        int main(int argc, char **argv) {
            if (argc != 6) { fprintf(stderr, "usage: floor HOSTNS PREFIX N BRIDGE sequential|batched\n"); return 2; }
            int batched = strcmp(argv[5], "batched") == 0;
            const char *prefix = argv[2];
            int n = atoi(argv[3]);
            int hostfd = open(argv[1], O_RDONLY | O_CLOEXEC);
            if (hostfd < 0) die("open host");
            if (setns(hostfd, CLONE_NEWNET) < 0) die("setns host");
            int hs = nl_open();
            int bridx = link_index(hs, argv[4]);
            if (!bridx) { fprintf(stderr, "no bridge %s\n", argv[4]); return 1; }
            char path[512], name[IFNAMSIZ];
            struct in_addr gw; inet_pton(AF_INET, "10.123.0.1", &gw);

            long t0 = now();
            for (int i = 0; i < n; i++) {
                // ip netns add PREFIXi
                snprintf(path, sizeof path, "/run/netns/%s%d", prefix, i);
                int f = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
                if (f < 0) die(path);
                close(f);
                if (unshare(CLONE_NEWNET) < 0) die("unshare");
                if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0) die("mount");
                int cs = nl_open();
                int nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                if (setns(hostfd, CLONE_NEWNET) < 0) die("setns back");

                // ip link add vhI master BR up type veth peer name eth0 netns PREFIXi up
                begin(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | (batched ? NLM_F_ECHO : 0));
                struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
                put(&ifi, sizeof ifi);
                snprintf(name, sizeof name, "vh%d", i);
                attr(IFLA_IFNAME, name, strlen(name) + 1);
                attr(IFLA_MASTER, &bridx, 4);
                int li = nest(IFLA_LINKINFO);
                attr(IFLA_INFO_KIND, "veth", 5);
                int d = nest(IFLA_INFO_DATA);
                int p = nest(VETH_INFO_PEER);
                // The peer cannot be brought up in this request: kernel 6.18 answers ENOTCONN (as 'ip link add … peer … up' gets).
                struct ifinfomsg peer = { .ifi_family = AF_UNSPEC };
                put(&peer, sizeof peer);
                attr(IFLA_IFNAME, "eth0", 5);
                attr(IFLA_NET_NS_FD, &nsfd, 4);
                end_nest(p); end_nest(d); end_nest(li);
                last_link = 0;
                talk(hs, "RTM_NEWLINK veth");
                if (batched && !last_link) { fprintf(stderr, "no IFLA_LINK in the echo of the new veth\n"); return 1; }

                // ip -n C link set lo up
                begin(RTM_NEWLINK, 0);
                struct ifinfomsg lo = { .ifi_family = AF_UNSPEC, .ifi_index = 1, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
                put(&lo, sizeof lo);
                if (batched) queue(); else talk(cs, "RTM_NEWLINK lo");
                // ip -n C link set eth0 addrgenmode none: no IPv6 of its own on an IPv4-only network (as Connect does)
                begin(RTM_NEWLINK, 0);
                struct ifinfomsg agm = { .ifi_family = AF_UNSPEC, .ifi_index = batched ? last_link : 0 };
                put(&agm, sizeof agm);
                if (!batched) attr(IFLA_IFNAME, "eth0", 5);
                int af = nest(IFLA_AF_SPEC), inet6 = nest(AF_INET6);
                unsigned char none = IN6_ADDR_GEN_MODE_NONE;
                attr(IFLA_INET6_ADDR_GEN_MODE, &none, 1);
                end_nest(inet6); end_nest(af);
                if (batched) queue(); else talk(cs, "RTM_NEWLINK eth0 addrgenmode none");
                // ip -n C link set eth0 up
                begin(RTM_NEWLINK, 0);
                struct ifinfomsg up = { .ifi_family = AF_UNSPEC, .ifi_index = batched ? last_link : 0, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
                put(&up, sizeof up);
                if (!batched) attr(IFLA_IFNAME, "eth0", 5);
                int eth0;
                if (batched) { queue(); eth0 = last_link; }
                else { talk(cs, "RTM_NEWLINK eth0 up"); eth0 = link_index(cs, "eth0"); }

                // ip -n C addr add 10.123.x.y/16 dev eth0
                struct in_addr ip; ip.s_addr = htonl(ntohl(gw.s_addr) + 1 + i);
                begin(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
                struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = 16, .ifa_index = eth0 };
                put(&ifa, sizeof ifa);
                attr(IFA_LOCAL, &ip, 4);
                attr(IFA_ADDRESS, &ip, 4);
                if (batched) queue(); else talk(cs, "RTM_NEWADDR");

                // ip -n C route add default via 10.123.0.1
                begin(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
                struct rtmsg rt = { .rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
                                    .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST };
                put(&rt, sizeof rt);
                attr(RTA_GATEWAY, &gw, 4);
                attr(RTA_OIF, &eth0, 4);
                if (batched) { queue(); talk_many(cs, "container batch"); } else talk(cs, "RTM_NEWROUTE");
                close(cs);
                close(nsfd);
            }
            printf("setup_ns %ld\n", now() - t0);
            fflush(stdout);

            char line[64];
            if (!fgets(line, sizeof line, stdin)) return 0;
            t0 = now();
            for (int i = 0; i < n; i++) {
                begin(RTM_DELLINK, 0);
                struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
                put(&ifi, sizeof ifi);
                snprintf(name, sizeof name, "vh%d", i);
                attr(IFLA_IFNAME, name, strlen(name) + 1);
                if (batched) { queue(); if (queued == 32 || i == n - 1) talk_many(hs, "RTM_DELLINK batch"); continue; }
                talk(hs, "RTM_DELLINK");
                snprintf(path, sizeof path, "/run/netns/%s%d", prefix, i);
                umount2(path, MNT_DETACH);
                unlink(path);
            }
            for (int i = 0; batched && i < n; i++) {
                snprintf(path, sizeof path, "/run/netns/%s%d", prefix, i);
                umount2(path, MNT_DETACH);
                unlink(path);
            }
            printf("teardown_ns %ld\n", now() - t0);
            fflush(stdout);
            return 0;
        }
        """;
}
