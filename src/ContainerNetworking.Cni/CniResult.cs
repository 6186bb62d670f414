using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace ContainerNetworking.Cni;

/// <summary>
/// The ADD result in the version asked for: interfaces, ips (with <c>version</c> for 0.3.x and 0.4.0, without it
/// from 1.0.0), routes and dns. Kept as JSON nodes so that a chained plugin's <c>prevResult</c> passes through with
/// whatever fields it has.
/// </summary>
public static class CniResult
{
    /// <summary>A result to build on: the prevResult's (converted to <paramref name="version"/>) or an empty one.</summary>
    public static JsonObject Start(JsonObject? prevResult, string version)
    {
        var r = prevResult is null ? new JsonObject() : (JsonObject)prevResult.DeepClone();
        r["cniVersion"] = version;
        if (r["interfaces"] is not JsonArray) r["interfaces"] = new JsonArray();
        if (r["ips"] is not JsonArray) r["ips"] = new JsonArray();
        if (r["routes"] is not JsonArray) r["routes"] = new JsonArray();
        if (r["dns"] is not JsonObject) r["dns"] = new JsonObject();
        return Convert(r, version);
    }

    /// <summary>Sets every <c>ips[].version</c> as the version wants it: present ("4"/"6") before 1.0.0, absent after.</summary>
    public static JsonObject Convert(JsonObject r, string version)
    {
        var old = !CniConfig.AtLeast(version, "1.0.0");
        r["cniVersion"] = version;
        if (r["ips"] is JsonArray ips)
            foreach (var n in ips)
            {
                if (n is not JsonObject ip) continue;
                if (!old) ip.Remove("version");
                else if (ip["version"] is null && CniConfig.Str(ip, "address") is { } a)
                    ip["version"] = CniConfig.AddressOrCidr(a, "ips[].address").AddressFamily == AddressFamily.InterNetworkV6 ? "6" : "4";
            }
        return r;
    }

    /// <summary>Appends an interface and returns its index.</summary>
    public static int AddInterface(JsonObject r, string name, string? mac, string? sandbox)
    {
        var ifs = (JsonArray)r["interfaces"]!;
        var o = new JsonObject { ["name"] = name };
        if (mac is not null) o["mac"] = mac;
        if (sandbox is not null) o["sandbox"] = sandbox;
        ifs.Add((JsonNode)o);
        return ifs.Count - 1;
    }

    public static void AddIp(JsonObject r, string version, IPAddress address, int prefix, IPAddress? gateway, int iface)
    {
        var o = new JsonObject();
        if (!CniConfig.AtLeast(version, "1.0.0")) o["version"] = address.AddressFamily == AddressFamily.InterNetworkV6 ? "6" : "4";
        o["interface"] = iface;
        o["address"] = $"{address}/{prefix}";
        if (gateway is not null) o["gateway"] = gateway.ToString();
        ((JsonArray)r["ips"]!).Add((JsonNode)o);
    }

    public static void AddRoute(JsonObject r, IPNetwork dst, IPAddress? gw)
    {
        var o = new JsonObject { ["dst"] = dst.ToString() };
        if (gw is not null) o["gw"] = gw.ToString();
        ((JsonArray)r["routes"]!).Add((JsonNode)o);
    }

    /// <summary>The error result of the spec.</summary>
    public static JsonObject Error(string version, CniError e) => new()
    {
        ["cniVersion"] = version,
        ["code"] = e.Code,
        ["msg"] = e.Msg,
        ["details"] = e.Details,
    };
}
