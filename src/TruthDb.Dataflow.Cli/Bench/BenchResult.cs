using Spectre.Console;
using TruthDb.Dataflow.Cli.Support;

namespace TruthDb.Dataflow.Cli.Bench;

/// <summary>The outcome of a <c>truthdb bench</c> run: a table and a one-line summary.</summary>
internal sealed record BenchResult(BenchSettings Settings, long Records, TimeSpan Elapsed, LatencyHistogram Latency, long Batches, long Syncs, TimeSpan SyncTime, long Appends)
{
    private double Seconds => Math.Max(Elapsed.TotalSeconds, 1e-9);

    public Table ToTable()
    {
        var inv = Show.Invariant;
        var table = new Table().Title("truthdb bench").Border(Terminal.Interactive ? TableBorder.Rounded : TableBorder.Ascii);
        table.AddColumn("metric");
        table.AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(name, value);
        Row("durability", Settings.Durability.ToString());
        Row("producers", Settings.Producers.ToString(inv));
        Row("record size", Show.Bytes(Settings.RecordSize));
        Row("records", Records.ToString("N0", inv));
        Row("elapsed", Elapsed.TotalSeconds.ToString("0.000", inv) + " s");
        Row("throughput", (Records / Seconds).ToString("N0", inv) + " records/s");
        Row("payload throughput", Show.Bytes(Records * (double)Settings.RecordSize / Seconds) + "/s");
        Row("latency p50", Micros(Latency.QuantileMicroseconds(0.50)));
        Row("latency p90", Micros(Latency.QuantileMicroseconds(0.90)));
        Row("latency p99", Micros(Latency.QuantileMicroseconds(0.99)));
        Row("latency p99.9", Micros(Latency.QuantileMicroseconds(0.999)));
        Row("latency max", Micros(Latency.MaxMicroseconds));
        Row("batches", Batches.ToString("N0", inv));
        Row("records per batch (mean)", RecordsPerBatch.ToString("0.0", inv));
        Row("syncs", Syncs.ToString("N0", inv));
        Row("syncs/s", (Syncs / Seconds).ToString("N0", inv));
        Row("sync time (mean)", Micros(Syncs == 0 ? 0 : SyncTime.TotalMicroseconds / Syncs));
        return table;
    }

    public string Summary() => string.Create(Show.Invariant,
        $"bench: {Records} records in {Elapsed.TotalSeconds:0.00} s: {Records / Seconds:0} records/s, p50 {Latency.QuantileMicroseconds(0.5):0} us, p99 {Latency.QuantileMicroseconds(0.99):0} us, {RecordsPerBatch:0.0} records/batch, {Syncs / Seconds:0} syncs/s");

    private double RecordsPerBatch => Batches == 0 ? 0 : Appends / (double)Batches;

    private static string Micros(double us) => us.ToString("N1", Show.Invariant) + " µs";
}
