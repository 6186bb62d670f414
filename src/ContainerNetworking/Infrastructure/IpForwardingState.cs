namespace ContainerNetworking.Commands;

/// <summary>What Get-IpForwarding (and Enable-/Disable-IpForwarding -PassThru) emit: one family of one namespace.</summary>
/// <param name="NetNamespace">The namespace's name; null for the namespace PowerShell runs in.</param>
/// <param name="AddressFamily">"IPv4" (net.ipv4.ip_forward) or "IPv6" (net.ipv6.conf.all.forwarding).</param>
/// <param name="Enabled">True when the namespace forwards packets of that family.</param>
public sealed record IpForwardingState(string? NetNamespace, string AddressFamily, bool Enabled);
