using System.Collections.Immutable;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace ContainerNetworking.Tests.Architecture;

/// <summary>
/// The layers of the core depend in one direction only (ARCHITECTURE.md): Interop → Netlink → Route and Netfilter →
/// Namespaces → Model and Topology. This reads the compiled ContainerNetworking.Core.dll (System.Reflection.Metadata:
/// base types, interfaces, fields, signatures and every type, method and field token in the method bodies, lambdas
/// and iterators included) and fails naming each reference of a lower layer to a higher one.
/// </summary>
public sealed class LayerTests
{
    private const string Root = "ContainerNetworking";

    /// <summary>Each layer and the layers (or single types) it must not reference.</summary>
    private static readonly (string Layer, string[] Forbidden)[] Rules =
    [
        ("Interop", ["Values", "Netlink", "Route", "Netfilter", "SockDiag", "Namespaces", "Model", "Topology"]),
        ("Values", ["Interop", "Netlink", "Route", "Netfilter", "SockDiag", "Namespaces", "Model", "Topology"]),
        ("Netlink", ["Route", "Netfilter", "SockDiag", "Namespaces", "Model", "Topology"]),
        // Route, Netfilter and SockDiag are siblings: each gets a connection, none enters a namespace nor knows the others.
        ("Route", ["Netfilter", "SockDiag", "Namespaces", "Model", "Topology"]),
        ("Netfilter", ["Route", "SockDiag", "Namespaces", "Model", "Topology"]),
        ("SockDiag", ["Route", "Netfilter", "Namespaces", "Model", "Topology"]),
        ("Namespaces", ["Model", "Topology"]),
        // The model reaches the kernel through the layers below, never through libc itself.
        ("Model", ["Topology", "Interop.LibC", "Interop.Errno", "Namespaces.NamespaceThread"]),
        ("Topology", ["Model", "Interop.LibC", "Namespaces.NamespaceThread"]),
    ];

    [Fact]
    public void NoLowerLayerReferencesAHigherOne()
    {
        var violations = FindViolations(typeof(ContainerNetworkingException).Assembly.Location);
        Assert.True(violations.Count == 0, "Layering violations (a lower layer references a higher one):\n" + string.Join("\n", violations));
    }

    [Fact]
    public void TheCheckSeesReferencesInsideMethodBodies()
    {
        // Guards the check itself: the model does reference Namespaces (NetNamespace) and Route, from signatures and
        // from lambdas; if the reader stopped seeing those, the test above would pass vacuously.
        var refs = ReferencesByLayer(typeof(ContainerNetworkingException).Assembly.Location);
        Assert.Contains(refs["Model"], r => r.Target.StartsWith(Root + ".Namespaces.", StringComparison.Ordinal));
        Assert.Contains(refs["Model"], r => r.Target.StartsWith(Root + ".Route.", StringComparison.Ordinal) && r.From.Contains("<>", StringComparison.Ordinal));
        Assert.Contains(refs["Netfilter"], r => r.Target.StartsWith(Root + ".Netlink.", StringComparison.Ordinal));
    }

    [Fact]
    public void NoSourceFileIsOver600Lines()
    {
        var src = Path.Combine(ContainerNetworking.Tests.Help.ModuleMetadata.RepoRoot, "src");
        var tooLong = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Select(f => (File: Path.GetRelativePath(src, f), Lines: File.ReadLines(f).Count()))
            .Where(f => f.Lines > 600).Select(f => $"{f.File}: {f.Lines} lines").ToList();
        Assert.True(tooLong.Count == 0, "Split by purpose (ARCHITECTURE.md): " + string.Join(", ", tooLong));
    }

    private static List<string> FindViolations(string path)
    {
        var list = new List<string>();
        foreach (var (layer, refs) in ReferencesByLayer(path))
        {
            var forbidden = Rules.FirstOrDefault(r => r.Layer == layer).Forbidden ?? [];
            foreach (var (from, target) in refs)
            {
                var rel = target[(Root.Length + 1)..];
                if (forbidden.Any(f => rel == f || rel.StartsWith(f + ".", StringComparison.Ordinal) || rel.StartsWith(f + "+", StringComparison.Ordinal)))
                    list.Add($"{from} -> {target}");
            }
        }
        return list.Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Layer name → (referencing type, referenced type of this assembly), for every type of the core.</summary>
    private static Dictionary<string, HashSet<(string From, string Target)>> ReferencesByLayer(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var result = new Dictionary<string, HashSet<(string, string)>>();
        var methodOwner = new Dictionary<MethodDefinitionHandle, TypeDefinitionHandle>();
        var fieldOwner = new Dictionary<FieldDefinitionHandle, TypeDefinitionHandle>();
        foreach (var t in md.TypeDefinitions)
        {
            var def = md.GetTypeDefinition(t);
            foreach (var m in def.GetMethods()) methodOwner[m] = t;
            foreach (var f in def.GetFields()) fieldOwner[f] = t;
        }
        foreach (var t in md.TypeDefinitions)
        {
            var from = FullName(md, t);
            var layer = Layer(from);
            if (layer is null) continue;
            if (!result.TryGetValue(layer, out var set)) result[layer] = set = [];
            var collector = new Collector(md);
            var def = md.GetTypeDefinition(t);
            collector.Entity(def.BaseType);
            foreach (var i in def.GetInterfaceImplementations()) collector.Entity(md.GetInterfaceImplementation(i).Interface);
            foreach (var f in def.GetFields()) md.GetFieldDefinition(f).DecodeSignature(collector, null);
            foreach (var m in def.GetMethods())
            {
                var method = md.GetMethodDefinition(m);
                method.DecodeSignature(collector, null);
                if (method.RelativeVirtualAddress == 0) continue;
                var body = pe.GetMethodBody(method.RelativeVirtualAddress);
                if (!body.LocalSignature.IsNil)
                    md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(collector, null);
                foreach (var token in Tokens(body.GetILReader()))
                {
                    var handle = MetadataTokens.EntityHandle(token);
                    switch (handle.Kind)
                    {
                        case HandleKind.MethodDefinition: collector.Add(methodOwner[(MethodDefinitionHandle)handle]); break;
                        case HandleKind.FieldDefinition: collector.Add(fieldOwner[(FieldDefinitionHandle)handle]); break;
                        default: collector.Entity(handle); break;
                    }
                }
            }
            foreach (var target in collector.Found)
            {
                var name = FullName(md, target);
                if (Layer(name) is { } other && other != layer) set.Add((from, name));
            }
        }
        return result;
    }

    private static string? Layer(string fullName)
    {
        if (!fullName.StartsWith(Root + ".", StringComparison.Ordinal)) return null;
        var rest = fullName[(Root.Length + 1)..];
        var dot = rest.IndexOf('.');
        return dot < 0 ? null : rest[..dot]; // types of the root namespace (ContainerNetworkingException) belong to every layer
    }

    private static string FullName(MetadataReader md, TypeDefinitionHandle h)
    {
        var t = md.GetTypeDefinition(h);
        var name = md.GetString(t.Name);
        var declaring = t.GetDeclaringType();
        if (!declaring.IsNil) return FullName(md, declaring) + "+" + name;
        var ns = md.GetString(t.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    /// <summary>The metadata tokens of a method body's instructions (operands of ldtoken, call, newobj, ldfld, box …).</summary>
    private static IEnumerable<int> Tokens(BlobReader il)
    {
        var tokens = new List<int>();
        while (il.RemainingBytes > 0)
        {
            int value = il.ReadByte();
            if (value == 0xFE) value = 0xFE00 | il.ReadByte();
            var op = OpCodeTable[value];
            switch (op.OperandType)
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                    tokens.Add(il.ReadInt32());
                    break;
                case OperandType.InlineSwitch:
                    var n = il.ReadInt32();
                    il.Offset += 4 * n;
                    break;
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: il.Offset += 1; break;
                case OperandType.InlineVar: il.Offset += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: il.Offset += 8; break;
                default: il.Offset += 4; break; // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
            }
        }
        return tokens;
    }

    private static readonly Dictionary<int, OpCode> OpCodeTable = typeof(OpCodes).GetFields()
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => (int)(ushort)o.Value);

    /// <summary>Collects the type definitions a signature, a type reference or a member reference names.</summary>
    private sealed class Collector(MetadataReader md) : ISignatureTypeProvider<int, object?>
    {
        public HashSet<TypeDefinitionHandle> Found { get; } = [];

        public void Add(TypeDefinitionHandle h) => Found.Add(h);

        public void Entity(EntityHandle h)
        {
            if (h.IsNil) return;
            switch (h.Kind)
            {
                case HandleKind.TypeDefinition: Add((TypeDefinitionHandle)h); break;
                case HandleKind.TypeSpecification: md.GetTypeSpecification((TypeSpecificationHandle)h).DecodeSignature(this, null); break;
                case HandleKind.MemberReference:
                    var mr = md.GetMemberReference((MemberReferenceHandle)h);
                    Entity(mr.Parent);
                    if (mr.GetKind() == MemberReferenceKind.Method) mr.DecodeMethodSignature(this, null);
                    else mr.DecodeFieldSignature(this, null);
                    break;
                case HandleKind.MethodSpecification:
                    var ms = md.GetMethodSpecification((MethodSpecificationHandle)h);
                    Entity(ms.Method);
                    ms.DecodeSignature(this, null);
                    break;
                case HandleKind.MethodDefinition:
                    Add(md.GetMethodDefinition((MethodDefinitionHandle)h).GetDeclaringType());
                    break;
                case HandleKind.FieldDefinition:
                    Add(md.GetFieldDefinition((FieldDefinitionHandle)h).GetDeclaringType());
                    break;
            }
        }

        public int GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) { Add(handle); return 0; }
        public int GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => 0;
        public int GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, context);
        public int GetPrimitiveType(PrimitiveTypeCode typeCode) => 0;
        public int GetArrayType(int elementType, ArrayShape shape) => 0;
        public int GetByReferenceType(int elementType) => 0;
        public int GetFunctionPointerType(MethodSignature<int> signature) => 0;
        public int GetGenericInstantiation(int genericType, ImmutableArray<int> typeArguments) => 0;
        public int GetGenericMethodParameter(object? genericContext, int index) => 0;
        public int GetGenericTypeParameter(object? genericContext, int index) => 0;
        public int GetModifiedType(int modifier, int unmodifiedType, bool isRequired) => 0;
        public int GetPinnedType(int elementType) => 0;
        public int GetPointerType(int elementType) => 0;
        public int GetSZArrayType(int elementType) => 0;
    }
}
