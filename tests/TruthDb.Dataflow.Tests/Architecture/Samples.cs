// Small types laid out like the engine's folders, for the tests of the layer check itself.
#pragma warning disable CA1812 // Instantiated only through reflection or not at all: they are inspected, not run.

namespace TruthDb.Dataflow.Tests.Architecture.Samples.Storage
{
    internal sealed class SampleFile
    {
        public int Length { get; }
    }
}

namespace TruthDb.Dataflow.Tests.Architecture.Samples.Format
{
    internal static class UsesStorageInItsBody
    {
        public static int Measure() => new Storage.SampleFile().Length;
    }

    internal static class UsesStorageInALambda
    {
        public static Func<int> Measure() => () => new Storage.SampleFile().Length;
    }
}

namespace TruthDb.Dataflow.Tests.Architecture.Samples.Reading
{
    internal static class UsesStorageInItsBody
    {
        public static int Measure() => new Storage.SampleFile().Length;
    }
}
