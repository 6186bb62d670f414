using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Netlink;
using ContainerNetworking.Values;
using static ContainerNetworking.Route.RtnlConstants;

namespace ContainerNetworking.Route;

// The forwarding database of bridges and VXLAN devices: read, added and removed (bridge fdb).
public sealed partial class RouteClient
{
    /// <summary>The bridge forwarding database, of every bridge or of one. <c>bridge fdb show [br NAME]</c>.</summary>
    public IReadOnlyList<FdbEntry> GetBridgeFdb(string? bridge = null)
    {
        var (names, master) = LinkNamesAndIndex(bridge, "Bridge");
        var msgs = _conn.Dump(RTM_GETNEIGH, w => WriteDumpFdb(w, master), "list the bridge FDB");
        var result = new List<FdbEntry>(msgs.Count);
        foreach (var m in msgs)
        {
            if (DecodeFdb(m, NamespaceName) is not { } e) continue;
            result.Add(e with
            {
                InterfaceName = names.TryGetValue(e.InterfaceIndex, out var n) ? n : null,
                Master = e.MasterIndex is { } mi && names.TryGetValue(mi, out var mn) ? mn : null,
            });
        }
        return result;
    }

    internal static void WriteDumpFdb(NetlinkWriter w, int masterIndex)
    {
        w.Write(new ndmsg { ndm_family = AF_BRIDGE });
        if (masterIndex != 0) w.AttrU32(NDA_MASTER, (uint)masterIndex);
    }

    /// <summary>Decodes an AF_BRIDGE RTM_NEWNEIGH message (an FDB entry); null for others.</summary>
    internal static FdbEntry? DecodeFdb(NetlinkMessage m, string? ns)
    {
        if (m.Type != RTM_NEWNEIGH) return null;
        var h = m.ReadHeader<ndmsg>();
        if (h.ndm_family != AF_BRIDGE) return null;
        string? mac = null;
        int? master = null;
        ushort? vlan = null;
        IPAddress? dst = null;
        var r = m.Attributes<ndmsg>();
        while (r.Next())
        {
            switch (r.Type)
            {
                case NDA_LLADDR: mac = MacAddress.Format(r.Value); break;
                case NDA_DST: dst = r.GetAddress(); break;
                case NDA_MASTER: master = (int)r.GetU32(); break;
                case NDA_VLAN: vlan = r.GetU16(); break;
            }
        }
        if (string.IsNullOrEmpty(mac)) return null;
        var permanent = (h.ndm_state & NUD_PERMANENT) != 0;
        return new FdbEntry
        {
            MacAddress = mac,
            InterfaceIndex = h.ndm_ifindex,
            MasterIndex = master,
            Vlan = vlan,
            Permanent = permanent,
            IsLocal = permanent,
            State = h.ndm_state,
            Flags = h.ndm_flags,
            Destination = dst,
            NetNamespace = ns,
        };
    }


    /// <summary>
    /// Adds (or, with <paramref name="replace"/>, replaces) a permanent FDB entry of a device itself (NTF_SELF): on a
    /// VXLAN device with <paramref name="destination"/> it sends frames for <paramref name="macAddress"/> to that
    /// remote VTEP. <c>bridge fdb add|replace MAC dev NAME [dst ADDRESS] self permanent</c>.
    /// </summary>
    public void AddFdb(string interfaceName, string macAddress, IPAddress? destination = null, bool replace = false)
    {
        var mac = MacAddress.Parse(macAddress);
        var index = IndexOf(ValidName(interfaceName));
        var flags = (ushort)(Nl.NLM_F_CREATE | (replace ? Nl.NLM_F_REPLACE : Nl.NLM_F_EXCL));
        _conn.Execute(RTM_NEWNEIGH, flags, w => WriteFdb(w, index, mac, destination, add: true),
            $"{(replace ? "replace" : "add")} fdb {macAddress} dev {interfaceName}{(destination is null ? "" : " dst " + destination)}");
    }

    /// <summary>
    /// Removes an FDB entry of a device (NTF_SELF), the one to <paramref name="destination"/> when given.
    /// <c>bridge fdb del MAC dev NAME [dst ADDRESS] self</c>. Throws FdbEntryNotFound when there is none.
    /// </summary>
    public void RemoveFdb(string interfaceName, string macAddress, IPAddress? destination = null)
    {
        var mac = MacAddress.Parse(macAddress);
        var index = IndexOf(ValidName(interfaceName));
        try { _conn.Execute(RTM_DELNEIGH, 0, w => WriteFdb(w, index, mac, destination, add: false), $"remove fdb {macAddress} dev {interfaceName}"); }
        catch (NetlinkException e) when (e.ErrorNumber == 2 /* ENOENT */)
        {
            throw new ContainerNetworkingException("FdbEntryNotFound", ErrorKind.NotFound,
                $"There is no FDB entry for {macAddress} on {interfaceName}{(destination is null ? "" : " to " + destination)} in {Where}; nothing to remove. " +
                $"List them with Get-BridgeFdb{NsArg} or 'bridge{(NamespaceName is null ? "" : " -n " + NamespaceName)} fdb show dev {interfaceName}'.", e);
        }
    }

    internal static void WriteFdb(NetlinkWriter w, int index, byte[] mac, IPAddress? destination, bool add)
    {
        w.Write(new ndmsg { ndm_family = AF_BRIDGE, ndm_ifindex = index, ndm_state = add ? NUD_PERMANENT : (ushort)0, ndm_flags = NTF_SELF });
        w.Attr(NDA_LLADDR, mac);
        if (destination is not null) w.AttrAddress(NDA_DST, destination);
    }
}
