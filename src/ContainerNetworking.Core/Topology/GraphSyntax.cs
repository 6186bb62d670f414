using System.Globalization;
using System.Text;

namespace ContainerNetworking.Topology;

/// <summary>
/// How a graph format writes what <see cref="NetworkTopology"/> walks: a group per namespace with its interfaces and
/// published ports, then the edges between a bridge and its ports, between the two ends of a veth, and the overlay
/// links between nodes (with a node of its own for a remote outside the namespaces drawn).
/// </summary>
internal abstract class GraphSyntax
{
    public static readonly GraphSyntax Mermaid = new MermaidSyntax();
    public static readonly GraphSyntax Dot = new DotSyntax();

    public abstract string Header { get; }
    public abstract string EndNamespace { get; }
    public abstract string Footer { get; }
    public abstract void BeginNamespace(StringBuilder sb, string ns, int index);
    public abstract void Node(StringBuilder sb, string id, IReadOnlyList<string> label, bool isBridge);
    public abstract void Port(StringBuilder sb, string ns, TopologyPort port);
    public abstract void BridgePortEdge(StringBuilder sb, string port, string bridge);
    public abstract void VethEdge(StringBuilder sb, string a, string b);
    public abstract void RemoteNode(StringBuilder sb, string id, string label);
    public abstract void OverlayEdge(StringBuilder sb, string a, string b, string label);

    /// <summary>Text inside double quotes: backslashes doubled, double quotes made single.</summary>
    protected static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "'", StringComparison.Ordinal);

    /// <summary>Mermaid: <c>flowchart LR</c>, a subgraph per namespace, bridges as [[boxes]], veths as thick links.</summary>
    private sealed class MermaidSyntax : GraphSyntax
    {
        public override string Header => "flowchart LR\n";
        public override string EndNamespace => "  end\n";
        public override string Footer => "";

        public override void BeginNamespace(StringBuilder sb, string ns, int index) =>
            sb.Append("  subgraph ").Append(Safe(ns)).Append("[\"").Append(Escape(ns)).Append("\"]\n");

        public override void Node(StringBuilder sb, string id, IReadOnlyList<string> label, bool isBridge) =>
            sb.Append("    ").Append(id).Append(isBridge ? "[[" : "(").Append('"').Append(Escape(string.Join("<br/>", label))).Append('"')
              .Append(isBridge ? "]]" : ")").Append('\n');

        public override void Port(StringBuilder sb, string ns, TopologyPort p) =>
            sb.Append("    ").Append(Safe(ns)).Append("_p").Append(p.HostPort.ToString(CultureInfo.InvariantCulture)).Append(p.Protocol)
              .Append(">\"").Append(Escape("publish " + p)).Append("\"]\n");

        public override void BridgePortEdge(StringBuilder sb, string port, string bridge) => sb.Append("  ").Append(port).Append(" --- ").Append(bridge).Append('\n');

        public override void VethEdge(StringBuilder sb, string a, string b) => sb.Append("  ").Append(a).Append(" <== veth ==> ").Append(b).Append('\n');

        public override void RemoteNode(StringBuilder sb, string id, string label) => sb.Append("  ").Append(id).Append("{{\"").Append(Escape(label)).Append("\"}}\n");

        public override void OverlayEdge(StringBuilder sb, string a, string b, string label) =>
            sb.Append("  ").Append(a).Append(" -.-|").Append(Escape(label)).Append("| ").Append(b).Append('\n');

        private static string Safe(string s)
        {
            var b = new StringBuilder("ns_");
            foreach (var ch in s) b.Append(char.IsAsciiLetterOrDigit(ch) ? ch : '_');
            return b.ToString();
        }
    }

    /// <summary>Graphviz DOT: an undirected graph, a cluster per namespace, bridges as box3d, veths as bold edges.</summary>
    private sealed class DotSyntax : GraphSyntax
    {
        public override string Header => "graph topology {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n";
        public override string EndNamespace => "  }\n";
        public override string Footer => "}\n";

        public override void BeginNamespace(StringBuilder sb, string ns, int index) =>
            sb.Append("  subgraph cluster_").Append(index.ToString(CultureInfo.InvariantCulture)).Append(" {\n    label=\"").Append(Escape(ns)).Append("\";\n");

        public override void Node(StringBuilder sb, string id, IReadOnlyList<string> label, bool isBridge) =>
            sb.Append("    ").Append(id).Append(" [label=\"").Append(string.Join("\\n", label.Select(Escape)))
              .Append('"').Append(isBridge ? ", shape=box3d" : "").Append("];\n");

        public override void Port(StringBuilder sb, string ns, TopologyPort p) =>
            sb.Append("    \"").Append(Escape(ns + " " + p)).Append("\" [shape=note];\n");

        public override void BridgePortEdge(StringBuilder sb, string port, string bridge) =>
            sb.Append("  ").Append(port).Append(" -- ").Append(bridge).Append(" [style=dashed];\n");

        public override void VethEdge(StringBuilder sb, string a, string b) =>
            sb.Append("  ").Append(a).Append(" -- ").Append(b).Append(" [style=bold, label=\"veth\"];\n");

        public override void RemoteNode(StringBuilder sb, string id, string label) =>
            sb.Append("  ").Append(id).Append(" [label=\"").Append(Escape(label)).Append("\", shape=ellipse];\n");

        public override void OverlayEdge(StringBuilder sb, string a, string b, string label) =>
            sb.Append("  ").Append(a).Append(" -- ").Append(b).Append(" [style=dashed, color=blue, class=overlay, label=\"").Append(Escape(label)).Append("\"];\n");
    }
}
