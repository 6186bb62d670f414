using System.Globalization;

namespace ContainerNetworking.Bench;

/// <summary>The command line: [--quick] [--cni-only] [--n 1,10,100,1000] [--runs R] [--peers all|none|seeds,batch,cni,cni-ours,netavark] [--ports 1,100,1000,5000] [--flows K] [--flows-n N] [--no-floor] [--no-ports] [--no-bulk] [--json FILE].</summary>
public sealed class Options
{
    public static readonly string[] AllPeers = ["seeds", "batch", "cni", "cni-ours", "netavark"];

    public bool Quick { get; private set; }
    public int[] Ns { get; private set; } = [1, 10, 100, 1000];
    /// <summary>Runs per N; null: 3 for N ≤ 100, 2 for larger N (1 in --quick for N above 10).</summary>
    public int? Runs { get; private set; }
    public HashSet<string> Peers { get; private set; } = [.. AllPeers];
    public int[] Ports { get; private set; } = [1, 100, 1000, 5000];
    public string Json { get; private set; } = "artifacts/bench.json";
    /// <summary>Connects per latency sample set.</summary>
    public int Connects { get; private set; } = 300;
    /// <summary>Largest N at which the slow peers (seeds, cni, netavark) still run; they take minutes at 1000.</summary>
    public int SlowPeerMaxN { get; private set; } = 100;
    public bool SkipFloor { get; private set; }
    /// <summary>Unrelated conntrack entries for the teardown-with-flows figure (0: not measured).</summary>
    public int Flows { get; private set; } = 10_000;
    /// <summary>Containers for the teardown-with-flows figure.</summary>
    public int FlowsN { get; private set; } = 100;
    public bool SkipPorts { get; private set; }
    /// <summary>--no-bulk: skip the pwsh bulk pipeline against single calls.</summary>
    public bool SkipBulk { get; private set; }
    /// <summary>--cni-only: the reference CNI chain and our plugin alone (no library, floor, port scale, flows or Import-Module).</summary>
    public bool CniOnly { get; private set; }
    public bool Verbose { get; private set; }
    /// <summary>--profile N: print where ours spends its time per step, then exit.</summary>
    public int? ProfileN { get; private set; }
    /// <summary>--profile-model N: only the model's part of --profile (Connect/Disconnect, step by step), then exit.</summary>
    public bool ProfileModelOnly { get; private set; }

    public int RunsFor(int n, bool slow = false) => Runs ?? (Quick ? (n <= 10 && !slow ? 3 : 1) : n <= 100 ? (slow && n == 100 ? 1 : 3) : 2);

    public static Options Parse(string[] args)
    {
        var o = new Options();
        bool nGiven = false, portsGiven = false, slowGiven = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--quick": o.Quick = true; break;
                case "--n": o.Ns = Ints(Next()); nGiven = true; break;
                case "--runs": o.Runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--peers":
                    var p = Next();
                    o.Peers = p switch
                    {
                        "all" => [.. AllPeers],
                        "none" => [],
                        _ => [.. p.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
                    };
                    foreach (var x in o.Peers)
                        if (!AllPeers.Contains(x)) throw new ArgumentException($"unknown peer '{x}': use all, none or a list of {string.Join(',', AllPeers)}");
                    break;
                case "--ports": o.Ports = Ints(Next()); portsGiven = true; break;
                case "--json": o.Json = Next(); break;
                case "--connects": o.Connects = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--slow-peer-max-n": o.SlowPeerMaxN = int.Parse(Next(), CultureInfo.InvariantCulture); slowGiven = true; break;
                case "--no-floor": o.SkipFloor = true; break;
                case "--flows": o.Flows = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--flows-n": o.FlowsN = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--no-ports": o.SkipPorts = true; break;
                case "--no-bulk": o.SkipBulk = true; break;
                case "--cni-only": o.CniOnly = true; break;
                case "-v": case "--verbose": o.Verbose = true; break;
                case "--profile": o.ProfileN = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--profile-model": o.ProfileN = int.Parse(Next(), CultureInfo.InvariantCulture); o.ProfileModelOnly = true; break;
                case "--slow-peers-all": o.SlowPeerMaxN = int.MaxValue; break;
                case "-h": case "--help":
                    Console.WriteLine("""
                        ContainerNetworking benchmark (root; works only inside network namespaces it creates).
                          --quick                 smoke run: N up to 100, ports up to 1000, fewer runs (under ~2 minutes)
                          --n 1,10,100,1000       container counts
                          --runs R                runs per N (default 3 for N <= 100, 2 above)
                          --peers LIST            all | none | seeds,batch,cni,cni-ours,netavark (each only if installed;
                                                  cni-ours: our plugin, built by ./build.ps1 Cni)
                          --ports 1,100,1000,5000 published-port counts for the port-scale part
                          --json FILE             JSON output (default artifacts/bench.json)
                          --connects K            TCP connects per latency sample (default 300)
                          --slow-peer-max-n N     run seeds/cni/netavark only up to this N (default 100; 10 with --quick):
                                                  at N=1000 they take 5-15 minutes each per run
                          --profile N             where ours spends its time, step by step, for N containers (with --flows K:
                                                  the model's teardown with K unrelated conntrack entries)
                          --profile-model N       only the model's part of --profile (Connect/Disconnect per step), after an untimed warm-up round
                          --flows K               unrelated conntrack entries for the teardown-with-flows figure
                                                  (default 10000; 0 skips it)
                          --flows-n N             containers for that figure (default 100)
                          --no-floor, --no-ports  skip the C floor / the port-scale part
                          --no-bulk               skip the bulk pipeline (pwsh: N names piped into one
                                                  Connect-/Disconnect-ContainerNetwork against N single calls)
                          --cni-only              only the CNI part: the reference chain and our plugin, their ADD and
                                                  DEL timed per container (default N=10; e.g. --cni-only --runs 1)
                        """);
                    Environment.Exit(0);
                    break;
                default: throw new ArgumentException($"unknown option '{args[i]}' (try --help)");
            }
        }
        if (o.CniOnly)
        {
            o.Peers = ["cni", "cni-ours"];
            o.SkipFloor = true;
            o.SkipPorts = true;
            o.Flows = 0;
            if (!nGiven) o.Ns = [10];
        }
        if (o.Quick)
        {
            if (!nGiven) o.Ns = [1, 10, 100];
            if (!portsGiven) o.Ports = [1, 100, 1000];
            o.Connects = Math.Min(o.Connects, 200);
            if (!slowGiven) o.SlowPeerMaxN = 10;
        }
        return o;
    }

    private static int[] Ints(string s) =>
        [.. s.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(x => int.Parse(x.Trim(), CultureInfo.InvariantCulture))];
}
