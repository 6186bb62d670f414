using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Model;

// The container's namespace during a Connect: opened, or made on a worker thread while the Connect goes on.
public sealed partial class EndpointService
{
    /// <summary>
    /// The container namespace an operation opens, or creates (started by the CreateNamespace step, waited for by the
    /// first step that needs it: <see cref="Get"/>), disposed when the operation ends.
    /// </summary>
    private sealed class NsRef
    {
        public NetNamespace? Value;
        public NetNamespace.PendingNetNamespace? Pending;
        /// <summary>Told the namespace once its creation is done (the record takes its id).</summary>
        public Action<NetNamespace>? Made;

        /// <summary>The namespace: the one opened, or the one being created once it is made (its error, if it could not be).</summary>
        public NetNamespace Get()
        {
            if (Value is null)
            {
                Value = Pending!.Wait();
                Made?.Invoke(Value);
            }
            return Value;
        }

        public void Dispose() => (Value ?? Pending?.WaitOrNull())?.Dispose();
    }

    /// <summary>
    /// CreateNamespace: starts <c>ip netns add</c>'s work on a worker thread (<see cref="NetNamespace.BeginCreate"/>) and
    /// goes on; undone, it waits for that work and removes the namespace if it was made.
    /// </summary>
    private static void AddNamespaceSteps(OperationPlan plan, EndpointSpec spec, ContainerEndpoint rec, NsRef ns)
    {
        if (!spec.CreateNamespace) return;
        var name = spec.Namespace!;
        plan.Add("CreateNamespace", $"ip netns add {name}", () =>
        {
            ns.Made = made => rec.NamespaceId = made.Id;
            ns.Pending = NetNamespace.BeginCreate(name);
        }, () =>
        {
            var made = ns.Value ?? ns.Pending?.WaitOrNull();
            ns.Value = null;
            ns.Pending = null;
            if (made is null) return; // never made: nothing of it is left (and a namespace of that name is someone else's)
            var id = made.Id;
            made.Dispose();
            DeleteNamespaceIfSame(name, id);
        });
    }
}
