using System.Management.Automation;
using System.Text.RegularExpressions;
using ContainerNetworking.Interop;
using ContainerNetworking.Netlink;

namespace ContainerNetworking.Commands;

/// <summary>
/// What a kernel error means for the operation that got it, and how to fix it: the one table <see cref="ErrorMapping"/>
/// consults, keyed on the kind of operation (a link, an address, a route, a neighbour or FDB entry, the nf_tables
/// ruleset, a namespace; created, replaced, changed or removed) and the errno. The advice names the module's cmdlet and
/// parameter that fix it, with the object from the request (route, gateway, link, address) where it helps; the category
/// is PowerShell's for that errno (ResourceExists for EEXIST, ObjectNotFound for ENODEV, ConnectionError for
/// ENETUNREACH …). The kernel's own text (errno, extended ACK, the request) stays the exception's message.
/// </summary>
internal static partial class KernelErrorAdvice
{
    /// <summary>What an operation works on, from its request (RTM_NEWROUTE, NFT_MSG_NEWRULE, setns …).</summary>
    internal enum Subject { Other, Link, Address, Route, Neighbour, Firewall, Namespace }

    /// <summary>What the operation does to it.</summary>
    internal enum Action { Other, Create, Replace, Change, Remove, Read }

    /// <summary>The category and advice for a kernel error; the advice is null where there is nothing to add.</summary>
    public static (ErrorCategory Category, string? Advice) Explain(LinuxException e)
    {
        var context = (e as NetlinkException)?.Context ?? "";
        var (subject, action) = Classify(e.Operation, context);
        var category = ErrorMapping.CategoryOf(ContainerNetworkingException.KindOf(e.ErrorNumber));
        var advice = e.ErrorName switch
        {
            "EPERM" or "EACCES" => "Run PowerShell as root (sudo pwsh), or give it CAP_NET_ADMIN (and CAP_SYS_ADMIN to create or enter namespaces).",
            "EEXIST" => (subject, action) switch
            {
                (Subject.Route, _) => $"A route to {Word(context, "route") ?? "that destination"} with that metric exists already: replace it with New-NetRoute -Replace (ip route replace), give another -RouteMetric, or remove it first with Remove-NetRoute.",
                (Subject.Address, _) => $"The interface has {Word(context, "address") ?? "that address"} already (Get-NetIPAddress); to change its prefix, remove it first with Remove-NetIPAddress.",
                (Subject.Link, Action.Create) => CreatedLink(context) is ({ } name, var peer)
                    ? $"A link named {name}{(peer is null ? "" : $" (or {peer}, the peer's name, in the peer's namespace)")} exists already (Get-NetLink {name}): choose another name, or remove the old link with Remove-NetLink {name}."
                    : "A link of that name exists already in that namespace (Get-NetLink): choose another name, or remove the old link with Remove-NetLink.",
                (Subject.Link, _) => $"The new name{(Word(context, "name") is { } taken ? " " + taken : "")} is taken in that namespace (Get-NetLink): choose another one, or remove that link with Remove-NetLink.",
                (Subject.Neighbour, _) => "The entry exists already (Get-NetNeighbor, Get-BridgeFdb): remove it first, or replace it.",
                (Subject.Firewall, _) => "The rule or map element exists already: see Get-ContainerPort and Get-NatMasquerade; Repair-ContainerNetwork puts a network's rules back in order.",
                (Subject.Namespace, _) => "A namespace of that name exists already (Get-NetNamespace): choose another name, or remove it with Remove-NetNamespace.",
                _ => "It exists already.",
            },
            "ENETUNREACH" or "EHOSTUNREACH" => subject == Subject.Route
                ? $"The gateway {Word(context, "via") ?? "of the route"} is not on a network this namespace reaches directly: no interface that is up has an address in its subnet. " +
                  "Add one first (New-NetIPAddress -InterfaceAlias IF -IPAddress ADDRESS/PREFIX), bring that interface up (Set-NetLink IF -Up), or add a route to the gateway first."
                : "The destination is not reachable from this namespace: check its addresses and routes (Get-NetIPAddress, Get-NetRoute).",
            "ENETDOWN" => "The interface is down: bring it up with Set-NetLink NAME -Up.",
            "ENODEV" => subject switch
            {
                Subject.Route => $"The interface {Word(context, "dev") ?? "of the route"} does not exist in this namespace (Get-NetLink): it may have been deleted or moved to another namespace.",
                _ => $"The interface{(LinkOf(context) is { } link ? " " + link : "")} does not exist in this namespace (Get-NetLink lists them): it may have been deleted or moved to another namespace; give -NetNamespace for the one it is in.",
            },
            "ESRCH" or "ENOENT" => subject switch
            {
                Subject.Route => "There is no such route (Get-NetRoute lists them).",
                Subject.Neighbour => "There is no such entry (Get-NetNeighbor, Get-BridgeFdb list them).",
                Subject.Address => "The interface has no such address (Get-NetIPAddress lists them).",
                Subject.Firewall => "A table, chain, set or element the request refers to is gone (was the ruleset flushed?): Repair-ContainerNetwork puts a network's rules back.",
                Subject.Namespace => "The namespace or path does not exist (Get-NetNamespace lists them; New-NetNamespace creates one).",
                _ => "It does not exist (any more).",
            },
            "EADDRNOTAVAIL" => subject switch
            {
                Subject.Address => "The interface does not have that address (Get-NetIPAddress lists them; Remove-NetIPAddress -IPAddress alone finds the interface that has it).",
                Subject.Route => "The source address of the route is not on any interface of this namespace (Get-NetIPAddress).",
                _ => "That address is not on any interface of this namespace (Get-NetIPAddress).",
            },
            "EADDRINUSE" => "The address or port is in use already.",
            "EBUSY" => subject switch
            {
                Subject.Link => "The device is busy: it may be up (some changes need it down first: Set-NetLink -Down), or in use by another device (a bridge port, a VXLAN underlay).",
                Subject.Namespace => "The namespace is in use (a process or a mount holds it): stop what runs in it (Invoke-NetNamespace -NoWait returned its Process), then try again.",
                Subject.Firewall => "The table, chain or set is in use (a rule refers to it): remove what uses it first, or try again if another program is changing the ruleset.",
                _ => "The kernel object is busy: try again, or stop what uses it.",
            },
            "EINVAL" or "ERANGE" => subject switch
            {
                Subject.Route => "The kernel refused a value of the route (the kernel's text says which when it can): e.g. a gateway of the other family, host bits set in the destination, a scope that does not fit the gateway.",
                Subject.Address => "The kernel refused a value of the address (the kernel's text says which when it can): e.g. a prefix length too long for the family.",
                Subject.Link => "The kernel refused a value of the link (the kernel's text says which when it can): e.g. an MTU the device does not take (68-65535 for IPv4), a multicast MAC address, a name longer than 15 bytes.",
                Subject.Firewall => "nf_tables refused the batch (the kernel's text says which part when it can): the kernel may lack a module (nft_nat, nft_masq, nft_fib, nft_ct); modprobe it, or use a kernel 5.10 or later.",
                _ => "The kernel refused a value of the request (the kernel's text says which when it can).",
            },
            "EOPNOTSUPP" or "ENOSYS" or "EPROTONOSUPPORT" or "EAFNOSUPPORT" => subject switch
            {
                Subject.Firewall => "The kernel lacks nf_tables support for this (modprobe nf_tables nft_nat nft_masq nft_fib_inet nft_ct, or use a kernel 5.10 or later).",
                _ => "The kernel lacks support for this (a module not loaded: modprobe veth, bridge or vxlan; or an older kernel).",
            },
            "ENOBUFS" or "ENOMEM" or "ENOSPC" => "The kernel ran out of room (memory, a socket buffer, or a table limit): free some, or try again with fewer objects per call.",
            "EAGAIN" => "The kernel asked to try again (it was busy): run the command again.",
            _ => null,
        };
        if (e.ErrorName is "ENETUNREACH" or "EHOSTUNREACH" or "ENETDOWN") category = ErrorCategory.ConnectionError;
        return (category, advice);
    }

    /// <summary>The subject and action of a request, from its name (RTM_NEWROUTE …) and its context ("replace route …").</summary>
    internal static (Subject, Action) Classify(string operation, string context)
    {
        var verb = context.Split(' ', 2)[0];
        if (operation.StartsWith("RTM_", StringComparison.Ordinal))
        {
            var subject = operation[7..] switch
            {
                "LINK" => Subject.Link,
                "ADDR" => Subject.Address,
                "ROUTE" => Subject.Route,
                "NEIGH" => Subject.Neighbour,
                "NSID" => Subject.Namespace,
                _ => Subject.Other,
            };
            var action = operation[4..7] switch
            {
                "NEW" => verb switch { "create" or "add" => Action.Create, "replace" => Action.Replace, _ => Action.Change },
                "SET" => Action.Change,
                "DEL" => Action.Remove,
                "GET" => Action.Read,
                _ => Action.Other,
            };
            return (subject, action);
        }
        if (operation.StartsWith("NFT_MSG_", StringComparison.Ordinal) || operation == "netlink batch")
            return (Subject.Firewall, operation.Contains("DEL", StringComparison.Ordinal) ? Action.Remove : operation.Contains("GET", StringComparison.Ordinal) ? Action.Read : Action.Create);
        if (operation.StartsWith("setns", StringComparison.Ordinal) || operation.StartsWith("unshare", StringComparison.Ordinal) ||
            operation.StartsWith("mount", StringComparison.Ordinal) || operation.StartsWith("umount", StringComparison.Ordinal))
            return (Subject.Namespace, operation.StartsWith("umount", StringComparison.Ordinal) ? Action.Remove : Action.Create);
        return (Subject.Other, Action.Other);
    }

    /// <summary>The word after <paramref name="key"/> in a request's context ("add route 0.0.0.0/0 via 10.0.0.1" → "10.0.0.1" for "via").</summary>
    private static string? Word(string context, string key)
    {
        var m = Regex.Match(context, $@"(?:^|\s){Regex.Escape(key)} (\S+)");
        return m.Success ? m.Groups[1].Value : null;
    }

    /// <summary>The link a creation names, and a veth's peer: "create veth vA peer vB" → (vA, vB); "create bridge br0" → (br0, null).</summary>
    private static (string? Name, string? Peer) CreatedLink(string context)
    {
        var m = Regex.Match(context, @"^create \S+ (\S+)(?: peer (\S+))?");
        return m.Success ? (m.Groups[1].Value, m.Groups[2].Success ? m.Groups[2].Value : null) : (null, null);
    }

    /// <summary>The link a context names: "set link eth0", "delete link veth1", "add address … to br0".</summary>
    private static string? LinkOf(string context) => Word(context, "link") ?? Word(context, "to") ?? Word(context, "from") ?? Word(context, "dev");
}
