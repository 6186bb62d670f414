// Test agent: connects endpoints to a network from a process of its own.
//   connect HOSTNS STATEDIR NETWORK COUNT NSPREFIX [PUBLISH…]
// creates namespaces NSPREFIX0 … NSPREFIX{COUNT-1} through Connect, printing "ok ID ADDRESS" per endpoint.
// With CONTAINERNETWORKING_FAULT_STEP set, the process kills itself before that step (see FaultInjection).
using System.Globalization;
using ContainerNetworking;
using ContainerNetworking.Model;
using ContainerNetworking.Namespaces;

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
