using ContainerNetworking.Namespaces;

namespace ContainerNetworking.Model;

// The container's namespace during a Connect: opened, or made on a worker thread from the Connect's start on.
public sealed partial class EndpointService
{
    /// <summary>
    /// The container namespace an operation opens, or creates: a Connect that creates its namespace starts it before it
    /// takes the lock and plans (<see cref="Early"/>, <see cref="NetNamespace.BeginCreateUnnamed"/>), the kernel makes it
    /// meanwhile, and it gets its name (/run/netns/NAME) only after the intent record is written: by the CreateNamespace
    /// step if it is made by then, else by the first step that needs it (<see cref="Get"/>). Disposed when the operation
    /// ends; an unnamed one goes then, leaving nothing.
    /// </summary>
    private sealed class NsRef
    {
        public NetNamespace? Value;
        /// <summary>The namespace begun unnamed at the Connect's start, when it creates one.</summary>
        public NetNamespace.PendingNetNamespace? Early;
        /// <summary>The name the CreateNamespace step gives <see cref="Early"/>: null until that step has run.</summary>
        public string? Name;
        /// <summary>Told the namespace once it is named (the record takes its id).</summary>
        public Action<NetNamespace>? Made;

        /// <summary>The namespace: the one opened, or the one being created, named (its error, if it could not be).</summary>
        public NetNamespace Get()
        {
            if (Value is null)
            {
                if (Early is null || Name is null) throw new InvalidOperationException("The namespace is used before its CreateNamespace step.");
                Value = Early.Wait(Name);
                Made?.Invoke(Value);
            }
            return Value;
        }

        public void Dispose()
        {
            Value?.Dispose();
            Early?.Discard();
        }
    }

    /// <summary>
    /// CreateNamespace: <c>ip netns add</c>. The namespace itself is being made since the Connect started (<see cref="NsRef.Early"/>);
    /// this step names it when it is made already, else leaves that to the first step that needs it, so that the
    /// steps between do not wait for the kernel. Undone, it removes the namespace if it was named (an unnamed one just goes).
    /// </summary>
    private static void AddNamespaceSteps(OperationPlan plan, EndpointSpec spec, ContainerEndpoint rec, NsRef ns)
    {
        if (!spec.CreateNamespace) return;
        var name = spec.Namespace!;
        plan.Add("CreateNamespace", $"ip netns add {name}", () =>
        {
            ns.Made = made => rec.NamespaceId = made.Id;
            ns.Name = name;
            ns.Early ??= NetNamespace.BeginCreateUnnamed();
            if (ns.Early.IsMade) ns.Get();
        }, () =>
        {
            var made = ns.Value;
            ns.Value = null;
            ns.Name = null;
            ns.Early?.Discard();
            if (made is null) return; // never named: nothing of it is left (and a namespace of that name is someone else's)
            var id = made.Id;
            made.Dispose();
            DeleteNamespaceIfSame(name, id);
        });
    }
}
