namespace TruthDb.Dataflow.Tests.Architecture;

/// <summary>A use that goes against the layer order: one per pair of components, with an example.</summary>
/// <param name="From">The component that uses.</param>
/// <param name="To">The component it must not use.</param>
/// <param name="Example">One such use.</param>
internal sealed record LayerViolation(string From, string To, TypeReference Example)
{
    public override string ToString() => $"{From} -> {To}: {Example.From.FullName} uses {Example.To.FullName} ({Example.Via})";
}

/// <summary>
/// Layers, bottom first: a component (a namespace under the root, or a named group of the root's
/// types) may use the components of lower tiers only; components in the same tier are independent of
/// one another. docs/architecture.md shows the picture this encodes.
/// </summary>
internal sealed class LayerRules(string rootNamespace, IReadOnlyList<string[]> tiers, Func<Type, string> rootComponent)
{
    /// <summary>The engine's layers (docs/architecture.md).</summary>
    public static LayerRules Engine { get; } = new(
        "TruthDb.Dataflow",
        [
            ["Threading"],
            ["Format", "Storage"],
            ["Contracts"],
            ["LogState", "Validation"],
            ["Writing", "Reading", "Recovery", "Cursors", "Inspection"],
            ["Repair", "Diagnostics"],
            ["Facade"],
            ["Etl"],
        ],
        type => Outermost(type).Name is nameof(Wal) or nameof(WalReader) ? "Facade" : "Contracts");

    /// <summary>Every component the tiers name.</summary>
    public IEnumerable<string> Components => tiers.SelectMany(t => t);

    /// <summary>The component <paramref name="type"/> belongs to, or null when it is not under the root namespace.</summary>
    public string? ComponentOf(Type type)
    {
        var ns = type.Namespace;
        if (ns == rootNamespace)
        {
            return rootComponent(type);
        }

        return ns is not null && ns.StartsWith(rootNamespace + ".", StringComparison.Ordinal)
            ? ns[(rootNamespace.Length + 1)..].Split('.')[0]
            : null;
    }

    /// <summary>Every pair of components whose use goes against the order (or names a component no tier has), with one example each.</summary>
    public List<LayerViolation> Check(IEnumerable<TypeReference> references)
    {
        var tierOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < tiers.Count; i++)
        {
            foreach (var component in tiers[i])
            {
                tierOf.Add(component, i);
            }
        }

        var found = new Dictionary<(string, string), LayerViolation>();
        foreach (var reference in references)
        {
            if (ComponentOf(reference.From) is not { } from || ComponentOf(reference.To) is not { } to || from == to)
            {
                continue;
            }

            var allowed = tierOf.TryGetValue(from, out var fromTier) && tierOf.TryGetValue(to, out var toTier) && fromTier > toTier;
            if (!allowed)
            {
                found.TryAdd((from, to), new LayerViolation(from, to, reference));
            }
        }

        return [.. found.Values.OrderBy(v => v.From, StringComparer.Ordinal).ThenBy(v => v.To, StringComparer.Ordinal)];
    }

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        return type;
    }
}
