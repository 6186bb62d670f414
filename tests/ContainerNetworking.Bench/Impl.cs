namespace ContainerNetworking.Bench;

/// <summary>
/// One way of building the "attach N containers" scenario inside a <see cref="Topology"/>: per container a named
/// namespace, a veth with eth0 inside and its host end on the shared bridge, an address, lo and eth0 up, a default
/// route and one published TCP port (host port 20000+i → container:80); once per network the bridge with the
/// gateway address, forwarding and masquerade. The harness times each phase. The network is IPv4-only: ours, the
/// floors and the batch bring eth0 up without IPv6 of its own (addrgenmode none), as Connect and Docker do; the
/// walkthroughs' commands (seeds), the CNI plugins and netavark leave it on, as they do.
/// </summary>
public abstract class Impl
{
    /// <summary>Short key: ours, ours-model, seeds, batch, cni, netavark, floor.</summary>
    public abstract string Name { get; }
    public abstract string Description { get; }
    /// <summary>Why this implementation cannot run here (a missing program), or null.</summary>
    public virtual string? Unavailable => null;
    /// <summary>False for the floor: it builds namespaces, veths, addresses and routes only (no NAT, no ports).</summary>
    public virtual bool Complete => true;
    /// <summary>Slow peers are skipped above --slow-peer-max-n.</summary>
    public virtual bool Slow => false;

    /// <summary>Bridge with the gateway address, forwarding, masquerade (once per network).</summary>
    public virtual void SetupNetwork(Topology t) { }
    /// <summary>Containers 0…n-1.</summary>
    public abstract void SetupContainers(Topology t, int n);
    public abstract void TeardownContainers(Topology t, int n);
    /// <summary>Removes what <see cref="SetupNetwork"/> made (the host namespace is removed afterwards anyway).</summary>
    public virtual void TeardownNetwork(Topology t) { }

    /// <summary>Set by an implementation that times itself (the floor, to leave out its process start).</summary>
    public double? SelfSetupMs { get; protected set; }
    public double? SelfTeardownMs { get; protected set; }

    public void ClearSelfTimes() => SelfSetupMs = SelfTeardownMs = null;

    public override string ToString() => Name;
}
