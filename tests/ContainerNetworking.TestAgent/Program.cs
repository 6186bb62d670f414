// Test agent: runs the model's state-changing commands from a process of its own.
//   connect HOSTNS STATEDIR NETWORK COUNT NSPREFIX [PUBLISH…]
// creates namespaces NSPREFIX0 … NSPREFIX{COUNT-1} through Connect, printing "ok ID ADDRESS" per endpoint.
//   join HOSTNS STATEDIR NETWORK NAMESPACE PRIORITY [PUBLISH…]: connects an existing namespace (a container on a further
//   network) with that gateway priority.
//   disconnect HOSTNS STATEDIR NETWORK CONTAINER | new-network HOSTNS STATEDIR NAME BRIDGE SUBNET |
//   remove-network HOSTNS STATEDIR NAME (with -Force) | allow HOSTNS STATEDIR NET1 NET2 | disallow HOSTNS STATEDIR NET1 NET2 |
//   repair HOSTNS STATEDIR - (prints each finding) | share HOSTNS STATEDIR TARGET CONTAINER (container mode) |
//   create-in HOSTNS STATEDIR NETWORK NAMESPACE (a new namespace on that network, e.g. none) |
//   disconnect-force HOSTNS STATEDIR NETWORK CONTAINER (with the containers sharing its namespace)
// run that one command and print "ok".
// With CONTAINERNETWORKING_FAULT_STEP set, the process kills itself before that fault point; with
// CONTAINERNETWORKING_FAULT_TRACE=1 it prints every fault point it passes (see FaultInjection).
//   pin-check NS
// as the first socket use of a fresh process, opens a listening socket inside NS through NetNamespace.Run, then prints
// "clean" (exit 0) when no thread of the process is left in NS, or "pinned: NAMES" (exit 1).
using System.Globalization;
using System.Net;
using ContainerNetworking;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;

if (args.Length == 2 && args[0] == "pin-check")
{
    using var ns = NetNamespace.Open(args[1]);
    ns.Run(() =>
    {
        using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        s.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        s.Listen();
        return 0;
    });
    var inside = $"net:[{ns.Id}]";
    var pinned = Directory.GetDirectories("/proc/self/task")
        .Where(t => new FileInfo(t + "/ns/net").LinkTarget == inside)
        .Select(t => File.ReadAllText(t + "/comm").Trim())
        .ToList();
    Console.WriteLine(pinned.Count == 0 ? "clean" : "pinned: " + string.Join(", ", pinned));
    return pinned.Count == 0 ? 0 : 1;
}
if (args.Length >= 4 && args[0] is "join" or "repair" or "share" or "create-in" or "disconnect-force" or "disconnect" or "new-network" or "remove-network" or "allow" or "disallow")
{
    using var h = NetNamespace.Open(args[1]);
    var m = new ContainerNetworkManager(h, args[2]);
    try
    {
        switch (args[0])
        {
            case "join":
                m.Connect(new EndpointSpec
                {
                    Network = args[3],
                    Namespace = args[4],
                    GatewayPriority = int.Parse(args[5], CultureInfo.InvariantCulture),
                    Publish = args.Skip(6).ToArray(),
                });
                break;
            case "disconnect": m.Disconnect(args[4], args[3]); break;
            case "disconnect-force": m.Disconnect(args[4], args[3], force: true); break;
            case "share": m.Connect(new EndpointSpec { ShareWith = args[3], Container = args[4] }); break;
            case "create-in": m.Connect(new EndpointSpec { Network = args[3], Namespace = args[4], CreateNamespace = true }); break;
            case "repair":
                foreach (var f in m.Repair()) Console.WriteLine($"{f.Kind} {f.Action} {f.Network} {f.Object}");
                break;
            case "new-network":
                m.CreateNetwork(new NetworkSpec { Name = args[3], BridgeName = args[4], Subnet = IPNetwork.Parse(args[5]) });
                break;
            case "remove-network": m.RemoveNetwork(args[3], force: true); break;
            case "allow": m.AllowBetweenNetworks(args[3], args[4]); break;
            default: m.DisallowBetweenNetworks(args[3], args[4]); break;
        }
    }
    catch (ContainerNetworkingException e)
    {
        Console.Error.WriteLine($"{e.ErrorId}: {e.Message}");
        return 1;
    }
    Console.WriteLine("ok");
    return 0;
}
if (args.Length < 5 || args[0] != "connect")
{
    Console.Error.WriteLine("usage: connect HOSTNS STATEDIR NETWORK COUNT NSPREFIX [PUBLISH…]");
    return 2;
}
using var host = NetNamespace.Open(args[1]);
var manager = new ContainerNetworkManager(host, args[2]);
var count = int.Parse(args[4], CultureInfo.InvariantCulture);
try
{
    for (var i = 0; i < count; i++)
    {
        var e = manager.Connect(new EndpointSpec
        {
            Network = args[3],
            Namespace = args[5] + i.ToString(CultureInfo.InvariantCulture),
            CreateNamespace = true,
            Publish = args.Skip(6).ToArray(),
        });
        Console.WriteLine($"ok {e.Id} {e.IPv4Address}");
    }
}
catch (ContainerNetworkingException e)
{
    Console.Error.WriteLine($"{e.ErrorId}: {e.Message}");
    return 1;
}
return 0;
