using System.Net;
using System.Net.Sockets;
using ContainerNetworking.Namespaces;
using ContainerNetworking.Route;
using ContainerNetworking.Values;

namespace ContainerNetworking.Model;

// Connect's container side: its rtnetlink requests queued by the plan's steps and sent in one datagram.
public sealed partial class EndpointService
{
    /// <summary>The ifindex of lo in every network namespace (the kernel's LOOPBACK_IFINDEX: registered first).</summary>
    private const int LoopbackIndex = 1;

    /// <summary>
    /// The container's side of a Connect: its requests, queued by their steps and sent in one datagram
    /// (<see cref="RouteRequestBatch"/>) by the last of those steps, so that a failure fails a step of the plan like any
    /// other (the namespace or the veth is undone, taking the rest along; none of these steps has an undo of its own).
    /// Without the peer's ifindex (a kernel older than 6.1 sends no echo of the new veth) each step makes its own calls,
    /// by name, as before.
    /// </summary>
    private sealed class ContainerSide(Func<NetNamespace> ns)
    {
        private RouteRequestBatch? _batch;
        private int _steps;

        /// <summary>The container end's ifindex in its namespace, from the veth's creation; 0: unknown.</summary>
        public int PeerIndex;

        /// <summary>A step's action: queues its requests; the last step so made sends them all.</summary>
        public Action Queue(Action<RouteRequestBatch> add, Action<RouteClient> single)
        {
            var ordinal = ++_steps;
            return () =>
            {
                if (PeerIndex <= 0)
                {
                    single(ns().Rtnl);
                    return;
                }
                add(_batch ??= ns().Rtnl.Batch());
                if (ordinal == _steps) Send();
            };
        }

        public void Send()
        {
            var b = _batch;
            _batch = null;
            b?.Send();
        }
    }
}
