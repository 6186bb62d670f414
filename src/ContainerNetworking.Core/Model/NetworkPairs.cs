namespace ContainerNetworking.Model;

/// <summary>Pairs of bridge networks allowed to talk to each other despite the isolation between networks (Set-ContainerNetwork -AllowNetwork).</summary>
public sealed class NetworkPairs : ModelService
{
    internal NetworkPairs(NetworkContext context) : base(context)
    {
    }

    /// <summary>The plan <see cref="AllowBetweenNetworks"/> would run (validated, nothing changed): what -WhatIf shows.</summary>
    public OperationPlan PlanAllowBetweenNetworks(string network, string otherNetwork)
    {
        lock (Sync)
        using (State.LockForReading())
            return BuildAllow(network, otherNetwork, allow: true);
    }

    /// <summary>The plan <see cref="DisallowBetweenNetworks"/> would run.</summary>
    public OperationPlan PlanDisallowBetweenNetworks(string network, string otherNetwork)
    {
        lock (Sync)
        using (State.LockForReading())
            return BuildAllow(network, otherNetwork, allow: false);
    }

    /// <summary>
    /// Lets the containers of two bridge networks talk to each other, both ways, though networks are otherwise isolated
    /// from each other: both records list the other network (<see cref="ContainerNetwork.AllowedNetworks"/>, so Repair
    /// re-creates the rules after a flush), and the firewall gets accept rules for both directions ahead of the isolation
    /// drops (<c>nft insert rule inet containernetworking isolation iifname BR1 oifname BR2 accept</c> and back).
    /// Allowing a pair that is allowed already changes nothing. Removing either network removes the allowance.
    /// Errors: "NetworkNotFound", "PredefinedNetwork", "InvalidNetworkPair".
    /// </summary>
    public void AllowBetweenNetworks(string network, string otherNetwork)
    {
        lock (Sync)
        using (State.Lock())
            BuildAllow(network, otherNetwork, allow: true).Execute();
    }

    /// <summary>
    /// Isolates two bridge networks from each other again: their accept rules go, and the records no longer list each
    /// other. A pair that is not allowed is left as it is.
    /// </summary>
    public void DisallowBetweenNetworks(string network, string otherNetwork)
    {
        lock (Sync)
        using (State.Lock())
            BuildAllow(network, otherNetwork, allow: false).Execute();
    }

    private OperationPlan BuildAllow(string network, string otherNetwork, bool allow)
    {
        var a = Context.Networks.GetNetwork(network);
        var b = Context.Networks.GetNetwork(otherNetwork);
        foreach (var n in new[] { a, b })
            if (n.IsPredefined)
                throw new ContainerNetworkingException("PredefinedNetwork", ErrorKind.InvalidOperation,
                    $"Network '{n.Name}' is predefined ({n.Driver}): it has no bridge to isolate or connect. Give two bridge networks (Get-ContainerNetwork lists them).");
            else if (n.State != RecordState.Ready)
                throw new ContainerNetworkingException("NetworkIncomplete", ErrorKind.InvalidOperation,
                    $"Network '{n.Name}' is half-{(n.State == RecordState.Removing ? "removed" : "built")} (state {n.State}): a process that changed it was interrupted. Run Repair-ContainerNetwork first.");
        if (a.Name == b.Name)
            throw new ContainerNetworkingException("InvalidNetworkPair", ErrorKind.InvalidArgument,
                $"Network '{a.Name}' cannot be allowed to talk to itself: traffic inside one network is governed by its ICC setting. Give another network.");

        var verb = allow ? "Allow" : "Disallow";
        var plan = new OperationPlan($"{verb} traffic between networks {a.Name} ({a.BridgeName}) and {b.Name} ({b.BridgeName})");
        var before = (A: a.AllowedNetworks.ToList(), B: b.AllowedNetworks.ToList());
        void WriteRecords()
        {
            foreach (var (n, other) in new[] { (a, b.Name), (b, a.Name) })
            {
                n.AllowedNetworks.RemoveAll(x => x == other);
                if (allow) n.AllowedNetworks.Add(other);
                n.AllowedNetworks.Sort(StringComparer.Ordinal);
                State.WriteNetwork(n);
            }
        }
        void RestoreRecords()
        {
            foreach (var (n, list) in new[] { (a, before.A), (b, before.B) })
            {
                n.AllowedNetworks.Clear();
                n.AllowedNetworks.AddRange(list);
                State.WriteNetwork(n);
            }
        }
        var records = $"update {State.Root}/networks/{{{a.Name},{b.Name}}}/network.json (allowedNetworks)";
        // The records are the truth Repair converges to: Allow writes them first, Disallow last, so that a crash in
        // between leaves the pair allowed in the records and Repair completes it (a Disallow is then simply retried).
        if (allow)
        {
            plan.Add("WriteAllowedNetworks", records, WriteRecords, RestoreRecords);
            plan.Add("InstallAllowRules", "nft insert rule " + NetworkRules.DescribeAllowance(a, b),
                () => Rules.AllowNetworks(a, b), () => Rules.DisallowNetworks(a, b));
        }
        else
        {
            plan.Add("RemoveAllowRules", "nft delete rule " + NetworkRules.DescribeAllowance(a, b),
                () => Rules.DisallowNetworks(a, b), () => Rules.AllowNetworks(a, b));
            plan.Add("WriteAllowedNetworks", records, WriteRecords, RestoreRecords);
        }
        return plan;
    }

    /// <summary>Drops <paramref name="removed"/> from the other networks' allowances (when it is removed).</summary>
    internal void ForgetAllowances(string removed)
    {
        foreach (var n in State.ListNetworks())
            if (n.Name != removed && n.AllowedNetworks.RemoveAll(x => x == removed) > 0) State.WriteNetwork(n);
    }
}
