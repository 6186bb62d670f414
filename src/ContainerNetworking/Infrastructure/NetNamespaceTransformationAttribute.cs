using System.Management.Automation;
using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Commands;

/// <summary>
/// Turns what the user gives to <c>-NetNamespace</c> into an open <see cref="NetNamespace"/> from the
/// <see cref="NetNamespaceCache"/>: a name ("red"), a path ("/run/netns/red", "/proc/1234/ns/net"), or a NetNamespace
/// object (by its name when it has one, so that a closed or replaced one is not used; else passed through). Null stays null: the cmdlet then acts in the current namespace. A namespace that does not
/// exist becomes a <see cref="NetNamespace.Missing"/> stand-in rather than a binding error (which PowerShell would
/// report as ParameterArgumentTransformationError, "Cannot process argument transformation …"): the cmdlet reports it
/// as NetNamespaceNotFound, the same error as everywhere else (<see cref="NetworkingCmdlet"/>). Other bad input (an
/// empty name, an object of another type) fails binding with the library's message.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class NetNamespaceTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject pso ? pso.BaseObject : inputData;
        try
        {
            return value switch
            {
                null => null,
                // A named namespace is looked up again by its name: the object may be one the cache has since closed,
                // or its name may now be another namespace (deleted and created again), which is the one meant.
                NetNamespace { Name: { } name } => NetNamespaceCache.Get(name),
                NetNamespace ns when !ns.IsDisposed => ns,
                NetNamespace ns => NetNamespaceCache.Get(ns.Path),
                string s => NetNamespaceCache.Get(s),
                _ => throw new ArgumentException($"-NetNamespace takes a namespace name (e.g. 'red'), a path (e.g. /proc/1234/ns/net) or a NetNamespace object from Get-NetNamespace, not a {value.GetType().Name}."),
            };
        }
        catch (NetNamespaceNotFoundException e)
        {
            return NetNamespace.Missing(e);
        }
        catch (Exception e) when (ErrorMapping.IsMapped(e))
        {
            throw new ArgumentTransformationMetadataException(e.Message, e);
        }
    }
}
