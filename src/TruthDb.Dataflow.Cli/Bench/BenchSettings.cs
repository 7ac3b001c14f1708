namespace TruthDb.Dataflow.Cli.Bench;

/// <summary>What <c>truthdb bench</c> was asked to run.</summary>
internal sealed record BenchSettings(string Directory, int Producers, int RecordSize, TimeSpan Duration, long? Records, Durability Durability, long SegmentSize);
