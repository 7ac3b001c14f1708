// BenchmarkDotNet micro-benchmarks of the engine's hot paths. Run all of them with
//   dotnet run -c Release --project perf/TruthDb.Dataflow.Benchmarks -- --filter '*'
// or pick some with --filter '*Codec*'. See perf/README.md.
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(TruthDb.Dataflow.Benchmarks.CodecBenchmarks).Assembly).Run(args);
