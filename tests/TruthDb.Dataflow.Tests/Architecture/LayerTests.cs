using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Tests.Architecture;

/// <summary>
/// The engine's layering (docs/architecture.md), checked on the built assembly: every use of one of
/// its types by another, down to the instructions of method bodies, goes down the layer order.
/// </summary>
public sealed class LayerTests
{
    [Fact]
    public void Engine_EveryTypeReference_GoesDownTheLayerOrder()
    {
        var references = TypeReferences.In(typeof(Wal).Assembly, "TruthDb.Dataflow");

        var violations = LayerRules.Engine.Check(references);

        // The scan sees the engine's own uses across layers (the writer publishes into the log state,
        // in a method body), so an empty result means something.
        Assert.Contains(references, r => LayerRules.Engine.ComponentOf(r.From) == "Writing" && LayerRules.Engine.ComponentOf(r.To) == "LogState" && r.Via.Contains(" in method ", StringComparison.Ordinal));
        Assert.True(violations.Count == 0, "uses against the layer order (docs/architecture.md):\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Engine_EveryNamespace_HasAPlaceInTheOrder()
    {
        var components = typeof(Wal).Assembly.GetTypes().Select(LayerRules.Engine.ComponentOf).OfType<string>().Distinct();

        // A new folder must be given its tier here and in docs/architecture.md.
        Assert.Empty(components.Except(LayerRules.Engine.Components));
    }

    [Fact]
    public void Check_FormatAndStorageUsingEachOther_ReportsBothDirections()
    {
        // The cycle the engine once had: a format reader that read from a storage file, and a storage
        // that named segment files. Format (pure codecs) and Storage (the seam) are independent.
        var references = new[]
        {
            new TypeReference(typeof(SegmentHeader), typeof(IStorageFile), "field _file"),
            new TypeReference(typeof(FileSystemStorage), typeof(SegmentNames), "call in method AcquireWriterLock"),
        };

        var violations = LayerRules.Engine.Check(references);

        Assert.Equal([("Format", "Storage"), ("Storage", "Format")], violations.Select(v => (v.From, v.To)));
        Assert.Contains("IStorageFile", violations[0].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_SiblingsInOneTier_ReportsEitherDirection()
    {
        var references = new[] { new TypeReference(typeof(Wal), typeof(Wal), "unused") };
        var rules = new LayerRules("TruthDb.Dataflow.Tests.Architecture.Samples", [["Format"], ["Storage", "Reading"]], _ => "Root");

        Assert.Empty(rules.Check(references));
        var sibling = Assert.Single(rules.Check(TypeReferences.Of(typeof(Samples.Reading.UsesStorageInItsBody))));
        Assert.Equal(("Reading", "Storage"), (sibling.From, sibling.To));
    }

    [Fact]
    public void Of_UseInAMethodBodyOnly_IsFound()
    {
        // Nothing in the sample's signatures, fields or base types names the storage type: only an
        // instruction of its method body does. A check by signatures alone would miss it.
        var references = TypeReferences.Of(typeof(Samples.Format.UsesStorageInItsBody));

        Assert.Contains(references, r => r.To == typeof(Samples.Storage.SampleFile) && r.Via.StartsWith("newobj", StringComparison.Ordinal));
        var violation = Assert.Single(new LayerRules("TruthDb.Dataflow.Tests.Architecture.Samples", [["Format"], ["Storage"]], _ => "Root").Check(references));
        Assert.Equal(("Format", "Storage"), (violation.From, violation.To));
    }

    [Fact]
    public void Of_UseInALambdaOrAsyncMethod_CountsForTheTypeThatHoldsIt()
    {
        // Closures and state machines are nested types: their uses are their outer type's.
        var rules = new LayerRules("TruthDb.Dataflow.Tests.Architecture.Samples", [["Format"], ["Storage"]], _ => "Root");
        var references = typeof(Samples.Format.UsesStorageInALambda).GetNestedTypes(System.Reflection.BindingFlags.NonPublic)
            .SelectMany(TypeReferences.Of);

        var violation = Assert.Single(rules.Check(references));
        Assert.Equal(("Format", "Storage"), (violation.From, violation.To));
    }
}
