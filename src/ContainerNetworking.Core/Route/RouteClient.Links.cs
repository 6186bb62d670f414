using System.Buffers.Binary;
using ContainerNetworking.Netlink;
using ContainerNetworking.Values;
using Microsoft.Win32.SafeHandles;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Route;

public sealed partial class RouteClient
{
    /// <summary>NLM_F_CREATE | NLM_F_EXCL: what <c>ip link add</c> sends.</summary>
    internal const ushort CreateFlags = Nl.NLM_F_CREATE | Nl.NLM_F_EXCL;

    // ---- reading ----------------------------------------------------------------------------------------------

    /// <summary>All links, or those of one kind. <c>ip -d link show [type KIND]</c>.</summary>
    /// <param name="kind">"veth", "bridge", "dummy" …; null for every link.</param>
    public IReadOnlyList<LinkInfo> GetLinks(string? kind = null)
    {
        var links = DumpLinks();
        var names = new Dictionary<int, string>(links.Count);
        foreach (var l in links) names[l.Index] = l.Name;
        var result = new List<LinkInfo>(links.Count);
        foreach (var l in links)
        {
            if (kind is not null && !string.Equals(l.Kind, kind, StringComparison.Ordinal)) continue;
            result.Add(l.MasterIndex is { } mi && names.TryGetValue(mi, out var mn) ? l with { Master = mn } : l);
        }
        return result;
    }

    private List<LinkInfo> DumpLinks()
    {
        var msgs = _conn.Dump(RTM_GETLINK, WriteDumpLinks, "list links");
        var links = new List<LinkInfo>(msgs.Count);
        foreach (var m in msgs)
            if (DecodeLink(m, NamespaceName) is { } l) links.Add(l);
        return links;
    }

    /// <summary>Index → name of every link (for naming interfaces in addresses, routes, neighbours).</summary>
    private Dictionary<int, string> LinkNames()
    {
        var d = new Dictionary<int, string>();
        foreach (var l in DumpLinks()) d[l.Index] = l.Name;
        return d;
    }

    /// <summary>
    /// The link names by index, and the index of <paramref name="interfaceName"/> for a listing filtered to one
    /// interface (0 when <paramref name="interfaceName"/> is null). Throws LinkNotFound for a name that is not there.
    /// </summary>
    private (Dictionary<int, string> Names, int Index) LinkNamesAndIndex(string? interfaceName, string role = "Link")
    {
        var names = LinkNames();
        if (interfaceName is null) return (names, 0);
        InterfaceName.Validate(interfaceName, role == "Link" ? "Interface name" : role + " name");
        var index = names.FirstOrDefault(kv => kv.Value == interfaceName).Key;
        if (index == 0) throw LinkNotFound(interfaceName, role);
        return (names, index);
    }

    /// <summary>The link named <paramref name="name"/>, or null. <c>ip -d link show dev NAME</c>.</summary>
    public LinkInfo? FindLink(string name)
    {
        InterfaceName.Validate(name);
        var l = GetOne(w => WriteGetLink(w, name), $"get link {name}");
        return l is null ? null : ResolveMaster(l);
    }

    /// <summary>The link named <paramref name="name"/>. <c>ip -d link show dev NAME</c>.</summary>
    /// <exception cref="ContainerNetworkingException">"LinkNotFound" when there is no such link.</exception>
    public LinkInfo GetLink(string name) => FindLink(name) ?? throw LinkNotFound(name);

    /// <summary>The link with ifindex <paramref name="index"/>. <c>ip -d link show</c>, matching the index.</summary>
    /// <exception cref="ContainerNetworkingException">"LinkNotFound" when there is no such link.</exception>
    public LinkInfo GetLink(int index)
    {
        if (index <= 0) throw RtnlValidation.Invalid("InvalidInterfaceIndex", $"Interface index {index} is not valid: indexes start at 1.");
        var l = GetOne(w => WriteGetLinkByIndex(w, index), $"get link #{index}") ?? throw LinkIndexNotFound(index);
        return ResolveMaster(l);
    }

    private LinkInfo? GetOne(Action<NetlinkWriter> body, string context)
    {
        List<NetlinkMessage> replies;
        try { replies = _conn.Request(RTM_GETLINK, 0, body, context); }
        catch (NetlinkException e) when (IsNoDevice(e)) { return null; }
        foreach (var m in replies)
            if (DecodeLink(m, NamespaceName) is { } l) return l;
        return null;
    }

    private LinkInfo ResolveMaster(LinkInfo l)
    {
        if (l.MasterIndex is not { } mi) return l;
        var m = GetOne(w => WriteGetLinkByIndex(w, mi), $"get link #{mi}");
        return m is null ? l : l with { Master = m.Name };
    }

    private int IndexOf(string name, string role = "Link") =>
        (GetOne(w => WriteGetLink(w, name), $"get link {name}") ?? throw LinkNotFound(name, role)).Index;

    // ---- creating ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Creates a veth pair in one request: the local end <paramref name="name"/> here and the peer
    /// <paramref name="peerName"/> directly in <paramref name="peerNamespace"/> (or here), under its final name.
    /// MTU, MAC addresses, the local end's up state and its master are set in the same request, so a failure there leaves
    /// nothing behind. <see cref="VethOptions.PeerUp"/> needs a second request: the kernel refuses to open a veth end
    /// while its pair is still being created (ENOTCONN), so the peer is set up afterwards, in its own namespace, through
    /// <paramref name="peerClient"/> (the peer namespace's RouteClient, e.g. <c>ns.Rtnl</c>; pass it to reuse its socket)
    /// or else through a socket opened in the peer namespace for the purpose. If that fails the pair is deleted again.
    /// <c>ip link add NAME [mtu M] [address A] [master BR] [up] type veth peer name PEER [mtu M] [address A] netns NS</c>,
    /// then <c>ip -n NS link set PEER up</c>.
    /// </summary>
    /// <param name="name">The local end.</param>
    /// <param name="peerName">The peer's final name, e.g. eth0.</param>
    /// <param name="peerNamespace">Where the peer is created; null for this namespace.</param>
    /// <param name="options">MTU, MAC addresses, up states, master.</param>
    /// <param name="peerClient">The RouteClient of <paramref name="peerNamespace"/>, used only for <see cref="VethOptions.PeerUp"/>.</param>
    /// <returns>The local end.</returns>
    public LinkInfo CreateVeth(string name, string peerName, SafeFileHandle? peerNamespace = null, VethOptions? options = null, RouteClient? peerClient = null)
    {
        options ??= new VethOptions();
        InterfaceName.Validate(name, "Veth name");
        InterfaceName.Validate(peerName, "Veth peer name");
        if (peerNamespace is null && name == peerName)
            throw RtnlValidation.Invalid("InvalidInterfaceName", $"The veth and its peer are both named '{name}' in the same namespace. Give the peer another name.");
        if (options.Mtu is { } mtu) RtnlValidation.ValidateMtu(mtu);
        var mac = options.MacAddress is null ? null : MacAddress.Parse(options.MacAddress);
        var peerMac = options.PeerMacAddress is null ? null : MacAddress.Parse(options.PeerMacAddress);
        int? master = null;
        if (options.Master is not null)
        {
            InterfaceName.Validate(options.Master, "Master name");
            master = IndexOf(options.Master, "Bridge (master)");
        }
        WithFd(peerNamespace, fd =>
        {
            _conn.Execute(RTM_NEWLINK, CreateFlags, w => WriteCreateVeth(w, name, peerName, fd, options, mac, peerMac, master),
                $"create veth {name} peer {peerName}");
            return 0;
        });
        if (!options.PeerUp) return GetLink(name);
        try
        {
            if (peerNamespace is null) SetLinkUp(peerName);
            else if (peerClient is not null) peerClient.SetLinkUp(peerName);
            else
            {
                // No client for the peer's namespace was given: a short-lived connection there, from the layer that
                // owns namespaces (this one never enters a namespace itself).
                using var conn = OpenConnectionIn?.Invoke(peerNamespace) ?? throw RtnlValidation.Invalid("PeerClientRequired",
                    $"Bringing up veth peer '{peerName}' in another namespace needs that namespace's RouteClient: pass it as peerClient (NetNamespace.Rtnl).");
                new RouteClient(conn).SetLinkUp(peerName);
            }
        }
        catch
        {
            try { _conn.Execute(RTM_DELLINK, 0, w => WriteDeleteLink(w, name), $"roll back veth {name}"); }
            catch (NetlinkException) { /* the original error matters more */ }
            throw;
        }
        return GetLink(name);
    }

    /// <summary>
    /// <see cref="CreateVeth"/> without reading anything back: one RTM_NEWLINK with NLM_F_ECHO, and the local end's
    /// ifindex taken from the kernel's echo of the new link (Linux 6.1+; on an older kernel, which sends no echo, one
    /// RTM_GETLINK by name finds it). With <paramref name="masterIndex"/> the master is given by index and not looked
    /// up by name (a caller that knows its bridge's index saves that request; a stale index fails with ENODEV, and the
    /// caller looks it up again). <see cref="VethOptions.PeerUp"/> is not supported here: bring the peer up through its
    /// namespace's client. <c>ip link add NAME [mtu M] [address A] [master BR] [up] type veth peer name PEER [address A] netns NS</c>.
    /// </summary>
    /// <returns>The ifindex of the local end.</returns>
    public int CreateVethIndex(string name, string peerName, SafeFileHandle? peerNamespace = null, VethOptions? options = null, int? masterIndex = null) =>
        CreateVethIndexes(name, peerName, peerNamespace, options, masterIndex).Index;

    /// <summary>
    /// <see cref="CreateVethIndex"/>, also returning the peer's ifindex in its namespace, from the echo's IFLA_LINK (what
    /// <c>ip link</c> prints as <c>vethX@ifN</c>), so that the peer's namespace can address it without a lookup
    /// (<see cref="RouteRequestBatch"/>); 0 when the kernel sent no echo (older than 6.1).
    /// </summary>
    public (int Index, int PeerIndex) CreateVethIndexes(string name, string peerName, SafeFileHandle? peerNamespace = null, VethOptions? options = null, int? masterIndex = null)
    {
        options ??= new VethOptions();
        InterfaceName.Validate(name, "Veth name");
        InterfaceName.Validate(peerName, "Veth peer name");
        if (peerNamespace is null && name == peerName)
            throw RtnlValidation.Invalid("InvalidInterfaceName", $"The veth and its peer are both named '{name}' in the same namespace. Give the peer another name.");
        if (options.PeerUp)
            throw RtnlValidation.Invalid("ConflictingArguments", "CreateVethIndex does not bring the peer up: use CreateVeth, or set the peer up through its namespace's RouteClient.");
        if (options.Mtu is { } mtu) RtnlValidation.ValidateMtu(mtu);
        if (masterIndex is <= 0)
            throw RtnlValidation.Invalid("InvalidInterfaceIndex", $"Master index {masterIndex} is not valid: indexes start at 1.");
        var mac = options.MacAddress is null ? null : MacAddress.Parse(options.MacAddress);
        var peerMac = options.PeerMacAddress is null ? null : MacAddress.Parse(options.PeerMacAddress);
        var master = masterIndex;
        if (master is null && options.Master is not null)
        {
            InterfaceName.Validate(options.Master, "Master name");
            master = IndexOf(options.Master, "Bridge (master)");
        }
        var replies = WithFd(peerNamespace, fd =>
            _conn.Request(RTM_NEWLINK, (ushort)(CreateFlags | Nl.NLM_F_ECHO), w => WriteCreateVeth(w, name, peerName, fd, options, mac, peerMac, master),
                $"create veth {name} peer {peerName}"));
        foreach (var m in replies)
            if (DecodeLink(m, NamespaceName) is { } l && l.Name == name) return (l.Index, l.PeerIndex ?? 0);
        return (IndexOf(name), 0);
    }

    /// <summary>
    /// <see cref="SetBridgePort(string, BridgePortOptions)"/> for the port with ifindex <paramref name="index"/>, in one
    /// request (no lookup). The kernel refuses a link that is not a bridge port (EOPNOTSUPP).
    /// <c>bridge link set dev NAME hairpin on …</c>.
    /// </summary>
    public void SetBridgePort(int index, BridgePortOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (index <= 0) throw RtnlValidation.Invalid("InvalidInterfaceIndex", $"Interface index {index} is not valid: indexes start at 1.");
        try { _conn.Execute(RTM_SETLINK, 0, w => WriteSetBridgePort(w, index, options), $"set bridge port #{index}"); }
        catch (NetlinkException e) when (IsNoDevice(e)) { throw LinkIndexNotFound(index); }
    }

    internal static void WriteCreateVeth(NetlinkWriter w, string name, string peerName, int? peerNsFd, VethOptions o,
        byte[]? mac, byte[]? peerMac, int? masterIndex)
    {
        var info = WriteNewLinkHead(w, name, "veth", o.Up, o.Mtu, mac, masterIndex);
        var data = w.BeginNested(IFLA_INFO_DATA);
        var peer = w.BeginNested(VETH_INFO_PEER);
        w.Write(new ifinfomsg { ifi_family = AF_UNSPEC }); // no IFF_UP here: the kernel refuses it (ENOTCONN), see CreateVeth
        w.AttrString(IFLA_IFNAME, peerName);
        if (o.Mtu is { } pmtu) w.AttrU32(IFLA_MTU, (uint)pmtu);
        if (peerMac is not null) w.Attr(IFLA_ADDRESS, peerMac);
        if (peerNsFd is { } fd) w.AttrU32(IFLA_NET_NS_FD, (uint)fd);
        w.EndNested(peer);
        w.EndNested(data);
        w.EndNested(info);
    }

    /// <summary>
    /// Creates a bridge in one request.
    /// <c>ip link add NAME [mtu M] [address A] [up] type bridge [stp_state 0|1] [vlan_filtering 0|1]</c>.
    /// </summary>
    public LinkInfo CreateBridge(string name, BridgeOptions? options = null)
    {
        options ??= new BridgeOptions();
        InterfaceName.Validate(name, "Bridge name");
        if (options.Mtu is { } mtu) RtnlValidation.ValidateMtu(mtu);
        var mac = options.MacAddress is null ? null : MacAddress.Parse(options.MacAddress);
        _conn.Execute(RTM_NEWLINK, CreateFlags, w => WriteCreateBridge(w, name, options, mac), $"create bridge {name}");
        return GetLink(name);
    }

    internal static void WriteCreateBridge(NetlinkWriter w, string name, BridgeOptions o, byte[]? mac)
    {
        var info = WriteNewLinkHead(w, name, "bridge", o.Up, o.Mtu, mac);
        if (o.Stp is not null || o.VlanFiltering is not null)
        {
            var data = w.BeginNested(IFLA_INFO_DATA);
            if (o.Stp is { } stp) w.AttrU32(IFLA_BR_STP_STATE, stp ? 1u : 0u);
            if (o.VlanFiltering is { } vf) w.AttrU8(IFLA_BR_VLAN_FILTERING, vf ? (byte)1 : (byte)0);
            w.EndNested(data);
        }
        w.EndNested(info);
    }

    /// <summary>Creates a dummy device. <c>ip link add NAME type dummy</c>.</summary>
    public LinkInfo CreateDummy(string name)
    {
        InterfaceName.Validate(name, "Dummy name");
        _conn.Execute(RTM_NEWLINK, CreateFlags, w => WriteCreateDummy(w, name), $"create dummy {name}");
        return GetLink(name);
    }

    internal static void WriteCreateDummy(NetlinkWriter w, string name)
    {
        w.EndNested(WriteNewLinkHead(w, name, "dummy", up: false, mtu: null, mac: null));
    }

    /// <summary>
    /// The head every RTM_NEWLINK that creates a link starts with: the ifinfomsg (up or not), IFLA_IFNAME, IFLA_MTU,
    /// IFLA_ADDRESS and IFLA_MASTER when given, then IFLA_LINKINFO opened with its IFLA_INFO_KIND. Returns that nest:
    /// the caller adds the kind's IFLA_INFO_DATA and closes it.
    /// </summary>
    internal static int WriteNewLinkHead(NetlinkWriter w, string name, string kind, bool up, int? mtu, byte[]? mac, int? masterIndex = null)
    {
        w.Write(new ifinfomsg { ifi_family = AF_UNSPEC, ifi_flags = up ? IFF_UP : 0, ifi_change = up ? IFF_UP : 0 });
        w.AttrString(IFLA_IFNAME, name);
        if (mtu is { } m) w.AttrU32(IFLA_MTU, (uint)m);
        if (mac is not null) w.Attr(IFLA_ADDRESS, mac);
        if (masterIndex is { } mi) w.AttrU32(IFLA_MASTER, (uint)mi);
        var info = w.BeginNested(IFLA_LINKINFO);
        w.AttrString(IFLA_INFO_KIND, kind);
        return info;
    }

    // ---- changing ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Changes a link in one request. <c>ip link set NAME [up|down] [mtu M] [address A] [name NEW] [master BR | nomaster]
    /// [addrgenmode eui64|none|stable_secret|random]</c>. With <c>up</c>, the address generation mode goes in a request of
    /// its own before the others (within one request the kernel brings the link up before it reads the mode, so the link
    /// would make its link-local address the old way); refused, the others put the link's mode back as it was.
    /// </summary>
    public void SetLink(string name, LinkChanges changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        InterfaceName.Validate(name);
        if (changes.NewName is not null) InterfaceName.Validate(changes.NewName, "New name");
        if (changes.Mtu is { } mtu) RtnlValidation.ValidateMtu(mtu);
        var mac = changes.MacAddress is null ? null : MacAddress.Parse(changes.MacAddress);
        if (changes.NoMaster && changes.Master is not null)
            throw RtnlValidation.Invalid("ConflictingArguments", $"Both a master ('{changes.Master}') and no master were asked for link '{name}'. Give one of them.");
        int? master = null;
        if (changes.Master is not null)
        {
            InterfaceName.Validate(changes.Master, "Master name");
            master = IndexOf(changes.Master, "Bridge (master)");
        }
        else if (changes.NoMaster) master = 0;
        if (changes.IPv6AddressGeneration is { } mode) RtnlValidation.ValidateAddressGeneration(mode);
        // A rename has to name the link by index; otherwise the name identifies it and no lookup is needed.
        var index = changes.NewName is not null ? IndexOf(name) : 0;
        try
        {
            if (changes.Up == true && changes.IPv6AddressGeneration is { } first)
            {
                var before = GetOne(w => WriteGetLink(w, name), $"get link {name}")?.IPv6AddressGeneration;
                SetAddressGeneration(first);
                try { SetRest(changes with { IPv6AddressGeneration = null }); }
                catch (NetlinkException) when (before is { } b && b != first)
                {
                    SetAddressGeneration(b);
                    throw;
                }
            }
            else SetRest(changes);
        }
        catch (NetlinkException e) when (IsNoDevice(e) && index == 0)
        {
            throw LinkNotFound(name, inner: e);
        }

        void SetAddressGeneration(IPv6AddressGeneration mode) =>
            _conn.Execute(RTM_NEWLINK, 0, w => WriteSetLink(w, index, name, new LinkChanges { IPv6AddressGeneration = mode }, null, null),
                $"set link {name} addrgenmode {AddressGenerationName(mode)}");

        void SetRest(LinkChanges rest) =>
            _conn.Execute(RTM_NEWLINK, 0, w => WriteSetLink(w, index, name, rest, mac, master),
                rest.NewName is null ? $"set link {name}" : $"set link {name} name {rest.NewName}");
    }

    internal static void WriteSetLink(NetlinkWriter w, int index, string name, LinkChanges c, byte[]? mac, int? masterIndex)
    {
        w.Write(new ifinfomsg
        {
            ifi_family = AF_UNSPEC,
            ifi_index = index,
            ifi_flags = c.Up == true ? IFF_UP : 0,
            ifi_change = c.Up is null ? 0 : IFF_UP,
        });
        if (index == 0) w.AttrString(IFLA_IFNAME, name);
        else if (c.NewName is not null) w.AttrString(IFLA_IFNAME, c.NewName);
        if (c.Mtu is { } mtu) w.AttrU32(IFLA_MTU, (uint)mtu);
        if (mac is not null) w.Attr(IFLA_ADDRESS, mac);
        if (masterIndex is { } mi) w.AttrU32(IFLA_MASTER, (uint)mi);
        if (c.IPv6AddressGeneration is { } mode)
        {
            var spec = w.BeginNested(IFLA_AF_SPEC);
            var inet6 = w.BeginNested(AF_INET6);
            w.AttrU8(IFLA_INET6_ADDR_GEN_MODE, (byte)mode);
            w.EndNested(inet6);
            w.EndNested(spec);
        }
    }

    /// <summary>The mode as iproute2 names it (<c>ip -d link show</c>, <c>addrgenmode</c>).</summary>
    public static string AddressGenerationName(IPv6AddressGeneration mode) => mode switch
    {
        IPv6AddressGeneration.Eui64 => "eui64",
        IPv6AddressGeneration.None => "none",
        IPv6AddressGeneration.StablePrivacy => "stable_secret",
        IPv6AddressGeneration.Random => "random",
        _ => ((byte)mode).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Sets a link up or down. <c>ip link set NAME up|down</c>.</summary>
    public void SetLinkUp(string name, bool up = true) => SetLink(name, new LinkChanges { Up = up });

    /// <summary>Enslaves a link to a bridge, or releases it when <paramref name="master"/> is null. <c>ip link set NAME master BR|nomaster</c>.</summary>
    public void SetMaster(string name, string? master) =>
        SetLink(name, master is null ? new LinkChanges { NoMaster = true } : new LinkChanges { Master = master });

    /// <summary>
    /// Moves a link into another namespace, optionally renaming it on the way. <c>ip link set NAME netns NS [name NEW]</c>.
    /// The link goes down (the kernel closes it when it moves).
    /// </summary>
    public void MoveToNamespace(string name, SafeFileHandle targetNamespace, string? newName = null)
    {
        ArgumentNullException.ThrowIfNull(targetNamespace);
        InterfaceName.Validate(name);
        if (newName is not null) InterfaceName.Validate(newName, "New name");
        var index = newName is not null ? IndexOf(name) : 0;
        WithFd(targetNamespace, fd =>
        {
            try
            {
                _conn.Execute(RTM_NEWLINK, 0, w => WriteMoveToNamespace(w, index, name, fd!.Value, newName), $"move link {name} to another namespace");
            }
            catch (NetlinkException e) when (IsNoDevice(e) && index == 0)
            {
                throw LinkNotFound(name, inner: e);
            }
            return 0;
        });
    }

    internal static void WriteMoveToNamespace(NetlinkWriter w, int index, string name, int fd, string? newName)
    {
        w.Write(new ifinfomsg { ifi_family = AF_UNSPEC, ifi_index = index });
        if (index == 0) w.AttrString(IFLA_IFNAME, name);
        else if (newName is not null) w.AttrString(IFLA_IFNAME, newName);
        w.AttrU32(IFLA_NET_NS_FD, (uint)fd);
    }

    /// <summary>
    /// Sets bridge port flags of a link that is a bridge port. <c>bridge link set dev NAME [hairpin on|off]
    /// [learning on|off] [isolated on|off] [flood on|off]</c> (RTM_SETLINK, AF_BRIDGE, IFLA_PROTINFO).
    /// </summary>
    public void SetBridgePort(string name, BridgePortOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        InterfaceName.Validate(name);
        var link = GetOne(w => WriteGetLink(w, name), $"get link {name}") ?? throw LinkNotFound(name);
        if (link.MasterIndex is null)
            throw new ContainerNetworkingException("NotABridgePort", ErrorKind.InvalidOperation,
                $"Link '{name}' in {Where} is not a bridge port. Add it to a bridge first (Add-BridgePort, or '{IpCmd} link set {name} master BRIDGE').");
        _conn.Execute(RTM_SETLINK, 0, w => WriteSetBridgePort(w, link.Index, options), $"set bridge port {name}");
    }

    internal static void WriteSetBridgePort(NetlinkWriter w, int index, BridgePortOptions o)
    {
        w.Write(new ifinfomsg { ifi_family = AF_BRIDGE, ifi_index = index });
        var p = w.BeginNested(IFLA_PROTINFO, nestedFlag: true);
        if (o.Hairpin is { } h) w.AttrU8(IFLA_BRPORT_MODE, h ? (byte)1 : (byte)0);
        if (o.Learning is { } l) w.AttrU8(IFLA_BRPORT_LEARNING, l ? (byte)1 : (byte)0);
        if (o.Flood is { } f) w.AttrU8(IFLA_BRPORT_UNICAST_FLOOD, f ? (byte)1 : (byte)0);
        if (o.Isolated is { } i) w.AttrU8(IFLA_BRPORT_ISOLATED, i ? (byte)1 : (byte)0);
        w.EndNested(p);
    }

    /// <summary>Deletes a link (both ends, for a veth). <c>ip link del NAME</c>.</summary>
    /// <exception cref="ContainerNetworkingException">"LinkNotFound" when there is no such link.</exception>
    public void DeleteLink(string name)
    {
        InterfaceName.Validate(name);
        try { _conn.Execute(RTM_DELLINK, 0, w => WriteDeleteLink(w, name), $"delete link {name}"); }
        catch (NetlinkException e) when (IsNoDevice(e)) { throw LinkNotFound(name, inner: e); }
    }

    internal static void WriteDeleteLink(NetlinkWriter w, string name)
    {
        w.Write(new ifinfomsg { ifi_family = AF_UNSPEC });
        w.AttrString(IFLA_IFNAME, name);
    }

    // ---- requests for reading ---------------------------------------------------------------------------------

    internal static void WriteDumpLinks(NetlinkWriter w) => w.Write(new ifinfomsg { ifi_family = AF_UNSPEC });

    internal static void WriteGetLink(NetlinkWriter w, string name)
    {
        w.Write(new ifinfomsg { ifi_family = AF_UNSPEC });
        w.AttrString(IFLA_IFNAME, name);
    }

    internal static void WriteGetLinkByIndex(NetlinkWriter w, int index) =>
        w.Write(new ifinfomsg { ifi_family = AF_UNSPEC, ifi_index = index });

    // ---- decoding ---------------------------------------------------------------------------------------------

    /// <summary>Decodes an RTM_NEWLINK message; null for other message types. Malformed input raises only NetlinkDecodeException.</summary>
    internal static LinkInfo? DecodeLink(NetlinkMessage m, string? ns)
    {
        if (m.Type != RTM_NEWLINK) return null;
        var h = m.ReadHeader<ifinfomsg>();
        string? name = null, kind = null, mac = null;
        int mtu = 0;
        int? master = null, link = null, netnsid = null;
        byte oper = IF_OPER_UNKNOWN;
        BridgePortInfo? port = null;
        LinkStatistics? stats = null;
        IPv6AddressGeneration? addrGen = null;
        var r = m.Attributes<ifinfomsg>();
        while (r.Next())
        {
            switch (r.Type)
            {
                case IFLA_IFNAME: name = r.GetString(); break;
                case IFLA_MTU: mtu = (int)r.GetU32(); break;
                case IFLA_ADDRESS: mac = MacAddress.Format(r.Value); break;
                case IFLA_MASTER: master = (int)r.GetU32(); break;
                case IFLA_LINK: link = (int)r.GetU32(); break;
                case IFLA_LINK_NETNSID: netnsid = r.GetS32(); break;
                case IFLA_OPERSTATE: oper = r.GetU8(); break;
                case IFLA_STATS64: stats = DecodeStats(r.Value); break;
                case IFLA_AF_SPEC:
                    var families = r.Nested();
                    while (families.Next())
                    {
                        if (families.Type != AF_INET6) continue;
                        var inet6 = families.Nested();
                        while (inet6.Next())
                            if (inet6.Type == IFLA_INET6_ADDR_GEN_MODE) addrGen = (IPv6AddressGeneration)inet6.GetU8();
                    }
                    break;
                case IFLA_LINKINFO:
                    var info = r.Nested();
                    string? slaveKind = null;
                    BridgePortInfo? slave = null;
                    while (info.Next())
                    {
                        if (info.Type == IFLA_INFO_KIND) kind = info.GetString();
                        else if (info.Type == IFLA_INFO_SLAVE_KIND) slaveKind = info.GetString();
                        else if (info.Type == IFLA_INFO_SLAVE_DATA) slave = DecodeBridgePort(info.Nested());
                    }
                    if (slaveKind == "bridge" && slave is not null) port = slave;
                    break;
            }
        }
        if (name is null) throw new NetlinkDecodeException($"RTM_NEWLINK for ifindex {h.ifi_index} has no IFLA_IFNAME");
        return new LinkInfo
        {
            Index = h.ifi_index,
            Name = name,
            Kind = kind,
            IsUp = (h.ifi_flags & IFF_UP) != 0,
            HasCarrier = (h.ifi_flags & IFF_LOWER_UP) != 0,
            OperState = OperStateName(oper),
            Mtu = mtu,
            MacAddress = mac,
            MasterIndex = master,
            PeerIndex = link,
            PeerNetNsId = netnsid is { } id && id >= 0 ? id : null,
            BridgePort = port,
            IPv6AddressGeneration = addrGen,
            Statistics = stats,
            Flags = h.ifi_flags,
            NetNamespace = ns,
        };
    }

    private static BridgePortInfo DecodeBridgePort(AttributeReader r)
    {
        bool hairpin = false, learning = false, isolated = false, flood = false;
        byte state = 0;
        while (r.Next())
        {
            switch (r.Type)
            {
                case IFLA_BRPORT_MODE: hairpin = r.GetU8() != 0; break;
                case IFLA_BRPORT_LEARNING: learning = r.GetU8() != 0; break;
                case IFLA_BRPORT_ISOLATED: isolated = r.GetU8() != 0; break;
                case IFLA_BRPORT_UNICAST_FLOOD: flood = r.GetU8() != 0; break;
                case IFLA_BRPORT_STATE: state = r.GetU8(); break;
            }
        }
        return new BridgePortInfo { Hairpin = hairpin, Learning = learning, Isolated = isolated, Flood = flood, State = state };
    }

    private static LinkStatistics DecodeStats(ReadOnlySpan<byte> v)
    {
        // struct rtnl_link_stats64 starts rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped.
        if (v.Length < 64) throw new NetlinkDecodeException($"IFLA_STATS64 of {v.Length} bytes is shorter than its first 64 bytes");
        return new LinkStatistics
        {
            RxPackets = BinaryPrimitives.ReadUInt64LittleEndian(v),
            TxPackets = BinaryPrimitives.ReadUInt64LittleEndian(v[8..]),
            RxBytes = BinaryPrimitives.ReadUInt64LittleEndian(v[16..]),
            TxBytes = BinaryPrimitives.ReadUInt64LittleEndian(v[24..]),
            RxDropped = BinaryPrimitives.ReadUInt64LittleEndian(v[48..]),
            TxDropped = BinaryPrimitives.ReadUInt64LittleEndian(v[56..]),
        };
    }
}
