using System.Net;
using ContainerNetworking.Netfilter;

namespace ContainerNetworking.Bench;

// NAT and port publishing for "ours": ContainerFirewall (nf_tables over nfnetlink, map-based port publishing).
public sealed partial class OursLowLevel : IBatchPortPublisher
{
    private ContainerFirewall? _fw;
    private NatMasquerade? _masq;

    private ContainerFirewall Fw => _fw ?? throw new InvalidOperationException("no network set up");

    private void AddMasquerade(Topology t)
    {
        _fw = new ContainerFirewall(t.HostNs);
        _masq = _fw.AddMasquerade(new MasqueradeSpec(IPNetwork.Parse(Topology.Subnet)) { ExcludeOutInterface = Topology.Bridge, Owner = "bench" });
    }

    private void RemoveMasquerade(Topology t)
    {
        if (_masq is not null) Fw.RemoveMasquerade(_masq);
        _masq = null;
    }

    private void Publish(Topology t, int i) =>
        Fw.Publish(new PortMappingSpec(PortProtocol.Tcp, Topology.HostPort(i), IPAddress.Parse(Topology.ContainerIp(i)), Topology.ContainerPort));

    private void Unpublish(Topology t, int i) => Fw.Unpublish(PortProtocol.Tcp, Topology.HostPort(i));

    public string PublishMethod => "ContainerFirewall.Publish, K sequential calls (one nft batch each)";

    public string BatchPublishMethod => "ContainerFirewall.Publish(list of K mappings), one call, one nft batch";

    public void PublishPortsBatch(Topology t, IReadOnlyList<(int HostPort, string Ip, int Port)> ports) =>
        Fw.Publish(ports.Select(p => new PortMappingSpec(PortProtocol.Tcp, p.HostPort, IPAddress.Parse(p.Ip), p.Port)).ToList());

    public void PublishPorts(Topology t, IReadOnlyList<(int HostPort, string Ip, int Port)> ports)
    {
        foreach (var (hp, ip, p) in ports)
            Fw.Publish(new PortMappingSpec(PortProtocol.Tcp, hp, IPAddress.Parse(ip), p));
    }
}
